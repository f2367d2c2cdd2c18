"""Which rules predicted acceptance: an L2-regularised logistic regression on the hits.

Each judged MQL is one row: for every rule, how many times it earned its points at
MQL time (0 when it was not in the breakdown); the outcome is whether sales accepted
it. The regression's coefficients are in log-odds per hit; multiplied by one scale
they become points, since a score is ``Σ points × hits`` and the log-odds is
``intercept + Σ coefficient × hits``: points proportional to the coefficients rank
leads as the model does. The scale keeps the definition's size (the points a typical
MQL earns stay about what they were), so thresholds stay readable.

Intervals are Wald's, from the penalised fit's curvature (``XᵀWX + I/C``): cheap,
deterministic, and honest about the shrinkage the penalty adds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from feedback.review.stats import Z95, Interval, JudgedMql, wilson

# A rule hit by fewer MQLs than this keeps its points: too few to learn from.
MIN_HITS = 5
# Below this in log-odds per hit, with an interval around zero, a rule's hits do not matter.
NEGLIGIBLE = 0.1


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule of the reviewed definition: its key, label, category and points."""

    key: str
    label: str
    category: str
    points: float


class Flag:
    PREDICTS_REJECTION = "predicts_rejection"
    NEVER_MATTERS = "never_matters"
    TOO_RARE = "too_rare"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class RuleEffect:
    """What the verdicts say of one rule, and the points proposed for it."""

    key: str
    label: str
    category: str
    points: float
    proposed: float
    hit_mqls: int
    acceptance_hit: float | None
    acceptance_hit_interval: Interval
    lift: float | None  # acceptance when hit over acceptance when not
    coefficient: float | None  # log-odds per hit
    interval: Interval | None  # of the coefficient
    flags: tuple[str, ...]

    @property
    def odds_ratio(self) -> float | None:
        return None if self.coefficient is None else math.exp(self.coefficient)

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "category": self.category,
            "points": self.points,
            "proposed": self.proposed,
            "hit_mqls": self.hit_mqls,
            "acceptance_hit": self.acceptance_hit,
            "acceptance_hit_low": self.acceptance_hit_interval.low,
            "acceptance_hit_high": self.acceptance_hit_interval.high,
            "lift": self.lift,
            "coefficient": self.coefficient,
            "odds_ratio": self.odds_ratio,
            "odds_low": None if self.interval is None else math.exp(self.interval.low),
            "odds_high": None if self.interval is None else math.exp(self.interval.high),
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class RuleFit:
    effects: tuple[RuleEffect, ...]
    scale: float  # points per unit of log-odds
    intercept: float

    def proposed_points(self) -> dict[str, float]:
        return {e.key: e.proposed for e in self.effects}


def hits_matrix(mqls: Sequence[JudgedMql], keys: Sequence[str]) -> np.ndarray:
    return np.array([[float(m.hits.get(k, 0.0)) for k in keys] for m in mqls], dtype=float)


def _wald(x: np.ndarray, prob: np.ndarray, c: float) -> np.ndarray:
    """Standard errors of the coefficients (intercept first) of the penalised fit."""
    design = np.hstack([np.ones((x.shape[0], 1)), x])
    weights = prob * (1.0 - prob)
    information = design.T @ (design * weights[:, None])
    penalty = np.eye(design.shape[1]) / c
    penalty[0, 0] = 0.0  # the intercept is not penalised
    covariance = np.linalg.pinv(information + penalty)
    return np.sqrt(np.clip(np.diag(covariance), 0.0, None))


def _round_points(value: float) -> float:
    # Whole points, as people write definitions; never -0.0.
    return float(round(value)) + 0.0


def rules_fit(mqls: Sequence[JudgedMql], rules: Sequence[RuleInfo], *, c: float = 1.0) -> RuleFit:
    """The regression of acceptance on the rule hits, scaled back to points.

    Rules hit by fewer than ``MIN_HITS`` MQLs (or alike for nearly all, which says nothing)
    keep their points and are flagged too rare. A rule whose whole interval lies below
    zero predicts rejection: its proposed points are below its current ones (negative
    when the rule had positive points). A rule whose coefficient is negligible with an
    interval around zero is flagged: its hits never matter. Any other rule whose interval
    contains zero keeps its points (flagged uncertain): the evidence does not move it.
    """
    y = np.array([1 if m.accepted else 0 for m in mqls], dtype=int)
    counts = {r.key: sum(1 for m in mqls if m.hits.get(r.key, 0) > 0) for r in rules}

    def varies(key: str) -> bool:
        # A rule every MQL hit still teaches something if the number of hits differs.
        values = {float(m.hits.get(key, 0.0)) for m in mqls}
        return (
            len(values) > 1
            and min(sum(1 for m in mqls if m.hits.get(key, 0.0) == v) for v in values)
            < len(mqls) - MIN_HITS + 1
        )

    learnable = [r for r in rules if counts[r.key] >= MIN_HITS and varies(r.key)]
    coefficient: dict[str, float] = {}
    interval: dict[str, Interval] = {}
    intercept = 0.0
    if learnable and 0 < y.sum() < len(y):
        x = hits_matrix(mqls, [r.key for r in learnable])
        model = LogisticRegression(C=c, max_iter=1000)
        model.fit(x, y)
        prob = model.predict_proba(x)[:, 1]
        errors = _wald(x, prob, c)
        intercept = float(model.intercept_[0])
        for j, rule in enumerate(learnable):
            b, se = float(model.coef_[0, j]), float(errors[j + 1])
            coefficient[rule.key] = b
            interval[rule.key] = Interval(b - Z95 * se, b + Z95 * se)
    # The scale keeps the points a typical MQL earns from the learnt rules as they were.
    mean_hits = {k: float(np.mean([m.hits.get(k, 0.0) for m in mqls])) for k in coefficient}
    size_now = sum(abs(r.points) * mean_hits[r.key] for r in learnable if r.key in coefficient)
    size_fit = sum(abs(coefficient[k]) * mean_hits[k] for k in coefficient)
    scale = size_now / size_fit if size_fit > 1e-9 and size_now > 0 else 0.0

    effects = []
    for rule in rules:
        hit = [m for m in mqls if m.hits.get(rule.key, 0) > 0]
        missed = [m for m in mqls if m.hits.get(rule.key, 0) <= 0]
        acc_hit = sum(m.accepted for m in hit)
        rate_hit = acc_hit / len(hit) if hit else None
        rate_missed = sum(m.accepted for m in missed) / len(missed) if missed else None
        lift = rate_hit / rate_missed if rate_hit is not None and rate_missed else None
        flags: list[str] = []
        b = coefficient.get(rule.key)
        if b is None or scale == 0.0:
            proposed = rule.points
            if b is None:
                flags.append(Flag.TOO_RARE)
        else:
            ci = interval[rule.key]
            proposed = _round_points(scale * b)
            if ci.high < 0:
                flags.append(Flag.PREDICTS_REJECTION)
                # Losing points is the point: never keep or raise them.
                proposed = min(proposed, _round_points(rule.points) - max(1.0, abs(rule.points)))
            elif ci.low <= 0 <= ci.high and abs(b) < NEGLIGIBLE:
                flags.append(Flag.NEVER_MATTERS)
            elif ci.low <= 0 <= ci.high:
                # The verdicts neither confirm nor refute the rule: it keeps its points
                # rather than move on noise (a few dozen verdicts would reshuffle everything).
                flags.append(Flag.UNCERTAIN)
                proposed = rule.points
        effects.append(
            RuleEffect(
                key=rule.key,
                label=rule.label,
                category=rule.category,
                points=rule.points,
                proposed=proposed,
                hit_mqls=len(hit),
                acceptance_hit=rate_hit,
                acceptance_hit_interval=wilson(acc_hit, len(hit)),
                lift=lift,
                coefficient=b,
                interval=interval.get(rule.key),
                flags=tuple(flags),
            )
        )
    return RuleFit(effects=tuple(effects), scale=scale, intercept=intercept)


def rescored(
    mqls: Sequence[JudgedMql], old: dict[str, float], new: dict[str, float]
) -> list[float]:
    """Each MQL's score had the rules carried ``new`` points instead of ``old``."""
    return [
        m.score + sum((new[k] - old[k]) * float(m.hits.get(k, 0.0)) for k in new if k in old)
        for m in mqls
    ]
