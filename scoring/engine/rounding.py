"""Points rounded for people, so that what a page shows still adds up.

Scores are exact in hundredths; people read tenths. Rounding each line on its own
can leave the lines a tenth away from the total shown under them, so the lines are
rounded by the largest-remainder method instead: each is its value floored to a
tenth, and the tenths still missing go to the largest remainders.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

STEP_CENTS = 10  # a tenth of a point


def _cents(value: float) -> int:
    return round(value * 100)


def rounded_total(total: float) -> float:
    """The total as shown: to a tenth, half away from zero (as Django's floatformat)."""
    tenths = Decimal(_cents(total)) / STEP_CENTS
    return float(tenths.quantize(Decimal(1), rounding=ROUND_HALF_UP)) / 10 + 0.0


def rounded_parts(values: Sequence[float]) -> list[float]:
    """Each value to a tenth, so that they add up to ``rounded_total`` of their sum.

    No result is a tenth or more away from its value (the tenths handed out never
    outnumber the values with a remainder); ties go to the earlier value.
    """
    cents = [_cents(v) for v in values]
    target = round(rounded_total(sum(cents) / 100) * 10)
    floors = [c // STEP_CENTS for c in cents]
    missing = target - sum(floors)
    order = sorted(range(len(cents)), key=lambda i: (-(cents[i] % STEP_CENTS), i))
    tenths = list(floors)
    for i in order[: max(0, missing)]:
        tenths[i] += 1
    return [t / 10 + 0.0 for t in tenths]
