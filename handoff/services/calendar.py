"""The organisation's calendar and SLAs, as stored in its settings row."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from handoff.calendar import Calendar, add_working_days, add_working_time
from handoff.models import HandoffSettings


def handoff_settings() -> HandoffSettings:
    """The one settings row (created with the defaults the first time it is asked for)."""
    found = HandoffSettings.objects.order_by("id").first()
    if found is not None:
        return found
    with transaction.atomic():
        return HandoffSettings.objects.order_by("id").first() or HandoffSettings.objects.create()


def calendar_of(row: HandoffSettings) -> Calendar:
    closed = set()
    for part in row.closed_days.split(","):
        part = part.strip()
        if part:
            month, day = part.split("-")
            closed.add((int(month), int(day)))
    weekdays = {int(d) for d in row.weekdays.split(",") if d.strip()}
    return Calendar(
        zone=row.time_zone,
        opens=row.opens,
        closes=row.closes,
        weekdays=frozenset(weekdays),
        closed=frozenset(closed),
        country=row.holidays_country,
    )


def sla_due(row: HandoffSettings, calendar: Calendar, start: datetime) -> tuple[datetime, datetime]:
    """(first touch due, qualification due) for a cycle that became an MQL at ``start``."""

    touch = add_working_time(calendar, start, timedelta(hours=float(row.first_touch_hours)))
    qualify = add_working_days(calendar, start, row.qualify_days)
    return touch, qualify
