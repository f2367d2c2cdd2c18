"""Acceptance and conversion with Wilson score intervals, by band and by threshold."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# 95 % two-sided.
Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


def wilson(successes: int, n: int, *, z: float = Z95) -> Interval:
    """The Wilson score interval of a proportion; (0, 1) when there is nothing to count.

    Unlike the normal (Wald) interval it stays inside [0, 1] and keeps its coverage for
    small samples and proportions near 0 or 1, which is what a month of verdicts is.
    """
    if n <= 0:
        return Interval(0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} must lie in 0..{n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class JudgedMql:
    """One MQL sales judged: its score then, its rule hits then, and what followed.

    ``hits`` maps a rule key to how many times its points were earned (the stored
    contribution over the rule's points: 1 for a fit rule, the decayed, capped count
    for a behaviour rule), so a score under other points is ``Σ points × hits``.
    """

    score: float
    accepted: bool
    converted: bool = False
    band: str = "hot"
    hits: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rate:
    """How many of ``n`` were accepted and converted, with their intervals."""

    n: int
    accepted: int
    converted: int

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.n if self.n else None

    @property
    def conversion(self) -> float | None:
        return self.converted / self.n if self.n else None

    @property
    def acceptance_interval(self) -> Interval:
        return wilson(self.accepted, self.n)

    @property
    def conversion_interval(self) -> Interval:
        return wilson(self.converted, self.n)

    def as_json(self) -> dict:
        a, c = self.acceptance_interval, self.conversion_interval
        return {
            "n": self.n,
            "accepted": self.accepted,
            "converted": self.converted,
            "acceptance": self.acceptance,
            "acceptance_low": a.low,
            "acceptance_high": a.high,
            "conversion": self.conversion,
            "conversion_low": c.low,
            "conversion_high": c.high,
        }


def rate_of(mqls: Iterable[JudgedMql]) -> Rate:
    n = accepted = converted = 0
    for mql in mqls:
        n += 1
        accepted += mql.accepted
        converted += mql.converted
    return Rate(n, accepted, converted)


BANDS = ("cold", "warm", "hot")


def by_band(mqls: Sequence[JudgedMql]) -> dict[str, Rate]:
    """Acceptance and conversion by the band each MQL had when it was handed over."""
    return {band: rate_of(m for m in mqls if m.band == band) for band in BANDS}


@dataclass(frozen=True, slots=True)
class ThresholdPoint:
    """What a hot threshold at ``threshold`` would have kept: the MQLs scoring at least it."""

    threshold: float
    rate: Rate


def candidate_thresholds(scores: Iterable[float], *, steps: int = 40) -> list[float]:
    """Whole-point thresholds from the lowest score to the highest, at most ``steps`` + 1."""
    values = sorted(scores)
    if not values:
        return []
    low, high = math.floor(values[0]), math.ceil(values[-1])
    stride = max(1, math.ceil((high - low) / steps))
    return [float(t) for t in range(low, high + 1, stride)]


def by_threshold(
    mqls: Sequence[JudgedMql],
    thresholds: Sequence[float],
    *,
    scores: Sequence[float] | None = None,
) -> list[ThresholdPoint]:
    """For each threshold, acceptance and conversion of the MQLs scoring at least it.

    ``scores`` (one per MQL) replaces the MQLs' own scores, to read the curve of
    proposed points. Sorted once, so the curve costs O(n log n + thresholds).
    """
    values = list(scores) if scores is not None else [m.score for m in mqls]
    if len(values) != len(mqls):
        raise ValueError("one score per MQL")
    order = sorted(range(len(mqls)), key=lambda i: values[i], reverse=True)
    points: list[ThresholdPoint] = []
    n = accepted = converted = 0
    i = 0
    for threshold in sorted(thresholds, reverse=True):
        while i < len(order) and values[order[i]] >= threshold:
            mql = mqls[order[i]]
            n, accepted, converted = n + 1, accepted + mql.accepted, converted + mql.converted
            i += 1
        points.append(ThresholdPoint(threshold, Rate(n, accepted, converted)))
    points.reverse()
    return points
