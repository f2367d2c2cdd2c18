"""The fit-rule language: not_in and ANDed extra conditions (all_of), in the engine and the spec."""

from __future__ import annotations

import pytest

from scoring.engine import (
    MAX_ALL_OF,
    AttributeCondition,
    AttributeRule,
    LeadFacts,
    Op,
    starter_definition,
)
from scoring.spec import SpecError, definition_from_spec, spec_from_definition, spec_normalised


def not_in(attribute="company.industry", value=("E", "G"), **extra) -> AttributeRule:
    return AttributeRule(
        key="k", label="k", attribute=attribute, op=Op.NOT_IN, value=value, points=5, **extra
    )


def also(attribute, op, value=None) -> AttributeCondition:
    return AttributeCondition(attribute=attribute, op=op, value=value)


@pytest.mark.parametrize(
    ("industry", "fires"),
    [
        ("I", True),
        ("E", False),
        ("ｇ", False),  # full-width, other case: the same match key as "G"
        ("", False),  # blank: no evidence of being outside the list
        ("  ", False),
        ("　", False),  # a full-width space is blank too
        (None, False),
    ],
)
def test_not_in_matches_a_known_value_outside_the_list(industry, fires):
    assert not_in().matches(LeadFacts({"company.industry": industry})) is fires


def test_not_in_needs_text_and_a_list():
    with pytest.raises(ValueError, match="'k': not_in needs a text attribute"):
        not_in(attribute="company.employee_count", value=("1",))
    with pytest.raises(ValueError, match="needs a list of strings"):
        not_in(value="E")
    with pytest.raises(ValueError, match="non-empty list"):
        not_in(value=())


def manager_at_big_company() -> AttributeRule:
    return AttributeRule(
        key="big_manager",
        label="部長 at 300+",
        attribute="contact.title",
        op=Op.CONTAINS_ANY,
        value=("部長",),
        points=15,
        all_of=(also("company.employee_count", Op.GTE, 300),),
    )


@pytest.mark.parametrize(
    ("title", "employees", "fires"),
    [
        ("営業部長", 300, True),
        ("営業部長", 299, False),
        ("営業部長", None, False),  # an unknown size fails the extra condition
        ("課長", 5000, False),
        ("", 5000, False),
    ],
)
def test_all_of_must_hold_with_the_main_condition(title, employees, fires):
    facts = LeadFacts({"contact.title": title, "company.employee_count": employees})
    assert manager_at_big_company().matches(facts) is fires


def test_all_of_with_not_in_and_the_rule_attributes():
    rule = not_in(all_of=(also("contact.title", Op.NOT_IN, ("学生",)),))
    assert rule.attributes == ("company.industry", "contact.title")
    assert rule.matches(LeadFacts({"company.industry": "I", "contact.title": "部長"}))
    assert not rule.matches(LeadFacts({"company.industry": "I", "contact.title": "学生"}))
    assert not rule.matches(LeadFacts({"company.industry": "I"}))


def test_all_of_is_checked_like_a_rule():
    with pytest.raises(ValueError, match="unknown attribute 'x'"):
        also("x", Op.EQ, "a")
    with pytest.raises(ValueError, match="unknown operator 'nope'"):
        also("contact.title", "nope", "a")
    with pytest.raises(ValueError, match="gte needs a numeric attribute"):
        also("contact.title", Op.GTE, 3)
    with pytest.raises(ValueError, match="all_of must be a list"):
        not_in(all_of=also("contact.title", Op.EQ, "a"))
    with pytest.raises(ValueError, match=f"at most {MAX_ALL_OF}"):
        not_in(all_of=[also("company.employee_count", Op.GTE, n) for n in range(MAX_ALL_OF + 1)])


def test_the_spec_round_trips_and_writes_all_of_only_when_used():
    spec = spec_from_definition(starter_definition())
    assert all("all_of" not in r for r in spec["attributes"])
    assert spec_normalised(spec) == spec

    spec["attributes"][0].update(
        op="not_in",
        attribute="company.industry",
        value=["E", "G"],
        all_of=[
            {"attribute": "company.employee_count", "op": "between", "value": [300, 1000]},
            {"attribute": "contact.title", "op": "not_in", "value": ["学生"]},
        ],
    )
    definition = definition_from_spec(spec)
    rule = definition.attributes[0]
    assert rule.op is Op.NOT_IN
    assert rule.all_of[0] == also("company.employee_count", Op.BETWEEN, (300, 1000))
    again = spec_from_definition(definition)
    assert again["attributes"][0]["all_of"][1] == {
        "attribute": "contact.title", "op": "not_in", "value": ["学生"],
    }  # fmt: skip
    assert definition_from_spec(again) == definition
    assert spec_normalised(again) == again


def _spec_with(**fields):
    spec = spec_from_definition(starter_definition())
    spec["attributes"][2].update(fields)
    return spec


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        ({"all_of": {"attribute": "x"}}, "attributes[2].all_of", "must be a list"),
        ({"all_of": ["x"]}, "attributes[2].all_of", "must be a list"),
        (
            {"all_of": [{"attribute": "x", "op": "eq", "value": "a"}]},
            "attributes[2].all_of[0]",
            "unknown attribute 'x'",
        ),
        (
            {
                "all_of": [
                    {"attribute": "company.industry", "op": "in", "value": ["E"]},
                    {"op": "eq", "value": "a"},
                ]
            },
            "attributes[2].all_of[1]",
            "missing",
        ),
        (
            {"all_of": [{"attribute": "company.industry", "op": "not_in", "value": "E"}]},
            "attributes[2].all_of[0]",
            "not_in needs a list of strings",
        ),
        (
            {"all_of": [{"attribute": "company.employee_count", "op": "gte", "value": 1}] * 11},
            "attributes[2].all_of",
            f"at most {MAX_ALL_OF}",
        ),
        ({"op": "not_in", "value": []}, "attributes[2]", "non-empty list"),
    ],
)
def test_spec_errors_name_the_rule_and_the_condition(fields, where, message):
    with pytest.raises(SpecError, match=message) as caught:
        definition_from_spec(_spec_with(**fields))
    assert caught.value.where == where
    assert str(caught.value).startswith(f"{where}: ")
