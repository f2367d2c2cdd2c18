"""The rule language: property conditions and MQL triggers, in the engine and the spec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from common.text import property_number, property_text
from scoring.engine import (
    ActivityFact,
    AttributeRule,
    BantRequirement,
    BehaviourRule,
    Definition,
    LeadFacts,
    Op,
    PropertyCondition,
    Thresholds,
    regex_problem,
    score,
    starter_definition,
)
from scoring.spec import SpecError, definition_from_spec, spec_from_definition, spec_normalised

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BANT = BantRequirement(required=frozenset({"need"}), min_count=1)

# A negative rule that holds a trigger (the "unsubscribed" example).
UNSUBSCRIBED = AttributeRule(
    key="unsub",
    label="Unsubscribed",
    attribute="contact.is_unsubscribed",
    op=Op.IS_TRUE,
    points=-20,
)


def act(kind="page_view", days=1.0, **props) -> ActivityFact:
    return ActivityFact(kind, AT - timedelta(days=days), props)


def cond(prop, op, value, negate=False) -> PropertyCondition:
    return PropertyCondition(property=prop, op=op, value=value, negate=negate)


def holds(condition: PropertyCondition, **props) -> bool:
    return condition.holds(props)


# --- property conditions ----------------------------------------------------------


def test_equals_compares_match_keys_on_both_sides():
    c = cond("utm_source", "equals", "Google")
    assert holds(c, utm_source="ＧＯＯＧＬＥ")
    assert holds(c, utm_source=" google ")
    assert not holds(c, utm_source="google ads")
    assert not holds(c)  # missing


def test_contains_finds_a_substring_after_nfkc():
    c = cond("utm_campaign", "contains", "ｓｐｒｉｎｇ")
    assert holds(c, utm_campaign="2026-Spring-webinar")
    assert not holds(c, utm_campaign="autumn")


def test_in_matches_any_of_a_list():
    c = cond("utm_medium", "in", ["CPC", "display"])
    assert holds(c, utm_medium="cpc")
    assert holds(c, utm_medium="Display")
    assert not holds(c, utm_medium="email")
    assert c.value == ("CPC", "display")


def test_regex_searches_the_match_key_with_the_pattern_normalised_too():
    c = cond("url", "regex", "^/PRICING(/|$)")
    assert holds(c, url="/pricing")
    assert holds(c, url="/Pricing/plans")
    assert not holds(c, url="/pricingx")
    assert not holds(c, url="/blog/pricing")


@pytest.mark.parametrize(
    ("op", "bound", "expected"),
    [
        ("gt", 30, [False, True, False]),
        ("gte", 30, [True, True, False]),
        ("lt", 30, [False, False, True]),
        ("lte", 30, [True, False, True]),
    ],
)
def test_numeric_operators_compare_numbers_and_numeric_text(op, bound, expected):
    c = cond("minutes", op, bound)
    assert [holds(c, minutes=v) for v in (30, "４５", 29.5)] == expected


@pytest.mark.parametrize("value", [None, "n/a", "", True, "30 min", "inf", "nan", [30]])
def test_a_missing_or_non_numeric_property_fails_a_numeric_condition_and_passes_its_not(value):
    props = {} if value is None else {"minutes": value}
    assert not cond("minutes", "gte", 0).holds(props)
    assert cond("minutes", "gte", 0, negate=True).holds(props)


def test_not_inverts_every_operator_and_passes_when_the_property_is_missing():
    for c in (
        cond("utm_medium", "equals", "email"),
        cond("utm_medium", "contains", "mail"),
        cond("utm_medium", "in", ["email"]),
        cond("utm_medium", "regex", "^e"),
    ):
        negated = PropertyCondition(property=c.property, op=c.op, value=c.value, negate=True)
        assert holds(c, utm_medium="Email") and not holds(negated, utm_medium="Email")
        assert not holds(c, utm_medium="cpc") and holds(negated, utm_medium="cpc")
        assert not holds(c) and holds(negated)


def test_a_number_has_its_json_text_for_text_operators():
    assert holds(cond("seats", "equals", "30"), seats=30)
    assert not holds(cond("seats", "equals", "30"), seats=30.5)
    assert property_text(True) is None and property_text(None) is None
    assert property_number("１e３") == 1000.0 and property_number(10**400) is None


def test_all_conditions_of_a_rule_must_hold():
    rule = BehaviourRule(
        key="webinar_long",
        label="Watched 30 minutes of a paid-search webinar",
        kinds=frozenset({"webinar_attendance"}),
        conditions=(cond("minutes", "gte", 30), cond("utm_medium", "equals", "email", True)),
        points=20,
    )
    assert rule.matches(act("webinar_attendance", minutes=45, utm_medium="cpc"))
    assert rule.matches(act("webinar_attendance", minutes=45))
    assert not rule.matches(act("webinar_attendance", minutes=45, utm_medium="EMAIL"))
    assert not rule.matches(act("webinar_attendance", minutes=10, utm_medium="cpc"))
    assert not rule.matches(act("page_view", minutes=45))


@pytest.mark.parametrize(
    "pattern",
    [
        r"\d+",
        r"\bword",
        r"(a)\1",
        "(?=x)",
        "(?<!x)y",
        "(?i)x",
        "(?P<n>x)",
        "a*+",
        "a++",
        "[[:alpha:]]",
        "[a[b]",
        "[a-c-e]",
        "[a-]b-]",
        "a{,3}",
        "a{300}",
        "a{3,2}",
        "x}",
        "x]",
        "(a+)+",
        "(a|b)*",
        "(",
        "a)",
        "[abc",
        "*a",
        "a" * 201,
        "\\",
    ],
)
def test_regexes_outside_the_portable_subset_are_refused(pattern):
    assert regex_problem(pattern) is not None
    with pytest.raises(ValueError):
        cond("url", "regex", pattern)


@pytest.mark.parametrize(
    "pattern", ["^/pricing$", "a|b", "(?:utm|ref)?_x", "[a-z0-9_]{2,8}", r"\.pdf$", "(ab)?c+?"]
)
def test_portable_regexes_are_accepted(pattern):
    assert regex_problem(pattern) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"property": "utm source", "op": "equals", "value": "x"}, "property name"),
        ({"property": "utm_source", "op": "like", "value": "x"}, "unknown property operator"),
        ({"property": "utm_source", "op": "equals", "value": " "}, "non-empty text"),
        ({"property": "utm_source", "op": "in", "value": "x"}, "list of texts"),
        ({"property": "utm_source", "op": "in", "value": []}, "non-empty list"),
        ({"property": "minutes", "op": "gte", "value": "30"}, "finite number"),
        ({"property": "minutes", "op": "gte", "value": True}, "finite number"),
        ({"property": "minutes", "op": "lt", "value": float("inf")}, "finite number"),
        ({"property": "minutes", "op": "lt", "value": 1, "negate": "yes"}, "negate"),
    ],
)
def test_bad_conditions_are_refused_with_a_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PropertyCondition(**kwargs)


# --- MQL triggers -----------------------------------------------------------------


def trigger_definition() -> Definition:
    return Definition(
        behaviour=(
            BehaviourRule(
                key="demo",
                label="Demo request",
                kinds=frozenset({"demo_request"}),
                points=5,
                window_days=30,
                trigger=True,
            ),
            BehaviourRule(key="view", label="Page view", kinds=frozenset({"page_view"}), points=1),
        ),
        attributes=(
            AttributeRule(
                key="student",
                label="Student",
                attribute="contact.title",
                op=Op.CONTAINS_ANY,
                value=("学生", "student"),
                points=-40,
            ),
            UNSUBSCRIBED,
        ),
        intents=(),
        thresholds=Thresholds(warm=20, hot=60, fit_floor=10),
        bant=BANT,
    )


def test_a_trigger_makes_a_lead_hot_whatever_its_points_and_the_fit_floor():
    result = score(trigger_definition(), LeadFacts({}, [act("demo_request", 3)]), AT)
    assert result.total == 5.0
    assert result.band == "hot"
    assert result.triggered_by == ("demo",)
    assert result.breakdown[0].is_trigger
    assert result.as_dict()["triggered_by"] == ["demo"]
    standing = trigger_definition().thresholds.standing(result.total, result.fit, triggered=True)
    assert standing.band == "hot" and standing.reasons == ("mql_trigger",)


def test_an_unsubscribed_student_who_requests_a_demo_is_not_an_mql():
    facts = LeadFacts(
        {"contact.title": "学生", "contact.is_unsubscribed": True}, [act("demo_request", 3)]
    )
    result = score(trigger_definition(), facts, AT)
    assert result.band == "cold"
    assert result.triggered_by == ()
    assert result.trigger_held
    assert result.as_dict()["trigger_held"] is True


def test_any_negative_rule_that_took_points_holds_the_trigger():
    facts = LeadFacts({"contact.is_unsubscribed": True}, [act("demo_request", 3)])
    assert score(trigger_definition(), facts, AT).band == "cold"
    facts = LeadFacts({"contact.is_unsubscribed": False}, [act("demo_request", 3)])
    assert score(trigger_definition(), facts, AT).band == "hot"


def test_a_trigger_outside_its_window_or_a_non_trigger_rule_does_not_fire():
    old = score(trigger_definition(), LeadFacts({}, [act("demo_request", 31)]), AT)
    assert old.band == "cold" and not old.triggered_by
    views = score(trigger_definition(), LeadFacts({}, [act("page_view", 1)] * 3), AT)
    assert views.band == "cold" and not views.triggered_by and not views.trigger_held


def test_a_trigger_may_be_narrowed_by_conditions():
    definition = trigger_definition()
    demo = definition.behaviour[0]
    narrowed = BehaviourRule(
        key=demo.key,
        label=demo.label,
        kinds=frozenset({"form_submission"}),
        conditions=(cond("form", "in", ["contact-us", "pricing"]),),
        points=demo.points,
        trigger=True,
    )
    d = Definition(
        behaviour=(narrowed,),
        attributes=(),
        intents=(),
        thresholds=definition.thresholds,
        bant=BANT,
    )
    assert score(d, LeadFacts({}, [act("form_submission", form="Contact-Us")]), AT).is_hot
    assert not score(d, LeadFacts({}, [act("form_submission", form="newsletter")]), AT).is_hot


def test_a_trigger_rule_cannot_take_points():
    with pytest.raises(ValueError, match="negative points"):
        BehaviourRule(key="t", label="t", kinds={"demo_request"}, points=-5, trigger=True)


# --- the spec ---------------------------------------------------------------------


def test_conditions_and_triggers_round_trip_through_the_spec():
    definition = trigger_definition()
    rule = definition.behaviour[0]
    rich = Definition(
        behaviour=(
            BehaviourRule(
                key=rule.key,
                label=rule.label,
                kinds=rule.kinds,
                points=rule.points,
                window_days=rule.window_days,
                trigger=True,
                conditions=(
                    cond("utm_source", "in", ["google", "bing"]),
                    cond("minutes", "gte", 30, negate=True),
                    cond("url", "regex", "^/demo"),
                ),
            ),
        ),
        attributes=definition.attributes,
        intents=(),
        thresholds=definition.thresholds,
        bant=BANT,
    )
    spec = spec_from_definition(rich)
    assert spec["behaviour"][0]["trigger"] is True
    assert spec["behaviour"][0]["conditions"][1] == {
        "property": "minutes", "op": "gte", "value": 30.0, "negate": True,
    }  # fmt: skip
    assert definition_from_spec(spec) == rich
    assert spec_normalised(spec) == spec


def test_a_spec_without_the_new_keys_keeps_its_form():
    spec = spec_from_definition(starter_definition())
    assert all("conditions" not in r and "trigger" not in r for r in spec["behaviour"])
    assert spec_normalised(spec) == spec
    assert all(not r.conditions and not r.trigger for r in definition_from_spec(spec).behaviour)


def _spec_with(**rule_fields):
    spec = spec_from_definition(trigger_definition())
    spec["behaviour"][0].update(rule_fields)
    return spec


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        ({"conditions": {"property": "x"}}, "behaviour[0].conditions", "must be a list"),
        ({"conditions": ["x"]}, "behaviour[0].conditions", "must be a list"),
        ({"conditions": [{"op": "equals", "value": "x"}]}, "behaviour[0].conditions[0]", "missing"),
        (
            {"conditions": [{"property": "u", "op": "equals", "value": "a"}, {"property": "u"}]},
            "behaviour[0].conditions[1]",
            "missing",
        ),
        (
            {"conditions": [{"property": "url", "op": "regex", "value": "(?=x)"}]},
            "behaviour[0].conditions[0]",
            "lookarounds",
        ),
        (
            {"conditions": [{"property": "m", "op": "gte", "value": "ten"}]},
            "behaviour[0].conditions[0]",
            "finite number",
        ),
        ({"trigger": "yes"}, "behaviour[0]", "trigger must be true or false"),
    ],
)
def test_spec_errors_name_the_rule_and_the_condition(fields, where, message):
    with pytest.raises(SpecError, match=message) as caught:
        definition_from_spec(_spec_with(**fields))
    assert caught.value.where == where
