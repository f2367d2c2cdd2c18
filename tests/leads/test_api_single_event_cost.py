"""POST /api/v1/event stays cheap: a bounded number of queries, the token cached.

The single-event endpoint must take ≥ 300 events/s on two cores (make
bench-ingest); each query is a round trip and most of a request's database time.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.settings import api_settings

from leads.api.parsers import JSONBodyParser
from leads.models import Activity, Contact
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

SINGLE = "/api/v1/event"


@pytest.fixture(autouse=True)
def _fixed_now(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC), tick=False)


def _event(n: int, **overrides) -> dict:
    item = {
        "source": "ma-tool",
        "external_id": f"q-{n}",
        "kind": "page_view",
        "occurred_at": "2026-11-01T10:00:00+09:00",
        "contact": {"email": f"taro{n}@example.co.jp", "company": "株式会社サンプル"},
        "properties": {"url": "/pricing"},
    }
    item.update(overrides)
    return item


def _post(api_client, body):
    return api_client.post(SINGLE, body, format="json")


def _sql(captured) -> list[str]:
    return [q["sql"] for q in captured]


@pytest.fixture
def warm(api_client):
    """The token verified and cached, as on a worker that has served a request."""
    assert _post(api_client, _event(0)).status_code == 201
    return api_client


# Queries inside the test's transaction include a SAVEPOINT and its RELEASE
# (in production, BEGIN and COMMIT, which are not counted).
def test_an_event_of_a_known_contact_runs_a_handful_of_queries(warm, django_assert_max_num_queries):
    ContactFactory(email="known@example.co.jp", company=CompanyFactory())
    body = _event(1, contact={"email": "known@example.co.jp"})
    # PostgreSQL: savepoint, is the event stored?, the contact, one insert-and-touch,
    # the contact queued for rescoring, release.
    limit = 6 if connection.vendor == "postgresql" else 8
    with django_assert_max_num_queries(limit):
        assert _post(warm, body).status_code == 201
    assert Activity.objects.filter(external_id="q-1").exists()


def test_an_event_of_a_new_contact_and_company_runs_a_bounded_number_of_queries(
    warm, django_assert_max_num_queries
):
    body = _event(2, contact={"email": "hanako@shinki.example.jp", "company": "株式会社シンキ"})
    # PostgreSQL: also the company looked up by domain and by name, inserted and
    # read back (2), queued for its account score, and the contact inserted.
    limit = 13 if connection.vendor == "postgresql" else 16
    with django_assert_max_num_queries(limit):
        assert _post(warm, body).status_code == 201
    contact = Contact.objects.select_related("company").get(email="hanako@shinki.example.jp")
    assert contact.company.name == "株式会社シンキ"


def test_a_replayed_event_runs_only_the_duplicate_check(warm):
    assert _post(warm, _event(3)).status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        assert _post(warm, _event(3)).status_code == 200
    statements = [s for s in _sql(ctx.captured_queries) if "SAVEPOINT" not in s.upper()]
    assert len(statements) == 1
    assert "leads_activity" in statements[0]


def test_a_cached_token_costs_a_single_event_no_query(warm):
    with CaptureQueriesContext(connection) as ctx:
        assert _post(warm, _event(4)).status_code == 201
    assert not [s for s in _sql(ctx.captured_queries) if "accounts_apitoken" in s]


def test_an_invalid_event_runs_no_query(warm):
    with CaptureQueriesContext(connection) as ctx:
        response = _post(warm, _event(5, occurred_at="yesterday"))
    assert response.status_code == 400
    assert "occurred_at" in response.json()
    assert ctx.captured_queries == []


@pytest.mark.parametrize("value,expected", [("", "False"), ("true", "True")])
def test_connection_health_checks_are_off_unless_asked_for(value, expected):
    # Off, a request on a persistent connection saves a SELECT 1 round trip. A
    # misspelt key would silently mean off, so the "on" case pins the real one.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["CONN_HEALTH_CHECKS"] = value
    code = "from django.db import connection; print(connection.settings_dict['CONN_HEALTH_CHECKS'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_every_api_view_parses_json_with_the_size_limit_by_default():
    parsers = api_settings.DEFAULT_PARSER_CLASSES
    assert parsers == [JSONBodyParser]
