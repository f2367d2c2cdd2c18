"""The set-based rescoring gives what the pure engine gives, for random definitions and data.

Runs on the database the suite runs on: SQLite locally (the embedded default)
and PostgreSQL in CI. SQL sums decayed points in another order and with its
own POWER(), so a rule may differ in the last float bits; after rounding to
hundredths that can move a rule by at most 0.01, and only on a tie.

The definitions come from test_engine_properties' strategies, so they carry
property conditions (every operator, negated or not), MQL triggers and
fit rules with not_in and ANDed extra conditions (all_of), and
activities carry UTM and numeric properties, some missing or not numbers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import Activity, Company, Contact, IntentSignal
from scoring.engine import Score, score, score_account
from scoring.facts import facts_for_company, facts_for_contact
from scoring.services.rescore import Subjects, account_scores_compute, contact_scores_compute
from tests.scoring.test_engine_properties import (
    AT,
    KINDS,
    PROPERTIES,
    TOPICS,
    definitions,
)

TITLES = ("営業部長", "Director", "manager", "学生", "", "  ")
DOMAINS = ("gmail.com", "acme.co.jp", "mail.GMAIL.com")
EMPLOYEES = (None, 0, 299, 300, 1000, 5000)
INDUSTRIES = ("E", "G", "I", "")
SECONDS = st.integers(-3 * 86_400, 400 * 86_400)

activity_rows = st.lists(
    st.tuples(st.sampled_from(KINDS), SECONDS, st.sampled_from(PROPERTIES)), max_size=8
)
intent_rows = st.lists(st.tuples(st.sampled_from(TOPICS), st.integers(0, 100), SECONDS), max_size=4)
people = st.lists(
    st.tuples(
        st.sampled_from(TITLES),
        st.sampled_from(DOMAINS),
        st.booleans(),
        activity_rows,
    ),
    min_size=1,
    max_size=3,
)

SLOW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class _Rollback(Exception):
    pass


def _store(company_kwargs, persons, shared, intents) -> tuple[Company, list[Contact]]:
    company = Company.objects.create(name="株式会社パリティ", name_key="パリティ", **company_kwargs)
    contacts = []
    n = 0

    def activity(contact, kind, seconds, props):
        nonlocal n
        n += 1
        Activity.objects.create(
            contact=contact,
            company=company,
            kind=kind,
            occurred_at=AT - timedelta(seconds=seconds),
            source="t",
            external_id=f"a{n}",
            properties=props,
        )

    for i, (title, domain, unsubscribed, rows) in enumerate(persons):
        contact = Contact.objects.create(
            company=company,
            email=f"p{i}@{domain.lower()}",
            title=title,
            is_unsubscribed=unsubscribed,
        )
        contacts.append(contact)
        for kind, seconds, props in rows:
            activity(contact, kind, seconds, props)
    for kind, seconds, props in shared:
        activity(None, kind, seconds, props)
    for j, (topic, strength, seconds) in enumerate(intents):
        IntentSignal.objects.create(
            company=company,
            topic=topic,
            strength=strength,
            observed_at=AT - timedelta(seconds=seconds),
            provider="p",
            external_id=f"i{j}",
        )
    return company, contacts


def _assert_same(sql: Score, pure: Score, definition) -> None:
    sql_rules = {c.rule_key: c for c in sql.breakdown}
    pure_rules = {c.rule_key: c for c in pure.breakdown}
    assert set(sql_rules) <= set(pure_rules) | {k for k, c in sql_rules.items() if c.points == 0}
    for key in set(sql_rules) | set(pure_rules):
        a = sql_rules[key].points if key in sql_rules else 0.0
        b = pure_rules[key].points if key in pure_rules else 0.0
        assert abs(a - b) <= 0.0100001, key
        if key in sql_rules and key in pure_rules:
            assert sql_rules[key].hits == pure_rules[key].hits, key
    # Which triggers fired: the same, unless a negative rule sits on the 0.00 / -0.01 tie.
    if not any(-0.0100001 <= c.points < 0 for c in (*sql.breakdown, *pure.breakdown)):
        assert sql.triggered_by == pure.triggered_by
        if pure.triggered_by:
            assert sql.band == pure.band == "hot"
    tolerance = 0.0100001 * max(1, len(definition.rules))
    assert abs(sql.total - pure.total) <= tolerance
    assert abs(sql.fit - pure.fit) <= tolerance
    thresholds = definition.thresholds
    near = [thresholds.warm, thresholds.hot]
    if not any(abs(pure.total - t) <= tolerance for t in near) and not (
        thresholds.fit_floor is not None and abs(pure.fit - thresholds.fit_floor) <= tolerance
    ):
        assert sql.band == pure.band


@pytest.mark.django_db
@SLOW
@given(
    definition=definitions(),
    employees=st.sampled_from(EMPLOYEES),
    industry=st.sampled_from(INDUSTRIES),
    persons=people,
    shared=activity_rows,
    intents=intent_rows,
    contactless=st.booleans(),
)
def test_sql_rescoring_matches_the_engine(
    definition, employees, industry, persons, shared, intents, contactless
):
    try:
        with transaction.atomic():
            company, contacts = _store(
                {"employee_count": employees, "industry": industry},
                [] if contactless else persons,
                shared,
                intents,
            )
            if contactless:
                sql = account_scores_compute(
                    definition=definition,
                    subjects=Subjects(ids=(company.id,)),
                    at=AT,
                    breakdown=True,
                )
                _assert_same(
                    sql[company.id],
                    score_account(definition, facts_for_company(company.id), AT),
                    definition,
                )
            else:
                ids = tuple(c.id for c in contacts)
                subjects = Subjects(low=min(ids), high=max(ids))
                sql = contact_scores_compute(
                    definition=definition, subjects=subjects, at=AT, breakdown=True
                )
                assert set(sql) == set(ids)
                fast = contact_scores_compute(definition=definition, subjects=subjects, at=AT)
                assert {k: (v.total, v.fit, v.engagement, v.band) for k, v in fast.items()} == {
                    k: (v.total, v.fit, v.engagement, v.band) for k, v in sql.items()
                }
                for contact in contacts:
                    pure = score(definition, facts_for_contact(contact.id), AT)
                    _assert_same(sql[contact.id], pure, definition)
            raise _Rollback
    except _Rollback:
        pass
