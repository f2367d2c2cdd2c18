"""Hand-computed examples for scoring.engine (no database)."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from scoring import engine
from scoring.engine import (
    ACTIVITY_KINDS,
    ATTRIBUTES,
    ActivityFact,
    AttributeRule,
    BantRequirement,
    BehaviourRule,
    Definition,
    IntentFact,
    IntentRule,
    LeadFacts,
    Op,
    Thresholds,
    bant_qualifies,
    decay_factor,
    decayed_sum_at,
    running_total_add,
    score,
    score_account,
    starter_definition,
)

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
JST = timezone(timedelta(hours=9))
BANT = BantRequirement(required=frozenset({"need"}), min_count=1)
THRESHOLDS = Thresholds(warm=30, hot=60)


def days_ago(days: float) -> datetime:
    return AT - timedelta(days=days)


def view(days: float, url: str = "/", **props: str) -> ActivityFact:
    return ActivityFact("page_view", days_ago(days), {"url": url, **props})


def definition(behaviour=(), attributes=(), intents=(), thresholds=THRESHOLDS) -> Definition:
    return Definition(
        behaviour=tuple(behaviour),
        attributes=tuple(attributes),
        intents=tuple(intents),
        thresholds=thresholds,
        bant=BANT,
    )


def rule(key="r", kinds=("page_view",), points=10.0, **kw) -> BehaviourRule:
    return BehaviourRule(key=key, label=key, kinds=frozenset(kinds), points=points, **kw)


def attr(key, attribute, op, value=None, points=10.0) -> AttributeRule:
    return AttributeRule(key=key, label=key, attribute=attribute, op=op, value=value, points=points)


def only(result, key):
    (contribution,) = [c for c in result.breakdown if c.rule_key == key]
    return contribution


# --- decay, caps, windows ------------------------------------------------------------


def test_decay_factor_halves_at_each_half_life():
    assert decay_factor(0, 7) == 1.0
    assert decay_factor(7, 7) == 0.5
    assert decay_factor(14, 7) == 0.25
    assert decay_factor(100, None) == 1.0


def test_an_activity_one_half_life_old_is_worth_half():
    d = definition([rule(points=10, half_life_days=30)])
    c = only(score(d, LeadFacts({}, [view(30)]), AT), "r")
    assert (c.hits, c.points_raw, c.points_decayed, c.points) == (1, 10.0, 5.0, 5.0)


def test_the_cap_holds_and_the_breakdown_shows_what_it_cut():
    d = definition([rule(points=5, cap=15, half_life_days=14)])
    c = only(score(d, LeadFacts({}, [view(0)] * 5), AT), "r")
    assert (c.hits, c.points_raw, c.points_decayed, c.points) == (5, 25.0, 25.0, 15.0)


def test_the_window_excludes_older_activity_and_keeps_its_boundary():
    d = definition([rule(points=40, cap=40, window_days=60)])
    assert score(d, LeadFacts({}, [view(60.5)]), AT).total == 0
    assert score(d, LeadFacts({}, [view(60)]), AT).total == 40


def test_future_activity_counts_for_nothing():
    d = definition([rule(points=10)])
    result = score(d, LeadFacts({}, [view(-0.001)]), AT)
    assert result.total == 0
    assert result.breakdown == ()


def test_a_negative_rule_stops_at_its_most_negative_cap():
    careers = rule(key="careers", points=-10, cap=-30, url_contains="/careers")
    d = definition([careers])
    facts = LeadFacts({}, [view(1, "/careers/engineer")] * 4 + [view(1, "/pricing")])
    c = only(score(d, facts, AT), "careers")
    assert (c.hits, c.points_decayed, c.points) == (4, -40.0, -30.0)
    assert score(d, facts, AT).total == -30


def test_behaviour_filters_match_url_title_and_campaign_after_nfkc():
    r = rule(url_contains="/PRICING", content_contains="ｄｘガイド", campaign="Spring  Webinar")
    hit = ActivityFact(
        "page_view",
        days_ago(1),
        {"url": "/pricing/plans", "title": "DXガイド 2026", "campaign": "ｓｐｒｉｎｇ webinar"},
    )
    assert r.matches(hit)
    assert not r.matches(ActivityFact("page_view", days_ago(1), {"url": "/pricing"}))
    assert not r.matches(ActivityFact("chat", days_ago(1), dict(hit.properties)))


def test_mixed_time_zones_are_one_timeline():
    d = definition([rule(points=10, half_life_days=1)])
    nine_hours_before_in_jst = ActivityFact("page_view", datetime(2026, 6, 1, 12, 0, tzinfo=JST))
    c = only(score(d, LeadFacts({}, [nine_hours_before_in_jst]), AT), "r")
    assert c.points_decayed == pytest.approx(10 * 0.5 ** (9 / 24))


# --- intent ------------------------------------------------------------------------


def test_intent_rule_counts_strong_signals_on_its_topics():
    r = IntentRule(
        key="crm", label="CRM", topics=frozenset({"ＣＲＭ"}), min_strength=60, points=10,
        cap=15, half_life_days=14,
    )  # fmt: skip
    facts = LeadFacts(
        {},
        intents=[
            IntentFact("crm", 60, days_ago(14)),  # 5.0
            IntentFact("CRM", 90, days_ago(0)),  # 10.0 → capped at 15 in all
            IntentFact("CRM", 59, days_ago(0)),  # too weak
            IntentFact("SFA", 99, days_ago(0)),  # another topic
        ],
    )
    c = only(score(definition(intents=[r]), facts, AT), "crm")
    assert (c.category, c.hits, c.points_decayed, c.points) == ("intent", 2, 15.0, 15.0)


def test_intent_rule_without_topics_matches_any_topic():
    r = IntentRule(key="any", label="any", min_strength=0, points=1)
    facts = LeadFacts({}, intents=[IntentFact("a", 0, AT), IntentFact("b", 100, AT)])
    assert score(definition(intents=[r]), facts, AT).total == 2


# --- attributes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule_", "value", "fires"),
    [
        (attr("t", "contact.title", Op.CONTAINS_ANY, ("部長", "director")), "営業本部長", True),
        (
            attr("t", "contact.title", Op.CONTAINS_ANY, ("部長", "director")),
            "ＤＩＲＥＣＴＯＲ",
            True,
        ),
        (attr("t", "contact.title", Op.CONTAINS_ANY, ("部長", "director")), "課長", False),
        (attr("d", "contact.email_domain", Op.ENDS_WITH_ANY, ("gmail.com",)), "gmail.com", True),
        (
            attr("d", "contact.email_domain", Op.ENDS_WITH_ANY, ("gmail.com",)),
            "Taro@GMAIL.com",
            True,
        ),
        (
            attr("d", "contact.email_domain", Op.ENDS_WITH_ANY, ("gmail.com",)),
            "notgmail.com",
            False,
        ),
        (attr("d", "company.domain", Op.ENDS_WITH_ANY, ("rival.co.jp",)), "www.rival.co.jp", True),
        (attr("i", "company.industry", Op.IN, frozenset({"E", "G"})), "g", True),
        (attr("i", "company.industry", Op.IN, frozenset({"E", "G"})), "I", False),
        (attr("n", "company.employee_count", Op.GTE, 300), 300, True),
        (attr("n", "company.employee_count", Op.GTE, 300), 299, False),
        (attr("n", "company.employee_count", Op.LTE, 50), 50, True),
        (attr("n", "company.employee_count", Op.BETWEEN, (50, 300)), 50, True),
        (attr("n", "company.employee_count", Op.BETWEEN, (50, 300)), 301, False),
        (attr("u", "contact.is_unsubscribed", Op.IS_TRUE), True, True),
        (attr("u", "contact.is_unsubscribed", Op.IS_TRUE), False, False),
        (attr("u", "contact.is_unsubscribed", Op.IS_FALSE), False, True),
        (attr("r", "company.region", Op.EQ, "kanto"), "Kanto", True),
        (attr("r", "company.region", Op.EQ, "kanto"), "kansai", False),
    ],
)
def test_attribute_operators(rule_, value, fires):
    facts = LeadFacts({rule_.attribute: value})
    assert rule_.matches(facts) is fires


@pytest.mark.parametrize(
    ("rule_", "missing"),
    [
        (attr("f", "contact.is_unsubscribed", Op.IS_FALSE), None),
        (attr("n", "company.employee_count", Op.LTE, 10), None),
        (attr("t", "contact.title", Op.CONTAINS_ANY, ("x",)), None),
        (attr("t", "contact.title", Op.CONTAINS_ANY, ("x",)), ""),
        (attr("r", "company.region", Op.EQ, "kanto"), ""),
    ],
)
def test_a_missing_attribute_never_matches(rule_, missing):
    assert not rule_.matches(LeadFacts({rule_.attribute: missing}))
    assert not rule_.matches(LeadFacts({}))


def test_an_attribute_rule_fires_once():
    d = definition(attributes=[attr("big", "company.employee_count", Op.GTE, 300, points=10)])
    c = only(score(d, LeadFacts({"company.employee_count": 5000}), AT), "big")
    assert (c.category, c.hits, c.points) == ("fit", 1, 10.0)


# --- bands and the fit floor -------------------------------------------------------


def test_bands_start_at_their_thresholds():
    t = Thresholds(warm=30, hot=60)
    assert [t.band(x, 0) for x in (29.99, 30, 59.99, 60)] == ["cold", "warm", "warm", "hot"]


def test_the_fit_floor_keeps_an_engaged_low_fit_lead_warm():
    d = definition(
        [rule(points=40, cap=80)],
        [attr("senior", "contact.title", Op.CONTAINS_ANY, ("部長",), points=15)],
        thresholds=Thresholds(warm=30, hot=60, fit_floor=10),
    )
    busy = [view(0), view(0)]
    staff = score(d, LeadFacts({"contact.title": "担当"}, busy), AT)
    assert (staff.total, staff.fit, staff.band) == (80, 0, "warm")
    head = score(d, LeadFacts({"contact.title": "営業部長"}, busy), AT)
    assert (head.total, head.fit, head.band) == (95, 15, "hot")
    assert head.is_hot and not staff.is_hot


# --- accounts ----------------------------------------------------------------------


def test_account_scoring_ignores_contact_rules():
    d = starter_definition()
    facts = LeadFacts(
        {
            "contact.title": "学生",
            "contact.is_unsubscribed": True,
            "company.employee_count": 1200,
            "company.industry": "G",
        },
        [view(0, "/pricing")],
        [IntentFact("CRM", 80, AT)],
    )
    account = score_account(d, facts, AT)
    keys = {c.rule_key for c in account.breakdown}
    assert keys == {
        "employees_300", "employees_1000", "target_industry", "pricing_page", "page_view",
        "intent_strong",
    }  # fmt: skip
    assert account.total == 10 + 5 + 10 + 5 + 1 + 10
    assert score(d, facts, AT).total == account.total - 50 - 100


# --- the breakdown -----------------------------------------------------------------


def test_the_breakdown_sums_to_the_total_in_hundredths():
    # Three decayed rules of 10/3 each: each rounds to 3.33 and the total is 9.99, not 10.
    rules = [rule(key=k, points=10, half_life_days=1) for k in "abc"]
    ages = 1.5849625007211563  # log2(3) days: each decays to 10/3
    result = score(definition(rules), LeadFacts({}, [view(ages)]), AT)
    assert [c.points for c in result.breakdown] == [3.33, 3.33, 3.33]
    assert (result.total, result.engagement, result.fit) == (9.99, 9.99, 0.0)


def test_the_breakdown_is_ordered_by_size_then_key():
    d = definition(
        [rule(key="small", points=1), rule(key="neg", points=-5, url_contains="/careers")],
        [attr("big", "company.employee_count", Op.GTE, 1, points=5)],
    )
    facts = LeadFacts({"company.employee_count": 10}, [view(0, "/careers")])
    result = score(d, facts, AT)
    assert [c.rule_key for c in result.breakdown] == ["big", "neg", "small"]
    assert result.total == 1.0


def test_as_dict_is_json_ready():
    facts = LeadFacts({"contact.title": "Director"}, [view(3, "/pricing")])
    data = score(starter_definition(), facts, AT).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "total", "fit", "engagement", "band", "breakdown", "triggered_by", "trigger_held",
    }  # fmt: skip
    assert set(data["breakdown"][0]) == {
        "rule", "label", "labels", "category", "hits", "points", "points_raw", "points_decayed",
        "is_trigger",
    }  # fmt: skip
    assert all(isinstance(row["points_raw"], float) for row in data["breakdown"])


# --- BANT --------------------------------------------------------------------------


def test_bant_needs_the_required_items_and_enough_in_all():
    req = BantRequirement(required=frozenset({"need", "authority"}), min_count=3)
    yes = dict.fromkeys(("budget", "authority", "need", "timeframe"), True)
    assert bant_qualifies(req, yes)
    assert bant_qualifies(req, {"need": True, "authority": True, "timeframe": True})
    assert not bant_qualifies(req, {"need": True, "authority": True})  # only 2
    assert not bant_qualifies(req, {"need": True, "budget": True, "timeframe": True})  # no A
    assert not bant_qualifies(req, {"need": True, "authority": False, "budget": True})
    with pytest.raises(ValueError, match="authoriy"):
        bant_qualifies(req, {"authoriy": True})


# --- running totals ----------------------------------------------------------------


def test_a_running_total_evaluates_like_the_direct_sum():
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    stored = 0.0
    for age in (0, 7, 14):
        stored = running_total_add(
            stored, points=4, occurred_at=days_ago(age), epoch=epoch, half_life_days=7
        )
    assert decayed_sum_at(stored, epoch, AT, 7) == pytest.approx(4 + 2 + 1, rel=1e-12)
    assert decayed_sum_at(12.5, epoch, AT, None) == 12.5


def test_a_running_total_refuses_an_epoch_too_far_back():
    epoch = AT - timedelta(days=600)
    with pytest.raises(ValueError, match="rebase"):
        running_total_add(0.0, points=1, occurred_at=AT, epoch=epoch, half_life_days=1)


# --- validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Thresholds(warm=61, hot=60), "must not exceed"),
        (lambda: definition([rule(key="x"), rule(key="x")]), "'x' is used more than once"),
        (
            lambda: definition(
                [rule(key="x")], [attr("x", "contact.title", Op.CONTAINS_ANY, ("a",))]
            ),
            "'x'",
        ),
        (lambda: rule(key="k", points=10, cap=-5), "'k': cap"),
        (lambda: rule(key="k", points=-10, cap=30), "'k': cap"),
        (lambda: rule(key="k", points=0, cap=5), "'k': cap"),
        (lambda: rule(key="k", points=0.005), "'k': points"),
        (lambda: rule(key="k", points=float("nan")), "'k': points"),
        (lambda: rule(key="k", half_life_days=0), "'k': half_life_days"),
        (lambda: rule(key="k", half_life_days=-7), "'k': half_life_days"),
        (lambda: rule(key="k", window_days=-1), "'k': window_days"),
        (lambda: rule(key="k", kinds=()), "'k': kinds"),
        (lambda: rule(key="k", kinds=("page_veiw",)), "'k': unknown activity kinds"),
        (lambda: rule(key=""), "key"),
        (lambda: attr("k", "contact.title", Op.IN, ()), "'k'"),
        (lambda: attr("k", "contact.title", Op.CONTAINS_ANY, "部長"), "'k'"),
        (lambda: attr("k", "contact.title", Op.CONTAINS_ANY, ("",)), "'k'"),
        (lambda: attr("k", "contact.titel", Op.EQ, "x"), "'k': unknown attribute"),
        (lambda: attr("k", "contact.title", Op.GTE, 3), "'k'"),
        (lambda: attr("k", "company.employee_count", Op.BETWEEN, (300, 50)), "'k'"),
        (lambda: attr("k", "company.employee_count", Op.EQ, "300"), "'k'"),
        (lambda: attr("k", "contact.title", Op.IS_TRUE), "'k'"),
        (lambda: IntentRule(key="k", label="", min_strength=101, points=1), "'k'"),
        (lambda: BantRequirement(required=frozenset({"money"})), "money"),
        (lambda: BantRequirement(required=frozenset(), min_count=5), "min_count"),
    ],
)
def test_invalid_definitions_are_refused_naming_the_rule(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_facts_refuse_naive_times_and_wrong_types():
    with pytest.raises(ValueError, match="timezone-aware"):
        ActivityFact("page_view", datetime(2026, 6, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        score(definition(), LeadFacts({}), datetime(2026, 6, 1))  # noqa: DTZ001
    with pytest.raises(TypeError, match="employee_count"):
        LeadFacts({"company.employee_count": "300"})
    with pytest.raises(ValueError, match="unknown attribute"):
        LeadFacts({"contact.titel": "部長"})
    with pytest.raises(ValueError, match="0–100"):
        IntentFact("crm", 101, AT)


# --- the starter definition and the boundaries of the module ------------------------


def test_the_starter_definition_makes_a_demo_requesting_manager_hot():
    d = starter_definition()
    facts = LeadFacts(
        {
            "contact.title": "情報システム部 課長",
            "contact.email_domain": "example.co.jp",
            "contact.is_unsubscribed": False,
            "company.employee_count": 450,
            "company.industry": "E",
        },
        [view(2, "/pricing"), view(2, "/products/crm"), ActivityFact("demo_request", days_ago(1))],
    )
    result = score(d, facts, AT)
    assert result.fit == 8 + 10 + 10
    assert result.band == "hot"
    assert result.breakdown[0].rule_key == "demo_or_pricing_request"


def test_the_starter_definition_keeps_a_job_seeker_on_free_mail_cold():
    facts = LeadFacts(
        {"contact.email_domain": "yahoo.co.jp", "contact.title": "大学院生"},
        [view(1, "/careers"), view(1, "/careers/sales"), view(1, "/pricing")],
    )
    result = score(starter_definition(), facts, AT)
    assert result.band == "cold"
    assert result.fit == -15 - 50


def test_activity_kinds_mirror_the_activity_model():
    from leads.models import Activity

    assert frozenset(Activity.Kind.values) == ACTIVITY_KINDS


def test_attribute_keys_name_real_model_fields():
    from leads.models import Company, Contact

    models = {"contact": Contact, "company": Company}
    for key in ATTRIBUTES:
        model, name = key.split(".")
        if name == "email_domain":
            continue  # derived from Contact.email by the adapter
        models[model]._meta.get_field(name)  # raises FieldDoesNotExist


def test_the_engine_imports_no_django():
    modules: set[str] = set()
    for path in Path(engine.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules |= {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "scoring.engine.rules" in modules  # the package's own modules were read
    assert not {m for m in modules if m.split(".")[0] in {"django", "leads", "rest_framework"}}
