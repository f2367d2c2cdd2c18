"""Signals scoring sends; higher apps (handoff) listen.

Sent inside the transaction that stored the scores, so a receiver's work (queueing a
task on commit) happens only if they were kept.
"""

from django.dispatch import Signal

# Scores were stored and some are hot: new MqlEvent rows may be waiting. No kwargs;
# the receiver takes in the waiting events itself (a sweep catches any it misses).
mql_events_recorded = Signal()
