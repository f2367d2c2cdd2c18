"""Business hours: when an SLA clock runs, and when it comes due. Pure: no Django, no I/O.

The organisation's calendar is a time zone (Asia/Tokyo), working hours (9:00–18:00),
working weekdays (Monday–Friday), Japan's public holidays (the maintained ``holidays``
library, substitute holidays included) and the company's own closed days (12/29–1/3 by
default). An SLA clock runs only inside working hours: a lead that turns hot on a Friday
evening is due two working hours after Monday 9:00, not on Friday night.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# More than this many closed days in a row: the calendar is broken (it never opens).
_MAX_DAYS = 400


@lru_cache(maxsize=8)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=[year]).keys())


def holiday_name(day: date, *, country: str = "JP", language: str = "ja") -> str:
    """The public holiday's name on ``day`` in ``language`` ("" if none)."""
    names = holidays.country_holidays(country, years=[day.year], language=language)
    return names.get(day, "")


@dataclass(frozen=True, slots=True)
class Calendar:
    """When people work. ``closed`` are (month, day) pairs closed every year."""

    zone: str = "Asia/Tokyo"
    opens: time = time(9)
    closes: time = time(18)
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    closed: frozenset[tuple[int, int]] = field(
        default_factory=lambda: frozenset({(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)})
    )
    country: str = "JP"  # whose public holidays; "" for none

    def __post_init__(self) -> None:
        ZoneInfo(self.zone)  # an unknown zone fails here
        if not self.opens < self.closes:
            raise ValueError(
                f"working hours must open before they close: {self.opens}–{self.closes}"
            )
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError(f"working weekdays must be some of 0–6: {sorted(self.weekdays)}")
        for month, day in self.closed:
            date(2024, month, day)  # a leap year: 2/29 is a valid closed day

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_working_day(self, day: date) -> bool:
        if day.weekday() not in self.weekdays or (day.month, day.day) in self.closed:
            return False
        return not (self.country and day in _holidays(self.country, day.year))

    def hours_of(self, day: date) -> tuple[datetime, datetime]:
        """The day's working hours as aware instants (whatever the day is)."""
        return (
            datetime.combine(day, self.opens, tzinfo=self.tz),
            datetime.combine(day, self.closes, tzinfo=self.tz),
        )

    def working_days(self, start: date) -> Iterable[date]:
        """Working days from ``start`` on (``start`` included if it is one), endlessly.

        Raises ValueError after a run of more than a year of closed days: a calendar
        that never opens must not hang a request.
        """
        day, closed_run = start, 0
        while True:
            if self.is_working_day(day):
                closed_run = 0
                yield day
            else:
                closed_run += 1
                if closed_run > _MAX_DAYS:
                    raise ValueError(f"no working day within {_MAX_DAYS} days of {day}")
            day += timedelta(days=1)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed: {value!r}")
    return value


def add_working_time(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    """The instant when ``amount`` of working time has passed since ``start``.

    Time outside working hours does not count; an amount of zero from outside them is
    the next opening. The result is in the calendar's zone.
    """
    if amount < timedelta(0):
        raise ValueError("an SLA cannot be negative")
    at = _aware(start).astimezone(calendar.tz)
    left = amount
    for day in calendar.working_days(at.date()):
        opens, closes = calendar.hours_of(day)
        begin = max(at, opens)
        if begin >= closes:
            continue
        if begin + left <= closes:
            return begin + left
        left -= closes - begin
    raise AssertionError("unreachable: working_days raises first")


def add_working_days(calendar: Calendar, start: datetime, days: int) -> datetime:
    """``days`` working days of working time after ``start`` (same time of day, N days on)."""
    return add_working_time(calendar, start, calendar.day_length * days)


def working_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """How much working time lies between two instants (zero if ``end`` is not later)."""
    start, end = _aware(start).astimezone(calendar.tz), _aware(end).astimezone(calendar.tz)
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    for day in calendar.working_days(start.date()):
        if day > end.date():
            break
        opens, closes = calendar.hours_of(day)
        begin, finish = max(start, opens), min(end, closes)
        if finish > begin:
            total += finish - begin
    return total
