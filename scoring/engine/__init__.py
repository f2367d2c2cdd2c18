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
  lead hot (MQL triggers aside: those make a lead hot whatever its points).

MQL triggers (``BehaviourRule.trigger``, the hand-raiser fast lane): a match of
a trigger rule within its window makes the lead hot at once, whatever its
points, thresholds or fit floor, unless a negative rule of any kind
contributes below zero (in hundredths, after its cap), so an unsubscribed
student who requests a demo is not an MQL. ``Score.triggered_by`` names the
trigger rules that made the lead hot; ``RuleContribution.is_trigger`` marks
the trigger rules that matched, and ``Score.trigger_held`` says a negative rule
held them back.

Property conditions (``BehaviourRule.conditions``, scoring.engine.conditions)
narrow a behaviour rule by any activity property: equals, contains, in,
regex, gt/gte/lt/lte, each optionally negated, all of them ANDed.

Fit rules (``AttributeRule``) compare one attribute (eq, in, not_in,
contains_any, ends_with_any, gte/lte/between, is_true/is_false) and may AND up
to ``MAX_ALL_OF`` more ``AttributeCondition``s (``all_of``). A missing or
blank attribute fails every operator, not_in included.

Matching of free text (titles, URLs, topics, domains, campaigns) uses
``match_key``: NFKC, case-folded, whitespace collapsed. A set-based
implementation should store such keys next to the raw values rather than
normalise in SQL.
"""

from common.text import match_key
from scoring.engine.base import (
    ACTIVITY_KINDS,
    ATTRIBUTES,
    BANT_ITEMS,
    AttrValue,
    Band,
    BantItem,
    Category,
    Label,
)
from scoring.engine.conditions import (
    REGEX_MAX_LENGTH,
    PropertyCondition,
    PropertyOp,
    regex_problem,
)
from scoring.engine.decay import (
    MAX_GROWTH_HALF_LIVES,
    decay_factor,
    decayed_sum_at,
    running_total_add,
)
from scoring.engine.definition import (
    BantRequirement,
    Definition,
    Standing,
    Thresholds,
    bant_qualifies,
)
from scoring.engine.facts import ActivityFact, IntentFact, LeadFacts
from scoring.engine.rounding import rounded_parts, rounded_total
from scoring.engine.rules import (
    MAX_ALL_OF,
    AttributeCondition,
    AttributeRule,
    BehaviourRule,
    IntentRule,
    Op,
)
from scoring.engine.scores import (
    RuleContribution,
    Score,
    score,
    score_account,
    score_from_sums,
    totals_from_sums,
)
from scoring.engine.starter import starter_definition

__all__ = [
    "ACTIVITY_KINDS",
    "ATTRIBUTES",
    "BANT_ITEMS",
    "MAX_ALL_OF",
    "MAX_GROWTH_HALF_LIVES",
    "REGEX_MAX_LENGTH",
    "ActivityFact",
    "AttrValue",
    "AttributeCondition",
    "AttributeRule",
    "Band",
    "BantItem",
    "BantRequirement",
    "BehaviourRule",
    "Category",
    "Definition",
    "IntentFact",
    "IntentRule",
    "Label",
    "LeadFacts",
    "Op",
    "PropertyCondition",
    "PropertyOp",
    "RuleContribution",
    "Score",
    "Standing",
    "Thresholds",
    "bant_qualifies",
    "decay_factor",
    "decayed_sum_at",
    "match_key",
    "regex_problem",
    "rounded_parts",
    "rounded_total",
    "running_total_add",
    "score",
    "score_account",
    "score_from_sums",
    "starter_definition",
    "totals_from_sums",
]
