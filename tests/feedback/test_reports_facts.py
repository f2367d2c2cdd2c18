"""The report facts follow the cycle: after a verdict, a deal, a stage change, an owner."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from feedback.models import CycleFacts
from feedback.services.facts import cycle_facts_refresh_all, cycle_facts_sync
from feedback.services.outcomes import outcome_record
from feedback.services.verdicts import verdict_record
from handoff.models import Cycle, Stage
from handoff.services.lifecycle import cycle_transition


@pytest.fixture
def rep_cycle(make_rep, make_cycle):
    rep = make_rep("facts-rep")
    cycle = make_cycle(owner=rep)
    cycle_facts_sync(cycle_ids=[cycle.pk])
    return rep, cycle


def test_a_rejection_lands_in_the_facts_after_the_commit(
    rep_cycle, django_capture_on_commit_callbacks
):
    rep, cycle = rep_cycle
    with django_capture_on_commit_callbacks(execute=True):
        verdict_record(actor=rep, cycle_id=cycle.pk, decision="rejected", reason_code="no_need")
    facts = CycleFacts.objects.get(cycle=cycle)
    assert facts.reason.code == "no_need" and facts.rejected_at is not None
    assert facts.stage == Stage.RECYCLED and facts.accepted_at is None


def test_a_won_deal_lands_in_the_facts_with_its_revenue(
    make_rep, make_cycle, django_capture_on_commit_callbacks
):
    field = make_rep("facts-field", pool="field")
    cycle = make_cycle(stage=Stage.HANDED_OVER, field_owner=field)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        outcome_record(actor=None, crm_id="D-1", status="won", contact_id=cycle.contact_id,
                       created_on=today, closed_on=today, amount=2_500_000)  # fmt: skip
    facts = CycleFacts.objects.get(cycle=cycle)
    assert facts.stage == Stage.WON and facts.won_at is not None
    assert facts.opportunity_at is not None and facts.revenue == 2_500_000
    assert facts.field_owner_id == field.pk


def test_a_transition_handoff_makes_is_synced(rep_cycle, django_capture_on_commit_callbacks):
    _rep, cycle = rep_cycle
    with django_capture_on_commit_callbacks(execute=True):
        cycle_transition(cycle_id=cycle.pk, to_stage=Stage.WORKING)
    facts = CycleFacts.objects.get(cycle=cycle)
    assert facts.stage == Stage.WORKING and facts.accepted_at is not None


def test_the_sweep_resyncs_facts_a_lost_task_left_stale(rep_cycle):
    _rep, cycle = rep_cycle
    Cycle.objects.filter(pk=cycle.pk).update(
        stage=Stage.ACCEPTED, first_touch_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert CycleFacts.objects.get(cycle=cycle).stage == Stage.MQL
    cycle_facts_refresh_all()
    facts = CycleFacts.objects.get(cycle=cycle)
    assert facts.stage == Stage.ACCEPTED and facts.first_touch_at is not None


def test_sync_costs_a_fixed_number_of_queries(make_cycle, django_assert_max_num_queries):
    cycles = [make_cycle() for _ in range(5)]
    with django_assert_max_num_queries(12):
        assert cycle_facts_sync(cycle_ids=[c.pk for c in cycles]) == 5
