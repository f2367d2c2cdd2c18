"""Verified API tokens are cached per process, and a revocation still takes effect."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.authentication import TOKEN_CACHE_SECONDS, VerifiedTokens, verified_tokens
from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

READ = "/api/v1/companies"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(verified_tokens, "clock", fake)
    return fake


def _token_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if "accounts_apitoken" in q["sql"]]


def test_a_verified_token_is_not_looked_up_again(api_client):
    assert api_client.get(READ).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert api_client.get(READ).status_code == 200
    assert _token_queries(ctx.captured_queries) == []


def test_a_cached_token_is_looked_up_again_after_the_ttl(api_client, clock):
    assert api_client.get(READ).status_code == 200
    clock.now += TOKEN_CACHE_SECONDS + 1
    with CaptureQueriesContext(connection) as ctx:
        assert api_client.get(READ).status_code == 200
    assert len(_token_queries(ctx.captured_queries)) == 1


def test_a_revoked_token_is_refused_at_once_though_it_was_cached(api_client, admin_user):
    assert api_client.get(READ).status_code == 200  # cached now
    api_token_revoke(token_id=ApiToken.objects.get().id, actor=admin_user)
    assert api_client.get(READ).status_code == 401
    assert api_client.post("/api/v1/event", {}, format="json").status_code == 401


def test_revoking_on_the_tokens_page_refuses_a_cached_token_at_once(client, admin_user, api_client):
    assert api_client.get(READ).status_code == 200
    client.force_login(admin_user)
    client.post(reverse("accounts:token-revoke", args=[ApiToken.objects.get().id]))
    assert api_client.get(READ).status_code == 401


def test_a_token_revoked_by_another_process_is_refused_once_the_ttl_passes(api_client, clock):
    assert api_client.get(READ).status_code == 200
    # Another process revoked it: this one cannot know before its entry expires.
    ApiToken.objects.update(revoked_at=timezone.now())
    assert api_client.get(READ).status_code == 200
    clock.now += TOKEN_CACHE_SECONDS
    assert api_client.get(READ).status_code == 401


def test_a_token_revoked_by_another_process_is_refused_when_its_use_is_recorded(
    api_client, time_machine
):
    time_machine.move_to(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC), tick=False)
    assert api_client.get(READ).status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    # last_used_at is due again after a minute; that write finds the token revoked.
    time_machine.move_to(dt.datetime(2026, 11, 20, 3, 2, tzinfo=dt.UTC), tick=False)
    assert api_client.get(READ).status_code == 401


def test_last_used_at_is_recorded_at_most_once_a_minute(api_client, time_machine):
    first = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
    time_machine.move_to(first, tick=False)
    assert api_client.get(READ).status_code == 200
    assert ApiToken.objects.get().last_used_at == first
    time_machine.move_to(first + dt.timedelta(seconds=30), tick=False)
    with CaptureQueriesContext(connection) as ctx:
        assert api_client.get(READ).status_code == 200
    assert _token_queries(ctx.captured_queries) == []
    assert ApiToken.objects.get().last_used_at == first
    later = first + dt.timedelta(minutes=2)
    time_machine.move_to(later, tick=False)
    assert api_client.get(READ).status_code == 200
    assert ApiToken.objects.get().last_used_at == later


def test_the_cached_request_is_the_same_integration(api_client):
    from rest_framework.test import APIRequestFactory

    from accounts.authentication import BearerTokenAuthentication, IntegrationUser

    secret = api_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    request = APIRequestFactory().get(READ, HTTP_AUTHORIZATION=f"Bearer {secret}")
    first_user, first_token = BearerTokenAuthentication().authenticate(request)
    user, token = BearerTokenAuthentication().authenticate(request)
    assert isinstance(user, IntegrationUser)
    assert user.username == first_user.username == "token:test-integration"
    assert token.pk == first_token.pk
    assert token is not first_token  # each request gets its own instance


def test_an_unknown_token_is_refused_every_time():
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer lp_unknown")
    assert client.get(READ).status_code == 401
    assert client.get(READ).status_code == 401


def test_one_revocation_leaves_other_tokens_working(api_client, admin_user):
    other = api_token_create(name="other", actor=None)
    assert api_client.get(READ).status_code == 200
    api_token_revoke(token_id=other.token.id, actor=admin_user)
    assert api_client.get(READ).status_code == 200


# --- The cache itself -----------------------------------------------------------


def test_a_lookup_that_started_before_a_revocation_caches_nothing():
    tokens = VerifiedTokens(ttl=10, clock=FakeClock())
    row = ApiToken(id=1, name="x")
    generation = tokens.generation  # the row is read...
    tokens.forget_all()  # ...a revocation commits meanwhile...
    tokens.put("hash", row, generation=generation)  # ...and the stale row is not kept
    assert tokens.get("hash") is None


def test_the_cache_stays_bounded():
    clock = FakeClock()
    tokens = VerifiedTokens(ttl=10, max_entries=3, clock=clock)
    for n in range(10):
        tokens.put(f"h{n}", ApiToken(id=n, name="x"), generation=tokens.generation)
        clock.now += 1
    assert len(tokens._entries) <= 3
    assert tokens.get("h9") is not None
