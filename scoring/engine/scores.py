"""A lead's score at a moment, with the rules that made it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scoring.engine.base import _SECONDS_PER_DAY, Band, Category, Label, _require_aware
from scoring.engine.decay import decay_factor
from scoring.engine.definition import Definition
from scoring.engine.facts import LeadFacts
from scoring.engine.rules import AttributeRule, BehaviourRule, IntentRule

# --- Scores ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleContribution:
    """What one rule added: ``points`` = cap(``points_decayed``), rounded to hundredths.

    ``points_raw`` is ``hits × rule points`` (before decay and cap) and
    ``points_decayed`` the sum after decay, before the cap; neither is rounded.
    ``is_trigger``: the rule is an MQL trigger and matched (whether it made the
    lead hot is ``Score.triggered_by``).
    """

    rule_key: str
    label: Label
    category: Category
    hits: int
    points_raw: float
    points_decayed: float
    points: float
    is_trigger: bool = False

    def as_dict(self, languages: Sequence[str] = ("ja", "en")) -> dict[str, object]:
        """JSON primitives; ``label`` in the first of ``languages``, ``labels`` in each."""
        return {
            "rule": self.rule_key,
            "label": self.label.text(languages[0]),
            "labels": {language: self.label.text(language) for language in languages},
            "category": self.category,
            "hits": self.hits,
            "points": self.points,
            "points_raw": self.points_raw,
            "points_decayed": self.points_decayed,
            "is_trigger": self.is_trigger,
        }


@dataclass(frozen=True, slots=True)
class Score:
    """A lead's score with the rules that made it, largest contribution first.

    ``fit`` is the sum of the attribute (fit) contributions, ``engagement`` of
    the behaviour and intent ones, and ``total = fit + engagement``. Each rule's
    points are rounded to hundredths before summing, so the breakdown adds up
    exactly in hundredths: Σ round(100·c.points) == round(100·total).

    ``triggered_by`` holds the keys of the MQL trigger rules that made the lead
    hot (see ``score``); empty when none matched or a negative rule held them.
    """

    total: float
    fit: float
    engagement: float
    band: Band
    breakdown: tuple[RuleContribution, ...]
    triggered_by: tuple[str, ...] = ()

    @property
    def trigger_held(self) -> bool:
        """A trigger rule matched but a negative rule kept it from making the lead hot."""
        return not self.triggered_by and any(c.is_trigger for c in self.breakdown)

    @property
    def is_hot(self) -> bool:
        return self.band == "hot"

    def as_dict(self, languages: Sequence[str] = ("ja", "en")) -> dict[str, object]:
        """JSON-ready primitives (no text beyond the rule labels; the UI translates)."""
        return {
            "total": self.total,
            "fit": self.fit,
            "engagement": self.engagement,
            "band": self.band,
            "breakdown": [c.as_dict(languages) for c in self.breakdown],
            "triggered_by": list(self.triggered_by),
            "trigger_held": self.trigger_held,
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


def _capped_cents(rule: BehaviourRule | IntentRule | AttributeRule, decayed: float) -> int:
    """The rule's points in hundredths: the decayed sum, capped, rounded half to even."""
    cap = None if isinstance(rule, AttributeRule) else rule.cap
    capped = decayed
    if cap is not None:
        capped = min(decayed, cap) if rule.points > 0 else max(decayed, cap)
    return _cents(capped)


def _contribution(
    rule: BehaviourRule | IntentRule | AttributeRule, category: Category, hits: int, decayed: float
) -> tuple[RuleContribution, int] | None:
    """The rule's capped contribution and its points in hundredths; None without a hit."""
    if not hits:
        return None
    cents = _capped_cents(rule, decayed)
    contribution = RuleContribution(
        rule_key=rule.key,
        label=rule.label,
        category=category,
        hits=hits,
        points_raw=hits * rule.points,
        points_decayed=decayed,
        points=_from_cents(cents),
        is_trigger=isinstance(rule, BehaviourRule) and rule.trigger,
    )
    return contribution, cents


def _triggered(triggers: Iterable[str], any_negative: bool) -> tuple[str, ...]:
    # A negative rule that took points off (below zero in hundredths) holds
    # every trigger: an unsubscribed student who requests a demo is no MQL.
    return () if any_negative else tuple(sorted(triggers))


def _band(definition: Definition, total: float, fit: float, triggered_by: tuple[str, ...]) -> Band:
    return "hot" if triggered_by else definition.thresholds.band(total, fit)


def score(definition: Definition, facts: LeadFacts, at: datetime) -> Score:
    """The lead's score under ``definition`` at the moment ``at`` (aware).

    Activities and intent after ``at`` count for nothing; one exactly
    ``window_days`` old still counts. Each rule's points are rounded to
    hundredths (half to even) and fit, engagement and total are sums of those
    rounded points, so the breakdown adds up to the total exactly in
    hundredths. The breakdown lists the rules that hit (attribute rules that
    fired), by |points| descending, then key.

    MQL triggers: when a behaviour rule with ``trigger`` has a match within its
    window (``hits`` > 0, however decayed), the lead is hot whatever its total,
    the thresholds and the fit floor, unless any negative rule (of any kind)
    contributes below zero, in hundredths after its cap: then the band is the
    thresholds' as usual (``Score.trigger_held``). The points are unchanged
    either way; only the band moves.
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
    triggered_by = _triggered(
        (c.rule_key for c, _ in parts if c.is_trigger), any(cents < 0 for _, cents in parts)
    )
    return Score(
        total=total,
        fit=fit,
        engagement=_from_cents(engagement_cents),
        band=_band(definition, total, fit, triggered_by),
        breakdown=tuple(c for c, _ in parts),
        triggered_by=triggered_by,
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


def totals_from_sums(
    definition: Definition,
    *,
    matched_attributes: Iterable[str],
    sums: Mapping[str, tuple[int, float]],
) -> tuple[float, float, float, Band]:
    """``score_from_sums`` without the breakdown: (total, fit, engagement, band).

    The same caps, rounding and band, for the bulk rescoring, which stores
    only these (the breakdown is always computed live); about a tenth of the
    cost, since nothing per rule is built or sorted.
    """
    matched = set(matched_attributes)
    fit_parts = [_cents(rule.points) for rule in definition.attributes if rule.key in matched]
    any_negative = any(cents < 0 for cents in fit_parts)
    fit_cents = sum(fit_parts)
    engagement_cents = 0
    triggers = []
    for rules in (definition.behaviour, definition.intents):
        for rule in rules:
            found = sums.get(rule.key)
            if found is not None and found[0]:
                cents = _capped_cents(rule, found[1])
                engagement_cents += cents
                any_negative = any_negative or cents < 0
                if isinstance(rule, BehaviourRule) and rule.trigger:
                    triggers.append(rule.key)
    fit = _from_cents(fit_cents)
    total = _from_cents(fit_cents + engagement_cents)
    band = _band(definition, total, fit, _triggered(triggers, any_negative))
    return total, fit, _from_cents(engagement_cents), band
