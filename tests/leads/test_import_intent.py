"""intent_import_csv: third-party intent data in, idempotently."""

import datetime as dt
import zoneinfo

import pytest

from leads.models import Company, IntentSignal
from leads.services.imports import ImportFileError, intent_import_csv
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def csv_bytes(*lines: str, encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


INTENT = (
    "会社名,ドメイン,トピック,強度,日付,提供元",
    "株式会社サンプル,sample.co.jp,CRM,８５,2025/04/01,bombora",
    "ｻﾝﾌﾟﾙ(株),,MA,72.5,2025-04-02 09:30,bombora",
    "株式会社新規,new.example.jp,SFA,40,2025-04-03T10:00:00+00:00,bombora",
)


def test_intent_rows_become_signals_on_matched_or_new_companies():
    sample = CompanyFactory(name="株式会社サンプル", domain="sample.co.jp")
    outcome = intent_import_csv(data=csv_bytes(*INTENT), dry_run=False)
    assert outcome.is_valid, outcome.errors
    assert outcome.counts == {"signals_created": 3, "signals_unchanged": 0, "companies_created": 1}
    crm, ma = (IntentSignal.objects.get(topic=t) for t in ("CRM", "MA"))
    assert crm.company_id == ma.company_id == sample.id  # the kana spelling matches by name
    assert crm.strength == 85  # full-width digits
    assert ma.strength == 73  # decimals are rounded half up
    # Dates without an offset are in the team's zone (settings.TIME_ZONE).
    assert crm.observed_at == dt.datetime(2025, 4, 1, tzinfo=TOKYO)
    assert ma.observed_at == dt.datetime(2025, 4, 2, 9, 30, tzinfo=TOKYO)
    sfa = IntentSignal.objects.get(topic="SFA")
    assert sfa.observed_at == dt.datetime(2025, 4, 3, 10, tzinfo=dt.UTC)
    assert Company.objects.get(domain="new.example.jp").name == "株式会社新規"


def test_re_importing_an_intent_file_without_ids_stores_nothing_twice():
    intent_import_csv(data=csv_bytes(*INTENT), dry_run=False)
    ids = set(IntentSignal.objects.values_list("external_id", flat=True))
    outcome = intent_import_csv(data=csv_bytes(*INTENT, encoding="cp932"), dry_run=False)
    assert outcome.counts == {"signals_created": 0, "signals_unchanged": 3, "companies_created": 0}
    assert set(IntentSignal.objects.values_list("external_id", flat=True)) == ids
    assert IntentSignal.objects.count() == 3


def test_given_external_ids_are_kept_and_repeats_are_noted():
    data = csv_bytes(
        "domain,topic,strength,date,provider,id",
        "a.example.jp,CRM,10,2025-01-01,g2,x-1",
        "a.example.jp,CRM,20,2025-01-02,g2,x-1",
    )
    outcome = intent_import_csv(data=data, dry_run=False)
    assert [(n.line, n.code) for n in outcome.notes] == [(3, "signal_duplicate")]
    assert list(IntentSignal.objects.values_list("external_id", "strength")) == [("x-1", 10)]


def test_intent_dry_run_writes_nothing():
    outcome = intent_import_csv(data=csv_bytes(*INTENT), dry_run=True)
    assert outcome.counts == {"signals_created": 3, "signals_unchanged": 0, "companies_created": 2}
    assert IntentSignal.objects.count() == 0 and Company.objects.count() == 0


def test_invalid_intent_rows_are_reported_and_nothing_is_written():
    data = csv_bytes(
        "会社名,トピック,強度,日付,提供元",
        "株式会社サンプル,CRM,101,2025-02-30,bombora",
        ",CRM,50,2025-02-01,",
        "株式会社サンプル,CRM,50,2025-02-01,bombora",
    )
    outcome = intent_import_csv(data=data, dry_run=False)
    assert sorted((e.line, e.field) for e in outcome.errors) == [
        (2, "強度"),
        (2, "日付"),
        (3, "会社名"),
        (3, "提供元"),
    ]
    assert IntentSignal.objects.count() == 0 and Company.objects.count() == 0


def test_an_intent_file_needs_its_columns():
    with pytest.raises(ImportFileError) as caught:
        intent_import_csv(data=csv_bytes("会社名,トピック", "サンプル,CRM"), dry_run=True)
    assert "Strength" in caught.value.message or "強度" in caught.value.message
