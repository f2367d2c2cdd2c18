"""The API's rate limits (accounts.throttling): bad tokens per address, writes per token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from accounts.services import api_token_create
from accounts.throttling import parse_rate

pytestmark = pytest.mark.django_db

READ = "/api/v1/companies"
WRITE = "/api/v1/event"
# 30 s into a minute: the fixed window has 30 s left.
NOW = dt.datetime(2026, 11, 20, 3, 0, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def _client(secret: str | None = None, address: str = "192.0.2.10") -> APIClient:
    client = APIClient(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")
    if secret:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _event(n: int) -> dict:
    return {
        "source": "ma-tool",
        "external_id": f"limit-{n}",
        "kind": "page_view",
        "occurred_at": "2026-11-01T10:00:00+09:00",
        "contact": {"email": f"limit{n}@example.co.jp"},
    }


def test_the_default_limits():
    assert settings.API_AUTH_FAILURES_PER_MINUTE == 10
    assert api_settings.DEFAULT_THROTTLE_RATES["api_write"] == "6000/min"
    assert (
        "accounts.throttling.ApiWriteThrottle"
        in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    )
    assert parse_rate("6000/min") == (6000, 60)
    assert parse_rate("10/s") == (10, 1)


def test_past_ten_bad_tokens_an_address_gets_429_with_retry_after():
    statuses = [_client(f"lp_guess-{n}").get(READ).status_code for n in range(10)]
    assert statuses == [401] * 10
    response = _client("lp_guess-11").get(READ)
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert "unknown or revoked token" in response.json()["detail"]


def test_past_the_limit_even_the_right_token_is_refused_from_that_address():
    secret = api_token_create(name="feed", actor=None).secret
    for n in range(10):
        _client(f"lp_guess-{n}").get(READ)
    assert _client(secret).get(READ).status_code == 429
    assert _client(secret, address="192.0.2.99").get(READ).status_code == 200


def test_malformed_headers_count_as_bad_tokens():
    client = APIClient(REMOTE_ADDR="192.0.2.10", HTTP_AUTHORIZATION="Bearer two parts")
    assert [client.get(READ).status_code for _ in range(11)] == [401] * 10 + [429]


def test_a_token_this_process_verified_moments_ago_still_passes():
    secret = api_token_create(name="feed", actor=None).secret
    assert _client(secret).get(READ).status_code == 200  # now in the verified-token cache
    for n in range(12):
        _client(f"lp_guess-{n}").get(READ)
    assert _client(secret).get(READ).status_code == 200


def test_requests_without_a_token_do_not_count(api_token):
    for _ in range(15):
        assert _client().get(READ).status_code == 401
    assert _client(api_token).get(READ).status_code == 200


def test_the_next_minute_looks_tokens_up_again(time_machine):
    for n in range(11):
        _client(f"lp_guess-{n}").get(READ)
    time_machine.move_to(NOW + dt.timedelta(seconds=30), tick=False)
    assert _client("lp_guess-again").get(READ).status_code == 401


@pytest.fixture
def write_rate(settings):
    def set_rate(rate: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"api_write": rate},
        }

    return set_rate


def test_writes_over_the_limit_get_429_with_retry_after(write_rate):
    write_rate("3/min")
    secret = api_token_create(name="feed", actor=None).secret
    client = _client(secret)
    statuses = [client.post(WRITE, _event(n), format="json").status_code for n in range(3)]
    assert statuses == [201, 201, 201]
    response = client.post(WRITE, _event(3), format="json")
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert client.get(READ).status_code == 200  # reads are not limited


def test_the_write_limit_is_per_token(write_rate):
    write_rate("2/min")
    first = _client(api_token_create(name="one", actor=None).secret)
    second = _client(api_token_create(name="two", actor=None).secret)
    for n in range(2):
        first.post(WRITE, _event(n), format="json")
    assert first.post(WRITE, _event(2), format="json").status_code == 429
    assert second.post(WRITE, _event(3), format="json").status_code == 201


def test_a_signed_in_person_has_a_write_limit_of_their_own(write_rate, marketing_user):
    write_rate("1/min")
    client = _client()
    client.force_authenticate(marketing_user)
    assert client.post(WRITE, _event(0), format="json").status_code == 201
    assert client.post(WRITE, _event(1), format="json").status_code == 429


def test_refused_writes_do_not_use_up_the_limit(write_rate, sales_user):
    write_rate("1/min")
    client = _client()
    client.force_authenticate(sales_user)  # may read, may not write
    assert [client.post(WRITE, _event(n), format="json").status_code for n in range(3)] == [403] * 3


def test_the_default_write_limit_leaves_a_busy_integration_alone(api_token):
    client = _client(api_token)
    batch = {"events": [_event(n) for n in range(200)]}
    statuses = {client.post("/api/v1/events", batch, format="json").status_code for _ in range(3)}
    statuses |= {
        client.post(WRITE, _event(1000 + n), format="json").status_code for n in range(100)
    }
    assert statuses <= {200, 201}
