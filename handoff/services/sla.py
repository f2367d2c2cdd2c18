"""The SLA clocks: each lead's state, and the sweep that reminds and escalates once each.

Before its first touch a cycle runs against ``first_touch_due_at``; after it, until it
is an SQL, against ``qualify_due_at``. *Due soon* is within the reminder lead time
(``HandoffSettings.remind_before_minutes``), *breached* past the due time. The beat
sweep claims each notice with a conditional UPDATE … RETURNING, so however many sweeps
run at once, an owner is reminded once and the managers are told of a breach once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from handoff.models import INSIDE_STAGES, Cycle, Notification
from handoff.services.assignment import _managers
from handoff.services.calendar import handoff_settings
from handoff.services.notifications import notifications_email_after_commit

ON_TIME, DUE_SOON, BREACHED, MET = "on_time", "due_soon", "breached", "met"
SLA_LABELS = {
    ON_TIME: _("On time"),
    DUE_SOON: _("Due soon"),
    BREACHED: _("Breached"),
    MET: _("Met"),
}


@dataclass(frozen=True, slots=True)
class SlaState:
    state: str  # ON_TIME, DUE_SOON, BREACHED, or MET (nothing left to meet)
    due_at: datetime | None
    clock: str  # "first_touch", "qualify" or ""

    @property
    def label(self) -> str:
        return str(SLA_LABELS[self.state])


def sla_state(cycle: Cycle, *, now: datetime, soon: timedelta) -> SlaState:
    """Where a cycle stands against its SLA at ``now``."""
    if cycle.stage not in INSIDE_STAGES:
        return SlaState(MET, None, "")
    if cycle.first_touch_at is None:
        due, clock = cycle.first_touch_due_at, "first_touch"
    else:
        due, clock = cycle.qualify_due_at, "qualify"
    if due is None:
        return SlaState(ON_TIME, None, clock)
    if now > due:
        return SlaState(BREACHED, due, clock)
    if now >= due - soon:
        return SlaState(DUE_SOON, due, clock)
    return SlaState(ON_TIME, due, clock)


def _claim(queryset, stamp: str, now: datetime) -> list[tuple[int, int | None]]:
    """Set ``stamp`` on the rows still without it; (id, owner) of those this sweep claimed."""
    ids = list(queryset.filter(**{f"{stamp}__isnull": True}).values_list("id", flat=True)[:5000])
    if not ids:
        return []
    claimed = Cycle.objects.filter(pk__in=ids, **{f"{stamp}__isnull": True})
    rows = list(claimed.values_list("id", "owner_id"))
    claimed.update(**{stamp: now})
    return rows


@dataclass(frozen=True, slots=True)
class SweepResult:
    reminded: int
    escalated: int


def sla_sweep(*, now: datetime | None = None) -> SweepResult:
    """Remind owners of leads due soon, escalate breaches to the managers; once each."""
    now = now or timezone.now()
    soon = timedelta(minutes=handoff_settings().remind_before_minutes)
    open_inside = Cycle.objects.filter(stage__in=INSIDE_STAGES)
    untouched = open_inside.filter(first_touch_at__isnull=True)
    touched = open_inside.filter(first_touch_at__isnull=False)
    notes: list[Notification] = []
    reminded = escalated = 0
    with transaction.atomic():
        managers = _managers()
        for queryset, clock, remind, escalate, due in (
            (untouched, "first_touch", "touch_reminded_at", "touch_escalated_at", "first_touch_due_at"),
            (touched, "qualify", "qualify_reminded_at", "qualify_escalated_at", "qualify_due_at"),
        ):  # fmt: skip
            locked = queryset.select_for_update(skip_locked=True)
            breached = _claim(locked.filter(**{f"{due}__lt": now}), escalate, now)
            for pk, owner in breached:
                for user in {owner, *managers} - {None}:
                    notes.append(
                        Notification(
                            user_id=user,
                            kind=Notification.Kind.BREACHED,
                            cycle_id=pk,
                            created_at=now,
                            params={"sla": clock},
                        )
                    )
            due_soon = _claim(
                locked.filter(Q(**{f"{due}__gte": now}) & Q(**{f"{due}__lte": now + soon})),
                remind,
                now,
            )
            notes += [
                Notification(
                    user_id=owner,
                    kind=Notification.Kind.DUE_SOON,
                    cycle_id=pk,
                    created_at=now,
                    params={"sla": clock},
                )
                for pk, owner in due_soon
                if owner
            ]
            escalated += len(breached)
            reminded += len(due_soon)
        Notification.objects.bulk_create(notes, batch_size=1000)
        if notes:
            notifications_email_after_commit()
    return SweepResult(reminded=reminded, escalated=escalated)
