"""One review's proposal: the rules' points, then the thresholds, or nothing if too thin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from feedback.review.rules import RuleEffect, RuleFit, RuleInfo, rescored, rules_fit
from feedback.review.stats import (
    JudgedMql,
    Rate,
    ThresholdPoint,
    by_band,
    by_threshold,
    candidate_thresholds,
    rate_of,
)
from feedback.review.thresholds import HotProposal, hot_threshold, warm_threshold

__all__ = ["Proposal", "RuleInfo", "propose"]


class Outcome:
    TOO_THIN = "too_thin"
    NO_CHANGE = "no_change"
    PROPOSED = "proposed"


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the review found and, when the evidence allows, what it proposes.

    ``points`` and ``thresholds`` hold only what changes; both empty means the
    definition holds (or the evidence was too thin: ``outcome`` says which).
    """

    outcome: str
    decided: int
    min_decided: int
    overall: Rate
    bands: dict[str, Rate]
    curve: list[ThresholdPoint]  # under the current points
    curve_proposed: list[ThresholdPoint]  # under the proposed points
    hot: HotProposal | None = None
    warm: float | None = None
    current_warm: float = 0.0
    current_hot: float = 0.0
    fit: RuleFit | None = None
    points: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        return bool(self.points or self.thresholds)

    @property
    def rules(self) -> tuple[RuleEffect, ...]:
        return self.fit.effects if self.fit else ()

    def as_json(self) -> dict:
        def curve(points: list[ThresholdPoint]) -> list[dict]:
            return [{"threshold": p.threshold, **p.rate.as_json()} for p in points]

        hot = self.hot
        return {
            "outcome": self.outcome,
            "decided": self.decided,
            "min_decided": self.min_decided,
            "overall": self.overall.as_json(),
            "bands": {band: rate.as_json() for band, rate in self.bands.items()},
            "curve": curve(self.curve),
            "curve_proposed": curve(self.curve_proposed),
            "current": {"warm": self.current_warm, "hot": self.current_hot},
            "hot": None
            if hot is None
            else {
                "threshold": hot.point.threshold,
                "meets_target": hot.meets_target,
                "weekly_volume": hot.weekly_volume,
                "capacity": hot.capacity,
                "over_capacity": hot.over_capacity,
                **hot.point.rate.as_json(),
            },
            "warm": self.warm,
            "scale": self.fit.scale if self.fit else None,
            "rules": [effect.as_json() for effect in self.rules],
            "changes": {"points": self.points, "thresholds": self.thresholds},
        }


def _changed(old: float, new: float) -> bool:
    # A change smaller than a point, or than a tenth of the rule, is noise, not news.
    return abs(new - old) >= max(1.0, 0.1 * abs(old))


def propose(
    mqls: Sequence[JudgedMql],
    rules: Sequence[RuleInfo],
    *,
    current_warm: float,
    current_hot: float,
    target: float,
    min_decided: int,
    weeks: float,
    capacity: float,
    c: float = 1.0,
) -> Proposal:
    """The review of ``mqls`` (judged MQLs of one period) against the current definition.

    Fewer than ``min_decided`` MQLs: the counts are reported and nothing is proposed.
    Otherwise the rules' points are refitted, the MQLs are rescored with them, and the
    hot threshold is the lowest whose acceptance meets ``target``; warm keeps its
    share of hot. Only changes worth a point (and a tenth of the rule) are proposed.
    """
    overall = rate_of(mqls)
    bands = by_band(mqls)
    candidates = candidate_thresholds(m.score for m in mqls)
    curve = by_threshold(mqls, candidates)
    base = {
        "outcome": Outcome.TOO_THIN,
        "decided": overall.n,
        "min_decided": min_decided,
        "overall": overall,
        "bands": bands,
        "curve": curve,
        "curve_proposed": [],
        "current_warm": current_warm,
        "current_hot": current_hot,
    }
    if overall.n < min_decided or overall.n == 0:
        return Proposal(**base)
    fit = rules_fit(mqls, rules, c=c)
    old = {r.key: r.points for r in rules}
    new = fit.proposed_points()
    scores = rescored(mqls, old, new)
    curve_proposed = by_threshold(mqls, candidate_thresholds(scores), scores=scores)
    hot = hot_threshold(curve_proposed, target=target, weeks=weeks, capacity=capacity)
    points = {k: v for k, v in new.items() if _changed(old[k], v)}
    thresholds: dict[str, float] = {}
    warm = None
    if hot is not None:
        warm = warm_threshold(
            hot=hot.point.threshold, current_warm=current_warm, current_hot=current_hot
        )
        if _changed(current_hot, hot.point.threshold):
            thresholds["hot"] = hot.point.threshold
        if _changed(current_warm, warm):
            thresholds["warm"] = warm
        if thresholds and "warm" not in thresholds and current_warm > hot.point.threshold:
            thresholds["warm"] = warm
    outcome = Outcome.PROPOSED if points or thresholds else Outcome.NO_CHANGE
    return Proposal(
        **(base | {"outcome": outcome, "curve_proposed": curve_proposed}),
        hot=hot,
        warm=warm,
        fit=fit,
        points=points,
        thresholds=thresholds,
    )
