"""Schemathesis against the app's own /api/schema/: the API does what its schema says.

Every operation is fuzzed in-process (WSGI) with a fixed seed and a bounded
number of examples, with a bearer token and a few rows to read back. Every
default check runs: no 5xx, documented status codes and content types, response
bodies that validate against the schema (an enum field answered "" where the
schema has no "" fails here), bodies the schema allows are accepted, bodies it
forbids are refused, authentication is enforced.

It runs on SQLite and, in CI, on PostgreSQL (where NUL characters and integer
ranges fail differently). Bounded: ``EXAMPLES`` fuzzed cases per operation plus
the schema's examples and the coverage phase's boundary cases, about 3,200
requests over the 18 operations, 1-2 minutes on the shared 2-core machine with
``-n 2`` (``pytest -s`` prints the cases per operation).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from config.wsgi import application
from handoff.models import Bant, Cycle, Stage
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, IntentSignalFactory

SEED = 20261207
EXAMPLES = 25

# The schema is served only behind a login or a token (config.api_docs); the cases
# themselves carry the bearer token.
with override_settings(API_DOCS_PUBLIC=True):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
schema.config.seed = SEED
# No example database: a run is the same run every time, and nothing is kept between runs.
# No NUL characters: PostgreSQL cannot store them, so every text field refuses them with a
# 400 (tests/leads/test_api_fuzz.py sends them), which the schema does not spell out.
schema.config.generation.update(max_examples=EXAMPLES, database="none", allow_x00=False)

# A batch answers 200 with a per-item "rejected" status when an item breaks the item
# schema (docs/api.md): only the envelope is refused with a 400. So an invalid item is
# not "schema-violating data accepted" there; every other check still runs.
BATCHES = {
    "/api/v1/events",
    "/api/v1/companies/batch",
    "/api/v1/contacts/batch",
    "/api/v1/intent-signals/batch",
}

# Times are drawn from 1970 to now. The API also refuses, by rules its schema states in
# words, an event before 1970 or more than a day ahead of its clock and a filter time
# whose UTC is outside years 1-9999: rules relative to the clock, or beyond what a
# format can say. tests/leads/test_api_events.py and test_api_filters.py cover them.
_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 (hypothesis wants naive bounds)
schemathesis.openapi.format(
    "date-time",
    st.datetimes(
        min_value=_EPOCH,
        max_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=9))]),
    ).map(lambda moment: moment.isoformat()),
)

# An outcome's rules across fields (a won or lost deal needs its date; an e-mail must be
# deliverable, which "format: email" cannot say) are beyond its schema: schema-valid
# bodies may be refused there. tests/feedback/test_outcomes.py holds those rules.
CROSS_FIELD = {"/api/v1/outcomes"}

CALLS: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report():
    """How many cases ran, per operation (shown with -s; the figures in the docs come from it)."""
    yield
    if CALLS:
        print(f"\nschemathesis: {len(CALLS)} operations, {sum(CALLS.values())} cases")
        for label, count in sorted(CALLS.items()):
            print(f"  {count:4d}  {label}")


@pytest.fixture
def _test_connection_kept():
    """Requests run in the test's transaction: the end of one must not close its connection.

    Django's test client does the same; this WSGI client is schemathesis' own.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def _bad_tokens_not_throttled(settings):
    """The invalid-authentication check sends a bad token per case: thousands a minute from
    one address, which the API rightly answers 429 (tests/accounts/test_api_limits.py).
    Here the answer under test is the 401 before the limit."""
    settings.API_AUTH_FAILURES_PER_MINUTE = 1_000_000


@pytest.fixture
def token(api_token, _test_connection_kept, _bad_tokens_not_throttled) -> str:
    """A token, and rows every list and detail operation can read back (ids 1 upwards)."""
    blank = CompanyFactory(
        name="株式会社ブランク", domain="blank.example.jp", prefecture="", industry=""
    )
    full = CompanyFactory(
        name="株式会社フル",
        domain="full.example.jp",
        prefecture="13",
        region="kanto",
        industry="G",
        revenue_band="1b_10b",
    )
    contact = ContactFactory(company=full, job_level="manager", title="課長")
    ContactFactory(company=None, job_level="")
    ActivityFactory(contact=contact, company=full)
    IntentSignalFactory(company=blank)
    now = timezone.now()
    cycle = Cycle.objects.create(
        contact=contact,
        company=full,
        stage=Stage.MQL,
        mql_at=now,
        score_total=70,
        score_band="hot",
        first_touch_due_at=now + dt.timedelta(hours=2),
        qualify_due_at=now + dt.timedelta(days=7),
    )
    Bant.objects.create(cycle=cycle)
    return api_token


@pytest.mark.django_db
@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_conforms_to_its_schema(case, token):
    CALLS[case.operation.label] += 1
    excluded = [negative_data_rejection] if case.path in BATCHES else None
    if case.path in CROSS_FIELD:
        excluded = [positive_data_acceptance]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded)
