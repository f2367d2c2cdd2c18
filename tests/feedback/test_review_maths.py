"""The review's maths on synthetic data whose right answer is known."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.review import propose
from feedback.review.rules import Flag, RuleInfo, rules_fit
from feedback.review.stats import JudgedMql, by_threshold, wilson
from feedback.review.thresholds import hot_threshold

RULES = [
    RuleInfo("demo", "Demo request", "behaviour", 40),
    RuleInfo("careers", "Careers page", "behaviour", 20),  # predicts rejection
    RuleInfo("newsletter", "Newsletter", "behaviour", 10),  # noise
    RuleInfo("senior", "Senior title", "fit", 15),
]


def _world(n: int, seed: int = 7) -> list[JudgedMql]:
    """MQLs whose acceptance depends on demo (+) and careers (−); newsletter is noise."""
    rng = random.Random(seed)
    mqls = []
    for _ in range(n):
        hits = {k: float(rng.random() < 0.4) for k in ("demo", "careers", "newsletter", "senior")}
        p = 0.35 + 0.4 * hits["demo"] - 0.3 * hits["careers"] + 0.1 * hits["senior"]
        score = 40 + sum(r.points * hits[r.key] for r in RULES)
        accepted = rng.random() < p
        mqls.append(
            JudgedMql(
                score=score, accepted=accepted, converted=accepted and rng.random() < 0.3, hits=hits
            )
        )
    return mqls


def _propose(mqls, **kwargs):
    args = dict(current_warm=30, current_hot=60, target=0.6, min_decided=100, weeks=4, capacity=100)
    return propose(mqls, RULES, **(args | kwargs))


def test_a_rule_that_predicts_rejection_loses_points():
    fit = rules_fit(_world(2000), RULES)
    careers = next(e for e in fit.effects if e.key == "careers")
    assert Flag.PREDICTS_REJECTION in careers.flags
    assert careers.proposed < careers.points
    assert careers.proposed < 0
    demo = next(e for e in fit.effects if e.key == "demo")
    assert demo.proposed > 0 and demo.lift > 1


def test_a_rule_whose_hits_never_matter_is_flagged():
    fit = rules_fit(_world(4000, seed=3), RULES)
    newsletter = next(e for e in fit.effects if e.key == "newsletter")
    assert Flag.NEVER_MATTERS in newsletter.flags
    assert abs(newsletter.proposed) < 5


def test_too_few_outcomes_propose_nothing():
    proposal = _propose(_world(99))
    assert proposal.outcome == "too_thin"
    assert not proposal.has_changes
    assert proposal.points == {} and proposal.thresholds == {}


def test_enough_outcomes_propose_the_changes():
    proposal = _propose(_world(2000))
    assert proposal.outcome == "proposed"
    assert proposal.points["careers"] < 0


def test_a_threshold_that_is_too_low_rises():
    # Acceptance is 10 % below 90 points and 80 % from 90: of all MQLs from 60 up, 45 %
    # are accepted; from 78 up, 60 % (the target). A hot line at 60 is too low.
    rng = random.Random(1)
    mqls = [
        JudgedMql(score=s, accepted=rng.random() < (0.8 if s >= 90 else 0.1))
        for s in (rng.uniform(60, 120) for _ in range(3000))
    ]
    curve = by_threshold(mqls, [float(t) for t in range(60, 121, 5)])
    hot = hot_threshold(curve, target=0.6, weeks=4, capacity=100)
    assert hot is not None and hot.meets_target
    assert 75 <= hot.point.threshold <= 85
    proposal = propose(
        mqls,
        [],
        current_warm=30,
        current_hot=60,
        target=0.6,
        min_decided=100,
        weeks=4,
        capacity=100,
    )
    assert proposal.thresholds["hot"] > 60
    assert proposal.thresholds["warm"] > 30


def test_a_threshold_that_meets_the_target_stays():
    rng = random.Random(2)
    mqls = [JudgedMql(score=rng.uniform(60, 120), accepted=rng.random() < 0.8) for _ in range(2000)]
    proposal = propose(
        mqls,
        [],
        current_warm=30,
        current_hot=60,
        target=0.6,
        min_decided=100,
        weeks=4,
        capacity=100,
    )
    assert proposal.outcome == "no_change"


def test_the_volume_is_set_beside_capacity():
    rng = random.Random(4)
    mqls = [JudgedMql(score=rng.uniform(60, 120), accepted=True) for _ in range(800)]
    curve = by_threshold(mqls, [60.0, 80.0])
    hot = hot_threshold(curve, target=0.6, weeks=4, capacity=100)
    assert hot.weekly_volume == 200 and hot.over_capacity


def test_wilson_interval_known_value():
    # 8 of 10: the textbook Wilson 95 % interval is (0.490, 0.943).
    interval = wilson(8, 10)
    assert interval.low == pytest.approx(0.4902, abs=1e-3)
    assert interval.high == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 0).low == 0 and wilson(0, 0).high == 1


@settings(max_examples=30, deadline=None)
@given(st.floats(0.05, 0.95), st.integers(0, 10_000))
def test_wilson_intervals_cover_the_true_rate(p, seed):
    # 200 samples of 100: a 95 % interval covers the true rate in about 95 of 100.
    rng = random.Random(seed)
    covered = 0
    for _ in range(200):
        k = sum(rng.random() < p for _ in range(100))
        covered += wilson(k, 100).covers(p)
    assert covered >= 176  # 88 %: well below 95 %, far above a broken interval


def test_rule_intervals_cover_the_true_coefficient():
    # A weakly penalised fit on much data: the Wald interval covers the true log-odds.
    import math

    rng = random.Random(5)
    mqls = []
    for _ in range(20_000):
        hit = rng.random() < 0.5
        logit = -0.5 + 1.0 * hit
        mqls.append(
            JudgedMql(
                score=0, accepted=rng.random() < 1 / (1 + math.exp(-logit)), hits={"a": float(hit)}
            )
        )
    fit = rules_fit(mqls, [RuleInfo("a", "a", "fit", 10)], c=100.0)
    assert fit.effects[0].interval.covers(1.0)


def test_a_rule_the_verdicts_do_not_move_keeps_its_points():
    # 300 MQLs; "strong" matters, "weak" has a small true effect its interval cannot settle.
    rng = random.Random(8)
    mqls = []
    for _ in range(300):
        strong, weak = rng.random() < 0.5, rng.random() < 0.5
        p = 0.3 + 0.4 * strong + 0.07 * weak
        hits = {"strong": float(strong), "weak": float(weak)}
        mqls.append(JudgedMql(score=60, accepted=rng.random() < p, hits=hits))
    rules = [RuleInfo("strong", "s", "behaviour", 20), RuleInfo("weak", "w", "behaviour", 12)]
    effect = rules_fit(mqls, rules).effects[1]
    assert effect.interval.low < 0 < effect.interval.high
    assert abs(effect.coefficient) >= 0.1
    assert Flag.UNCERTAIN in effect.flags
    assert effect.proposed == 12
