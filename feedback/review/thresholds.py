"""The hot threshold the agreed acceptance target implies, and a warm one beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feedback.review.stats import ThresholdPoint

# A threshold is judged on at least this many MQLs above it, or not at all.
MIN_AT_THRESHOLD = 20


@dataclass(frozen=True, slots=True)
class HotProposal:
    """The hot threshold chosen, what it keeps, and whether it meets the target."""

    point: ThresholdPoint
    meets_target: bool
    weekly_volume: float  # MQLs a week the period would have had at this threshold
    capacity: float  # new leads inside sales can take a week (reps × calls)

    @property
    def over_capacity(self) -> bool:
        return self.capacity > 0 and self.weekly_volume > self.capacity


def hot_threshold(
    curve: Sequence[ThresholdPoint],
    *,
    target: float,
    weeks: float,
    capacity: float,
    min_n: int = MIN_AT_THRESHOLD,
) -> HotProposal | None:
    """The lowest threshold whose acceptance meets ``target``, judged on ≥ ``min_n`` MQLs.

    Acceptance is read on the point estimate: the interval is shown beside it, and
    asking its lower bound to meet the target would push the threshold up for every
    small team. When no threshold meets the target, the one with the best acceptance
    (the lowest of equals) is returned with ``meets_target`` False; None when no
    threshold keeps ``min_n`` MQLs.
    """
    judged = [p for p in curve if p.rate.n >= min_n]
    if not judged:
        return None
    meeting = [p for p in judged if (p.rate.acceptance or 0.0) >= target]
    if meeting:
        point, meets = min(meeting, key=lambda p: p.threshold), True
    else:
        point = max(judged, key=lambda p: ((p.rate.acceptance or 0.0), -p.threshold))
        meets = False
    weekly = point.rate.n / weeks if weeks > 0 else float(point.rate.n)
    return HotProposal(point=point, meets_target=meets, weekly_volume=weekly, capacity=capacity)


def warm_threshold(*, hot: float, current_warm: float, current_hot: float) -> float:
    """Warm keeps its share of hot: the nurture band moves with the MQL line."""
    if current_hot <= 0:
        return min(current_warm, hot)
    return float(round(hot * current_warm / current_hot))
