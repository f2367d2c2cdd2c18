"""Incremental rescoring: ingestion marks its leads, one coalesced drain per batch rescores them.

The drain task is sent on commit; ``django_capture_on_commit_callbacks``
(execute=True) commits the request as far as on-commit work is concerned, and
the eager task then drains in-process.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from leads.models import Activity, Company, Contact
from scoring.models import DefinitionVersion, LeadScore, PendingRescore
from scoring.services import jobs
from scoring.services.jobs import active_version, pending_drain, pending_record
from scoring.tasks import rescore_pending
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events"
INTENT_BATCH = "/api/v1/intent-signals/batch"


@pytest.fixture
def drains(monkeypatch) -> list[set[tuple[int | None, int | None]]]:
    """One item per ``rescore_pending.delay()``: the pending rows it was sent for."""
    calls: list[set[tuple[int | None, int | None]]] = []
    send = rescore_pending.delay

    def counted(*args, **kwargs):
        calls.append(set(PendingRescore.objects.values_list("contact_id", "company_id")))
        return send(*args, **kwargs)

    monkeypatch.setattr(rescore_pending, "delay", counted)
    return calls


def _recent(hours: int = 1) -> str:
    return (timezone.now() - dt.timedelta(hours=hours)).isoformat()


def _event(n: int, **overrides) -> dict:
    item = {
        "source": "ma-tool",
        "external_id": f"inc-{n}",
        "kind": "demo_request",
        "occurred_at": _recent(),
        "contact": {"email": f"taro{n}@sample.co.jp", "company": "株式会社サンプル"},
        "properties": {},
    }
    item.update(overrides)
    return item


def _signal(n: int, domain: str) -> dict:
    return {
        "company": {"domain": domain},
        "topic": "CRM",
        "strength": 80,
        "observed_at": _recent(),
        "provider": "bombora",
        "external_id": f"sig-{n}",
    }


def _drain_callbacks(callbacks) -> int:
    return sum(1 for callback in callbacks if isinstance(callback, jobs._SendDrain))


def test_an_ingested_batch_marks_its_leads_and_sends_one_drain(
    api_client, drains, django_capture_on_commit_callbacks
):
    account_event = _event(
        9, contact=None, company={"domain": "account.co.jp", "name": "株式会社アカウント"}
    )
    batch = [
        _event(1),
        _event(2),
        _event(3, kind="page_view"),
        _event(1, external_id="x"),
        account_event,
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post(EVENTS, {"events": batch}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 5

    contacts = set(Contact.objects.values_list("id", flat=True))
    account = Company.objects.get(domain="account.co.jp")
    assert len(contacts) == 3
    # One drain for the whole batch, sent when the pending rows were committed.
    assert _drain_callbacks(callbacks) == 1
    # Every new company is an account to score too (the contacts' as well).
    companies = set(Company.objects.values_list("id", flat=True))
    assert drains == [{(pk, None) for pk in contacts} | {(None, pk) for pk in companies}]
    assert account.pk in companies

    assert not PendingRescore.objects.exists()
    version = active_version()
    scores = LeadScore.objects.filter(version=version)
    assert set(scores.exclude(contact=None).values_list("contact", flat=True)) == contacts
    assert set(scores.filter(contact=None).values_list("company", flat=True)) == companies
    taro = LeadScore.objects.get(contact__email="taro1@sample.co.jp")
    assert (taro.total, taro.band) == (40, "warm")  # two demo requests, capped at 40


def test_a_replayed_batch_marks_nothing_and_sends_no_drain(
    api_client, drains, django_capture_on_commit_callbacks
):
    ActivityFactory(source="ma-tool", external_id="inc-1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        body = api_client.post(EVENTS, {"events": [_event(1)]}, format="json").json()
    assert (body["created"], body["duplicates"]) == (0, 1)
    assert _drain_callbacks(callbacks) == 0 and drains == []
    assert not PendingRescore.objects.exists()


def test_intent_signals_mark_their_companies(
    api_client, drains, django_capture_on_commit_callbacks
):
    lead = ContactFactory()
    company = lead.company
    body = {"intent_signals": [_signal(1, company.domain), _signal(2, "intent.co.jp")]}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post(INTENT_BATCH, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2

    new_company = Company.objects.get(domain="intent.co.jp")
    assert _drain_callbacks(callbacks) == 1
    assert drains == [{(None, company.pk), (None, new_company.pk)}]
    assert not PendingRescore.objects.exists()
    # The company's contacts carry its intent; the new company is an account.
    assert LeadScore.objects.get(contact=lead).engagement > 0
    account = LeadScore.objects.get(company=new_company, contact=None)
    assert account.engagement > 0
    assert LeadScore.objects.get(company=company, contact=None).engagement > 0


def test_marking_twice_in_one_transaction_sends_one_drain(
    drains, django_capture_on_commit_callbacks
):
    a, b = ContactFactory(), ContactFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        pending_record(contact_ids=[a.pk], company_ids=[])
        pending_record(contact_ids=[b.pk, a.pk], company_ids=[a.company_id])
    assert _drain_callbacks(callbacks) == 1
    assert drains == [{(a.pk, None), (b.pk, None), (None, a.company_id)}]
    assert set(LeadScore.objects.exclude(contact=None).values_list("contact", flat=True)) == {
        a.pk,
        b.pk,
    }


def test_marking_nothing_sends_nothing(drains, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pending_record(contact_ids=[], company_ids=[])
    assert callbacks == [] and drains == []


def test_a_company_that_gained_a_contact_keeps_its_account_beside_its_lead():
    company = CompanyFactory()
    ActivityFactory(contact=None, company=company, kind=Activity.Kind.EVENT_VISIT)
    PendingRescore.objects.create(company=company)
    assert pending_drain() == 1
    assert LeadScore.objects.filter(company=company, contact=None).exists()

    contact = ContactFactory(company=company)
    ActivityFactory(contact=contact, kind=Activity.Kind.PAGE_VIEW)
    PendingRescore.objects.create(contact=contact)
    assert pending_drain() == 1
    assert LeadScore.objects.filter(company=company, contact=None).exists()
    assert LeadScore.objects.filter(contact=contact).exists()
    assert not PendingRescore.objects.exists()


def test_without_an_active_version_pending_leads_wait():
    contact = ContactFactory()
    PendingRescore.objects.create(contact=contact)
    DefinitionVersion.objects.update(status=DefinitionVersion.Status.RETIRED)
    assert pending_drain() == 0
    assert PendingRescore.objects.filter(contact=contact).exists()
    assert not LeadScore.objects.exists()


def test_a_stored_batch_is_accepted_when_the_broker_is_down(
    api_client, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    """The events are committed before the drain is sent: the answer stays 200."""
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(rescore_pending, "delay", broker_down)
    with (
        caplog.at_level("WARNING", logger="config.background"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api_client.post(EVENTS, {"events": [_event(1), _event(2)]}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 2
    assert Activity.objects.count() == 2
    # The leads wait for the sweep; the failure is in the log.
    assert PendingRescore.objects.filter(contact__isnull=False).count() == 2
    assert not LeadScore.objects.exists()
    assert "scoring.tasks.rescore_pending" in caplog.text
