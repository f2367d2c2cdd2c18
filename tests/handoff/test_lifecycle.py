"""The funnel as a state machine: every allowed and forbidden change, recorded, race-free."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied

from handoff.models import CLOSED_STAGES, Stage, Transition
from handoff.services.lifecycle import (
    TRANSITIONS,
    LeadAlreadyInQueue,
    TransitionConflict,
    TransitionRefused,
    cycle_raise,
    cycle_transition,
)
from scoring.models import DefinitionVersion, LeadScore
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Stage.values, Stage.values)))
def test_every_stage_change_is_allowed_or_refused_as_the_funnel_says(make_cycle, source, target):
    cycle = make_cycle(stage=source)
    if target in TRANSITIONS.get(source, ()):
        moved = cycle_transition(cycle_id=cycle.pk, to_stage=target, reason_code="x")
        assert moved.stage == target
        row = Transition.objects.get(cycle=cycle)
        assert (row.from_stage, row.to_stage, row.reason_code) == (source, target, "x")
    else:
        with pytest.raises(TransitionRefused):
            cycle_transition(cycle_id=cycle.pk, to_stage=target)
        cycle.refresh_from_db()
        assert cycle.stage == source and not Transition.objects.filter(cycle=cycle).exists()


def test_closed_stages_are_final():
    for stage in CLOSED_STAGES:
        assert stage not in TRANSITIONS


def test_a_transition_records_who_when_and_the_score_then(make_cycle, manager_user):
    version = DefinitionVersion.objects.get(status="active")
    cycle = make_cycle()
    from django.utils import timezone

    LeadScore.objects.create(
        contact=cycle.contact, version=version, total=72.5, fit=20, engagement=52.5,
        band="hot", scored_at=timezone.now(),
    )  # fmt: skip
    cycle_transition(
        cycle_id=cycle.pk, to_stage=Stage.RECYCLED, actor=manager_user, reason_code="timing",
        note="来期に再検討",
    )  # fmt: skip
    row = Transition.objects.get(cycle=cycle)
    assert (row.actor, row.version, float(row.score_total), row.score_band) == (
        manager_user, version, 72.5, "hot",
    )  # fmt: skip
    assert row.note == "来期に再検討"
    cycle.refresh_from_db()
    assert cycle.closed_at == row.at and cycle.cooling_until > row.at


def test_a_stale_stage_loses_to_the_change_made_first(make_cycle):
    cycle = make_cycle(stage=Stage.MQL)
    cycle_transition(cycle_id=cycle.pk, to_stage=Stage.ACCEPTED)
    from handoff.services.lifecycle import Step, _apply

    stale = type(cycle).objects.get(pk=cycle.pk)
    stale.stage = Stage.MQL  # what a second click read before the first one's commit
    with pytest.raises(TransitionConflict):
        _apply(stale, [Step(Stage.DISQUALIFIED)], None, stale.updated_at)


def test_only_the_owner_or_a_manager_moves_a_lead(make_cycle, make_rep, manager_user):
    mine, other = make_rep("is-a"), make_rep("is-b")
    cycle = make_cycle(owner=mine)
    with pytest.raises(PermissionDenied):
        cycle_transition(cycle_id=cycle.pk, to_stage=Stage.ACCEPTED, actor=other)
    cycle_transition(cycle_id=cycle.pk, to_stage=Stage.ACCEPTED, actor=mine)
    cycle_transition(cycle_id=cycle.pk, to_stage=Stage.WORKING, actor=manager_user)


def test_marketing_and_field_sales_cannot_move_an_inside_lead(
    make_cycle, marketing_user, sales_user
):
    cycle = make_cycle()
    for user in (marketing_user, sales_user):
        with pytest.raises(PermissionDenied):
            cycle_transition(cycle_id=cycle.pk, to_stage=Stage.ACCEPTED, actor=user)


def test_a_lead_raised_by_hand_is_marked_and_kept_by_its_rep(make_rep):
    rep = make_rep("is-raise")
    contact = ContactFactory(title="担当")
    cycle = cycle_raise(actor=rep, contact_id=contact.pk, reason="展示会で決裁者と面談")
    assert (cycle.origin, cycle.raised_by, cycle.owner, cycle.stage) == (
        "sales", rep, rep, Stage.MQL,
    )  # fmt: skip
    assert cycle.first_touch_due_at > cycle.mql_at
    with pytest.raises(LeadAlreadyInQueue):
        cycle_raise(actor=rep, contact_id=contact.pk, reason="二度目")


def test_raising_a_lead_needs_a_reason_and_the_right_role(make_rep, marketing_user):
    from django.core.exceptions import ValidationError

    contact = ContactFactory()
    with pytest.raises(PermissionDenied):
        cycle_raise(actor=marketing_user, contact_id=contact.pk, reason="x")
    with pytest.raises(ValidationError):
        cycle_raise(actor=make_rep("is-r2"), contact_id=contact.pk, reason="  ")
