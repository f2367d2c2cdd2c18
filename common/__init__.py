"""Pure helpers any layer may use: no Django, no I/O, no import of a project app."""
