"""Behaviour, intent and attribute (fit) rules, and how each matches."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from common.text import match_key
from scoring.engine.base import (
    ACTIVITY_KINDS,
    ATTRIBUTES,
    Label,
    _is_a,
    _is_hundredths,
    _is_number,
    text_list,
)
from scoring.engine.conditions import PropertyCondition
from scoring.engine.facts import ActivityFact, IntentFact, LeadFacts

MAX_CONDITIONS = 20

# --- Rules -------------------------------------------------------------------------


def _check_points_and_cap(key: str, points: float, cap: float | None) -> None:
    # Hundredths only: the engine rounds each rule to hundredths, and a cap
    # that is itself in hundredths stays exact after that rounding.
    if not _is_number(points) or not _is_hundredths(points):
        raise ValueError(f"rule {key!r}: points must be a finite number in hundredths: {points!r}")
    if cap is None:
        return
    if not _is_number(cap) or not _is_hundredths(cap):
        raise ValueError(f"rule {key!r}: cap must be a finite number in hundredths: {cap!r}")
    if points == 0 or (cap > 0) != (points > 0) or cap == 0:
        raise ValueError(
            f"rule {key!r}: cap {cap} must have the sign of points {points} "
            "(for negative points the cap is the most negative total allowed)"
        )


def _check_timing(key: str, half_life_days: float | None, window_days: int | None) -> None:
    if half_life_days is not None and not (
        _is_number(half_life_days) and math.isfinite(half_life_days) and half_life_days > 0
    ):
        raise ValueError(f"rule {key!r}: half_life_days must be positive: {half_life_days!r}")
    if window_days is not None and not (
        isinstance(window_days, int) and not isinstance(window_days, bool) and window_days > 0
    ):
        raise ValueError(f"rule {key!r}: window_days must be a positive int: {window_days!r}")


def _as_floats(rule: object, *names: str) -> None:
    # Stored as floats so that points_raw and as_dict() are floats whatever was typed.
    for name in names:
        value = getattr(rule, name)
        if value is not None:
            object.__setattr__(rule, name, float(value))


def _rule_label(key: str, value: object) -> Label:
    """The rule's label; without one (empty text, no language), its key."""
    if not value:
        return Label.of(key)
    try:
        return Label.of(value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"rule {key!r}: {exc}") from None


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"rule key must be a non-empty string: {key!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BehaviourRule:
    """Points for each matching activity, decayed by age, windowed, then capped.

    An activity matches when its kind is in ``kinds`` and every non-empty
    filter matches: ``url_contains`` is a substring of ``properties["url"]``,
    ``content_contains`` a substring of ``properties["title"]``, and
    ``campaign`` equals ``properties["campaign"]`` (all compared by
    ``match_key``), and every one of ``conditions`` holds (AND; see
    scoring.engine.conditions). Each match within the window contributes
    ``points * decay_factor(age_days, half_life_days)``; the sum is then capped.

    A ``trigger`` rule (a hand-raiser: a demo request, a pricing inquiry) also
    makes the lead hot at once when it has a match within its window, whatever
    the points, unless a negative rule took points off (see ``score``).
    """

    key: str
    label: Label
    kinds: frozenset[str]
    url_contains: str = ""
    content_contains: str = ""
    campaign: str = ""
    points: float
    cap: float | None = None
    half_life_days: float | None = None
    window_days: int | None = None
    conditions: tuple[PropertyCondition, ...] = ()
    trigger: bool = False

    def __post_init__(self) -> None:
        _check_key(self.key)
        object.__setattr__(self, "label", _rule_label(self.key, self.label))
        if isinstance(self.conditions, PropertyCondition | str | Mapping):
            raise ValueError(f"rule {self.key!r}: conditions must be a list of conditions")
        object.__setattr__(self, "conditions", tuple(self.conditions))
        if any(not isinstance(c, PropertyCondition) for c in self.conditions):
            raise ValueError(f"rule {self.key!r}: conditions must be PropertyConditions")
        if len(self.conditions) > MAX_CONDITIONS:
            raise ValueError(f"rule {self.key!r}: at most {MAX_CONDITIONS} conditions")
        if not isinstance(self.trigger, bool):
            raise ValueError(f"rule {self.key!r}: trigger must be true or false")
        if self.trigger and _is_number(self.points) and self.points < 0:
            # A negative trigger would both hold and fire itself; hand-raisers add points.
            raise ValueError(f"rule {self.key!r}: a trigger rule must not have negative points")
        if isinstance(self.kinds, str):
            raise ValueError(f"rule {self.key!r}: kinds must be a set of kinds, not a string")
        object.__setattr__(self, "kinds", frozenset(self.kinds))
        if not self.kinds:
            raise ValueError(f"rule {self.key!r}: kinds must not be empty")
        unknown = self.kinds - ACTIVITY_KINDS
        if unknown:
            raise ValueError(f"rule {self.key!r}: unknown activity kinds {sorted(unknown)}")
        _check_points_and_cap(self.key, self.points, self.cap)
        _check_timing(self.key, self.half_life_days, self.window_days)
        _as_floats(self, "points", "cap", "half_life_days")

    def matches(self, activity: ActivityFact) -> bool:
        """Whether the activity is of this rule's kind and passes its filters (time aside)."""
        if activity.kind not in self.kinds:
            return False
        props = activity.properties
        return (
            _contains(props.get("url"), self.url_contains)
            and _contains(props.get("title"), self.content_contains)
            and (not self.campaign or _text_key(props.get("campaign")) == match_key(self.campaign))
            and all(condition.holds(props) for condition in self.conditions)
        )


def _text_key(value: object) -> str:
    return match_key(value) if isinstance(value, str) else ""


def _contains(haystack: object, needle: str) -> bool:
    return not needle or match_key(needle) in _text_key(haystack)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentRule:
    """Like a behaviour rule, over intent signals of strength ≥ ``min_strength``.

    ``topics`` are compared by ``match_key`` and must equal the signal's topic;
    an empty set matches any topic.
    """

    key: str
    label: Label
    topics: frozenset[str] = frozenset()
    min_strength: int = 0
    points: float
    cap: float | None = None
    half_life_days: float | None = None
    window_days: int | None = None

    def __post_init__(self) -> None:
        _check_key(self.key)
        object.__setattr__(self, "label", _rule_label(self.key, self.label))
        if isinstance(self.topics, str):
            raise ValueError(f"rule {self.key!r}: topics must be a set of topics, not a string")
        object.__setattr__(self, "topics", frozenset(self.topics))
        if any(not isinstance(t, str) or not match_key(t) for t in self.topics):
            raise ValueError(f"rule {self.key!r}: topics must be non-empty strings")
        if (
            isinstance(self.min_strength, bool)
            or not isinstance(self.min_strength, int)
            or not 0 <= self.min_strength <= 100
        ):
            raise ValueError(f"rule {self.key!r}: min_strength must be an int 0–100")
        _check_points_and_cap(self.key, self.points, self.cap)
        _check_timing(self.key, self.half_life_days, self.window_days)
        _as_floats(self, "points", "cap", "half_life_days")

    def matches(self, intent: IntentFact) -> bool:
        """Whether the signal is strong enough and on one of the topics (time aside)."""
        if intent.strength < self.min_strength:
            return False
        return not self.topics or match_key(intent.topic) in {match_key(t) for t in self.topics}


class Op(StrEnum):
    """How an attribute rule compares. None (or "") never matches any operator."""

    EQ = "eq"  # str (by match_key), int or bool, of the attribute's type
    IN = "in"  # value: strings; the attribute's match_key is one of them
    NOT_IN = "not_in"  # value: strings; a known attribute whose match_key is none of them
    CONTAINS_ANY = "contains_any"  # value: strings; any is a substring (match_key)
    ENDS_WITH_ANY = "ends_with_any"  # value: domains; "mail.example.com" ends with "example.com"
    GTE = "gte"  # value: a number
    LTE = "lte"  # value: a number
    BETWEEN = "between"  # value: (low, high), both inclusive
    IS_TRUE = "is_true"  # boolean attribute is True; value unused
    IS_FALSE = "is_false"  # boolean attribute is False (not merely unknown); value unused


_STRING_LIST_OPS = frozenset({Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.ENDS_WITH_ANY})
_NUMBER_OPS = frozenset({Op.GTE, Op.LTE, Op.BETWEEN})
_BOOL_OPS = frozenset({Op.IS_TRUE, Op.IS_FALSE})

# The extra conditions one fit rule may AND with its main one.
MAX_ALL_OF = 10


def _checked_op(op: object) -> Op:
    try:
        return Op(op)
    except ValueError:
        known = ", ".join(o.value for o in Op)
        raise ValueError(f"unknown operator {op!r} (known: {known})") from None


def _checked_attribute_value(attribute: str, op: Op, value: object) -> object:
    """``value`` as the rule stores it for ``attribute op value``; ValueError if unusable."""
    expected = ATTRIBUTES.get(attribute)
    if expected is None:
        raise ValueError(f"unknown attribute {attribute!r}")
    if op in _STRING_LIST_OPS:
        if expected is not str:
            raise ValueError(f"{op} needs a text attribute")
        return text_list(value, what=str(op))
    if op in _NUMBER_OPS:
        if expected is not int:
            raise ValueError(f"{op} needs a numeric attribute")
        bounds = tuple(value) if op is Op.BETWEEN and isinstance(value, Iterable) else (value,)
        if (
            len(bounds) != (2 if op is Op.BETWEEN else 1)
            or not all(_is_number(b) and math.isfinite(b) for b in bounds)
            or (op is Op.BETWEEN and bounds[0] > bounds[1])
        ):
            raise ValueError(f"bad value {value!r} for {op}")
        return bounds if op is Op.BETWEEN else value
    if op in _BOOL_OPS:
        if expected is not bool:
            raise ValueError(f"{op} needs a yes/no attribute")
        return None
    # EQ
    if not _is_a(value, expected) or (isinstance(value, str) and not match_key(value)):
        raise ValueError(f"eq needs a non-empty {expected.__name__} value")
    return value


def _attribute_matches(actual: object, op: Op, value: object) -> bool:
    """Whether a known-or-None attribute value satisfies ``op value``."""
    if actual is None:
        return False
    if op is Op.IS_TRUE:
        return actual is True
    if op is Op.IS_FALSE:
        return actual is False
    if op is Op.EQ:
        if isinstance(actual, str) and isinstance(value, str):
            return match_key(actual) == match_key(value)
        return type(actual) is type(value) and actual == value
    if op in _NUMBER_OPS:
        if not _is_number(actual):
            return False
        if op is Op.GTE:
            return actual >= value  # type: ignore[operator]
        if op is Op.LTE:
            return actual <= value  # type: ignore[operator]
        low, high = value  # type: ignore[misc]
        return low <= actual <= high
    if not isinstance(actual, str):
        return False
    text = match_key(actual)
    if not text:
        # Blank after normalisation (only spaces): as unknown, so not NOT_IN either.
        return False
    needles = [match_key(v) for v in value]  # type: ignore[attr-defined]
    if op is Op.IN:
        return text in needles
    if op is Op.NOT_IN:
        return text not in needles
    if op is Op.CONTAINS_ANY:
        return any(n in text for n in needles)
    return any(_ends_with_label(text, n) for n in needles)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeCondition:
    """One more ``attribute op value`` that an attribute rule ANDs with its own.

    The same attributes, operators, values and missing-value rule as
    ``AttributeRule`` (a missing attribute fails every operator).
    """

    attribute: str
    op: Op
    value: object = None

    def __post_init__(self) -> None:
        if not isinstance(self.attribute, str):
            raise ValueError(f"unknown attribute {self.attribute!r}")
        op = _checked_op(self.op)
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "value", _checked_attribute_value(self.attribute, op, self.value))

    def matches(self, facts: LeadFacts) -> bool:
        return _attribute_matches(facts.value(self.attribute), self.op, self.value)

    def as_json(self) -> dict[str, object]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"attribute": self.attribute, "op": str(self.op), "value": value}


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeRule:
    """Points once if a contact or company attribute satisfies ``op``/``value``.

    A missing attribute (absent, None, "" or only spaces) never matches,
    whatever the operator, including IS_FALSE: "not known to be unsubscribed"
    is not "known not to be", and NOT_IN: a blank industry is no evidence of
    being outside the list. List values are stored as a tuple (a set is sorted).

    ``all_of`` (at most ``MAX_ALL_OF``) are further conditions on attributes
    that must all hold as well (AND): "title contains 部長 and employees ≥ 300".
    """

    key: str
    label: Label
    attribute: str
    op: Op
    value: object = None
    points: float
    all_of: tuple[AttributeCondition, ...] = ()

    def __post_init__(self) -> None:
        _check_key(self.key)
        object.__setattr__(self, "label", _rule_label(self.key, self.label))
        try:
            if not isinstance(self.attribute, str):
                raise ValueError(f"unknown attribute {self.attribute!r}")
            op = _checked_op(self.op)
            value = _checked_attribute_value(self.attribute, op, self.value)
        except ValueError as exc:
            raise ValueError(f"rule {self.key!r}: {exc}") from None
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "value", value)
        if isinstance(self.all_of, AttributeCondition | str | Mapping):
            raise ValueError(f"rule {self.key!r}: all_of must be a list of conditions")
        object.__setattr__(self, "all_of", tuple(self.all_of))
        if any(not isinstance(c, AttributeCondition) for c in self.all_of):
            raise ValueError(f"rule {self.key!r}: all_of must be AttributeConditions")
        if len(self.all_of) > MAX_ALL_OF:
            raise ValueError(f"rule {self.key!r}: at most {MAX_ALL_OF} extra conditions")
        _check_points_and_cap(self.key, self.points, None)
        _as_floats(self, "points")

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every attribute the rule reads, its own first, each once."""
        return tuple(dict.fromkeys((self.attribute, *(c.attribute for c in self.all_of))))

    def matches(self, facts: LeadFacts) -> bool:
        return _attribute_matches(facts.value(self.attribute), self.op, self.value) and all(
            condition.matches(facts) for condition in self.all_of
        )


def _ends_with_label(text: str, suffix: str) -> bool:
    # On a label boundary, so "notgmail.com" does not end with "gmail.com" but
    # "taro@gmail.com" and "mail.gmail.com" do.
    if not text.endswith(suffix):
        return False
    if len(text) == len(suffix) or suffix[0] in ".@":
        return True
    return text[-len(suffix) - 1] in ".@"
