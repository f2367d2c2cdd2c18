"""Whatever an integration sends, the API answers 2xx or 4xx, never 5xx."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from leads.models import Activity

pytestmark = pytest.mark.django_db

# Text with everything PostgreSQL and JSON encoders trip over: NUL, lone
# surrogates, full-width forms, control characters.
_text = st.text(st.characters(exclude_categories=()), max_size=40) | st.sampled_from(
    ["", "\x00", "\ud800", "Ｔａｒｏ＠ＥＸＡＭＰＬＥ.co.jp", "2026-11-01T10:00:00", "page_view"]
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


_datetimes = st.datetimes(
    min_value=dt.datetime(1965, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
    max_value=dt.datetime(2025, 12, 31),  # noqa: DTZ001
    timezones=st.timezones(),
).map(lambda d: d.isoformat())
_contact = st.fixed_dictionaries(
    {"email": st.emails() | st.just("Ｔａｒｏ＠ＥＸＡＭＰＬＥ.co.jp")},
    optional={"name": _text, "company": _text, "title": _text},
)
_company = st.fixed_dictionaries(
    {"domain": st.sampled_from(["example.co.jp", "WWW.X.JP", "https://a.example.jp/x"])},
    optional={"name": _text},
)
_valid_event = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["ma-tool", "crm"]),
        # Mostly fresh ids: examples share one database, and replays only dedupe.
        "external_id": st.uuids().map(str) | st.text(min_size=1, max_size=8),
        "kind": st.sampled_from(["page_view", "demo_request", "whitepaper_download"]),
        "occurred_at": _datetimes,
    },
    optional={"properties": st.dictionaries(_text, _json, max_size=3)},
).flatmap(
    lambda core: st.one_of(
        st.fixed_dictionaries({"contact": _contact}), st.fixed_dictionaries({"company": _company})
    ).map(lambda subject: {**core, **subject})
)
_KEYS = ["source", "external_id", "kind", "occurred_at", "properties", "contact", "company"]


def _spoil(event: dict, key: str, value) -> dict:
    """A valid event with one field replaced (or, for an ellipsis, removed)."""
    spoilt = {k: v for k, v in event.items() if k != key}
    if value is not ...:
        spoilt[key] = value
    return spoilt


_spoilt_event = st.builds(_spoil, _valid_event, st.sampled_from(_KEYS), _json | st.just(...))
_event = st.one_of(_valid_event, _spoilt_event, _json)
_batches = st.fixed_dictionaries({"events": st.lists(_event | _json, max_size=6)})
_bodies = st.one_of(_batches, _batches, _batches, st.fixed_dictionaries({"events": _json}), _json)


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_bodies, single=st.booleans())
def test_arbitrary_json_never_gives_a_server_error(api_client, body, single):
    path = "/api/v1/event" if single else "/api/v1/events"
    if (
        single
        and isinstance(body, dict)
        and isinstance(body.get("events"), list)
        and body["events"]
    ):
        body = body["events"][0]
    raw = json.dumps(body, ensure_ascii=True)  # lone surrogates travel as \\ud800 escapes
    response = api_client.post(path, raw, content_type="application/json")
    assert response.status_code < 500, response.content[:500]
    assert response.json() is not None
    # Shown by --hypothesis-show-statistics: the write path must be reached too.
    event(f"HTTP {response.status_code}")
    if response.status_code == 200 and "results" in response.json():
        event("a batch stored an event" if response.json()["created"] else "a batch stored none")


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_give_a_server_error(api_client, raw):
    response = api_client.post("/api/v1/events", raw, content_type="application/json")
    assert response.status_code < 500
    assert not Activity.objects.exists() or response.status_code == 200
