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
