"""The queue's sort keys, kept in the cycle's row after every write (set-based).

``sla_due_at`` is the due time a cycle runs against (first touch until the first touch,
then qualification, none once it is an SQL); ``attention_at`` is when it needs someone:
its next action or that due time, whichever is earlier. Stored so that the queue of a
hundred thousand leads is the first rows of an index, not a sort of computed values.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, DateTimeField, F, Q, Value, When

from handoff.models import INSIDE_STAGES, Cycle


def due_expression():
    """The SLA due time from the row's own columns (what ``sla_due_at`` holds)."""
    return Case(
        When(~Q(stage__in=sorted(INSIDE_STAGES)), then=Value(None, DateTimeField())),
        When(first_touch_at__isnull=True, then=F("first_touch_due_at")),
        default=F("qualify_due_at"),
        output_field=DateTimeField(),
    )


def _attention_expression():
    due = due_expression()
    return Case(
        When(next_action_at__isnull=True, then=due),
        When(
            Q(first_touch_due_at__isnull=True, qualify_due_at__isnull=True),
            then=F("next_action_at"),
        ),
        # LEAST is NULL-hostile on SQLite: compare by hand.
        When(~Q(stage__in=sorted(INSIDE_STAGES)), then=Value(None, DateTimeField())),
        When(
            Q(first_touch_at__isnull=True, next_action_at__lt=F("first_touch_due_at")),
            then=F("next_action_at"),
        ),
        When(first_touch_at__isnull=True, then=F("first_touch_due_at")),
        When(next_action_at__lt=F("qualify_due_at"), then=F("next_action_at")),
        default=F("qualify_due_at"),
        output_field=DateTimeField(),
    )


def cycles_refresh_priority(*, cycle_ids: Iterable[int]) -> int:
    """Recompute the sort keys of these cycles from their rows: one UPDATE."""
    ids = list(cycle_ids)
    if not ids:
        return 0
    return Cycle.objects.filter(pk__in=ids).update(
        sla_due_at=due_expression(), attention_at=_attention_expression()
    )
