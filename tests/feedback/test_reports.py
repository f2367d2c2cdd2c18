"""The reports' numbers against a small world computed by hand, in Tokyo's days.

Six cycles, November 2026 (JST), reps A and B (inside sales):

| cycle | MQL (JST)        | rep | what happened                                           |
|-------|------------------|-----|---------------------------------------------------------|
| C1    | 11-02 10:00 Mon  | A   | accepted 12:00, SQL 11-04 12:00, opportunity 11-06 12:00, won 11-10 12:00 (¥3,000,000); touched 11:00 (due 12:00: met); campaigns spring → webinar |
| C2    | 11-03 10:00      | A   | accepted 11-04 12:00 (26 h); touched 13:00 (due 12:00: breached); campaign webinar |
| C3    | 11-03 10:00      | B   | rejected "no need" 11-05 23:30 JST (14:30 UTC)           |
| C4    | 11-09 00:30 Mon  | B   | (Sunday 15:30 UTC: JST's next week) rejected "no need" 11-10 |
| C5    | 11-10 10:00      | A   | rejected "timing" 12-01 00:30 JST (still 11-30 in UTC)  |
| C6    | 10-30 10:00      | B   | rejected "duplicate" 11-01 00:10 JST (still 10-31 in UTC) |
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import CycleFacts, CycleRuleHit, Reason
from feedback.selectors import reports
from feedback.services.facts import cycle_facts_sync
from handoff.models import Cycle, Pool, Stage
from scoring.models import DefinitionVersion
from tests.factories import (
    ActivityFactory,
    CycleFactory,
    OpportunityFactory,
    TransitionFactory,
    VerdictFactory,
)
from tests.scoring.test_definitions import _ensure_active

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
NOV = {"start": "2026-11-01", "end": "2026-11-30"}


def jst(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=JST)


@pytest.fixture
def world(make_rep, manager_user, marketing_user):
    rep_a, rep_b = make_rep("rep-a"), make_rep("rep-b")
    no_need, timing, duplicate = (
        Reason.objects.get(code=c) for c in ("no_need", "timing", "duplicate")
    )

    def cycle(at, owner, **extra):
        return CycleFactory(mql_at=at, owner=owner, **extra)

    c1 = cycle(jst(11, 2), rep_a, stage=Stage.WON, sql_at=jst(11, 4, 12), first_touch_at=jst(11, 2, 11),
               score_total=Decimal("84.5"))  # fmt: skip
    ActivityFactory(contact=c1.contact, occurred_at=jst(10, 1), properties={"campaign": "spring"})
    ActivityFactory(contact=c1.contact, occurred_at=jst(11, 1), properties={"campaign": "webinar"})
    for stage, at in (
        ("accepted", jst(11, 2, 12)),
        ("opportunity", jst(11, 6, 12)),
        ("won", jst(11, 10, 12)),
    ):
        TransitionFactory(cycle=c1, to_stage=stage, at=at)
    OpportunityFactory(cycle=c1, amount=3_000_000)
    c2 = cycle(
        jst(11, 3),
        rep_a,
        stage=Stage.ACCEPTED,
        first_touch_at=jst(11, 3, 13),
        score_total=Decimal("65"),
    )
    ActivityFactory(contact=c2.contact, occurred_at=jst(10, 20), properties={"campaign": "webinar"})
    TransitionFactory(cycle=c2, to_stage="accepted", at=jst(11, 4, 12))
    VerdictFactory(cycle=c2, decision="accepted", at=jst(11, 4, 12))
    rejected = [
        (cycle(jst(11, 3), rep_b, stage=Stage.RECYCLED), no_need, jst(11, 5, 23, 30)),
        (cycle(jst(11, 9, 0, 30), rep_b, stage=Stage.RECYCLED), no_need, jst(11, 10)),
        (cycle(jst(11, 10), rep_a, stage=Stage.RECYCLED), timing, jst(12, 1, 0, 30)),
        (cycle(jst(10, 30), rep_b, stage=Stage.DISQUALIFIED), duplicate, jst(11, 1, 0, 10)),
    ]
    for c, reason, at in rejected:
        VerdictFactory(cycle=c, decision="rejected", reason=reason, at=at)
        TransitionFactory(
            cycle=c, to_stage=c.stage, at=at, reason_code=f"mql_rejected:{reason.code}"
        )
    cycles = [c1, c2, *(c for c, _r, _a in rejected)]
    cycle_facts_sync(cycle_ids=[c.pk for c in cycles])
    return {"a": rep_a, "b": rep_b, "mgr": manager_user, "mkt": marketing_user, "cycles": cycles}


def _filter(**extra) -> reports.ReportFilter:
    return reports.ReportFilter(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30), **extra)


def _page(client, user, name: str, **params):
    client.force_login(user)
    return client.get(reverse(name), {**NOV, **params})


def _values(table) -> list[list[str]]:
    return [[str(cell) for cell in row] for row in table.rows]


def test_facts_copy_the_cycle_its_verdicts_transitions_and_deal(world):
    c1, _c2, c3, *_ = world["cycles"]
    facts = CycleFacts.objects.get(cycle=c1)
    assert (facts.owner_id, facts.band, facts.score_bucket, facts.stage) == (
        world["a"].pk,
        "hot",
        80,
        "won",
    )
    assert facts.accepted_at == jst(11, 2, 12) and facts.opportunity_at == jst(11, 6, 12)
    assert facts.won_at == jst(11, 10, 12) and facts.revenue == Decimal(3_000_000)
    assert (facts.first_campaign, facts.last_campaign) == ("spring", "webinar")
    rejected = CycleFacts.objects.get(cycle=c3)
    assert rejected.reason.code == "no_need" and rejected.accepted_at is None


@pytest.mark.django_db
def test_pareto_counts_each_rejection_on_its_japanese_day_largest_first(world):
    with _tokyo():
        report = reports.rejections_report(actor=world["mgr"], f=_filter())
    # no_need twice (C3 at 23:30 on 11-05, C4); duplicate at 00:10 on 11-01 (JST) counts;
    # timing at 00:30 on 12-01 (JST) does not, though it is still November in UTC.
    assert _values(report.tables[0]) == [
        ["No need", "2", "0", "2", "66.7%", "66.7%"],
        ["Duplicate", "1", "0", "1", "33.3%", "100.0%"],
    ]
    assert report.chart["datasets"][1]["data"] == [66.7, 100.0]


@pytest.mark.django_db
def test_acceptance_by_week_uses_tokyo_weeks(world):
    with _tokyo():
        report = reports.acceptance_report(actor=world["mgr"], f=_filter(), by="week")
    rows = _values(report.tables[0])
    # C4 became an MQL at 00:30 on Monday 11-09 in Tokyo (Sunday in UTC): the second week.
    assert [r[1:] for r in rows] == [
        ["3", "2", "1", "66.7%", "1", "33.3%", "1"],
        ["2", "0", "2", "0.0%", "0", "0.0%", "0"],
    ]
    assert [h.value for h in report.headlines] == ["40.0%", "20.0%", "5"]


@pytest.mark.django_db
def test_acceptance_by_bucket_and_by_rule(world, django_assert_max_num_queries):
    with _tokyo(), django_assert_max_num_queries(3):
        report = reports.acceptance_report(actor=world["mgr"], f=_filter(), by="bucket")
    assert [r[:3] for r in _values(report.tables[0])] == [
        ["60–69", "1", "1"],
        ["70–79", "3", "0"],
        ["80–89", "1", "1"],
    ]


@pytest.mark.django_db
def test_acceptance_by_rule_counts_hits_through_their_facts_in_the_viewers_scope(
    world, django_assert_max_num_queries
):
    c1, c2, c3, *_ = world["cycles"]  # C1 won, C2 accepted (rep A); C3 rejected (rep B)
    for cycle, keys in ((c1, ["title", "webinar"]), (c2, ["webinar"]), (c3, ["webinar"])):
        for key in keys:
            CycleRuleHit.objects.create(cycle=cycle, rule_key=key, points=10)
    with _tokyo(), django_assert_max_num_queries(6) as queries:  # 3 for each viewer
        team = reports.acceptance_report(actor=world["mgr"], f=_filter(), by="rule")
        own = reports.acceptance_report(actor=world["a"], f=_filter(), by="rule")
    # mqls, accepted, rejected: C3's rejection counts against "webinar"
    assert [r[:4] for r in _values(team.tables[0])] == [
        ["webinar", "3", "2", "1"],
        ["title", "1", "1", "0"],
    ]
    assert [r[:4] for r in _values(own.tables[0])] == [
        ["webinar", "2", "2", "0"],
        ["title", "1", "1", "0"],
    ]
    by_rule = [q["sql"] for q in queries.captured_queries if "rule_key" in q["sql"]]
    assert by_rule and not any("handoff_cycle" in sql for sql in by_rule)


@pytest.mark.django_db
def test_funnel_counts_conversions_and_median_days_per_cohort(world):
    with _tokyo():
        report = reports.funnel_report(actor=world["mgr"], f=_filter())
    (row,) = _values(report.tables[0])
    # MQL 5 → accepted 2 (40%, median of 2 h and 26 h = 14 h = 0.6 d) → SQL 1 (50%, 2.0 d)
    # → opportunity 1 (100%, 2.0 d) → won 1 (100%, 4.0 d).
    assert row == ["2026-11", "5", "2", "40.0%", "0.6", "1", "50.0%", "2.0", "1", "100.0%", "2.0",
                   "1", "100.0%", "4.0"]  # fmt: skip


@pytest.mark.django_db
def test_roi_attributes_first_and_last_touch(world):
    with _tokyo():
        report = reports.roi_report(actor=world["mgr"], f=_filter())
    campaigns = {r[0]: r[1:] for r in _values(report.tables[0])}
    # first touch: leads, MQLs, SQLs, won, revenue; then the same for the last touch
    assert campaigns["webinar"] == ["1", "1", "0", "0", "0", "2", "2", "1", "1", "3,000,000"]
    assert campaigns["spring"] == ["1", "1", "1", "1", "3,000,000", "0", "0", "0", "0", "0"]
    assert report.headlines[0].value == "¥3,000,000"


@pytest.mark.django_db
def test_roi_touches_match_a_row_by_row_count_with_repeated_contacts(manager_user):
    """The one-pass roll-up counts a lead once per key, however many of its cycles it has."""
    import random

    rng = random.Random(12)
    contacts = [CycleFactory(mql_at=jst(11, 2), stage=Stage.RECYCLED).contact for _ in range(4)]
    for number in range(2, 6):  # closed earlier cycles of the same three leads
        for contact in contacts[:3]:
            CycleFactory(
                contact=contact, number=number, mql_at=jst(11, 2 + number), stage=Stage.LOST
            )
    cycle_facts_sync(cycle_ids=list(Cycle.objects.values_list("pk", flat=True)))
    facts = list(CycleFacts.objects.all())
    assert len(facts) == 16
    for fact in facts:
        for column in reports.TOUCH_COLUMNS:
            setattr(fact, column, rng.choice(["", "a", "b", "c"]))
        fact.sql_at = rng.choice([None, jst(11, 20)])
        fact.won_at = fact.sql_at and rng.choice([None, jst(11, 25)])
        fact.revenue = Decimal(rng.randrange(1, 9) * 100_000) if fact.won_at else None
        fact.mql_at = fact.mql_at or jst(11, 2)
    CycleFacts.objects.bulk_update(
        facts, [*reports.TOUCH_COLUMNS, "sql_at", "won_at", "revenue", "mql_at"]
    )

    expected: dict[str, dict[str, dict]] = {column: {} for column in reports.TOUCH_COLUMNS}
    for fact in facts:
        for column in reports.TOUCH_COLUMNS:
            key = getattr(fact, column)
            if key:
                m = expected[column].setdefault(
                    key, {"leads": set(), "mqls": 0, "sqls": 0, "won": 0, "revenue": 0}
                )
                m["leads"].add(fact.contact_id)
                m["mqls"] += 1
                m["sqls"] += fact.sql_at is not None
                m["won"] += fact.won_at is not None
                m["revenue"] += fact.revenue or 0
    for per_key in expected.values():
        for m in per_key.values():
            m["leads"] = len(m["leads"])
    with _tokyo():
        got = reports.roi_touches(reports._filtered(manager_user, _filter()))
    assert got == expected
    assert any(m["leads"] < m["mqls"] for per_key in got.values() for m in per_key.values())


@pytest.mark.django_db
def test_sla_by_rep_counts_met_and_breached_touches(world):
    unassigned = CycleFactory(mql_at=jst(11, 20), owner=None)  # untouched, long past due
    cycle_facts_sync(cycle_ids=[unassigned.pk])
    with _tokyo():
        report = reports.sla_report(actor=world["mgr"], f=_filter())
    rows = {r[0]: r[1:5] for r in _values(report.tables[0])}
    assert rows["rep-a"] == ["3", "1", "1", "50.0%"]  # C1 met, C2 breached, C5 closed untouched
    assert rows["Team"][:3] == ["6", "1", "2"]  # the unassigned MQL is the team's, breached
    assert len(rows) == 3  # rep A, rep B and the team: no row for "nobody"


@pytest.mark.django_db
def test_effect_compares_equal_periods_around_an_activation(world):
    version = _ensure_active()
    DefinitionVersion.objects.filter(pk=version.pk).update(activated_at=jst(11, 6, 0))
    with _tokyo():
        report = reports.effect_report(actor=world["mgr"], f=_filter(), days=7)
    (row,) = _values(report.tables[0])
    # before [10-30, 11-06): C6, C1, C2, C3 → 2 of 4 judged accepted; after: C4, C5 rejected.
    assert row[2:] == ["7", "4", "50.0%", "25.0%", "2", "0.0%", "0.0%"]


@pytest.mark.django_db
def test_a_definition_activated_today_or_with_one_side_empty_is_not_compared(world):
    version = _ensure_active()
    with _tokyo():
        DefinitionVersion.objects.filter(pk=version.pk).update(activated_at=timezone.now())
        assert reports.effect_report(actor=world["mgr"], f=_filter(), days=7).is_empty
        # MQLs after (10-30, 11-02, 11-03) but none in the week before: nothing to compare.
        DefinitionVersion.objects.filter(pk=version.pk).update(activated_at=jst(10, 29, 0))
        assert reports.effect_report(actor=world["mgr"], f=_filter(), days=7).is_empty
        # One day later the week before holds 10-30: compared.
        DefinitionVersion.objects.filter(pk=version.pk).update(activated_at=jst(10, 31, 0))
        assert not reports.effect_report(actor=world["mgr"], f=_filter(), days=7).is_empty


@pytest.mark.django_db
def test_a_rep_sees_only_their_own_figures(world):
    with _tokyo():
        mine = reports.rejections_report(actor=world["b"], f=_filter())
        theirs = reports.rejections_report(actor=world["a"], f=_filter())
    assert [r[3] for r in _values(mine.tables[0])] == ["2", "1"]
    assert theirs.is_empty  # rep A's only rejection fell on 12-01 in Tokyo


@pytest.mark.django_db
def test_a_rep_asking_for_another_reps_figures_is_refused(client, world):
    for name in ("feedback:report-rejections", "feedback:report-leads"):
        response = _page(client, world["a"], name, rep=world["b"].pk, report="rejections")
        assert response.status_code == 403
    response = _page(client, world["a"], "feedback:report-leads", report="sla", owner=world["b"].pk)
    assert response.status_code == 403


@pytest.mark.django_db
def test_marketing_sees_the_team_but_not_one_rep(client, world):
    assert _page(client, world["mkt"], "feedback:report-sla").status_code == 200
    assert _page(client, world["mkt"], "feedback:report-sla", rep=world["b"].pk).status_code == 403
    with _tokyo():
        report = reports.sla_report(actor=world["mkt"], f=_filter())
    assert [r[0].value for r in report.tables[0].rows] == ["Team"]


@pytest.mark.django_db
def test_the_manager_filters_one_rep(client, world):
    response = _page(client, world["mgr"], "feedback:report-rejections", rep=world["b"].pk)
    assert response.status_code == 200
    assert [str(c) for c in response.context["report"].tables[0].rows[0]][3] == "2"


@pytest.mark.django_db
def test_drill_down_lists_exactly_the_cycles_behind_a_bar(client, world):
    with _tokyo():
        report = reports.rejections_report(actor=world["mgr"], f=_filter())
    client.force_login(world["mgr"])
    response = client.get(report.tables[0].rows[0][0].url)
    assert response.status_code == 200
    c3, c4 = world["cycles"][2], world["cycles"][3]
    assert {f.cycle_id for f in response.context["drill"].facts} == {c3.pk, c4.pk}
    assert reverse("portal:lead-detail", args=[c3.contact_id]) in response.content.decode()


@pytest.mark.django_db
def test_drill_down_of_a_week_cell(client, world):
    with _tokyo():
        report = reports.acceptance_report(actor=world["mgr"], f=_filter(), by="week")
    client.force_login(world["mgr"])
    accepted_week_one = report.tables[0].rows[0][2].url
    facts = client.get(accepted_week_one).context["drill"].facts
    assert {f.cycle_id for f in facts} == {world["cycles"][0].pk, world["cycles"][1].pk}


@pytest.mark.django_db
def test_report_pages_render_with_charts_and_headlines(client, world):
    client.force_login(world["mgr"])
    for slug in reports.REPORTS[:-1]:  # the effect needs an activation: its own test
        response = client.get(reverse(f"feedback:report-{slug}"), NOV)
        assert response.status_code == 200, slug
        body = response.content.decode()
        assert 'id="report-chart-data"' in body and "js/reports.js" in body, slug


@pytest.mark.django_db
def test_empty_report_says_what_to_do(client, manager_user):
    client.force_login(manager_user)
    url = reverse("feedback:report-rejections")
    body = client.get(url, NOV, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "report-chart-data" not in body
    assert "rejections appear once reps judge their leads" in body
    ja = client.get(url, NOV, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "担当者がキューでリードを判定すると却下が表示されます" in ja


@pytest.mark.django_db
def test_bad_dates_are_a_400_with_the_field_named(client, manager_user):
    client.force_login(manager_user)
    response = client.get(
        reverse("feedback:report-funnel"), {"start": "2026-12-01", "end": "2026-11-01"}
    )
    assert response.status_code == 400
    assert "end" in response.context["problems"]


@pytest.mark.django_db
@pytest.mark.parametrize("rep", ["abc", "0", "-3", "99999999999999999999"])
def test_a_rep_that_cannot_be_an_id_is_a_400_naming_the_field(client, manager_user, rep):
    client.force_login(manager_user)
    for url in (reverse("feedback:report-rejections"), reverse("feedback:report-leads")):
        response = client.get(url, {"rep": rep})
        assert response.status_code == 400, url
        assert "rep" in response.context["problems"]


@pytest.mark.django_db
def test_csv_export_escapes_formulas(client, world):
    c1 = world["cycles"][0]
    CycleFacts.objects.filter(cycle=c1).update(last_campaign='=HYPERLINK("http://x","y")')
    client.force_login(world["mgr"])
    response = client.get(reverse("feedback:report-csv", args=["roi"]), NOV)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert '\'=HYPERLINK("http://x","y")' in cells
    assert not any(cell.startswith("=") for cell in cells)


@pytest.mark.django_db
def test_csv_of_an_unknown_report_is_a_400(client, manager_user):
    client.force_login(manager_user)
    assert client.get(reverse("feedback:report-csv", args=["nope"])).status_code == 400


@contextlib.contextmanager
def _tokyo():
    """A viewer in Tokyo reading English."""
    with timezone.override(JST), translation.override("en"):
        yield


def test_team_filter_picks_the_kind_of_rejection():
    assert reports.TEAMS == ("", Pool.INSIDE, Pool.FIELD)
