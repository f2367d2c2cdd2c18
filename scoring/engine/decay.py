"""Decay, and running totals that let exponential decay factor out of a sum."""

from __future__ import annotations

from datetime import datetime, timedelta

from scoring.engine.base import _require_aware

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
