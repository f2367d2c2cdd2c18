"""What handoff tells the apps above it.

``cycles_opened`` is sent inside the transaction that opened the cycles (intake of MQL
events, a lead raised by hand), with ``cycle_ids``. Receivers only queue their own work
for after the commit (the feedback app computes the cycles' report facts).
"""

from django.dispatch import Signal

cycles_opened = Signal()
