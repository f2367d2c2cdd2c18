"""Leads that turn hot reach the queue at once: one cycle per MQL event, assigned, with SLAs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from handoff.models import Bant, Cycle, MqlIntake, Stage, Transition
from handoff.services.intake import mql_intake
from handoff.services.lifecycle import cycle_transition
from leads.models import Activity
from scoring.models import DefinitionVersion, MqlEvent
from scoring.services.jobs import pending_drain, pending_record
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, IntentSignalFactory

pytestmark = pytest.mark.django_db


def _hot_lead(**contact):
    """A lead the starter definition scores hot: a director at a big target company."""
    lead = ContactFactory(
        title="営業部長", company__employee_count=1200, company__industry="E", **contact
    )
    ActivityFactory(contact=lead, kind=Activity.Kind.DEMO_REQUEST, properties={})
    return lead


def _drain(capture, contact_ids=(), company_ids=()):
    with capture(execute=True):
        pending_record(contact_ids=contact_ids, company_ids=company_ids)
        pending_drain()


def test_a_lead_that_turns_hot_is_in_a_reps_queue_at_once(
    make_rep, django_capture_on_commit_callbacks
):
    rep = make_rep("intake-rep")
    lead = _hot_lead()
    _drain(django_capture_on_commit_callbacks, [lead.pk])  # the intake runs on commit
    cycle = Cycle.objects.get(contact=lead)
    event = MqlEvent.objects.get(contact=lead)
    assert (cycle.stage, cycle.owner, cycle.number, cycle.mql_at) == (
        Stage.MQL, rep, 1, event.became_hot_at,
    )  # fmt: skip
    assert (
        cycle.first_touch_due_at > cycle.mql_at and cycle.qualify_due_at > cycle.first_touch_due_at
    )
    assert cycle.score_total == event.total and cycle.score_band == "hot"
    rules = {part["rule"] for part in cycle.breakdown}
    assert {"demo_or_pricing_request", "title_senior"} <= rules  # the breakdown at MQL time
    assert MqlIntake.objects.get(mql_event=event).outcome == "new"
    assert Transition.objects.get(cycle=cycle).reason_code == "became_hot"


def test_an_event_while_a_cycle_is_open_starts_nothing(make_cycle):
    lead = ContactFactory()
    make_cycle(contact=lead, stage=Stage.WORKING)
    version = DefinitionVersion.objects.get(status="active")
    MqlEvent.objects.create(contact=lead, version=version, total=70, became_hot_at=timezone.now())
    result = mql_intake()
    assert (result.events, result.cycles, result.already_open) == (1, 0, 1)
    assert Cycle.objects.filter(contact=lead).count() == 1


def test_a_recycled_lead_comes_back_after_its_cooling_off_as_a_new_cycle(make_cycle):
    lead = ContactFactory()
    first = make_cycle(contact=lead)
    cycle_transition(cycle_id=first.pk, to_stage=Stage.RECYCLED, reason_code="timing")
    first.refresh_from_db()
    version = DefinitionVersion.objects.get(status="active")
    during = MqlEvent.objects.create(
        contact=lead, version=version, total=70, became_hot_at=timezone.now()
    )
    assert mql_intake().cooling == 1
    assert MqlIntake.objects.get(mql_event=during).outcome == "cooling"
    later = first.cooling_until + dt.timedelta(days=1)
    MqlEvent.objects.create(contact=lead, version=version, total=75, became_hot_at=later)
    assert mql_intake(now=later).cycles == 1
    second = Cycle.objects.get(contact=lead, number=2)
    assert second.stage == Stage.MQL and second.mql_at == later


def test_bant_is_prefilled_from_the_inquiry_form_and_marked_so(
    make_rep, django_capture_on_commit_callbacks
):
    make_rep("form-rep")
    lead = _hot_lead()
    ActivityFactory(
        contact=lead, kind=Activity.Kind.FORM_SUBMISSION,
        properties={"予算": "500万円程度", "導入時期": "3ヶ月以内", "課題": "営業とマーケの連携"},
    )  # fmt: skip
    _drain(django_capture_on_commit_callbacks, [lead.pk])
    bant = Bant.objects.get(cycle__contact=lead)
    assert (bant.budget_status, bant.budget_source) == ("partial", "form")
    assert (bant.timeframe_status, bant.need_status, bant.authority_status) == (
        "partial", "partial", "unknown",
    )  # fmt: skip
    assert bant.form_answers == {
        "budget": "500万円程度",
        "timeframe": "3ヶ月以内",
        "need": "営業とマーケの連携",
    }
    assert bant.need_notes == "営業とマーケの連携"


def test_an_account_nobody_there_has_talked_to_enters_the_queue(
    make_rep, django_capture_on_commit_callbacks
):
    rep = make_rep("prospector")
    company = CompanyFactory(employee_count=1200, industry="E")
    IntentSignalFactory(company=company, strength=80)
    ActivityFactory(contact=None, company=company, kind=Activity.Kind.DEMO_REQUEST, properties={})
    _drain(django_capture_on_commit_callbacks, company_ids=[company.pk])
    cycle = Cycle.objects.get(company=company)
    assert cycle.contact is None and cycle.is_account and cycle.owner == rep


def test_intake_of_a_batch_is_set_based(make_rep, django_assert_max_num_queries):
    make_rep("batch-rep")
    version = DefinitionVersion.objects.get(status="active")
    now = timezone.now()
    leads = [ContactFactory() for _ in range(40)]
    MqlEvent.objects.bulk_create(
        [MqlEvent(contact=c, version=version, total=70, became_hot_at=now) for c in leads]
    )
    with django_assert_max_num_queries(45):
        assert mql_intake().cycles == 40
    assert Cycle.objects.filter(owner__isnull=False).count() == 40


def test_a_lead_still_hot_when_its_cooling_off_ends_comes_back_once(make_cycle):
    from handoff.services.intake import cooled_leads_intake
    from scoring.models import LeadScore

    lead = ContactFactory()
    version = DefinitionVersion.objects.get(status="active")
    LeadScore.objects.create(
        contact=lead, version=version, total=80, fit=20, engagement=60, band="hot",
        scored_at=timezone.now(),
    )  # fmt: skip
    first = make_cycle(contact=lead)
    cycle_transition(cycle_id=first.pk, to_stage=Stage.RECYCLED)
    first.refresh_from_db()
    assert cooled_leads_intake(now=first.cooling_until - dt.timedelta(hours=1)) == 0
    after = first.cooling_until + dt.timedelta(hours=1)
    assert cooled_leads_intake(now=after) == 1
    again = Cycle.objects.get(contact=lead, number=2)
    assert (again.origin, again.stage) == ("cooled", Stage.MQL)
    assert cooled_leads_intake(now=after + dt.timedelta(days=1)) == 0  # once
