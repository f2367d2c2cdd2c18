"""A definition as JSON (what a version stores) and back.

The stored form is plain JSON so that versions can be diffed, audited and
edited without code. ``definition_from_spec`` is the only way in: it builds the
engine's frozen dataclasses, whose own checks refuse a bad rule, and turns
every problem into a ``SpecError`` that names the rule and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scoring.engine import (
    MAX_ALL_OF,
    AttributeCondition,
    AttributeRule,
    BantRequirement,
    BehaviourRule,
    Definition,
    IntentRule,
    Label,
    Op,
    PropertyCondition,
    Thresholds,
)

Spec = dict[str, Any]

# 2: a rule's label is {language: text} (1 had one text for both languages).
SPEC_FORMAT = 2


class SpecError(ValueError):
    """A definition spec that cannot be used, with where the problem is."""

    def __init__(self, message: str, *, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


def _number(value: Any) -> float | int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r}")
    return value


def _behaviour_spec(rule: BehaviourRule) -> Spec:
    # The rule-language keys appear only when used, so a definition without them
    # keeps the exact form (and diff, and normalised equality) it had before.
    extra: Spec = {}
    if rule.conditions:
        extra["conditions"] = [condition.as_json() for condition in rule.conditions]
    if rule.trigger:
        extra["trigger"] = True
    return {
        "key": rule.key,
        "label": rule.label.as_json(),
        "kinds": sorted(rule.kinds),
        "url_contains": rule.url_contains,
        "content_contains": rule.content_contains,
        "campaign": rule.campaign,
        "points": rule.points,
        "cap": rule.cap,
        "half_life_days": rule.half_life_days,
        "window_days": rule.window_days,
        **extra,
    }


def _intent_spec(rule: IntentRule) -> Spec:
    return {
        "key": rule.key,
        "label": rule.label.as_json(),
        "topics": sorted(rule.topics),
        "min_strength": rule.min_strength,
        "points": rule.points,
        "cap": rule.cap,
        "half_life_days": rule.half_life_days,
        "window_days": rule.window_days,
    }


def _attribute_spec(rule: AttributeRule) -> Spec:
    value = rule.value
    if isinstance(value, tuple):
        value = list(value)
    # all_of appears only when used, so older fit rules keep their exact form.
    extra: Spec = {}
    if rule.all_of:
        extra["all_of"] = [condition.as_json() for condition in rule.all_of]
    return {
        "key": rule.key,
        "label": rule.label.as_json(),
        "attribute": rule.attribute,
        "op": str(rule.op),
        "value": value,
        "points": rule.points,
        **extra,
    }


def spec_from_definition(definition: Definition) -> Spec:
    """The JSON form of a definition (stable key order, lists sorted where sets)."""
    thresholds = definition.thresholds
    return {
        "format": SPEC_FORMAT,
        "thresholds": {
            "warm": thresholds.warm,
            "hot": thresholds.hot,
            "fit_floor": thresholds.fit_floor,
        },
        "bant": {
            "required": sorted(definition.bant.required),
            "min_count": definition.bant.min_count,
        },
        "attributes": [_attribute_spec(r) for r in definition.attributes],
        "behaviour": [_behaviour_spec(r) for r in definition.behaviour],
        "intents": [_intent_spec(r) for r in definition.intents],
    }


def _rules(spec: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    rules = spec.get(name, [])
    if not isinstance(rules, list) or not all(isinstance(r, Mapping) for r in rules):
        raise SpecError("must be a list of rules", where=name)
    return rules


def _label(rule: Mapping[str, Any]) -> Label:
    """The rule's label: {language: text}, a plain text, or else its key."""
    value = rule.get("label")
    if isinstance(value, Mapping):
        value = {lang: text for lang, text in value.items() if isinstance(text, str) and text}
    return Label.of(value or rule["key"])


def _build(where: str, build):
    try:
        return build()
    except SpecError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        message = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise SpecError(message, where=where) from None


def _conditions(where: str, rule: Mapping[str, Any]) -> tuple[PropertyCondition, ...]:
    """A behaviour rule's property conditions: a list of {property, op, value, negate}."""
    raw = rule.get("conditions")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
        raise SpecError(
            "must be a list of {property, op, value, negate}", where=f"{where}.conditions"
        )
    return tuple(
        _build(
            f"{where}.conditions[{j}]",
            lambda c=c: PropertyCondition(
                property=c["property"],
                op=c["op"],
                value=c["value"],
                negate=c.get("negate", False),
            ),
        )
        for j, c in enumerate(raw)
    )


def _all_of(where: str, rule: Mapping[str, Any]) -> tuple[AttributeCondition, ...]:
    """A fit rule's extra conditions: a list of {attribute, op, value}, all ANDed."""
    raw = rule.get("all_of")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) for c in raw):
        raise SpecError("must be a list of {attribute, op, value}", where=f"{where}.all_of")
    if len(raw) > MAX_ALL_OF:
        raise SpecError(f"at most {MAX_ALL_OF} extra conditions", where=f"{where}.all_of")
    return tuple(
        _build(
            f"{where}.all_of[{j}]",
            lambda c=c: AttributeCondition(
                attribute=c["attribute"], op=c["op"], value=c.get("value")
            ),
        )
        for j, c in enumerate(raw)
    )


def definition_from_spec(spec: Mapping[str, Any]) -> Definition:
    """The engine definition a spec describes; SpecError if it is not a valid one."""
    if not isinstance(spec, Mapping):
        raise SpecError("a definition must be a JSON object")
    behaviour = tuple(
        _build(
            f"behaviour[{i}]",
            lambda r=r, i=i: BehaviourRule(
                key=r["key"],
                label=_label(r),
                kinds=frozenset(r["kinds"]) if isinstance(r["kinds"], list) else r["kinds"],
                url_contains=str(r.get("url_contains") or ""),
                content_contains=str(r.get("content_contains") or ""),
                campaign=str(r.get("campaign") or ""),
                points=r["points"],
                cap=_number(r.get("cap")),
                half_life_days=_number(r.get("half_life_days")),
                window_days=_number(r.get("window_days")),
                conditions=_conditions(f"behaviour[{i}]", r),
                trigger=r.get("trigger", False),
            ),
        )
        for i, r in enumerate(_rules(spec, "behaviour"))
    )
    intents = tuple(
        _build(
            f"intents[{i}]",
            lambda r=r: IntentRule(
                key=r["key"],
                label=_label(r),
                topics=frozenset(r.get("topics") or ()),
                min_strength=r.get("min_strength", 0),
                points=r["points"],
                cap=_number(r.get("cap")),
                half_life_days=_number(r.get("half_life_days")),
                window_days=_number(r.get("window_days")),
            ),
        )
        for i, r in enumerate(_rules(spec, "intents"))
    )
    attributes = tuple(
        _build(
            f"attributes[{i}]",
            lambda r=r, i=i: AttributeRule(
                key=r["key"],
                label=_label(r),
                attribute=r["attribute"],
                op=Op(r["op"]) if r["op"] in Op._value2member_map_ else r["op"],
                value=r.get("value"),
                points=r["points"],
                all_of=_all_of(f"attributes[{i}]", r),
            ),
        )
        for i, r in enumerate(_rules(spec, "attributes"))
    )
    raw_thresholds = spec.get("thresholds")
    if not isinstance(raw_thresholds, Mapping):
        raise SpecError("must be an object with warm and hot", where="thresholds")
    thresholds = _build(
        "thresholds",
        lambda: Thresholds(
            warm=raw_thresholds["warm"],
            hot=raw_thresholds["hot"],
            fit_floor=_number(raw_thresholds.get("fit_floor")),
        ),
    )
    raw_bant = spec.get("bant") or {}
    if not isinstance(raw_bant, Mapping):
        raise SpecError("must be an object", where="bant")
    bant = _build(
        "bant",
        lambda: BantRequirement(
            required=frozenset(raw_bant.get("required") or ()),
            min_count=raw_bant.get("min_count", 0),
        ),
    )
    return _build(
        "rules",
        lambda: Definition(
            behaviour=behaviour,
            attributes=attributes,
            intents=intents,
            thresholds=thresholds,
            bant=bant,
        ),
    )


def spec_normalised(spec: Mapping[str, Any]) -> Spec:
    """The canonical form of a valid spec (so equal definitions compare equal)."""
    return spec_from_definition(definition_from_spec(spec))
