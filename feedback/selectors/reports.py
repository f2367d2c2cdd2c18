"""The six feedback reports, read from the per-cycle facts (``CycleFacts``).

Every report is one or a few set-based aggregates over ``CycleFacts`` (and, for rules,
``CycleRuleHit``), scoped to the viewer (``report_scope``) and filtered by the shared
filter bar (``ReportFilter``: a date range in the viewer's time zone, team, rep, band,
source). Each returns a ``Report``: headline cards, the chart's data, and tables whose
cells link to the drill-down (``report_leads``) with the filters and the cell's key, so
the drill-down lists exactly the cycles counted in the cell. The CSV export writes the
same tables.

Definitions (docs/reports.md):
- accepted: the MQL moved on (a verdict or a first call) and was not rejected;
- acceptance = accepted / (accepted + rejected), of MQLs judged;
- conversion = MQLs that reached SQL / MQLs.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.roles import is_inside_sales, is_sales
from config.filtering import INT64_MAX
from feedback.models import CycleFacts, CycleRuleHit, Reason
from feedback.permissions import can_view_rep_figures, can_view_team_reports
from handoff.models import INSIDE_STAGES, Pool, RepProfile
from scoring.models import Band, DefinitionVersion

REPORTS = ("rejections", "acceptance", "funnel", "roi", "sla", "effect")
TEAMS = ("", Pool.INSIDE, Pool.FIELD)
MAX_DAYS = 800
DRILL_LIMIT = 200


# --- The filter bar --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportFilter:
    start: date
    end: date  # inclusive, in the viewer's time zone
    team: str = ""
    rep_id: int | None = None
    band: str = ""
    source: str = ""

    def bounds(self) -> tuple[datetime, datetime]:
        """The range as aware datetimes: [start 00:00, the day after end 00:00) locally."""
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time(), tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time(), tzinfo=zone),
        )

    def params(self) -> dict[str, str]:
        out = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for key, value in (
            ("team", self.team), ("rep", self.rep_id), ("band", self.band), ("source", self.source)
        ):  # fmt: skip
            if value:
                out[key] = str(value)
        return out


def _date(value: str, field_name: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        errors[field_name] = _("Give a date as YYYY-MM-DD.")
        return None


def report_filter_parse(*, actor, params: Mapping[str, str]) -> ReportFilter:
    """The filter bar's values, checked. Defaults: the last 90 days up to today (local).

    Raises ValidationError (field errors) and PermissionDenied (a rep asking for another
    rep's figures, marketing asking for one rep's).
    """
    errors: dict[str, str] = {}
    today = timezone.localdate()
    end = _date(params.get("end", ""), "end", errors) or today
    start = _date(params.get("start", ""), "start", errors) or end - timedelta(days=89)
    if start > end:
        errors["end"] = _("The end comes before the start.")
    elif (end - start).days > MAX_DAYS:
        errors["start"] = _("Choose at most %(n)d days.") % {"n": MAX_DAYS}
    team = params.get("team", "")
    if team not in TEAMS:
        errors["team"] = _("Choose inside sales or field sales.")
    band = params.get("band", "")
    if band and band not in Band.values:
        errors["band"] = _("Choose a band.")
    rep_id = None
    if params.get("rep"):
        try:
            rep_id = int(params["rep"])
        except ValueError:
            rep_id = None
        if rep_id is None or not 0 < rep_id <= INT64_MAX:  # beyond a key: no such rep
            rep_id = None
            errors["rep"] = _("Choose a rep.")
    if errors:
        raise ValidationError(errors)
    if rep_id is not None and rep_id != actor.pk and not can_view_rep_figures(actor):
        raise PermissionDenied(_("You see your own figures, not another rep's."))
    return ReportFilter(
        start=start, end=end, team=team, rep_id=rep_id, band=band,
        source=params.get("source", "")[:64],
    )  # fmt: skip


def _scope_q(actor, prefix: str = "") -> Q:
    """The facts ``actor`` may count: all for managers and marketing, a rep's own else."""
    if can_view_team_reports(actor):
        return Q()
    mine = Q(**{f"{prefix}pk__in": []})
    if is_inside_sales(actor):
        mine |= Q(**{f"{prefix}owner_id": actor.pk})
    if is_sales(actor):
        mine |= Q(**{f"{prefix}field_owner_id": actor.pk})
    return mine


def report_scope(*, actor) -> QuerySet[CycleFacts]:
    """The facts ``actor`` may count (``_scope_q``)."""
    return CycleFacts.objects.filter(_scope_q(actor))


def _filter_q(actor, f: ReportFilter, *, on: str | None = "mql_at", prefix: str = "") -> Q:
    """The viewer's scope and the filter bar as one condition on the facts at ``prefix``
    (``"facts__"`` from a rule hit: a join, not a sub-select)."""
    where = _scope_q(actor, prefix)
    if on:
        low, high = f.bounds()
        where &= Q(**{f"{prefix}{on}__gte": low, f"{prefix}{on}__lt": high})
    if f.team == Pool.INSIDE:
        where &= Q(**{f"{prefix}owner_id__isnull": False})
    elif f.team == Pool.FIELD:
        where &= Q(**{f"{prefix}field_owner_id__isnull": False})
    if f.rep_id:
        where &= Q(**{f"{prefix}owner_id": f.rep_id}) | Q(**{f"{prefix}field_owner_id": f.rep_id})
    if f.band:
        where &= Q(**{f"{prefix}band": f.band})
    if f.source:
        where &= Q(**{f"{prefix}source": f.source})
    return where


def _filtered(actor, f: ReportFilter, *, on: str | None = "mql_at") -> QuerySet[CycleFacts]:
    return CycleFacts.objects.filter(_filter_q(actor, f, on=on))


def report_filter_choices(*, actor) -> dict[str, list[tuple[str, str]]]:
    """The filter bar's choices: reps (managers only), sources seen, bands, teams."""
    reps: list[tuple[str, str]] = []
    if can_view_rep_figures(actor):
        reps = [
            (str(p.user_id), p.user.display_name)
            for p in RepProfile.objects.select_related("user").order_by("pool", "user__username")
        ]
    sources = sorted(s for s in CycleFacts.objects.values_list("source", flat=True).distinct() if s)
    return {
        "reps": reps,
        "sources": [(s, s) for s in sources],
        "bands": list(Band.choices),
        "teams": [(Pool.INSIDE, Pool.INSIDE.label), (Pool.FIELD, Pool.FIELD.label)],
    }


# --- What a report is ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    value: object
    url: str = ""  # the drill-down to the cycles behind it

    def __str__(self) -> str:
        return _fmt(self.value)


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Cell]]

    def labelled(self) -> list[list[tuple[str, Cell]]]:
        """Each row's cells beside their column (a phone shows the column as the label)."""
        return [list(zip(self.columns, row, strict=False)) for row in self.rows]


@dataclass(frozen=True, slots=True)
class Headline:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    slug: str
    headlines: list[Headline]
    tables: list[Table]
    chart: dict = field(default_factory=dict)
    is_empty: bool = False
    notes: list[str] = field(default_factory=list)


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:,.1f}"
    if isinstance(value, int | Decimal):
        return f"{value:,}"
    return str(value)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _drill(slug: str, f: ReportFilter, **cell) -> str:
    query = f.params() | {"report": slug} | {k: str(v) for k, v in cell.items() if v != ""}
    return reverse("feedback:report-leads") + "?" + urlencode(query)


# --- 1. Rejection reasons, a Pareto chart ----------------------------------------


def rejections_report(*, actor, f: ReportFilter) -> Report:
    """Rejections given in the period (their verdict's local day), by reason, largest first.

    MQL rejections (inside sales) and SQL rejections (field sales); ``team`` picks one.
    """
    counts: dict[tuple[str, int], int] = {}
    kinds = {"": ("mql", "sql"), Pool.INSIDE: ("mql",), Pool.FIELD: ("sql",)}[f.team]
    for kind in kinds:
        on, reason = (
            ("rejected_at", "reason_id") if kind == "mql" else ("sql_rejected_at", "sql_reason_id")
        )
        rows = _filtered(actor, f, on=on).values_list(reason).annotate(n=Count("pk")).order_by()
        for reason_id, n in rows:
            counts[kind, reason_id] = n
    reasons = {r.pk: r for r in Reason.objects.filter(pk__in={rid for _k, rid in counts})}
    by_reason: dict[int, dict[str, int]] = {}
    for (kind, rid), n in counts.items():
        by_reason.setdefault(rid, {"mql": 0, "sql": 0})[kind] += n
    ordered = sorted(
        by_reason.items(),
        key=lambda item: (
            -sum(item[1].values()),
            reasons[item[0]].order if item[0] in reasons else 0,
        ),
    )
    total = sum(sum(v.values()) for _rid, v in ordered)
    rows, labels, bars, line, drills = [], [], [], [], []
    running = 0
    for rid, per_kind in ordered:
        n = sum(per_kind.values())
        running += n
        reason = reasons.get(rid)
        code = reason.code if reason else ""
        label = reason.label if reason else _("(reason removed)")
        url = _drill("rejections", f, reason=code)
        rows.append(
            [
                Cell(label, url),
                Cell(
                    per_kind["mql"],
                    _drill("rejections", f, reason=code, kind="mql") if per_kind["mql"] else "",
                ),
                Cell(
                    per_kind["sql"],
                    _drill("rejections", f, reason=code, kind="sql") if per_kind["sql"] else "",
                ),
                Cell(n, url),
                Cell(_rate(n, total)),
                Cell(_rate(running, total)),
            ]
        )
        labels.append(label)
        bars.append(n)
        line.append(_pct(_rate(running, total)))
        drills.append(url)
    top = ordered[0] if ordered else None
    headlines = [Headline(_("Rejections"), _fmt(total))]
    if top:
        top_reason = reasons.get(top[0])
        headlines.append(
            Headline(
                _("Top reason"),
                top_reason.label if top_reason else "–",
                _("%(share)s of all rejections")
                % {"share": _fmt(_rate(sum(top[1].values()), total))},
            )
        )
    return Report(
        slug="rejections",
        headlines=headlines,
        tables=[
            Table(
                _("Rejection reasons"),
                [_("Reason"), _("MQL"), _("SQL"), _("Rejections"), _("Share"), _("Cumulative")],
                rows,
            )
        ],
        chart={
            "labels": labels,
            "drill": drills,
            "datasets": [
                {"type": "bar", "label": _("Rejections"), "data": bars, "yAxisID": "y"},
                {"type": "line", "label": _("Cumulative %"), "data": line, "yAxisID": "y2"},
            ],
            "percentAxis": True,
        },
        is_empty=total == 0,
    )


# --- 2. Acceptance and conversion -----------------------------------------------

BREAKDOWNS = ("week", "band", "bucket", "rule", "source", "campaign", "content")


def _breakdown_label(by: str) -> str:
    return {
        "week": _("Week"), "band": _("Band"), "bucket": _("Score"), "rule": _("Rule"),
        "source": _("Source"), "campaign": _("Campaign (last touch)"),
        "content": _("Content (last touch)"),
    }[by]  # fmt: skip


def _counts() -> dict:
    return {
        "mqls": Count("pk"),
        "accepted": Count("pk", filter=Q(accepted_at__isnull=False)),
        "rejected": Count("pk", filter=Q(rejected_at__isnull=False)),
        "sqls": Count("pk", filter=Q(sql_at__isnull=False)),
        "won": Count("pk", filter=Q(won_at__isnull=False)),
    }


def acceptance_report(*, actor, f: ReportFilter, by: str = "week") -> Report:
    """MQLs of the period (their MQL moment's local day) by ``by``: acceptance, conversion."""
    if by not in BREAKDOWNS:
        by = "week"
    facts = _filtered(actor, f)
    zone = timezone.get_current_timezone()
    if by == "rule":
        prefix = "facts__"
        hits = CycleRuleHit.objects.filter(_filter_q(actor, f, prefix=prefix))
        grouped = (
            hits.values("rule_key")
            .annotate(
                mqls=Count("pk"),
                accepted=Count("pk", filter=Q(**{f"{prefix}accepted_at__isnull": False})),
                rejected=Count("pk", filter=Q(**{f"{prefix}rejected_at__isnull": False})),
                sqls=Count("pk", filter=Q(**{f"{prefix}sql_at__isnull": False})),
                won=Count("pk", filter=Q(**{f"{prefix}won_at__isnull": False})),
            )
            .order_by("-mqls", "rule_key")
        )
        keyed = [(row["rule_key"], row["rule_key"], row) for row in grouped]
    else:
        key = {
            "week": TruncWeek("mql_at", tzinfo=zone), "band": F("band"),
            "bucket": F("score_bucket"), "source": F("source"),
            "campaign": F("last_campaign"), "content": F("last_content"),
        }[by]  # fmt: skip
        grouped = facts.annotate(k=key).values("k").annotate(**_counts()).order_by("k")
        keyed = []
        for row in grouped:
            k = row["k"]
            if by == "week":
                k = timezone.localtime(k, zone).date() if isinstance(k, datetime) else k
                keyed.append((k.isoformat(), date_format(k, "SHORT_DATE_FORMAT"), row))
            elif by == "bucket":
                keyed.append(
                    (k if k is not None else "", f"{k}–{k + 9}" if k is not None else "–", row)
                )
            elif by == "band":
                keyed.append((k, Band(k).label if k in Band.values else (k or "–"), row))
            else:
                keyed.append((k, k or _("(none)"), row))
        if by in ("campaign", "content", "source"):
            keyed.sort(key=lambda item: -item[2]["mqls"])
    rows, labels, mql_bars, acc_line, conv_line, drills = [], [], [], [], [], []
    totals = dict.fromkeys(("mqls", "accepted", "rejected", "sqls", "won"), 0)
    for k, label, row in keyed:
        cell = {by: k}
        acc = _rate(row["accepted"], row["accepted"] + row["rejected"])
        conv = _rate(row["sqls"], row["mqls"])
        rows.append(
            [
                Cell(label, _drill("acceptance", f, **cell)),
                Cell(row["mqls"], _drill("acceptance", f, **cell)),
                Cell(row["accepted"], _drill("acceptance", f, **cell, reached="accepted")),
                Cell(row["rejected"], _drill("acceptance", f, **cell, reached="rejected")),
                Cell(acc),
                Cell(row["sqls"], _drill("acceptance", f, **cell, reached="sql")),
                Cell(conv),
                Cell(row["won"], _drill("acceptance", f, **cell, reached="won")),
            ]
        )
        for name in totals:
            totals[name] += row[name]
        labels.append(label)
        mql_bars.append(row["mqls"])
        acc_line.append(_pct(acc))
        conv_line.append(_pct(conv))
        drills.append(_drill("acceptance", f, **cell))
    # A cycle hits several rules: by rule, the sum of the rows is not the MQLs.
    overall = facts.aggregate(**_counts()) if by == "rule" else totals
    headline_mqls = overall["mqls"]
    return Report(
        slug="acceptance",
        headlines=[
            Headline(
                _("Acceptance"),
                _fmt(_rate(overall["accepted"], overall["accepted"] + overall["rejected"])),
                _("%(n)s of %(d)s judged")
                % {"n": overall["accepted"], "d": overall["accepted"] + overall["rejected"]},
            ),
            Headline(_("MQL → SQL"), _fmt(_rate(overall["sqls"], overall["mqls"]))),
            Headline(_("MQLs"), _fmt(headline_mqls)),
        ],
        tables=[
            Table(
                _("By %(what)s") % {"what": _breakdown_label(by).lower()},
                [
                    _breakdown_label(by),
                    _("MQLs"),
                    _("Accepted"),
                    _("Rejected"),
                    _("Acceptance"),
                    _("SQLs"),
                    _("Conversion"),
                    _("Won"),
                ],
                rows,
            )
        ],
        chart={
            "labels": labels,
            "drill": drills,
            "datasets": [
                {"type": "bar", "label": _("MQLs"), "data": mql_bars, "yAxisID": "y"},
                {"type": "line", "label": _("Acceptance %"), "data": acc_line, "yAxisID": "y2"},
                {"type": "line", "label": _("Conversion %"), "data": conv_line, "yAxisID": "y2"},
            ],
            "percentAxis": True,
        },
        is_empty=headline_mqls == 0,
    )


# --- 3. The funnel ---------------------------------------------------------------

# (the stage's facts column, the column of the stage before it)
FUNNEL = (
    ("accepted", "accepted_at", "mql_at"),
    ("sql", "sql_at", "accepted_at"),
    ("opportunity", "opportunity_at", "sql_at"),
    ("won", "won_at", "opportunity_at"),
)


class MedianSeconds(Aggregate):
    """PostgreSQL's median of ``later - earlier`` in seconds (NULLs ignored)."""

    function = "percentile_cont"
    template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (%(expressions)s)))"
    arg_joiner = " - "
    output_field = FloatField()


def _stage_label(stage: str) -> str:
    return {
        "mql": _("MQL"), "accepted": _("Accepted"), "sql": _("SQL"),
        "opportunity": _("Opportunity"), "won": _("Won"),
    }[stage]  # fmt: skip


def _days(seconds: float | None) -> Decimal | None:
    """Days to one decimal (a Decimal: shown as a number, never as a percentage)."""
    return None if seconds is None else Decimal(str(round(seconds / 86400, 1)))


def funnel_report(*, actor, f: ReportFilter) -> Report:
    """Monthly cohorts of MQLs (local month): how many reached each stage, how fast."""
    zone = timezone.get_current_timezone()
    facts = _filtered(actor, f).annotate(month=TruncMonth("mql_at", tzinfo=zone))
    counts = {
        "mql": Count("pk"),
        "accepted": Count("pk", filter=Q(accepted_at__isnull=False)),
        "sql": Count("pk", filter=Q(sql_at__isnull=False)),
        "opportunity": Count("pk", filter=Q(opportunity_at__isnull=False)),
        "won": Count("pk", filter=Q(won_at__isnull=False)),
    }
    postgres = connection.vendor == "postgresql"
    medians = {}
    if postgres:
        medians = {f"d_{stage}": MedianSeconds(later, earlier) for stage, later, earlier in FUNNEL}
    grouped = list(facts.values("month").annotate(**counts, **medians).order_by("month"))
    if not postgres:  # SQLite has no percentile: the same medians, in Python
        spans: dict = {}
        for row in facts.values("month", *{c for _s, a, b in FUNNEL for c in (a, b)}):
            for stage, later, earlier in FUNNEL:
                if row[later] and row[earlier]:
                    span = (row[later] - row[earlier]).total_seconds()
                    spans.setdefault((row["month"], stage), []).append(span)
        for row in grouped:
            for stage, *_cols in FUNNEL:
                found = spans.get((row["month"], stage))
                row[f"d_{stage}"] = statistics.median(found) if found else None
    stages = ["mql", *(s for s, *_c in FUNNEL)]
    rows = []
    totals = dict.fromkeys(stages, 0)
    for row in grouped:
        month = (
            timezone.localtime(row["month"], zone).date()
            if isinstance(row["month"], datetime)
            else row["month"]
        )
        key = month.strftime("%Y-%m")
        cells = [Cell(key, _drill("funnel", f, month=key))]
        previous = None
        for stage in stages:
            totals[stage] += row[stage]
            cells.append(Cell(row[stage], _drill("funnel", f, month=key, reached=stage)))
            if previous is not None:
                cells.append(Cell(_rate(row[stage], row[previous])))
                cells.append(Cell(_days(row[f"d_{stage}"])))
            previous = stage
        rows.append(cells)
    columns = [_("Cohort")]
    previous = None
    for stage in stages:
        columns.append(_stage_label(stage))
        if previous is not None:
            columns.append(
                _("%(from)s → %(to)s") % {"from": _stage_label(previous), "to": _stage_label(stage)}
            )
            columns.append(_("Median days to %(stage)s") % {"stage": _stage_label(stage)})
        previous = stage
    return Report(
        slug="funnel",
        headlines=[
            Headline(_("MQLs"), _fmt(totals["mql"])),
            Headline(_("MQL → won"), _fmt(_rate(totals["won"], totals["mql"]))),
            Headline(_("Won"), _fmt(totals["won"])),
        ],
        tables=[Table(_("Monthly cohorts"), columns, rows)],
        chart={
            "labels": [_stage_label(s) for s in stages],
            "drill": [_drill("funnel", f, reached=s) for s in stages],
            "datasets": [
                {
                    "type": "bar",
                    "label": _("Cycles"),
                    "data": [totals[s] for s in stages],
                    "yAxisID": "y",
                }
            ],
            "horizontal": True,
        },
        is_empty=totals["mql"] == 0,
        notes=[
            _(
                "Each cohort is the month its leads became MQLs; the median is over the cycles that reached the stage."
            )
        ],
    )


# --- 4. Campaign and content ROI -------------------------------------------------


TOUCH_COLUMNS = ("first_campaign", "last_campaign", "first_content", "last_content")


def roi_touches(facts: QuerySet[CycleFacts]) -> dict[str, dict[str, dict]]:
    """Per touch column, per key: the leads (distinct contacts), MQLs, SQLs, won, revenue.

    One grouped pass over the combinations of the four touch columns, rolled up here,
    instead of four grouped scans each with its own COUNT(DISTINCT): on a year of facts
    that is one aggregate of ~75 ms instead of four of ~65 ms. A lead counts once per key
    however many of its cycles the key touched; such repeats are rare, so they are taken
    back from the few contacts with more than one cycle in the filtered set.
    """
    touched: dict[str, dict[str, dict]] = {column: {} for column in TOUCH_COLUMNS}
    combos = (
        facts.values(*TOUCH_COLUMNS)
        .annotate(
            leads=Count("contact_id"),
            mqls=Count("pk"),
            sqls=Count("pk", filter=Q(sql_at__isnull=False)),
            won=Count("pk", filter=Q(won_at__isnull=False)),
            revenue=Sum("revenue"),
        )
        .order_by()
    )
    for combo in combos:
        for column in TOUCH_COLUMNS:
            if not combo[column]:
                continue
            measures = touched[column].setdefault(
                combo[column], {"leads": 0, "mqls": 0, "sqls": 0, "won": 0, "revenue": 0}
            )
            for measure in ("leads", "mqls", "sqls", "won"):
                measures[measure] += combo[measure]
            measures["revenue"] += combo["revenue"] or 0
    repeated = (
        facts.exclude(contact_id=None)
        .values("contact_id")
        .annotate(cycles=Count("pk"))
        .filter(cycles__gt=1)
        .values("contact_id")
    )
    seen: set[tuple[str, str, int]] = set()
    for row in facts.filter(contact_id__in=repeated).values(*TOUCH_COLUMNS, "contact_id"):
        for column in TOUCH_COLUMNS:
            if not row[column]:
                continue
            mark = (column, row[column], row["contact_id"])
            if mark in seen:
                touched[column][row[column]]["leads"] -= 1
            seen.add(mark)
    return touched


def roi_report(*, actor, f: ReportFilter) -> Report:
    """For each campaign and content: the leads it touched before their MQL (first and last
    touch), and the MQLs, SQLs, won deals and revenue that followed."""
    touched = roi_touches(_filtered(actor, f))
    tables, chart_labels, chart_data, chart_drill = [], [], [], []
    revenue_total = Decimal(0)
    any_rows = False
    for dim, title in (("campaign", _("Campaigns")), ("content", _("Content"))):
        merged: dict[str, dict] = {}
        for touch in ("first", "last"):
            for key, row in touched[f"{touch}_{dim}"].items():
                merged.setdefault(key, {})[touch] = row
        ordered = sorted(
            merged.items(),
            key=lambda item: (
                -float(item[1].get("last", {}).get("revenue") or 0),
                -(item[1].get("last", {}).get("mqls") or 0),
                item[0],
            ),
        )
        rows = []
        for key, per_touch in ordered:
            cells = [Cell(key)]
            for touch in ("first", "last"):
                row = per_touch.get(touch, {})
                cell = {dim: key, "touch": touch}
                cells += [
                    Cell(row.get("leads", 0)),
                    Cell(row.get("mqls", 0), _drill("roi", f, **cell) if row else ""),
                    Cell(
                        row.get("sqls", 0),
                        _drill("roi", f, **cell, reached="sql") if row.get("sqls") else "",
                    ),
                    Cell(
                        row.get("won", 0),
                        _drill("roi", f, **cell, reached="won") if row.get("won") else "",
                    ),
                    Cell(int(row.get("revenue") or 0)),
                ]
            rows.append(cells)
            if dim == "campaign":
                last = per_touch.get("last", {})
                revenue_total += last.get("revenue") or 0
                if len(chart_labels) < 12:
                    chart_labels.append(key)
                    chart_data.append(int(last.get("revenue") or 0))
                    chart_drill.append(_drill("roi", f, campaign=key, touch="last", reached="won"))
        any_rows = any_rows or bool(rows)
        columns = [title]
        figures = (_("Leads"), _("MQLs"), _("SQLs"), _("Won"), _("Revenue (JPY)"))
        for touch_label in (_("first touch"), _("last touch")):
            columns += [f"{figure} ({touch_label})" for figure in figures]
        tables.append(Table(title, columns, rows))
    return Report(
        slug="roi",
        headlines=[
            Headline(_("Revenue won (last touch)"), f"¥{revenue_total:,.0f}"),
            Headline(_("Campaigns"), _fmt(len(tables[0].rows))),
            Headline(_("Content"), _fmt(len(tables[1].rows))),
        ],
        tables=tables,
        chart={
            "labels": chart_labels,
            "drill": chart_drill,
            "datasets": [
                {
                    "type": "bar",
                    "label": _("Revenue won, last touch (JPY)"),
                    "data": chart_data,
                    "yAxisID": "y",
                }
            ],
            "horizontal": True,
        },
        is_empty=not any_rows,
    )


# --- 5. SLA compliance -----------------------------------------------------------


def _sla_measures(now: datetime) -> dict:
    touch_met = Q(first_touch_at__isnull=False, first_touch_at__lte=F("first_touch_due_at"))
    touch_late = Q(first_touch_at__gt=F("first_touch_due_at")) | Q(
        first_touch_at__isnull=True, first_touch_due_at__lt=now, stage__in=sorted(INSIDE_STAGES)
    )
    qual_met = Q(sql_at__isnull=False, sql_at__lte=F("qualify_due_at"))
    qual_late = Q(sql_at__gt=F("qualify_due_at")) | Q(
        sql_at__isnull=True, qualify_due_at__lt=now, stage__in=sorted(INSIDE_STAGES)
    )
    return {
        "touch_met": Count("pk", filter=touch_met),
        "touch_late": Count("pk", filter=touch_late),
        "qual_met": Count("pk", filter=qual_met),
        "qual_late": Count("pk", filter=qual_late),
        "mqls": Count("pk"),
    }


SLA_CELLS = {"touch_met": "touch_met", "touch_late": "touch_breached", "qual_met": "qualify_met",
             "qual_late": "qualify_breached"}  # fmt: skip


def sla_report(*, actor, f: ReportFilter) -> Report:
    """Inside sales' SLAs for the period's MQLs: first touch and qualification, met or breached,
    per rep (managers; a rep sees their own row) and for the team."""
    now = timezone.now()
    facts = _filtered(actor, f)
    measures = _sla_measures(now)
    # One grouped scan: the team's figures are the sum of its owners' (unassigned included).
    per_owner = list(
        facts.values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(**measures)
        .order_by("owner__username")
    )
    team = {measure: sum(row[measure] for row in per_owner) for measure in measures}
    per_rep = []
    if can_view_rep_figures(actor) or not can_view_team_reports(actor):
        per_rep = [row for row in per_owner if row["owner_id"] is not None]

    def cells(row, **cell) -> list[Cell]:
        out = [Cell(row["mqls"], _drill("sla", f, **cell))]
        for met, late in (("touch_met", "touch_late"), ("qual_met", "qual_late")):
            out += [
                Cell(row[met], _drill("sla", f, **cell, sla=SLA_CELLS[met]) if row[met] else ""),
                Cell(row[late], _drill("sla", f, **cell, sla=SLA_CELLS[late]) if row[late] else ""),
                Cell(_rate(row[met], row[met] + row[late])),
            ]
        return out

    rows = []
    labels, data, drills = [], [], []
    for row in per_rep:
        name = (
            f"{row['owner__last_name']} {row['owner__first_name']}".strip()
            or row["owner__username"]
        )
        rows.append([Cell(name), *cells(row, owner=row["owner_id"])])
        labels.append(name)
        data.append(_pct(_rate(row["touch_met"], row["touch_met"] + row["touch_late"])))
        drills.append(_drill("sla", f, owner=row["owner_id"], sla="touch_breached"))
    if can_view_team_reports(actor):
        rows.append([Cell(_("Team")), *cells(team)])
    if not labels:
        labels = [_("Team")]
        data = [_pct(_rate(team["touch_met"], team["touch_met"] + team["touch_late"]))]
        drills = [_drill("sla", f, sla="touch_breached")]
    columns = [_("Rep"), _("MQLs"), _("First touch met"), _("First touch breached"),
               _("First touch on time"), _("Qualified in time"), _("Qualification breached"),
               _("Qualification on time")]  # fmt: skip
    touch_rate = _rate(team["touch_met"], team["touch_met"] + team["touch_late"])
    return Report(
        slug="sla",
        headlines=[
            Headline(
                _("First touch on time"),
                _fmt(touch_rate),
                _("%(n)s breached") % {"n": team["touch_late"]},
            ),
            Headline(
                _("Qualified on time"),
                _fmt(_rate(team["qual_met"], team["qual_met"] + team["qual_late"])),
                _("%(n)s breached") % {"n": team["qual_late"]},
            ),
        ],
        tables=[Table(_("SLA compliance"), columns, rows)],
        chart={
            "labels": labels,
            "drill": drills,
            "datasets": [
                {"type": "bar", "label": _("First touch on time %"), "data": data, "yAxisID": "y2"}
            ],
            "percentAxis": True,
            "percentOnly": True,
        },
        is_empty=team["mqls"] == 0,
    )


# --- 6. The effect of each activated definition ----------------------------------


def _windows(activated: datetime, days: int, now: datetime) -> tuple[datetime, datetime, datetime]:
    """Equal periods before and after an activation: (before from, activation, after until)."""
    span = min(timedelta(days=days), max(now - activated, timedelta(0)))
    return activated - span, activated, activated + span


def effect_report(*, actor, f: ReportFilter, days: int = 30) -> Report:
    """For each activated definition: MQLs, acceptance and conversion in the ``days`` before
    and after its activation (shortened alike while the after period is still running).
    The filter bar's dates are not used; its team, rep, band and source are."""
    days = max(7, min(int(days), 180))
    now = timezone.now()
    versions = list(
        DefinitionVersion.objects.filter(activated_at__isnull=False).order_by("activated_at")
    )
    facts = _filtered(actor, f, on=None)
    measures = {}
    for v in versions:
        low, mid, high = _windows(v.activated_at, days, now)
        for side, window in (
            ("b", Q(mql_at__gte=low, mql_at__lt=mid)),
            ("a", Q(mql_at__gte=mid, mql_at__lt=high)),
        ):
            p = f"v{v.pk}{side}"
            measures[f"{p}_mqls"] = Count("pk", filter=window)
            measures[f"{p}_acc"] = Count("pk", filter=window & Q(accepted_at__isnull=False))
            measures[f"{p}_rej"] = Count("pk", filter=window & Q(rejected_at__isnull=False))
            measures[f"{p}_sql"] = Count("pk", filter=window & Q(sql_at__isnull=False))
    got = facts.aggregate(**measures) if measures else {}
    rows, labels, before_acc, after_acc, drills = [], [], [], [], []
    for v in reversed(versions):
        low, mid, high = _windows(v.activated_at, days, now)
        if high - mid < timedelta(days=1) or not (got[f"v{v.pk}b_mqls"] and got[f"v{v.pk}a_mqls"]):
            continue  # nothing to compare yet: under a day after, or MQLs on one side only
        label = _("Version %(n)s") % {"n": v.number}
        cells = [Cell(label), Cell(date_format(timezone.localtime(v.activated_at), "SHORT_DATE_FORMAT")),
                 Cell((high - mid).days)]  # fmt: skip
        figures = {}
        for side in ("b", "a"):
            p = f"v{v.pk}{side}"
            mqls, acc, rej, sqls = (got[f"{p}_{m}"] for m in ("mqls", "acc", "rej", "sql"))
            figures[side] = (_rate(acc, acc + rej), _rate(sqls, mqls))
            window = "before" if side == "b" else "after"
            cells += [
                Cell(mqls, _drill("effect", f, version=v.pk, window=window, days=days)),
                Cell(figures[side][0]),
                Cell(figures[side][1]),
            ]
        rows.append(cells)
        labels.append(label)
        before_acc.append(_pct(figures["b"][0]))
        after_acc.append(_pct(figures["a"][0]))
        drills.append(_drill("effect", f, version=v.pk, window="after", days=days))
    labels.reverse(), before_acc.reverse(), after_acc.reverse(), drills.reverse()
    headlines = []
    if rows:
        latest = rows[0]
        headlines = [
            Headline(_("Acceptance after %(v)s") % {"v": latest[0].value}, str(latest[7]),
                     _("before: %(b)s") % {"b": latest[4]}),
            Headline(_("MQLs after"), str(latest[6]), _("before: %(b)s") % {"b": latest[3]}),
        ]  # fmt: skip
    columns = [_("Definition"), _("Activated"), _("Days compared"), _("MQLs before"),
               _("Acceptance before"), _("Conversion before"), _("MQLs after"),
               _("Acceptance after"), _("Conversion after")]  # fmt: skip
    return Report(
        slug="effect",
        headlines=headlines,
        tables=[Table(_("Before and after each activation"), columns, rows)],
        chart={
            "labels": labels,
            "drill": drills,
            "datasets": [
                {
                    "type": "bar",
                    "label": _("Acceptance before %"),
                    "data": before_acc,
                    "yAxisID": "y2",
                },
                {
                    "type": "bar",
                    "label": _("Acceptance after %"),
                    "data": after_acc,
                    "yAxisID": "y2",
                },
            ],
            "percentAxis": True,
            "percentOnly": True,
        },
        is_empty=not rows,
    )


def report_build(*, actor, slug: str, f: ReportFilter, params: Mapping[str, str]) -> Report:
    if slug == "acceptance":
        return acceptance_report(actor=actor, f=f, by=params.get("by", "week"))
    if slug == "effect":
        try:
            days = int(params.get("days", 30))
        except ValueError:
            days = 30
        return effect_report(actor=actor, f=f, days=days)
    return {
        "rejections": rejections_report, "funnel": funnel_report, "roi": roi_report,
        "sla": sla_report,
    }[slug](actor=actor, f=f)  # fmt: skip


# --- The drill-down --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DrillDown:
    facts: list[CycleFacts]
    total: int
    limit: int


def _reached(value: str) -> Q:
    return {
        "accepted": Q(accepted_at__isnull=False), "rejected": Q(rejected_at__isnull=False),
        "sql": Q(sql_at__isnull=False), "opportunity": Q(opportunity_at__isnull=False),
        "won": Q(won_at__isnull=False), "mql": Q(),
    }.get(value, Q(pk__in=[]))  # fmt: skip


def report_leads(*, actor, f: ReportFilter, params: Mapping[str, str]) -> DrillDown:
    """The cycles behind one cell of a report: its filters, then the cell's keys."""
    slug = params.get("report", "")
    if slug not in REPORTS:
        raise ValidationError({"report": _("Choose a report.")})
    zone = timezone.get_current_timezone()
    on = "mql_at"
    if slug == "rejections":
        kind = params.get("kind", "")
        if kind not in ("mql", "sql"):
            kind = {Pool.INSIDE: "mql", Pool.FIELD: "sql"}.get(f.team, "")
        if kind:
            on = "rejected_at" if kind == "mql" else "sql_rejected_at"
            facts = _filtered(actor, f, on=on)
            column = "reason__code" if kind == "mql" else "sql_reason__code"
            facts = facts.filter(**{column: params.get("reason", "")})
        else:  # both kinds, each counted on its own verdict's day
            facts = _filtered(actor, f, on="rejected_at").filter(
                reason__code=params.get("reason", "")
            ) | _filtered(actor, f, on="sql_rejected_at").filter(
                sql_reason__code=params.get("reason", "")
            )
    elif slug == "effect":
        version = DefinitionVersion.objects.filter(
            pk=int(params.get("version") or 0) if str(params.get("version", "")).isdigit() else 0,
            activated_at__isnull=False,
        ).first()
        if version is None:
            raise ValidationError({"version": _("Choose an activated definition.")})
        try:
            days = max(7, min(int(params.get("days", 30)), 180))
        except ValueError:
            days = 30
        low, mid, high = _windows(version.activated_at, days, timezone.now())
        window = (low, mid) if params.get("window") == "before" else (mid, high)
        facts = _filtered(actor, f, on=None).filter(mql_at__gte=window[0], mql_at__lt=window[1])
    else:
        facts = _filtered(actor, f)
    if "week" in params:
        start = datetime.combine(date.fromisoformat(params["week"]), time(), tzinfo=zone)
        facts = facts.filter(mql_at__gte=start, mql_at__lt=start + timedelta(days=7))
    if "month" in params:
        first = date.fromisoformat(params["month"] + "-01")
        after = (first + timedelta(days=32)).replace(day=1)
        facts = facts.filter(
            mql_at__gte=datetime.combine(first, time(), tzinfo=zone),
            mql_at__lt=datetime.combine(after, time(), tzinfo=zone),
        )
    if "band" in params and slug != "rejections":
        facts = facts.filter(band=params["band"])
    if params.get("bucket", "") != "":
        facts = facts.filter(score_bucket=int(params["bucket"]))
    if "rule" in params:
        facts = facts.filter(
            cycle_id__in=CycleRuleHit.objects.filter(rule_key=params["rule"]).values("cycle_id")
        )
    if slug == "acceptance" and "source" in params:
        facts = facts.filter(source=params["source"])
    touch = params.get("touch", "last")
    touch = touch if touch in ("first", "last") else "last"
    if "campaign" in params:
        facts = facts.filter(**{f"{touch}_campaign": params["campaign"]})
    if "content" in params:
        facts = facts.filter(**{f"{touch}_content": params["content"]})
    if "reached" in params:
        facts = facts.filter(_reached(params["reached"]))
    if params.get("owner", "").isdigit():
        owner = int(params["owner"])
        if owner != actor.pk and not can_view_rep_figures(actor):
            raise PermissionDenied(_("You see your own figures, not another rep's."))
        facts = facts.filter(owner_id=owner)
    if "sla" in params:
        measures = _sla_measures(timezone.now())
        key = {v: k for k, v in SLA_CELLS.items()}.get(params["sla"])
        if key is None:
            raise ValidationError({"sla": _("Choose met or breached.")})
        facts = facts.filter(measures[key].filter)
    total = facts.count()
    rows = list(
        facts.select_related(
            "cycle__contact", "cycle__company", "owner", "reason", "sql_reason"
        ).order_by("-mql_at", "-pk")[:DRILL_LIMIT]
    )
    return DrillDown(facts=rows, total=total, limit=DRILL_LIMIT)


# --- CSV -------------------------------------------------------------------------


def report_csv_rows(report: Report) -> list[list[object]]:
    """The report's tables as CSV rows (a title row, the header, the rows, a blank line)."""
    out: list[list[object]] = []
    for table in report.tables:
        out.append([table.title])
        out.append(list(table.columns))
        for row in table.rows:
            out.append([_csv_value(cell.value) for cell in row])
        out.append([])
    return out


def _csv_value(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
