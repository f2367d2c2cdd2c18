"""Feedback's reads, scoped to the acting user (``reports``: the six reports)."""
