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
    CONTAINS_ANY = "contains_any"  # value: strings; any is a substring (match_key)
    ENDS_WITH_ANY = "ends_with_any"  # value: domains; "mail.example.com" ends with "example.com"
    GTE = "gte"  # value: a number
    LTE = "lte"  # value: a number
    BETWEEN = "between"  # value: (low, high), both inclusive
    IS_TRUE = "is_true"  # boolean attribute is True; value unused
    IS_FALSE = "is_false"  # boolean attribute is False (not merely unknown); value unused


_STRING_LIST_OPS = frozenset({Op.IN, Op.CONTAINS_ANY, Op.ENDS_WITH_ANY})
_NUMBER_OPS = frozenset({Op.GTE, Op.LTE, Op.BETWEEN})
_BOOL_OPS = frozenset({Op.IS_TRUE, Op.IS_FALSE})


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeRule:
    """Points once if a contact or company attribute satisfies ``op``/``value``.

    A missing attribute (absent, None or "") never matches, whatever the
    operator, including IS_FALSE: "not known to be unsubscribed" is not
    "known not to be". List values are stored as a tuple (a set is sorted).
    """

    key: str
    label: Label
    attribute: str
    op: Op
    value: object = None
    points: float

    def __post_init__(self) -> None:
        _check_key(self.key)
        object.__setattr__(self, "label", _rule_label(self.key, self.label))
        expected = ATTRIBUTES.get(self.attribute)
        if expected is None:
            raise ValueError(f"rule {self.key!r}: unknown attribute {self.attribute!r}")
        try:
            op = Op(self.op)
        except ValueError:
            raise ValueError(f"rule {self.key!r}: unknown operator {self.op!r}") from None
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "value", self._checked_value(op, expected))
        _check_points_and_cap(self.key, self.points, None)
        _as_floats(self, "points")

    def _checked_value(self, op: Op, expected: type) -> object:
        key, value = self.key, self.value
        if op in _STRING_LIST_OPS:
            if expected is not str:
                raise ValueError(f"rule {key!r}: {op} needs a text attribute")
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise ValueError(f"rule {key!r}: {op} needs a list of strings")
            items = sorted(value) if isinstance(value, set | frozenset) else list(value)
            if not items or any(not isinstance(v, str) or not match_key(v) for v in items):
                raise ValueError(f"rule {key!r}: {op} needs a non-empty list of non-empty strings")
            return tuple(dict.fromkeys(items))
        if op in _NUMBER_OPS:
            if expected is not int:
                raise ValueError(f"rule {key!r}: {op} needs a numeric attribute")
            bounds = tuple(value) if op is Op.BETWEEN and isinstance(value, Iterable) else (value,)
            if (
                len(bounds) != (2 if op is Op.BETWEEN else 1)
                or not all(_is_number(b) and math.isfinite(b) for b in bounds)
                or (op is Op.BETWEEN and bounds[0] > bounds[1])
            ):
                raise ValueError(f"rule {key!r}: bad value {value!r} for {op}")
            return bounds if op is Op.BETWEEN else value
        if op in _BOOL_OPS:
            if expected is not bool:
                raise ValueError(f"rule {key!r}: {op} needs a yes/no attribute")
            return None
        # EQ
        if not _is_a(value, expected) or (isinstance(value, str) and not match_key(value)):
            raise ValueError(f"rule {key!r}: eq needs a non-empty {expected.__name__} value")
        return value

    def matches(self, facts: LeadFacts) -> bool:
        actual = facts.value(self.attribute)
        if actual is None:
            return False
        op, value = self.op, self.value
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
        needles = [match_key(v) for v in value]  # type: ignore[attr-defined]
        if op is Op.IN:
            return text in needles
        if op is Op.CONTAINS_ANY:
            return any(n in text for n in needles)
        return any(_ends_with_label(text, n) for n in needles)


def _ends_with_label(text: str, suffix: str) -> bool:
    # On a label boundary, so "notgmail.com" does not end with "gmail.com" but
    # "taro@gmail.com" and "mail.gmail.com" do.
    if not text.endswith(suffix):
        return False
    if len(text) == len(suffix) or suffix[0] in ".@":
        return True
    return text[-len(suffix) - 1] in ".@"
