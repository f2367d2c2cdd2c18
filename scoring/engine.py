"""The scoring maths: a lead's score under one hot-lead definition at one moment.

Pure Python: no ORM, no settings, no I/O. Plain frozen dataclasses go in (a
``Definition`` and a lead's ``LeadFacts``) and a ``Score`` with its per-rule
breakdown comes out, so the set-based SQL rescoring and the explainer can be
tested against ``score()``.

What must stay true (tests/scoring/test_engine_properties.py checks each):

* Caps hold: no rule contributes more than its cap (positive rules) or less than
  its cap (negative rules, where the cap is the most negative allowed).
* Decay never raises a score: for facts that are all in the past, moving ``at``
  later never increases a positive rule's points.
* Negative rules never raise a score, and an activity that matches only
  positive rules never lowers it.
* Explanations sum to the total, exactly in hundredths (see ``score``).
* Bands are monotone in the total (fit fixed), and raising ``hot`` never turns a
  lead hot.

Matching of free text (titles, URLs, topics, domains, campaigns) uses
``match_key``: NFKC, case-folded, whitespace collapsed. A set-based
implementation should store such keys next to the raw values rather than
normalise in SQL.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, get_args

AttrValue = str | int | bool | None
Category = Literal["fit", "behaviour", "intent"]
Band = Literal["cold", "warm", "hot"]
BantItem = Literal["budget", "authority", "need", "timeframe"]
BANT_ITEMS: frozenset[str] = frozenset(get_args(BantItem))

# Mirrors leads.models.Activity.Kind (a test keeps the two in step). A behaviour
# rule naming another kind is refused, because it would silently never match.
ACTIVITY_KINDS: frozenset[str] = frozenset(
    {
        "page_view",
        "whitepaper_download",
        "case_study_download",
        "webinar_registration",
        "webinar_attendance",
        "form_submission",
        "demo_request",
        "pricing_request",
        "trial_signup",
        "email_open",
        "email_click",
        "email_unsubscribe",
        "email_bounce",
        "event_visit",
        "video_view",
        "chat",
        "meeting",
    }
)

# The flat attribute keys a lead's facts may carry, with their Python type.
# Mirrors leads.models.Contact / Company; the adapter passes None (or "") when a
# value is unknown.
ATTRIBUTES: Mapping[str, type] = MappingProxyType({
    "contact.title": str,
    "contact.job_level": str,  # a Contact.JobLevel value
    "contact.department": str,
    "contact.email_domain": str,
    "contact.is_unsubscribed": bool,
    "contact.has_consent": bool,
    "company.industry": str,  # a JSIC division letter, leads.reference.Industry
    "company.employee_count": int,
    "company.prefecture": str,
    "company.region": str,
    "company.revenue_band": str,  # a Company.RevenueBand value
    "company.domain": str,
})  # fmt: skip

_SECONDS_PER_DAY = 86_400.0


@lru_cache(maxsize=8192)
def match_key(text: str) -> str:
    """The form in which text is compared: NFKC, case-folded, single spaces, trimmed.

    So ``"ＤＩＲＥＣＴＯＲ"``, ``"Director"`` and ``" director "`` all match ``"director"``.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware: {value!r}")


def _is_a(value: object, expected: type) -> bool:
    # bool is an int subclass; here True is not a number and 1 is not a yes/no.
    if expected is bool:
        return isinstance(value, bool)
    return isinstance(value, expected) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_hundredths(value: float) -> bool:
    return math.isfinite(value) and round(value, 2) == value


# --- Facts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityFact:
    """One thing a person (or an anonymous visitor of a company) did.

    ``properties`` carries the strings rules look at: ``url``, ``title`` (the
    content's title) and ``campaign``; other keys are ignored.
    """

    kind: str
    occurred_at: datetime
    properties: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware(self.occurred_at, f"activity {self.kind!r} occurred_at")


@dataclass(frozen=True, slots=True)
class IntentFact:
    """A third-party observation that the lead's company researches a topic."""

    topic: str
    strength: int  # 0–100, as leads.models.IntentSignal
    observed_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.observed_at, f"intent {self.topic!r} observed_at")
        if isinstance(self.strength, bool) or not isinstance(self.strength, int):
            raise TypeError(f"intent {self.topic!r}: strength must be an int")
        if not 0 <= self.strength <= 100:
            raise ValueError(f"intent {self.topic!r}: strength must be 0–100, not {self.strength}")


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """Everything the engine knows about one lead (a contact with its company).

    ``attributes`` uses the keys of ``ATTRIBUTES``; a key may be absent, None or
    "" (Django's blank), all of which mean "unknown". ``activities`` should hold
    the contact's own activity plus its company's contact-less activity, and
    ``intents`` the company's intent signals, so that an account's score
    carries over to its contacts. An account (a company with no contact yet)
    is scored with ``score_account``.
    """

    attributes: Mapping[str, AttrValue] = field(default_factory=dict)
    activities: Sequence[ActivityFact] = ()
    intents: Sequence[IntentFact] = ()

    def __post_init__(self) -> None:
        for key, value in self.attributes.items():
            expected = ATTRIBUTES.get(key)
            if expected is None:
                raise ValueError(f"unknown attribute {key!r}; known: {sorted(ATTRIBUTES)}")
            if value is None:
                continue
            if not _is_a(value, expected):
                raise TypeError(
                    f"attribute {key!r} must be {expected.__name__} or None, not {value!r}"
                )
        object.__setattr__(self, "activities", tuple(self.activities))
        object.__setattr__(self, "intents", tuple(self.intents))

    def value(self, attribute: str) -> AttrValue:
        """The attribute's value, with "" folded into None (unknown)."""
        value = self.attributes.get(attribute)
        return None if value == "" else value


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
    ``match_key``). Each match within the window contributes
    ``points * decay_factor(age_days, half_life_days)``; the sum is then capped.
    """

    key: str
    label: str
    kinds: frozenset[str]
    url_contains: str = ""
    content_contains: str = ""
    campaign: str = ""
    points: float
    cap: float | None = None
    half_life_days: float | None = None
    window_days: int | None = None

    def __post_init__(self) -> None:
        _check_key(self.key)
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
    label: str
    topics: frozenset[str] = frozenset()
    min_strength: int = 0
    points: float
    cap: float | None = None
    half_life_days: float | None = None
    window_days: int | None = None

    def __post_init__(self) -> None:
        _check_key(self.key)
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
    label: str
    attribute: str
    op: Op
    value: object = None
    points: float

    def __post_init__(self) -> None:
        _check_key(self.key)
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


# --- Thresholds, BANT, the definition ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Cold below ``warm``; warm from ``warm``; hot (an MQL) from ``hot``.

    With ``fit_floor`` set, a lead is hot only if its fit is at least the floor;
    otherwise it stays warm however engaged it is.
    """

    warm: float
    hot: float
    fit_floor: float | None = None

    def __post_init__(self) -> None:
        numbers = [self.warm, self.hot] + ([] if self.fit_floor is None else [self.fit_floor])
        if not all(_is_number(n) and math.isfinite(n) for n in numbers):
            raise ValueError(f"thresholds must be finite numbers: {self!r}")
        if self.warm > self.hot:
            raise ValueError(f"warm threshold {self.warm} must not exceed hot {self.hot}")

    def band(self, total: float, fit: float) -> Band:
        if total >= self.hot and (self.fit_floor is None or fit >= self.fit_floor):
            return "hot"
        return "warm" if total >= self.warm else "cold"


@dataclass(frozen=True, slots=True)
class BantRequirement:
    """What a sales-qualified lead needs: every ``required`` item and ≥ ``min_count`` in all."""

    required: frozenset[BantItem]
    min_count: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.required, str):
            raise ValueError("BANT required must be a set of items, not a string")
        object.__setattr__(self, "required", frozenset(self.required))
        unknown = self.required - BANT_ITEMS
        if unknown:
            raise ValueError(f"unknown BANT items {sorted(unknown)}; known: {sorted(BANT_ITEMS)}")
        if (
            isinstance(self.min_count, bool)
            or not isinstance(self.min_count, int)
            or not 0 <= self.min_count <= len(BANT_ITEMS)
        ):
            raise ValueError(f"BANT min_count must be an int 0–4: {self.min_count!r}")


def bant_qualifies(requirement: BantRequirement, answers: Mapping[str, bool]) -> bool:
    """Whether BANT answers make an SQL: all required items true and ≥ min_count true.

    An item left out of ``answers`` counts as not confirmed. An unknown item is
    a ValueError (a typo would otherwise silently count as "no").
    """
    unknown = set(answers) - BANT_ITEMS
    if unknown:
        raise ValueError(f"unknown BANT items {sorted(unknown)}")
    confirmed = {item for item, yes in answers.items() if yes is True}
    return requirement.required <= confirmed and len(confirmed) >= requirement.min_count


@dataclass(frozen=True, slots=True)
class Definition:
    """One version of the hot-lead definition that marketing and sales agreed on.

    Rule keys are unique across all three rule lists, since a score's breakdown
    is keyed by them.
    """

    behaviour: tuple[BehaviourRule, ...]
    attributes: tuple[AttributeRule, ...]
    intents: tuple[IntentRule, ...]
    thresholds: Thresholds
    bant: BantRequirement

    def __post_init__(self) -> None:
        for name, kind in (
            ("behaviour", BehaviourRule),
            ("attributes", AttributeRule),
            ("intents", IntentRule),
        ):
            rules = tuple(getattr(self, name))
            for rule in rules:
                if not isinstance(rule, kind):
                    raise TypeError(f"{name} must hold {kind.__name__}s, not {rule!r}")
            object.__setattr__(self, name, rules)
        seen: set[str] = set()
        for rule in self.rules:
            if rule.key in seen:
                raise ValueError(f"rule key {rule.key!r} is used more than once")
            seen.add(rule.key)

    @property
    def rules(self) -> tuple[BehaviourRule | AttributeRule | IntentRule, ...]:
        return (*self.attributes, *self.behaviour, *self.intents)


# --- Decay and running totals ------------------------------------------------------

# A running total may grow by at most 2**MAX_GROWTH_HALF_LIVES per term; far from
# float's 2**1024, so a sum of many large terms still fits in a double.
MAX_GROWTH_HALF_LIVES = 512


def decay_factor(age_days: float, half_life_days: float | None) -> float:
    """0.5 ** (age_days / half_life_days); 1.0 without a half-life.

    It is 1 at age 0, ½ at one half-life and never above 1 for age ≥ 0.
    (``score`` never counts an activity from the future, whose age is < 0.)
    """
    if half_life_days is None:
        return 1.0
    return 0.5 ** (age_days / half_life_days)


def _growth(t: datetime, epoch: datetime, half_life_days: float) -> float:
    _require_aware(t, "time")
    _require_aware(epoch, "epoch")
    exponent = (t - epoch) / timedelta(days=half_life_days)
    if exponent > MAX_GROWTH_HALF_LIVES:
        raise ValueError(
            f"{t.isoformat()} is {exponent:.0f} half-lives after the epoch "
            f"{epoch.isoformat()} (max {MAX_GROWTH_HALF_LIVES}): rebase to a later epoch"
        )
    return 2.0**exponent


def running_total_add(
    stored: float, *, points: float, occurred_at: datetime, epoch: datetime, half_life_days: float
) -> float:
    """Add one event to a rule's running total kept relative to ``epoch``.

    Returns ``stored + points * 2 ** ((occurred_at − epoch) / h)``. See
    ``decayed_sum_at`` for why this works and for the safe range of times.
    """
    return stored + points * _growth(occurred_at, epoch, half_life_days)


def decayed_sum_at(
    stored: float, stored_epoch: datetime, at: datetime, half_life_days: float | None
) -> float:
    """The decayed sum at ``at`` of a running total kept relative to an epoch.

    Exponential decay factors out of the sum. With ``h`` the half-life and
    ages in days::

        Σ p_i · 2^(−(at − t_i)/h)  =  2^(−(at − epoch)/h) · Σ p_i · 2^((t_i − epoch)/h)

    The right-hand sum (``stored``, built with ``running_total_add``) does not
    depend on ``at``, so a table can keep one running total per lead and rule,
    add each new event's term once, and evaluate at any moment with one
    multiplication. Cap the result afterwards (the cap applies to the decayed
    sum, as in ``score``). Windows do not factor out: events that leave a window
    must be subtracted, or the rule recomputed.

    Safe range: a term grows by 2^((t − epoch)/h), and a double overflows at
    2^1024, so ``running_total_add`` refuses events more than
    ``MAX_GROWTH_HALF_LIVES`` (512) half-lives after the epoch (about 9.8 years
    for a 7-day half-life, 1.4 years for 1 day). Events before the epoch only
    shrink towards 0, which loses nothing that matters. Choose the epoch close
    to now and rebase before the limit: the total at a new epoch ``e2`` is
    ``decayed_sum_at(stored, e1, e2, h)``. PostgreSQL's double precision has
    the same range. Without a half-life, ``stored`` is the plain sum.
    """
    _require_aware(stored_epoch, "stored_epoch")
    _require_aware(at, "at")
    if half_life_days is None:
        return stored
    exponent = (at - stored_epoch) / timedelta(days=half_life_days)
    if exponent < -MAX_GROWTH_HALF_LIVES:
        raise ValueError(f"{at.isoformat()} is too long before the epoch: rebase the total")
    return stored * 2.0**-exponent


# --- Scores ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleContribution:
    """What one rule added: ``points`` = cap(``points_decayed``), rounded to hundredths.

    ``points_raw`` is ``hits × rule points`` (before decay and cap) and
    ``points_decayed`` the sum after decay, before the cap; neither is rounded.
    """

    rule_key: str
    label: str
    category: Category
    hits: int
    points_raw: float
    points_decayed: float
    points: float

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule_key,
            "label": self.label,
            "category": self.category,
            "hits": self.hits,
            "points": self.points,
            "points_raw": self.points_raw,
            "points_decayed": self.points_decayed,
        }


@dataclass(frozen=True, slots=True)
class Score:
    """A lead's score with the rules that made it, largest contribution first.

    ``fit`` is the sum of the attribute (fit) contributions, ``engagement`` of
    the behaviour and intent ones, and ``total = fit + engagement``. Each rule's
    points are rounded to hundredths before summing, so the breakdown adds up
    exactly in hundredths: Σ round(100·c.points) == round(100·total).
    """

    total: float
    fit: float
    engagement: float
    band: Band
    breakdown: tuple[RuleContribution, ...]

    @property
    def is_hot(self) -> bool:
        return self.band == "hot"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready primitives (no text beyond the rule labels; the UI translates)."""
        return {
            "total": self.total,
            "fit": self.fit,
            "engagement": self.engagement,
            "band": self.band,
            "breakdown": [c.as_dict() for c in self.breakdown],
        }


def _cents(value: float) -> int:
    return round(value * 100)


def _from_cents(cents: int) -> float:
    return cents / 100 + 0.0  # + 0.0 turns -0.0 into 0.0


def _decayed(
    rule: BehaviourRule | IntentRule, times: Iterable[datetime], at: datetime
) -> tuple[int, float]:
    """How many of the matching events count at ``at``, and their decayed sum."""
    hits, total = 0, 0.0
    for t in times:
        age_days = (at - t).total_seconds() / _SECONDS_PER_DAY
        if age_days < 0 or (rule.window_days is not None and age_days > rule.window_days):
            continue  # in the future, or outside the window (its boundary counts)
        hits += 1
        total += rule.points * decay_factor(age_days, rule.half_life_days)
    return hits, total


def _contribution(
    rule: BehaviourRule | IntentRule | AttributeRule, category: Category, hits: int, decayed: float
) -> tuple[RuleContribution, int] | None:
    """The rule's capped contribution and its points in hundredths; None without a hit."""
    if not hits:
        return None
    cap = None if isinstance(rule, AttributeRule) else rule.cap
    capped = decayed
    if cap is not None:
        capped = min(decayed, cap) if rule.points > 0 else max(decayed, cap)
    cents = _cents(capped)
    contribution = RuleContribution(
        rule_key=rule.key,
        label=rule.label,
        category=category,
        hits=hits,
        points_raw=hits * rule.points,
        points_decayed=decayed,
        points=_from_cents(cents),
    )
    return contribution, cents


def score(definition: Definition, facts: LeadFacts, at: datetime) -> Score:
    """The lead's score under ``definition`` at the moment ``at`` (aware).

    Activities and intent after ``at`` count for nothing; one exactly
    ``window_days`` old still counts. Each rule's points are rounded to
    hundredths (half to even) and fit, engagement and total are sums of those
    rounded points, so the breakdown adds up to the total exactly in
    hundredths. The breakdown lists the rules that hit (attribute rules that
    fired), by |points| descending, then key.
    """
    _require_aware(at, "at")
    sums: dict[str, tuple[int, float]] = {}
    for rule in definition.behaviour:
        times = (a.occurred_at for a in facts.activities if rule.matches(a))
        sums[rule.key] = _decayed(rule, times, at)
    for rule in definition.intents:
        times = (i.observed_at for i in facts.intents if rule.matches(i))
        sums[rule.key] = _decayed(rule, times, at)
    matched = {rule.key for rule in definition.attributes if rule.matches(facts)}
    return score_from_sums(definition, matched_attributes=matched, sums=sums)


def score_from_sums(
    definition: Definition,
    *,
    matched_attributes: Iterable[str],
    sums: Mapping[str, tuple[int, float]],
) -> Score:
    """A score from what was matched: the last step of ``score``, shared with SQL.

    ``matched_attributes`` are the keys of the attribute rules that fired;
    ``sums`` maps a behaviour or intent rule's key to (hits, decayed sum
    before the cap) of its events within the window. Set-based rescoring
    computes those in SQL and finishes here, so caps, rounding and bands are
    the engine's own.
    """
    matched = set(matched_attributes)
    found = [
        _contribution(rule, "fit", 1, rule.points)
        for rule in definition.attributes
        if rule.key in matched
    ]
    for rule in definition.behaviour:
        if rule.key in sums:
            found.append(_contribution(rule, "behaviour", *sums[rule.key]))
    for rule in definition.intents:
        if rule.key in sums:
            found.append(_contribution(rule, "intent", *sums[rule.key]))
    parts = sorted(
        (part for part in found if part is not None),
        key=lambda part: (-abs(part[1]), part[0].rule_key),
    )
    fit_cents = sum(cents for c, cents in parts if c.category == "fit")
    engagement_cents = sum(cents for c, cents in parts if c.category != "fit")
    fit, total = _from_cents(fit_cents), _from_cents(fit_cents + engagement_cents)
    return Score(
        total=total,
        fit=fit,
        engagement=_from_cents(engagement_cents),
        band=definition.thresholds.band(total, fit),
        breakdown=tuple(c for c, _ in parts),
    )


def score_account(definition: Definition, company_facts: LeadFacts, at: datetime) -> Score:
    """An account's score: ``score`` with every ``contact.*`` attribute unknown.

    So only company attributes, the company's (contact-less) activity and its
    intent count; contact rules (title, unsubscribed, free mail…) cannot fire.
    """
    company_only = {
        k: v for k, v in company_facts.attributes.items() if not k.startswith("contact.")
    }
    return score(
        definition,
        LeadFacts(company_only, company_facts.activities, company_facts.intents),
        at,
    )


# --- The starter definition --------------------------------------------------------

_FREE_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.co.jp", "ymail.ne.jp", "yahoo.com", "outlook.com",
    "outlook.jp", "hotmail.com", "hotmail.co.jp", "live.jp", "icloud.com", "me.com",
    "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp", "nifty.com",
    "biglobe.ne.jp",
)  # fmt: skip


def _visit(
    key: str,
    label: str,
    kinds: str,
    points: float,
    cap: float,
    half_life: float | None = None,
    window: int | None = None,
    url: str = "",
) -> BehaviourRule:
    return BehaviourRule(
        key=key,
        label=label,
        kinds=frozenset(kinds.split()),
        url_contains=url,
        points=points,
        cap=cap,
        half_life_days=half_life,
        window_days=window,
    )


def _title(key: str, label: str, words: str, points: float) -> AttributeRule:
    return AttributeRule(
        key=key,
        label=label,
        attribute="contact.title",
        op=Op.CONTAINS_ANY,
        value=tuple(words.split("|")),
        points=points,
    )


def starter_definition() -> Definition:
    """A definition following common B2B practice, so a new installation scores at once.

    Not scored on purpose: e-mail opens (privacy proxies open mail on their
    own), bounces, the unsubscribe event (the unsubscribed attribute already
    costs −100; both would count it twice) and meetings (sales-owned, after
    handoff). Competitor domains differ per company, so there is no competitor
    rule until someone adds one. Title rules add up: "営業部長 / Sales Manager"
    gets both.
    """
    v = _visit
    behaviour = (
        v("pricing_page", "料金ページ閲覧 / Pricing page view", "page_view", 5, 15, 14, url="/pricing"),
        v("page_view", "ページ閲覧 / Page view", "page_view", 1, 10, 7),
        v("careers_page", "採用ページ閲覧（求職者） / Careers page view (job seeker)", "page_view",
          -10, -30, window=180, url="/careers"),
        v("whitepaper", "ホワイトペーパーDL / Whitepaper download", "whitepaper_download", 10, 30, 30),
        v("case_study", "導入事例DL / Case study download", "case_study_download", 10, 20, 30),
        v("webinar_registration", "ウェビナー申込 / Webinar registration", "webinar_registration",
          5, 10, 30),
        v("webinar_attendance", "ウェビナー参加 / Webinar attendance", "webinar_attendance",
          15, 30, 30),
        v("video_view", "動画視聴 / Video view", "video_view", 3, 9, 14),
        v("event_visit", "展示会・イベント来場 / Event visit", "event_visit", 10, 20, 30),
        v("form_submission", "お問い合わせ・資料請求 / Form submission", "form_submission",
          15, 30, 30),
        v("demo_or_pricing_request", "デモ・見積依頼 / Demo or pricing request",
          "demo_request pricing_request", 40, 40, window=60),
        v("trial_signup", "無料トライアル申込 / Trial sign-up", "trial_signup", 30, 30, window=60),
        v("chat", "チャット問い合わせ / Chat", "chat", 10, 20, 14),
        v("email_click", "メールクリック / E-mail click", "email_click", 3, 9, 14),
    )  # fmt: skip
    a = AttributeRule
    attributes = (
        _title("title_senior", "役職：部長・役員クラス / Title: director or above",
               "部長|本部長|取締役|執行役員|社長|director|vp|vice president|head of|chief", 15),
        _title("title_manager", "役職：課長・マネージャー / Title: manager",
               "課長|マネージャー|マネジャー|manager", 8),
        _title("title_student", "学生 / Student", "学生|院生|student", -50),
        a(key="employees_300", label="従業員300名以上 / 300+ employees",
          attribute="company.employee_count", op=Op.GTE, value=300, points=10),
        a(key="employees_1000", label="従業員1000名以上 / 1,000+ employees",
          attribute="company.employee_count", op=Op.GTE, value=1000, points=5),
        a(key="target_industry", label="重点業種（製造・情報通信） / Target industry",
          attribute="company.industry", op=Op.IN, value=("E", "G"), points=10),
        a(key="unsubscribed", label="配信停止 / Unsubscribed",
          attribute="contact.is_unsubscribed", op=Op.IS_TRUE, points=-100),
        a(key="free_mail", label="フリーメール / Free-mail address",
          attribute="contact.email_domain", op=Op.ENDS_WITH_ANY, value=_FREE_MAIL_DOMAINS,
          points=-15),
    )  # fmt: skip
    intents = (
        IntentRule(
            key="intent_strong",
            label="インテント（強度60以上） / Strong intent",
            min_strength=60,
            points=10,
            cap=20,
            half_life_days=14,
        ),
    )
    return Definition(
        behaviour=behaviour,
        attributes=attributes,
        intents=intents,
        thresholds=Thresholds(warm=30, hot=60, fit_floor=10),
        bant=BantRequirement(required=frozenset({"need", "authority"}), min_count=3),
    )
