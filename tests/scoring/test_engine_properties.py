"""Hypothesis properties of scoring.engine: what must hold for any definition and facts."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring.engine import (
    ActivityFact,
    AttributeCondition,
    AttributeRule,
    BantRequirement,
    BehaviourRule,
    Definition,
    IntentFact,
    IntentRule,
    LeadFacts,
    Op,
    PropertyCondition,
    Score,
    Thresholds,
    decayed_sum_at,
    running_total_add,
    score,
    score_account,
)

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BANT = BantRequirement(required=frozenset({"need"}), min_count=1)
FAST = settings(max_examples=100, deadline=None)

KINDS = ("page_view", "whitepaper_download", "demo_request", "email_click")
URLS = ("/", "/pricing", "/PRICING/plans", "/careers", "/blog/ＤＸ")
TITLES = ("DX guide", "ＤＸガイド", "Pricing")
CAMPAIGNS = ("spring", "Spring", "autumn")
TOPICS = ("CRM", "crm", "ＳＦＡ", "MA")
INTENT_TOPICS = ((), ("crm",), ("sfa", "MA"))
ATTRIBUTE_KEYS = (
    "contact.title",
    "contact.email_domain",
    "contact.is_unsubscribed",
    "company.employee_count",
    "company.industry",
)

# --- facts ------------------------------------------------------------------------
# Strategies draw from small prebuilt pools: fewer draws per example keep the
# whole file fast, and the pools still cover every branch of the matchers.

past = st.integers(0, 400 * 86_400).map(lambda s: AT - timedelta(seconds=s))
around = st.integers(-5 * 86_400, 400 * 86_400).map(lambda s: AT - timedelta(seconds=s))
# Other properties, for property conditions: UTM fields, a numeric one given as a
# number, as full-width text, as text that is no number, as a yes/no, or not at all.
EXTRA_PROPERTIES = (
    {},
    {"utm_source": "Google", "utm_medium": "ＣＰＣ", "minutes": 45},
    {"utm_source": "newsletter", "utm_medium": "email", "minutes": "３０"},
    {"utm_medium": "Email", "minutes": "n/a", "utm_campaign": "spring-2026"},
    {"utm_campaign": "Spring-2025", "minutes": 29.5, "utm_content": "banner_A"},
    {"utm_content": "Banner_B", "minutes": True, "utm_term": "crm 比較"},
)
PROPERTIES = [
    {k: v for k, v in (("url", url), ("title", title), ("campaign", campaign)) if v is not None}
    | extra
    for (url, title, campaign), extra in product(
        product((None, *URLS), (None, *TITLES), (None, *CAMPAIGNS)), EXTRA_PROPERTIES
    )
]


def activities(times=around):
    return st.builds(ActivityFact, st.sampled_from(KINDS), times, st.sampled_from(PROPERTIES))


def intents(times=around):
    return st.builds(IntentFact, st.sampled_from(TOPICS), st.integers(0, 100), times)


ATTRIBUTE_VALUES = [
    {k: v for k, v in zip(ATTRIBUTE_KEYS, values, strict=True) if v is not ...}
    for values in product(
        ("営業部長", "Director", "manager", "学生", "", None, ...),
        ("gmail.com", "acme.co.jp", "x@GMAIL.com", ...),
        (True, False, None, ...),
        (0, 299, 300, 1000, 5000, None, ...),
        ("E", "G", "I", "", ...),
    )
]


def lead_facts(times=around):
    return st.builds(
        LeadFacts,
        st.sampled_from(ATTRIBUTE_VALUES),
        st.lists(activities(times), max_size=10),
        st.lists(intents(times), max_size=5),
    )


# --- rules and definitions --------------------------------------------------------

TIMINGS = list(product((None, 0.5, 1.0, 7.0, 14.0, 30.0, 90.5), (None, 1, 30, 60, 365)))
MATCHERS = list(
    product(
        (("page_view",), ("page_view", "email_click"), ("whitepaper_download",), KINDS),
        ("", "/pricing", "/careers"),
        ("", "dx"),
        ("", "SPRING"),
    )
)

# Every operator, on present, missing, numeric and non-numeric properties; each
# both as given and negated.
CONDITIONS = [
    PropertyCondition(property=name, op=op, value=value, negate=negate)
    for name, op, value in (
        ("utm_source", "equals", "GOOGLE"),
        ("utm_medium", "equals", "cpc"),
        ("utm_campaign", "contains", "spring"),
        ("utm_term", "contains", "比較"),
        ("utm_source", "in", ("google", "Newsletter")),
        ("utm_medium", "in", ("email",)),
        ("url", "regex", "^/pricing"),
        ("utm_campaign", "regex", "-20[0-9]{2}$"),
        ("utm_content", "regex", "banner_(a|c)"),
        ("title", "regex", "d.?x"),
        ("minutes", "gte", 30),
        ("minutes", "gt", 29.5),
        ("minutes", "lt", 30),
        ("minutes", "lte", 45.0),
        ("url", "gte", 0),
        ("no_such_property", "equals", "x"),
    )
    for negate in (False, True)
]
ANY_CONDITIONS = st.lists(st.sampled_from(CONDITIONS), max_size=2)
TRIGGERS = st.sampled_from((False, False, False, True))

ATTRIBUTE_TESTS = [
    ("contact.title", Op.CONTAINS_ANY, ("部長", "director")),
    ("contact.title", Op.CONTAINS_ANY, ("学生",)),
    ("contact.email_domain", Op.ENDS_WITH_ANY, ("gmail.com",)),
    ("contact.is_unsubscribed", Op.IS_TRUE, None),
    ("contact.is_unsubscribed", Op.IS_FALSE, None),
    *(("company.employee_count", op, n) for op in (Op.GTE, Op.LTE) for n in (0, 300, 1000)),
    ("company.employee_count", Op.BETWEEN, (300, 1000)),
    ("company.industry", Op.IN, frozenset("EG")),
    ("company.industry", Op.EQ, "I"),
    ("company.industry", Op.NOT_IN, ("E", "G")),
    ("contact.title", Op.NOT_IN, ("学生", "MANAGER")),
]

# Strategies are built once, here: building them inside a composite per example
# costs more than the scoring itself.
SIGNS = st.sampled_from((1, -1))
MAGNITUDES = st.integers(1, 5_000).map(lambda c: c / 100)
OPTIONAL_CAPS = st.none() | MAGNITUDES
ANY_TIMING = st.sampled_from(TIMINGS)
ANY_MATCHER = st.sampled_from(MATCHERS)
ANY_TOPICS = st.sampled_from(INTENT_TOPICS)
MIN_STRENGTHS = st.sampled_from((0, 30, 60, 100))
ANY_ATTRIBUTE_TEST = st.sampled_from(ATTRIBUTE_TESTS)
# A fit rule's extra ANDed conditions: mostly none, as marketers write them.
ANY_ALL_OF = st.lists(
    ANY_ATTRIBUTE_TEST.map(lambda t: AttributeCondition(attribute=t[0], op=t[1], value=t[2])),
    max_size=2,
)


def _signed(draw, sign):
    sign = draw(SIGNS) if sign is None else sign
    cap = draw(OPTIONAL_CAPS)
    return sign * draw(MAGNITUDES), None if cap is None else sign * cap


@st.composite
def behaviour_rules(draw, sign=None, timings=ANY_TIMING):
    points, cap = _signed(draw, sign)
    kinds, url, content, campaign = draw(ANY_MATCHER)
    half_life, window = draw(timings)
    return BehaviourRule(
        key="b",
        label="behaviour",
        kinds=frozenset(kinds),
        url_contains=url,
        content_contains=content,
        campaign=campaign,
        points=points,
        cap=cap,
        half_life_days=half_life,
        window_days=window,
        conditions=tuple(draw(ANY_CONDITIONS)),
        trigger=points > 0 and draw(TRIGGERS),
    )


@st.composite
def intent_rules(draw, sign=None, timings=ANY_TIMING):
    points, cap = _signed(draw, sign)
    half_life, window = draw(timings)
    return IntentRule(
        key="i",
        label="intent",
        topics=frozenset(draw(ANY_TOPICS)),
        min_strength=draw(MIN_STRENGTHS),
        points=points,
        cap=cap,
        half_life_days=half_life,
        window_days=window,
    )


@st.composite
def attribute_rules(draw, sign=None):
    attribute, op, value = draw(ANY_ATTRIBUTE_TEST)
    points, _ = _signed(draw, sign)
    return AttributeRule(
        key="a",
        label="attribute",
        attribute=attribute,
        op=op,
        value=value,
        points=points,
        all_of=tuple(draw(ANY_ALL_OF)),
    )


def _thresholds(a: int, b: int, fit_floor: int | None) -> Thresholds:
    return Thresholds(warm=min(a, b), hot=max(a, b), fit_floor=fit_floor)


THRESHOLDS = st.builds(
    _thresholds, st.integers(-50, 150), st.integers(-50, 150), st.none() | st.integers(-20, 40)
)


def keyed(prefix):
    return lambda rules: tuple(replace(r, key=f"{prefix}{i}") for i, r in enumerate(rules))


def definitions(behaviour=None, attributes=None, intents=None):
    return st.builds(
        Definition,
        behaviour=st.lists(behaviour_rules() if behaviour is None else behaviour, max_size=4).map(
            keyed("b")
        ),
        attributes=st.lists(
            attribute_rules() if attributes is None else attributes, max_size=4
        ).map(keyed("a")),
        intents=st.lists(intent_rules() if intents is None else intents, max_size=2).map(
            keyed("i")
        ),
        thresholds=THRESHOLDS,
        bant=st.just(BANT),
    )


def points_of(result: Score, key: str) -> float:
    return next((c.points for c in result.breakdown if c.rule_key == key), 0.0)


def cents(value: float) -> int:
    return round(value * 100)


# --- properties -------------------------------------------------------------------


@FAST
@given(definitions(), lead_facts())
def test_caps_hold_for_every_rule(definition, facts):
    rules = {r.key: r for r in definition.rules}
    for c in score(definition, facts, AT).breakdown:
        rule = rules[c.rule_key]
        cap = getattr(rule, "cap", None)
        if rule.points > 0:
            assert c.points >= 0
            assert cap is None or c.points <= cap
        else:
            assert c.points <= 0
            assert cap is None or c.points >= cap


@FAST
@given(definitions(), lead_facts())
def test_the_breakdown_sums_to_the_total_exactly(definition, facts):
    result = score(definition, facts, AT)
    assert sum(cents(c.points) for c in result.breakdown) == cents(result.total)
    assert cents(result.fit) + cents(result.engagement) == cents(result.total)
    assert sum(cents(c.points) for c in result.breakdown if c.category == "fit") == cents(
        result.fit
    )
    for value in (
        result.total,
        result.fit,
        result.engagement,
        *(c.points for c in result.breakdown),
    ):
        assert value == cents(value) / 100  # the float nearest a hundredth, no drift
    assert all(c.hits > 0 for c in result.breakdown)
    order = [(-abs(c.points), c.rule_key) for c in result.breakdown]
    assert order == sorted(order)
    triggered = bool(result.triggered_by)
    assert (
        result.band
        == definition.thresholds.standing(result.total, result.fit, triggered=triggered).band
    )


@FAST
@given(definitions(), lead_facts(past), st.integers(0, 200 * 86_400))
def test_decay_never_raises_a_positive_rule(definition, facts, later_seconds):
    later = AT + timedelta(seconds=later_seconds)
    now, then = score(definition, facts, AT), score(definition, facts, later)
    for rule in (*definition.behaviour, *definition.intents):
        if rule.points > 0:
            assert points_of(then, rule.key) <= points_of(now, rule.key)


@FAST
@given(
    definitions(
        behaviour=behaviour_rules(sign=1, timings=st.sampled_from([t for t in TIMINGS if t[0]])),
        attributes=attribute_rules(sign=1),
    ).map(lambda d: replace(d, intents=())),
    lead_facts(past),
    st.integers(0, 200 * 86_400),
)
def test_positive_decaying_behaviour_never_raises_the_total(definition, facts, later_seconds):
    later = AT + timedelta(seconds=later_seconds)
    assert score(definition, facts, later).total <= score(definition, facts, AT).total


BANDS_ORDER = {"cold": 0, "warm": 1, "hot": 2}


@FAST
@given(
    definitions(),
    lead_facts(),
    st.one_of(
        behaviour_rules(sign=-1).map(lambda r: ("behaviour", r)),
        attribute_rules(sign=-1).map(lambda r: ("attributes", r)),
        intent_rules(sign=-1).map(lambda r: ("intents", r)),
    ),
)
def test_a_negative_rule_never_raises_the_score_or_the_band(definition, facts, extra):
    field, rule = extra
    stricter = replace(definition, **{field: (*getattr(definition, field), replace(rule, key="x"))})
    before, after = score(definition, facts, AT), score(stricter, facts, AT)
    assert after.total <= before.total
    assert after.fit <= before.fit
    # It may hold a trigger, never fire one.
    assert BANDS_ORDER[after.band] <= BANDS_ORDER[before.band]


@FAST
@given(definitions(), lead_facts(), activities())
def test_an_activity_matching_only_positive_rules_never_lowers_the_score(
    definition, facts, activity
):
    assume(not any(r.points < 0 and r.matches(activity) for r in definition.behaviour))
    more = replace(facts, activities=(*facts.activities, activity))
    assert score(definition, more, AT).total >= score(definition, facts, AT).total


BANDS = {"cold": 0, "warm": 1, "hot": 2}
scores = st.integers(-20_000, 20_000).map(lambda c: c / 100)


@FAST
@given(THRESHOLDS, st.integers(0, 100), scores, scores)
def test_raising_hot_never_turns_a_lead_hot(t, raise_by, total, fit):
    higher = Thresholds(warm=t.warm, hot=t.hot + raise_by, fit_floor=t.fit_floor)
    if t.band(total, fit) != "hot":
        assert higher.band(total, fit) != "hot"


@FAST
@given(THRESHOLDS, scores, scores, scores)
def test_a_higher_total_or_fit_never_gives_a_lower_band(t, total, more, fit):
    low, high = sorted((total, more))
    assert BANDS[t.band(low, fit)] <= BANDS[t.band(high, fit)]
    assert BANDS[t.band(total, low)] <= BANDS[t.band(total, high)]


@FAST
@given(
    st.one_of(
        behaviour_rules(timings=st.tuples(st.floats(0.25, 120), st.none())),
        intent_rules(timings=st.tuples(st.floats(0.25, 120), st.none())),
    ),
    lead_facts(),
    # Within the safe range: no event more than 400 half-lives after the epoch.
    st.integers(-100 * 86_400, 100 * 86_400),
)
def test_a_running_total_evaluates_like_score(rule, facts, epoch_seconds):
    epoch = AT - timedelta(seconds=epoch_seconds)
    is_intent = isinstance(rule, IntentRule)
    definition = Definition(
        behaviour=() if is_intent else (rule,),
        attributes=(),
        intents=(rule,) if is_intent else (),
        thresholds=Thresholds(warm=0, hot=0),
        bant=BANT,
    )
    events = (
        [(i.observed_at, rule.matches(i)) for i in facts.intents]
        if is_intent
        else [(a.occurred_at, rule.matches(a)) for a in facts.activities]
    )
    stored = 0.0
    for occurred_at, matches in events:
        if matches and occurred_at <= AT:  # the running total never holds future events
            stored = running_total_add(
                stored,
                points=rule.points,
                occurred_at=occurred_at,
                epoch=epoch,
                half_life_days=rule.half_life_days,
            )
    incremental = decayed_sum_at(stored, epoch, AT, rule.half_life_days)
    result = score(definition, facts, AT)
    direct = next((c for c in result.breakdown if c.rule_key == rule.key), None)
    if direct is None:
        assert incremental == 0
        return
    assert math.isclose(incremental, direct.points_decayed, rel_tol=1e-6, abs_tol=1e-9)
    capped = (
        incremental
        if rule.cap is None
        else (min if rule.points > 0 else max)(incremental, rule.cap)
    )
    assert abs(capped - direct.points) <= 0.005 + 1e-9


@FAST
@given(
    st.lists(st.tuples(MAGNITUDES, past), max_size=10),
    st.floats(0.25, 120),
    st.integers(0, 100 * 86_400),
)
def test_rebasing_a_running_total_keeps_its_value(events, half_life, forward_seconds):
    old = AT - timedelta(days=100)
    new = old + timedelta(seconds=forward_seconds)
    stored = 0.0
    for points, occurred_at in events:
        if occurred_at >= old:  # keep each term within the safe range for the old epoch
            stored = running_total_add(
                stored, points=points, occurred_at=occurred_at, epoch=old, half_life_days=half_life
            )
    rebased = decayed_sum_at(stored, old, new, half_life)
    assert math.isclose(
        decayed_sum_at(rebased, new, AT, half_life),
        decayed_sum_at(stored, old, AT, half_life),
        rel_tol=1e-9,
        abs_tol=1e-12,
    )


@FAST
@given(definitions(), lead_facts())
def test_an_account_scores_as_a_lead_without_contact_attributes(definition, facts):
    account = score_account(definition, facts, AT)
    company_only = {k: v for k, v in facts.attributes.items() if k.startswith("company.")}
    assert account == score(definition, replace(facts, attributes=company_only), AT)
    attribute_of = {r.key: r.attribute for r in definition.attributes}
    assert not any(
        attribute_of.get(c.rule_key, "").startswith("contact.") for c in account.breakdown
    )


@FAST
@given(definitions(), lead_facts())
def test_totals_from_sums_agree_with_the_full_score(definition, facts):
    from scoring.engine import totals_from_sums

    full = score(definition, facts, AT)
    sums = {c.rule_key: (c.hits, c.points_decayed) for c in full.breakdown if c.category != "fit"}
    matched = [c.rule_key for c in full.breakdown if c.category == "fit"]
    assert totals_from_sums(definition, matched_attributes=matched, sums=sums) == (
        full.total,
        full.fit,
        full.engagement,
        full.band,
    )


# --- Where a score stands, and points rounded for people --------------------------

hundredths = st.integers(-50_000, 50_000).map(lambda c: c / 100)
thresholds_st = st.tuples(
    st.integers(0, 10_000), st.integers(0, 10_000), st.one_of(st.none(), st.integers(-500, 5_000))
).map(lambda t: Thresholds(warm=min(t[:2]) / 100, hot=max(t[:2]) / 100, fit_floor=t[2]))


@FAST
@given(thresholds_st, hundredths, hundredths)
def test_a_standing_agrees_with_the_band_and_names_what_is_missing(thresholds, total, fit):
    standing = thresholds.standing(total, fit)
    assert standing.band == thresholds.band(total, fit)
    if standing.to_warm is not None:
        assert standing.band == "cold"
        assert thresholds.band(round(total + standing.to_warm, 2), fit) != "cold"
    if standing.to_hot is not None:
        assert total < thresholds.hot and standing.to_hot > 0
        assert round(total + standing.to_hot, 2) == thresholds.hot
    if standing.band == "hot":
        assert standing.to_hot is None and standing.fit_short is None
        assert standing.above_hot >= 0
    # Held back by the fit floor: only fit can make it hot, and the missing fit does.
    if standing.held_by_fit_floor:
        assert standing.band != "hot" and total >= thresholds.hot
        assert thresholds.band(total, round(fit + standing.fit_short, 2)) == "hot"
    assert len(standing.reasons) >= 1


@FAST
@given(st.lists(hundredths, max_size=30))
def test_rounded_parts_add_up_to_the_rounded_total_and_stay_near(values):
    from scoring.engine import rounded_parts, rounded_total

    shown = rounded_parts(values)
    assert len(shown) == len(values)
    assert round(sum(shown) * 10) == round(rounded_total(sum(values)) * 10)
    for value, part in zip(values, shown, strict=True):
        assert abs(part - value) < 0.1 + 1e-9
        assert round(part * 10) == part * 10  # a whole tenth


@FAST
@given(definitions(), lead_facts())
def test_every_explained_score_lists_its_negative_rules_among_its_reasons(definition, lead):
    result = score(definition, lead, AT)
    standing = definition.thresholds.standing(
        result.total, result.fit, triggered=bool(result.triggered_by)
    )
    assert standing.band == result.band
    negatives = {c.rule_key for c in result.breakdown if c.points < 0}
    assert negatives <= {rule.key for rule in definition.rules if rule.points < 0}


@FAST
@given(definitions(), lead_facts())
def test_a_matching_trigger_makes_a_lead_hot_unless_a_negative_rule_took_points(definition, facts):
    result = score(definition, facts, AT)
    matched = {c.rule_key for c in result.breakdown if c.is_trigger}
    assert matched == {
        r.key for r in definition.behaviour if r.trigger and points_of_hits(result, r.key)
    }
    negative = any(c.points < 0 for c in result.breakdown)
    assert set(result.triggered_by) == (set() if negative else matched)
    if result.triggered_by:
        assert result.band == "hot"
    else:
        assert result.band == definition.thresholds.band(result.total, result.fit)
    assert result.trigger_held == (bool(matched) and negative)


def points_of_hits(result: Score, key: str) -> int:
    return next((c.hits for c in result.breakdown if c.rule_key == key), 0)
