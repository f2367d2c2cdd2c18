"""Feedback fixtures: handoff's reps and cycles, at any stage."""

from tests.handoff.conftest import make_cycle, make_rep  # noqa: F401  (fixtures)
