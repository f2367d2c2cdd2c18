"""How the API compares other systems' ids: trimmed, NFC, otherwise exact.

The same id typed composed ("が", U+304C) or decomposed ("か" + U+3099) is one
event or one signal; case and width still tell ids apart (docs/api.md,
"Idempotency").
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from leads.models import Activity, IntentSignal

pytestmark = pytest.mark.django_db

COMPOSED = "注文-が-1"
DECOMPOSED = "注文-か\u3099-1"
assert COMPOSED != DECOMPOSED and unicodedata.normalize("NFC", DECOMPOSED) == COMPOSED


@pytest.fixture(autouse=True)
def _fixed_now(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC), tick=False)


def event(external_id: str, source: str = "ma-tool") -> dict:
    return {
        "source": source,
        "external_id": external_id,
        "kind": "page_view",
        "occurred_at": "2026-11-01T10:00:00+09:00",
        "contact": {"email": "taro@example.co.jp"},
    }


def signal(external_id: str, provider: str = "bombora") -> dict:
    return {
        "company": {"domain": "intent.example.co.jp"},
        "topic": "CRM",
        "strength": 70,
        "observed_at": "2026-10-01T09:00:00+09:00",
        "provider": provider,
        "external_id": external_id,
    }


def test_an_event_id_typed_composed_then_decomposed_is_one_event(api_client):
    first = api_client.post("/api/v1/event", event(COMPOSED), format="json")
    again = api_client.post("/api/v1/event", event(DECOMPOSED), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"status": "duplicate"}
    assert list(Activity.objects.values_list("external_id", flat=True)) == [COMPOSED]


def test_a_decomposed_id_replayed_in_a_batch_is_a_duplicate(api_client):
    api_client.post("/api/v1/events", {"events": [event(DECOMPOSED)]}, format="json")
    body = api_client.post(
        "/api/v1/events", {"events": [event(COMPOSED), event("e-2")]}, format="json"
    ).json()
    assert [r["status"] for r in body["results"]] == ["duplicate", "created"]
    assert Activity.objects.filter(external_id=COMPOSED).count() == 1


def test_both_forms_in_one_batch_are_a_duplicate_in_the_batch(api_client):
    body = api_client.post(
        "/api/v1/events", {"events": [event(COMPOSED), event(DECOMPOSED)]}, format="json"
    ).json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected"]
    assert list(body["results"][1]["errors"]) == ["external_id"]


def test_a_source_is_compared_the_same_way(api_client):
    api_client.post("/api/v1/event", event("e-1", source="ツール-が"), format="json")
    again = api_client.post("/api/v1/event", event("e-1", source="ツール-か\u3099"), format="json")
    assert again.json() == {"status": "duplicate"}


def test_ids_are_trimmed_but_case_and_width_sensitive(api_client):
    statuses = [
        api_client.post("/api/v1/event", event(external_id), format="json").json()["status"]
        for external_id in ["E-1", " E-1\u3000", "e-1", "Ｅ-1"]
    ]
    assert statuses == ["created", "duplicate", "created", "created"]
    assert set(Activity.objects.values_list("external_id", flat=True)) == {"E-1", "e-1", "Ｅ-1"}


def test_an_intent_signal_id_typed_in_both_forms_is_one_signal(api_client):
    first = api_client.post("/api/v1/intent-signals", signal(COMPOSED), format="json")
    again = api_client.post("/api/v1/intent-signals", signal(DECOMPOSED), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    body = api_client.post(
        "/api/v1/intent-signals/batch",
        {"intent_signals": [signal(DECOMPOSED, provider="プロバイダ-か\u3099")]},
        format="json",
    ).json()
    assert body["created"] == 1
    repeat = api_client.post(
        "/api/v1/intent-signals/batch",
        {"intent_signals": [signal(COMPOSED, provider="プロバイダ-が")]},
        format="json",
    ).json()
    assert (repeat["created"], repeat["duplicates"]) == (0, 1)
    assert IntentSignal.objects.count() == 2
    listed = api_client.get("/api/v1/intent-signals", {"provider": "プロバイダ-か\u3099"}).json()
    assert listed["count"] == 1
