"""Business hours: weekends, Japanese public holidays, closed days, working-hour edges, zones."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.calendar import (
    Calendar,
    add_working_days,
    add_working_time,
    holiday_name,
    working_time_between,
)

JST = ZoneInfo("Asia/Tokyo")
CAL = Calendar()
HOURS = timedelta(hours=1)


def jst(y, m, d, h=0, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=JST)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (jst(2026, 12, 7, 10), 2, jst(2026, 12, 7, 12)),  # a Monday morning
        (jst(2026, 12, 7, 17), 2, jst(2026, 12, 8, 10)),  # runs over the evening
        (jst(2026, 12, 7, 7, 30), 2, jst(2026, 12, 7, 11)),  # before opening: from 9:00
        (jst(2026, 12, 4, 19), 2, jst(2026, 12, 7, 11)),  # Friday night: Monday 11:00
        (jst(2026, 12, 5, 12), 0, jst(2026, 12, 7, 9)),  # Saturday, no time: Monday's opening
        (jst(2026, 12, 7, 18), 1, jst(2026, 12, 8, 10)),  # at closing: the next day
        (jst(2026, 12, 7, 9), 9, jst(2026, 12, 7, 18)),  # exactly a day
    ],
)
def test_working_hours_and_weekends(start, hours, due):
    assert add_working_time(CAL, start, hours * HOURS) == due


def test_japanese_public_holidays_stop_the_clock():
    # 2026-11-23 (Mon) 勤労感謝の日: Friday 17:00 + 2 h is Tuesday 10:00.
    assert holiday_name(date(2026, 11, 23)) == "勤労感謝の日"
    assert add_working_time(CAL, jst(2026, 11, 20, 17), 2 * HOURS) == jst(2026, 11, 24, 10)
    # Golden Week 2026: 5/4–5/6 are holidays (5/6 a substitute), 5/2–5/3 a weekend.
    assert add_working_time(CAL, jst(2026, 5, 1, 17), 2 * HOURS) == jst(2026, 5, 7, 10)


def test_the_year_end_closure_is_closed_days():
    # 12/29–1/3 closed by default; 2027-01-04 is a Monday.
    assert add_working_time(CAL, jst(2026, 12, 28, 17), 2 * HOURS) == jst(2027, 1, 4, 10)
    opened = Calendar(closed=frozenset())
    assert add_working_time(opened, jst(2026, 12, 28, 17), 2 * HOURS) == jst(2026, 12, 29, 10)


def test_five_working_days_is_five_days_of_working_time():
    # Monday 10:00 + 5 working days = next Monday 10:00; over a holiday, one more day.
    assert add_working_days(CAL, jst(2026, 12, 7, 10), 5) == jst(2026, 12, 14, 10)
    assert add_working_days(CAL, jst(2026, 11, 18, 10), 5) == jst(2026, 11, 26, 10)


def test_a_due_time_is_the_same_instant_in_any_viewers_zone():
    start = datetime(2026, 12, 7, 0, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Tokyo
    due = add_working_time(CAL, start, 2 * HOURS)
    assert due == jst(2026, 12, 7, 11, 30)
    assert due.astimezone(ZoneInfo("America/New_York")).hour == 21  # the evening before there


def test_another_organisation_calendar():
    london = Calendar(zone="Europe/London", opens=time(8), closes=time(16), country="")
    start = datetime(2026, 12, 4, 15, tzinfo=ZoneInfo("Europe/London"))  # a Friday
    assert add_working_time(london, start, 2 * HOURS) == datetime(
        2026, 12, 7, 9, tzinfo=ZoneInfo("Europe/London")
    )


def test_working_time_between_counts_only_working_hours():
    assert working_time_between(CAL, jst(2026, 12, 4, 17), jst(2026, 12, 7, 10)) == 2 * HOURS
    assert working_time_between(CAL, jst(2026, 12, 7, 10), jst(2026, 12, 7, 9)) == timedelta(0)
    year = working_time_between(CAL, jst(2026, 1, 1), jst(2027, 1, 1))
    assert year == 9 * HOURS * sum(
        1 for n in range(365) if CAL.is_working_day(date(2026, 1, 1) + timedelta(days=n))
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: Calendar(opens=time(18), closes=time(9)),
        lambda: Calendar(weekdays=frozenset()),
        lambda: Calendar(weekdays=frozenset({7})),
        lambda: Calendar(zone="Mars/Olympus"),
        lambda: Calendar(closed=frozenset({(2, 30)})),
    ],
)
def test_a_broken_calendar_is_refused(make):
    with pytest.raises(Exception):  # noqa: B017 (ValueError, or ZoneInfoNotFoundError)
        make()


def test_a_calendar_that_never_opens_fails_instead_of_hanging():
    leap_year = (date(2024, 1, 1) + timedelta(days=n) for n in range(366))
    every_day = frozenset((d.month, d.day) for d in leap_year)
    with pytest.raises(ValueError, match="no working day"):
        add_working_time(Calendar(closed=every_day), jst(2026, 1, 1), HOURS)


@settings(max_examples=150, deadline=None)
@given(
    # hypothesis takes naive bounds and attaches the zone itself
    st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001
        max_value=datetime(2027, 12, 1),  # noqa: DTZ001
        timezones=st.just(JST),
    ),
    st.integers(0, 60 * 60 * 9 * 12),
)
def test_the_time_added_is_the_working_time_between(start, seconds):
    amount = timedelta(seconds=seconds)
    due = add_working_time(CAL, start, amount)
    assert due >= start
    assert working_time_between(CAL, start, due) == amount
    opens, closes = CAL.hours_of(due.date())
    assert CAL.is_working_day(due.date()) and opens <= due <= closes
