"""Intent signals: the recording service (shared with the CSV import) and its endpoints."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from leads.models import Company, IntentSignal
from leads.services.intent import IntentInput, intent_signals_record
from leads.services.resolve import CompanyRef
from tests.factories import CompanyFactory, IntentSignalFactory

pytestmark = pytest.mark.django_db

JST = dt.timezone(dt.timedelta(hours=9))


def _signal(n: int = 1, **overrides) -> IntentInput:
    values = {
        "company": CompanyRef.make(
            domain=f"intent{n}.example.co.jp", name=f"株式会社インテント{n}"
        ),
        "topic": "CRM",
        "strength": 70,
        "observed_at": dt.datetime(2026, 10, 1, 9, 0, tzinfo=JST),
        "provider": "bombora",
        "external_id": f"sig-{n}",
    }
    values.update(overrides)
    return IntentInput(**values)


def test_recording_signals_creates_their_companies():
    result = intent_signals_record(signals=[_signal(1), _signal(2)])
    assert (result.created, result.duplicates) == (2, 0)
    assert Company.objects.count() == 2
    assert result.company_ids == set(Company.objects.values_list("id", flat=True))
    signal = IntentSignal.objects.get(external_id="sig-1")
    assert signal.company.domain == "intent1.example.co.jp"
    assert signal.observed_at == dt.datetime(2026, 10, 1, 0, 0, tzinfo=dt.UTC)


def test_recording_the_same_signals_again_creates_nothing_new():
    intent_signals_record(signals=[_signal(1), _signal(2)])
    result = intent_signals_record(signals=[_signal(1), _signal(2), _signal(3)])
    assert (result.created, result.duplicates) == (1, 2)
    assert IntentSignal.objects.count() == 3
    assert result.company_ids == {Company.objects.get(domain="intent3.example.co.jp").id}


def test_a_key_repeated_in_one_call_is_stored_once():
    result = intent_signals_record(signals=[_signal(1), _signal(1, strength=10)])
    assert (result.created, result.duplicates) == (1, 1)
    assert IntentSignal.objects.get().strength == 70


def test_a_signal_naming_a_company_by_name_only_matches_its_spelling_variants():
    company = CompanyFactory(name="株式会社サンプル", domain="")
    ref = CompanyRef.make(name="ｻﾝﾌﾟﾙ(株)")
    result = intent_signals_record(signals=[_signal(1, company=ref)])
    assert result.company_ids == {company.id}
    assert Company.objects.count() == 1


def test_recording_refuses_invalid_signals_and_writes_nothing():
    bad = [
        _signal(1),
        _signal(2, strength=101),
        _signal(3, observed_at=dt.datetime(2026, 10, 1)),  # noqa: DTZ001
        _signal(4, company=CompanyRef.make()),
    ]
    with pytest.raises(ValidationError) as caught:
        intent_signals_record(signals=bad)
    assert set(caught.value.message_dict) == {"1.strength", "2.observed_at", "3.company"}
    assert not IntentSignal.objects.exists()
    assert not Company.objects.exists()


def test_recording_runs_a_bounded_number_of_queries(django_assert_max_num_queries):
    IntentSignalFactory.create_batch(3)
    signals = [_signal(n % 50, external_id=f"bulk-{n}") for n in range(500)]
    with django_assert_max_num_queries(20):
        result = intent_signals_record(signals=signals)
    assert result.created == 500
    assert len(result.company_ids) == 50


# --- Endpoints ---------------------------------------------------------------------------

URL = "/api/v1/intent-signals"


@pytest.fixture
def api(api_client):
    api_client.credentials(
        HTTP_AUTHORIZATION=api_client._credentials["HTTP_AUTHORIZATION"],
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return api_client


def _body(n: int = 1, **overrides) -> dict:
    body = {
        "company": {"domain": "intent.example.co.jp"},
        "topic": "ＣＲＭ",
        "strength": 70,
        "observed_at": "2026-10-01T09:00:00+09:00",
        "provider": "bombora",
        "external_id": f"sig-{n}",
    }
    body.update(overrides)
    return body


def test_posting_a_signal_is_201_then_200_when_replayed(api):
    first = api.post(URL, _body(), format="json")
    assert first.status_code == 201
    assert first.json()["topic"] == "CRM"
    again = api.post(URL, _body(strength=5), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert IntentSignal.objects.get().strength == 70
    assert Company.objects.get().domain == "intent.example.co.jp"


def test_a_signal_may_name_its_company_by_name_only(api):
    response = api.post(URL, _body(company={"name": "株式会社インテント"}), format="json")
    assert response.status_code == 201
    company = Company.objects.get()
    assert (company.name, company.domain) == ("株式会社インテント", "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"strength": 101}, "strength"),
        ({"strength": -1}, "strength"),
        ({"strength": "strong"}, "strength"),
        ({"strength": None}, "strength"),
        ({"observed_at": "2026-10-01T09:00:00"}, "observed_at"),
        ({"observed_at": "2099-01-01T00:00:00Z"}, "observed_at"),
        ({"observed_at": 5}, "observed_at"),
        ({"company": None}, "company"),
        ({"company": {}}, "company"),
        ({"company": {"domain": "nope"}}, "company.domain"),
        ({"company": "株式会社インテント"}, "company"),
        ({"topic": ""}, "topic"),
        ({"topic": "t" * 101}, "topic"),
        ({"topic": "㍿" * 30}, "topic"),  # NFKC makes it 120 characters
        ({"provider": None}, "provider"),
        ({"external_id": "x" * 129}, "external_id"),
    ],
)
def test_bad_signal_input_is_a_400_with_field_errors(api, change, field):
    response = api.post(URL, _body(**change), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not IntentSignal.objects.exists()


def test_a_signal_batch_reports_each_item(api):
    IntentSignalFactory(provider="bombora", external_id="sig-1")
    body = api.post(
        f"{URL}/batch",
        {"intent_signals": [_body(1), _body(2), _body(3, strength=500), _body(2)]},
        format="json",
    ).json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (1, 2, 1)
    assert [r["status"] for r in body["results"]] == [
        "duplicate",
        "created",
        "rejected",
        "duplicate",
    ]
    assert "strength" in body["results"][2]["errors"]


@pytest.mark.parametrize("body", [{}, {"intent_signals": []}, {"intent_signals": {}}, "x"])
def test_a_malformed_signal_batch_is_a_400(api, body):
    assert api.post(f"{URL}/batch", body, format="json").status_code == 400


def test_signals_filter_by_company_topic_and_time(api):
    company = CompanyFactory()
    when = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    hit = IntentSignalFactory(company=company, topic="CRM", observed_at=when)
    IntentSignalFactory(company=company, topic="ERP", observed_at=when)
    IntentSignalFactory(company=company, topic="CRM", observed_at=when - dt.timedelta(days=30))
    IntentSignalFactory(topic="CRM", observed_at=when)
    params = {
        "company": company.id,
        "topic": "crm",
        "observed_after": "2026-09-15T00:00:00+09:00",
        "observed_before": "2026-10-02T00:00:00Z",
    }
    body = api.get(URL, params).json()
    assert [s["id"] for s in body["results"]] == [hit.id]


def test_a_bad_signal_filter_is_a_400(api):
    assert api.get(URL, {"observed_after": "soon"}).status_code == 400


def test_one_signal_is_read_by_id_and_an_unknown_one_is_a_404(api):
    signal = IntentSignalFactory()
    assert api.get(f"{URL}/{signal.id}").json()["external_id"] == signal.external_id
    assert api.get(f"{URL}/999999").status_code == 404
