"""What handoff tells the apps above it.

``cycles_opened`` is sent inside the transaction that opened the cycles (intake of MQL
events, a lead raised by hand), with ``cycle_ids``. ``cycles_changed`` is sent inside the
transaction of every other write that changes what a cycle is (a stage change, an owner
given, a first touch), with ``cycle_ids``. Receivers only queue their own work for after
the commit (the feedback app computes and syncs the cycles' report facts).
"""

from django.dispatch import Signal

cycles_opened = Signal()
cycles_changed = Signal()
