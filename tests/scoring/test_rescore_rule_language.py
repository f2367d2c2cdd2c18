"""Property conditions and MQL triggers in the set-based rescoring, against the engine.

Runs on the suite's database: SQLite locally, PostgreSQL in CI (and by hand
with DATABASE_URL), where the regular expressions go to ``~``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import Activity
from leads.services.contacts import ContactInput
from leads.services.ingest import EventInput, events_ingest
from scoring.engine import (
    AttributeCondition,
    AttributeRule,
    BehaviourRule,
    Definition,
    Op,
    PropertyCondition,
    Thresholds,
    match_key,
    regex_problem,
    score,
)
from scoring.facts import facts_for_contact
from scoring.services.rescore import Subjects, contact_scores_compute
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory
from tests.scoring.test_engine_properties import AT, BANT, CONDITIONS, EXTRA_PROPERTIES
from tests.scoring.test_rule_language import UNSUBSCRIBED

pytestmark = pytest.mark.django_db


def _one_rule(**kwargs) -> Definition:
    return Definition(
        behaviour=(BehaviourRule(key="r", label="r", kinds={"page_view"}, points=1, **kwargs),),
        attributes=(UNSUBSCRIBED,),
        intents=(),
        thresholds=Thresholds(warm=50, hot=100),
        bant=BANT,
    )


def _hits(result, key="r") -> int:
    return next((c.hits for c in result.breakdown if c.rule_key == key), 0)


def test_every_condition_counts_the_same_activities_in_sql_as_in_the_engine():
    contact = ContactFactory(is_unsubscribed=False)
    variants = [{"url": "/pricing/plans", "title": "DX guide"}, *EXTRA_PROPERTIES]
    for n, props in enumerate(variants):
        ActivityFactory(
            contact=contact, occurred_at=AT - timedelta(days=1), properties=props,
            external_id=f"v{n}",
        )  # fmt: skip
    facts = facts_for_contact(contact.id)
    partial = 0
    for condition in CONDITIONS:
        definition = _one_rule(conditions=(condition,))
        sql = contact_scores_compute(
            definition=definition, subjects=Subjects(ids=(contact.id,)), at=AT, breakdown=True
        )[contact.id]
        pure = score(definition, facts, AT)
        assert _hits(sql) == _hits(pure), condition
        partial += 0 < _hits(pure) < len(variants)
    assert partial >= len(CONDITIONS) // 2  # the pool tells activities apart


def test_ingested_activities_store_the_property_forms_sql_reads():
    events_ingest(
        events=[
            EventInput(
                "ma",
                "w1",
                "webinar_attendance",
                AT,
                properties={"minutes": "４５", "utm_source": "Ｇｏｏｇｌｅ", "live": True},
                contact=ContactInput(email="ingest@example.co.jp"),
            )
        ]
    )
    row = Activity.objects.get(external_id="w1")
    assert row.property_keys == {"minutes": "45", "utm_source": "google"}
    assert row.property_numbers == {"minutes": 45.0}


def test_sql_holds_a_trigger_for_an_unsubscribed_lead_and_fires_it_for_another():
    definition = _one_rule(trigger=True, conditions=(PropertyCondition(
        property="form", op="equals", value="demo"),))  # fmt: skip
    keen = ContactFactory(is_unsubscribed=False)
    unsubscribed = ContactFactory(is_unsubscribed=True)
    for contact in (keen, unsubscribed):
        ActivityFactory(contact=contact, occurred_at=AT - timedelta(days=1),
                        properties={"form": "Demo"})  # fmt: skip
    ids = (keen.id, unsubscribed.id)
    full = contact_scores_compute(
        definition=definition, subjects=Subjects(ids=ids), at=AT, breakdown=True
    )
    fast = contact_scores_compute(definition=definition, subjects=Subjects(ids=ids), at=AT)
    assert full[keen.id].band == fast[keen.id].band == "hot"
    assert full[keen.id].triggered_by == ("r",)
    assert full[unsubscribed.id].band == fast[unsubscribed.id].band == "cold"
    assert full[unsubscribed.id].trigger_held
    for contact in (keen, unsubscribed):
        assert full[contact.id] == score(definition, facts_for_contact(contact.id), AT)


# Patterns from the characters that matter, and texts to search with them: every
# pattern regex_problem accepts must compile in the database and match the same.
_PATTERN_ATOMS = st.sampled_from(
    ["a", "b", "-", "/", ".", "^", "$", "|", "(", ")", "(?:", "[", "]", "[^", "*", "+", "?",
     "{2}", "{1,}", "{0,2}", "\\.", "\\-", "学", "Ａ", "z-", "[a-", "-]", "0-9]", "\\*"]
)  # fmt: skip
_TEXTS = ["", "a", "ab", "a-b", "/a.b", "aab", "ba", "学a", "abab-", "b/b"]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_PATTERN_ATOMS, min_size=1, max_size=8).map("".join))
def test_accepted_regexes_mean_the_same_in_the_database(pattern):
    import re

    pattern = match_key(pattern)
    if regex_problem(pattern) is not None:
        return
    op = "~" if connection.vendor == "postgresql" else "REGEXP"
    with connection.cursor() as cursor:
        for text in _TEXTS:
            cursor.execute(f"SELECT CASE WHEN %s {op} %s THEN 1 ELSE 0 END", [text, pattern])
            assert bool(cursor.fetchone()[0]) == bool(re.search(pattern, text)), (pattern, text)


def test_not_in_and_all_of_fit_rules_score_the_same_in_the_rescoring_as_in_the_engine():
    """Blank industries are not "outside the list", and every ANDed condition must hold,
    for the chunked rescoring (one engine verdict per distinct value combination) too."""
    rules = (
        AttributeRule(
            key="outside", label="o", attribute="company.industry", op=Op.NOT_IN,
            value=("E", "G"), points=5,
        ),
        AttributeRule(
            key="big_head", label="b", attribute="contact.title", op=Op.CONTAINS_ANY,
            value=("部長",), points=15,
            all_of=(
                AttributeCondition(attribute="company.employee_count", op=Op.GTE, value=300),
                AttributeCondition(attribute="company.industry", op=Op.NOT_IN, value=("E",)),
            ),
        ),
    )  # fmt: skip
    definition = Definition(
        behaviour=(), attributes=rules, intents=(), thresholds=Thresholds(warm=10, hot=30),
        bant=BANT,
    )  # fmt: skip
    cases = {
        ("I", 300, "営業部長"): {"outside", "big_head"},
        ("ｅ", 300, "営業部長"): set(),  # full-width, lower case: still E
        ("G", 1000, "部長"): {"big_head"},
        ("I", 299, "部長"): {"outside"},
        ("", 5000, "部長"): set(),  # blank industry: neither not_in matches
        ("I", None, "部長"): {"outside"},
        ("I", 300, "課長"): {"outside"},
    }
    contacts = {
        case: ContactFactory(
            company=CompanyFactory(industry=case[0], employee_count=case[1]), title=case[2]
        )
        for case in cases
    }
    ids = tuple(c.id for c in contacts.values())
    sql = contact_scores_compute(
        definition=definition, subjects=Subjects(ids=ids), at=AT, breakdown=True
    )
    for case, wanted in cases.items():
        contact = contacts[case]
        pure = score(definition, facts_for_contact(contact.id), AT)
        got = {c.rule_key for c in sql[contact.id].breakdown if c.points}
        assert got == {c.rule_key for c in pure.breakdown if c.points} == wanted, case
        assert sql[contact.id].fit == pure.fit
