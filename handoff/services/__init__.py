"""Writes of the handoff, one function per use case (each owns its transaction)."""
