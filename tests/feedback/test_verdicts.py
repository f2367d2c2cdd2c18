"""Accept and reject: the verdict, the stage change it makes, who may give it, and races."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from feedback.models import Reason, Verdict
from feedback.services.verdicts import VerdictConflict, verdict_record
from handoff.models import Pool, Stage, Transition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def rep(make_rep):
    return make_rep("is1")


@pytest.fixture
def field_rep(make_rep):
    return make_rep("fs1", pool=Pool.FIELD)


def test_inside_sales_accept_their_mql_in_one_step(make_cycle, rep):
    cycle = make_cycle(owner=rep, score_total=81)
    verdict = verdict_record(actor=rep, cycle_id=cycle.pk, decision="accepted")
    cycle.refresh_from_db()
    assert cycle.stage == Stage.ACCEPTED
    assert (verdict.kind, verdict.decision, verdict.reason, float(verdict.score_total)) == (
        "mql", "accepted", None, 81.0,
    )  # fmt: skip
    row = Transition.objects.get(cycle=cycle)
    assert (row.to_stage, row.actor, row.reason_code) == (Stage.ACCEPTED, rep, "mql_accepted")


def test_a_rejection_for_a_passing_reason_goes_back_to_nurture_with_a_cooling_off(make_cycle, rep):
    cycle = make_cycle(owner=rep)
    verdict = verdict_record(
        actor=rep, cycle_id=cycle.pk, decision="rejected", reason_code="timing",
        note="来期に予算化の予定", judgement="too_high",
    )  # fmt: skip
    cycle.refresh_from_db()
    assert cycle.stage == Stage.RECYCLED and cycle.cooling_until is not None
    assert (verdict.disposition, verdict.judgement, verdict.note) == (
        "recycled", "too_high", "来期に予算化の予定",
    )  # fmt: skip
    assert Transition.objects.get(cycle=cycle).reason_code == "mql_rejected:timing"


def test_a_permanent_reason_disqualifies(make_cycle, rep):
    cycle = make_cycle(owner=rep)
    verdict_record(
        actor=rep, cycle_id=cycle.pk, decision="rejected", reason_code="student_job_seeker"
    )
    cycle.refresh_from_db()
    assert cycle.stage == Stage.DISQUALIFIED


def test_a_rejection_needs_an_offered_reason_and_changes_nothing_without_one(make_cycle, rep):
    cycle = make_cycle(owner=rep)
    Reason.objects.filter(code="timing").update(is_active=False)
    for code, message in (("", "Say why"), ("timing", "offered"), ("nonsense", "offered")):
        with pytest.raises(ValidationError) as caught:
            verdict_record(actor=rep, cycle_id=cycle.pk, decision="rejected", reason_code=code)
        assert message in str(caught.value.message_dict["reason"])
    cycle.refresh_from_db()
    assert cycle.stage == Stage.MQL and not Verdict.objects.exists()
    assert not Transition.objects.exists()


def test_bad_decision_judgement_and_note_are_field_errors(make_cycle, rep):
    cycle = make_cycle(owner=rep)
    with pytest.raises(ValidationError) as caught:
        verdict_record(
            actor=rep, cycle_id=cycle.pk, decision="maybe", judgement="meh", note="x" * 2001
        )
    assert set(caught.value.message_dict) == {"decision", "judgement", "note"}


def test_an_mql_accepted_by_a_first_call_can_still_be_judged_without_moving(make_cycle, rep):
    cycle = make_cycle(owner=rep, stage=Stage.WORKING)
    verdict_record(actor=rep, cycle_id=cycle.pk, decision="accepted", judgement="about_right")
    cycle.refresh_from_db()
    assert cycle.stage == Stage.WORKING
    assert Verdict.objects.get(cycle=cycle).judgement == "about_right"
    assert not Transition.objects.filter(cycle=cycle).exists()


def test_an_mql_is_judged_once(make_cycle, rep):
    cycle = make_cycle(owner=rep, stage=Stage.WORKING)
    verdict_record(actor=rep, cycle_id=cycle.pk, decision="accepted")
    with pytest.raises(VerdictConflict):
        verdict_record(actor=rep, cycle_id=cycle.pk, decision="rejected", reason_code="timing")
    assert Verdict.objects.count() == 1


def test_field_sales_accept_or_reject_what_was_handed_to_them(make_cycle, rep, field_rep):
    taken = make_cycle(owner=rep, field_owner=field_rep, stage=Stage.HANDED_OVER)
    refused = make_cycle(owner=rep, field_owner=field_rep, stage=Stage.HANDED_OVER)
    verdict_record(actor=field_rep, cycle_id=taken.pk, decision="accepted")
    verdict_record(
        actor=field_rep, cycle_id=refused.pk, decision="rejected", reason_code="no_budget"
    )
    taken.refresh_from_db()
    refused.refresh_from_db()
    assert (taken.stage, refused.stage) == (Stage.SQL_ACCEPTED, Stage.RECYCLED)
    assert set(Verdict.objects.values_list("kind", flat=True)) == {"sql"}


def test_nobody_judges_another_reps_lead(make_cycle, make_rep, rep, field_rep, marketing_user):
    other = make_rep("is2")
    mql = make_cycle(owner=other)
    sql = make_cycle(owner=rep, field_owner=make_rep("fs2", pool=Pool.FIELD), stage="handed_over")
    for actor, cycle in ((rep, mql), (marketing_user, mql), (field_rep, sql), (rep, sql)):
        with pytest.raises(PermissionDenied):
            verdict_record(actor=actor, cycle_id=cycle.pk, decision="accepted")
    assert not Verdict.objects.exists()


def test_a_manager_judges_any_lead(make_cycle, rep, manager_user):
    cycle = make_cycle(owner=rep)
    verdict_record(actor=manager_user, cycle_id=cycle.pk, decision="accepted")
    assert Verdict.objects.get().actor == manager_user


def test_a_lead_past_its_verdicts_awaits_none(make_cycle, rep, manager_user):
    for stage in (Stage.SQL, Stage.OPPORTUNITY, Stage.WON, Stage.RECYCLED):
        cycle = make_cycle(owner=rep, stage=stage)
        with pytest.raises(ValidationError, match="awaits no verdict"):
            verdict_record(actor=manager_user, cycle_id=cycle.pk, decision="accepted")


def test_a_verdict_on_a_lead_someone_moved_meanwhile_is_refused(make_cycle, rep, monkeypatch):
    cycle = make_cycle(owner=rep)
    from feedback.services import verdicts
    from handoff.models import Cycle

    real_get = Cycle.objects.get

    def stale_get(**kwargs):
        found = real_get(**kwargs)
        # Another rep rejected it between our read and our write.
        Cycle.objects.filter(pk=found.pk).update(stage=Stage.RECYCLED)
        return found

    monkeypatch.setattr(verdicts.Cycle.objects, "get", stale_get)
    with pytest.raises(VerdictConflict):
        verdict_record(actor=rep, cycle_id=cycle.pk, decision="accepted")
    assert not Verdict.objects.exists()
