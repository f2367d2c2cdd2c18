"""Every writer of lead facts marks the leads it changed, through ``lead_facts_changed``.

Scoring listens (a ``PendingRescore`` row per lead, in the writer's transaction); a
writer that forgot would leave stale scores until the nightly rescore.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from leads.models import Company, Contact
from leads.services.imports import intent_import_csv, leads_import_csv
from scoring.models import LeadScore, PendingRescore
from scoring.services.jobs import pending_drain
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _pending() -> set[tuple[int | None, int | None]]:
    return set(PendingRescore.objects.values_list("contact_id", "company_id"))


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def test_only_the_one_function_sends_the_lead_signals():
    senders = []
    for path in (ROOT / "leads").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "send"
                and getattr(node.value, "id", "")
                in {"lead_activity_changed", "lead_attributes_changed"}
            ):
                senders.append(str(path.relative_to(ROOT)))
    assert senders and set(senders) == {"leads/signals.py"}


def test_the_companies_api_marks_a_changed_company(api_client):
    company = CompanyFactory(domain="fit.example.jp", employee_count=20)
    response = api_client.post(
        "/api/v1/companies", {"domain": "fit.example.jp", "employee_count": 2000}, format="json"
    )
    assert response.status_code == 200
    assert _pending() == {(None, company.pk)}


def test_a_changed_company_rescores_its_contacts_and_account():
    company = CompanyFactory(employee_count=20)
    contact = ContactFactory(company=company)
    PendingRescore.objects.create(company=company)
    pending_drain()
    before = LeadScore.objects.get(contact=contact).fit
    from leads.services.ingest import CompanyInput, companies_upsert
    from leads.services.resolve import CompanyRef

    companies_upsert(
        companies=[
            CompanyInput(ref=CompanyRef(domain=company.domain), values={"employee_count": 2000})
        ]
    )
    assert _pending() == {(None, company.pk)}
    pending_drain()
    assert LeadScore.objects.get(contact=contact).fit == before + 15  # 300+ and 1,000+
    assert LeadScore.objects.get(company=company, contact=None).fit >= 15


def test_the_companies_api_marks_a_new_company(api_client):
    response = api_client.post(
        "/api/v1/companies",
        {"name": "株式会社シンキ", "domain": "shinki.example.jp"},
        format="json",
    )
    assert response.status_code == 201
    assert _pending() == {(None, Company.objects.get(domain="shinki.example.jp").pk)}


def test_the_contacts_api_marks_the_contact_and_its_new_company(api_client):
    body = {
        "email": "new@shinki2.example.jp",
        "name": "新規 太郎",
        "company": {"name": "株式会社シンキ2"},
    }
    response = api_client.post("/api/v1/contacts", body, format="json")
    assert response.status_code in (200, 201), response.json()
    contact = Contact.objects.get(email="new@shinki2.example.jp")
    assert _pending() == {(contact.pk, None), (None, contact.company_id)}


def test_an_event_marks_its_contact(api_client):
    contact = ContactFactory()
    event = {
        "source": "ma", "external_id": "e-1", "kind": "page_view",
        "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "contact": {"email": contact.email}, "properties": {},
    }  # fmt: skip
    response = api_client.post("/api/v1/event", event, format="json")
    assert response.status_code == 201, response.json()
    assert _pending() == {(contact.pk, None)}


def test_intent_marks_its_company(api_client):
    company = CompanyFactory(domain="intent.example.jp")
    signal = {
        "company": {"domain": "intent.example.jp"}, "topic": "CRM", "strength": 70,
        "observed_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "provider": "p", "external_id": "i-1",
    }  # fmt: skip
    response = api_client.post("/api/v1/intent-signals", signal, format="json")
    assert response.status_code == 201, response.json()
    assert _pending() == {(None, company.pk)}


def test_a_csv_of_companies_only_marks_the_companies_it_changed():
    company = CompanyFactory(name="株式会社サンプル", domain="", employee_count=10)
    untouched = CompanyFactory(name="株式会社ソノママ", domain="", employee_count=10)
    outcome = leads_import_csv(
        data=_csv("会社名,従業員数", "株式会社サンプル,1200", "株式会社ソノママ,10"), dry_run=False
    )
    assert outcome.is_valid, outcome.errors
    assert (None, company.pk) in _pending() and (None, untouched.pk) not in _pending()


def test_a_csv_of_contacts_marks_the_contacts_and_new_companies():
    outcome = leads_import_csv(
        data=_csv("会社名,氏名,メールアドレス", "株式会社ニュー,山田 太郎,taro@new.example.jp"),
        dry_run=False,
    )
    assert outcome.is_valid, outcome.errors
    contact = Contact.objects.get(email="taro@new.example.jp")
    assert {(contact.pk, None), (None, contact.company_id)} <= _pending()


def test_a_dry_run_marks_nothing():
    leads_import_csv(
        data=_csv("会社名,氏名,メールアドレス", "株式会社ドライ,山田 太郎,taro@dry.example.jp"),
        dry_run=True,
    )
    assert _pending() == set()


def test_an_intent_csv_marks_its_companies():
    outcome = intent_import_csv(
        data=_csv(
            "会社名,ドメイン,トピック,強度,観測日時,提供元,ID",
            "株式会社インテント,intent2.example.jp,CRM,80,2026-11-01 10:00,bombora,x-1",
        ),
        dry_run=False,
    )
    assert outcome.is_valid, outcome.errors
    assert _pending() == {(None, Company.objects.get(domain="intent2.example.jp").pk)}
