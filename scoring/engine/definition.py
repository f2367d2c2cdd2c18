"""Thresholds, the BANT requirement, and a definition: rules with both."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scoring.engine.base import BANT_ITEMS, Band, BantItem, _is_number
from scoring.engine.rules import AttributeRule, BehaviourRule, IntentRule

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

    def standing(self, total: float, fit: float, *, triggered: bool = False) -> Standing:
        """Where a score stands against the thresholds: its band and what it lacks for the next.

        ``triggered``: an MQL trigger made the lead hot (``Score.triggered_by``),
        so it is hot and lacks nothing, whatever its points.
        """
        if triggered:
            return Standing(
                band="hot", total=total, fit=fit, thresholds=self, to_warm=None, to_hot=None,
                fit_short=None, triggered=True,
            )  # fmt: skip
        band = self.band(total, fit)
        short_of_floor = self.fit_floor is not None and fit < self.fit_floor
        return Standing(
            band=band,
            total=total,
            fit=fit,
            thresholds=self,
            to_warm=_gap(self.warm - total) if band == "cold" else None,
            to_hot=_gap(self.hot - total) if total < self.hot else None,
            fit_short=_gap(self.fit_floor - fit) if short_of_floor else None,
        )


def _gap(value: float) -> float:
    # Scores and thresholds are in hundredths: so is what lies between them.
    return round(value, 2) + 0.0


@dataclass(frozen=True, slots=True)
class Standing:
    """A score against its thresholds: why it is in its band, and how far the next one is.

    ``to_warm`` (cold leads) and ``to_hot`` (below the hot threshold) are the points
    still needed; ``fit_short`` is how much fit a lead lacks under the fit floor. A lead
    whose total reaches ``hot`` but whose fit is under the floor is ``held_by_fit_floor``:
    no amount of activity makes it hot, only fit (who the lead is) does.
    """

    band: Band
    total: float
    fit: float
    thresholds: Thresholds
    to_warm: float | None
    to_hot: float | None
    fit_short: float | None
    triggered: bool = False

    @property
    def held_by_fit_floor(self) -> bool:
        return self.to_hot is None and self.fit_short is not None

    @property
    def above_hot(self) -> float | None:
        """How far a hot lead is over the hot threshold (what it may lose and stay hot)."""
        return _gap(self.total - self.thresholds.hot) if self.band == "hot" else None

    @property
    def reasons(self) -> tuple[str, ...]:
        """Stable codes for why the band is what it is (for an API or a test)."""
        codes = []
        if self.triggered:
            codes.append("mql_trigger")
        elif self.band == "hot":
            codes.append("reached_hot")
        elif self.held_by_fit_floor:
            codes.append("fit_below_floor")
        elif self.band == "warm":
            codes.append("reached_warm")
        else:
            codes.append("below_warm")
        if self.band != "hot" and self.fit_short is not None and not self.held_by_fit_floor:
            codes.append("fit_below_floor")
        return tuple(codes)


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
