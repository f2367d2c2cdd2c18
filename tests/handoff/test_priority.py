"""The queue's stored sort keys: right after every kind of write, and in the order reps want."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from handoff import selectors
from handoff.models import Cycle, Pool, Stage
from handoff.services.calls import CallInput, call_log, cycle_promote
from handoff.services.lifecycle import cycle_raise, cycle_transition
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

QUALIFIED = dict(
    outcome="connected",
    budget_status="confirmed",
    budget_range="500_1000",
    authority_status="confirmed",
    authority_role="decision_maker",
    need_status="confirmed",
    pain_points=("mkt_sales_gap",),
    timeframe_status="confirmed",
    timeframe_kind="quarter",
    timeframe_month=dt.date(2027, 3, 1),
)


def keys(cycle: Cycle) -> tuple:
    cycle.refresh_from_db()
    return cycle.sla_due_at, cycle.attention_at


def test_each_write_keeps_the_due_time_and_the_attention_time(make_rep, make_cycle):
    rep = make_rep("keys-rep")
    make_rep("keys-field", pool=Pool.FIELD)
    cycle = make_cycle(owner=rep)
    assert keys(cycle) == (cycle.first_touch_due_at, cycle.first_touch_due_at)

    # The first call stops the first-touch clock: qualification is due now.
    call_log(actor=rep, cycle_id=cycle.pk, data=CallInput(outcome="voicemail"))
    assert keys(cycle) == (cycle.qualify_due_at, cycle.qualify_due_at)

    # A call-back before the qualification deadline is when it needs the rep.
    back = timezone.now() + dt.timedelta(days=1)
    call_log(actor=rep, cycle_id=cycle.pk, data=CallInput(outcome="voicemail", next_action_at=back))
    assert keys(cycle) == (cycle.qualify_due_at, back)

    # One after it does not hide the deadline.
    late = cycle.qualify_due_at + dt.timedelta(days=3)
    call_log(actor=rep, cycle_id=cycle.pk, data=CallInput(outcome="voicemail", next_action_at=late))
    assert keys(cycle) == (cycle.qualify_due_at, cycle.qualify_due_at)

    # An SQL runs against no inside-sales clock; only its next action is left.
    call_log(actor=rep, cycle_id=cycle.pk, data=CallInput(**QUALIFIED))
    cycle_promote(actor=rep, cycle_id=cycle.pk)
    cycle.refresh_from_db()
    assert cycle.stage == Stage.HANDED_OVER
    assert keys(cycle) == (None, None)


def test_a_closed_cycle_keeps_no_due_time(make_rep, make_cycle):
    rep = make_rep("closer")
    cycle = make_cycle(owner=rep, stage=Stage.WORKING, first_touch_at=timezone.now())
    cycle_transition(cycle_id=cycle.pk, to_stage=Stage.RECYCLED, actor=rep, reason_code="timing")
    assert keys(cycle) == (None, None)


def test_a_raised_lead_is_due_from_the_moment_it_was_raised(make_rep):
    rep = make_rep("raiser")
    cycle = cycle_raise(
        actor=rep, contact_id=ContactFactory().pk, reason="展示会で決裁者と名刺交換"
    )
    assert keys(cycle) == (cycle.first_touch_due_at, cycle.first_touch_due_at)


def test_the_queue_puts_what_needs_someone_first_then_the_highest_score(make_rep, make_cycle):
    rep = make_rep("order")
    now = timezone.now()
    hours = dt.timedelta(hours=1)
    calm_low = make_cycle(owner=rep, first_touch_due_at=now + 9 * hours, score_total=60)
    calm_high = make_cycle(owner=rep, first_touch_due_at=now + 9 * hours, score_total=90)
    breached = make_cycle(owner=rep, first_touch_due_at=now - hours)
    # Touched, qualification far off, but the rep promised a call in two hours.
    promised = make_cycle(
        owner=rep, stage=Stage.WORKING, first_touch_at=now - 5 * hours,
        next_action_at=now + 2 * hours, qualify_due_at=now + dt.timedelta(days=5),
    )  # fmt: skip
    sql = make_cycle(owner=rep, stage=Stage.SQL, sql_at=now)
    ordered = selectors.with_priority(Cycle.objects.filter(owner=rep), now=now)
    assert list(ordered) == [breached, promised, calm_high, calm_low, sql]
