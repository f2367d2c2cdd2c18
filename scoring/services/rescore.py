"""Set-based rescoring: many leads' scores in a handful of queries.

For a set of contacts (an id range for a full rescore, an id list for the
incremental path) SQL does the heavy part, one aggregate pass each over:

* the contacts' own activities, grouped by contact;
* their companies' contact-less activities, grouped by company;
* their companies' intent signals, grouped by company;

with one ``SUM(CASE …)`` column pair (hits, decayed points) per rule, so each
row of activity is read once whatever the number of rules. Attribute (fit)
rules and the final step (caps, rounding to hundredths, bands) run in Python
through the engine itself (``totals_from_sums``), so they cannot drift from the
pure function. Then one upsert of the scores, one insert of band changes and
one insert of new MQL events. The same code runs on PostgreSQL and SQLite;
only the age expression differs.

Text filters compare the stored match keys (``Activity.url_key`` …,
``IntentSignal.topic_key``) with ``match_key`` of the rule's text, exactly as
the engine does; property conditions read ``Activity.property_keys`` and
``property_numbers`` (JSON: ``->>`` on PostgreSQL, ``json_extract`` on SQLite;
regular expressions with ``~`` / Django's REGEXP). MQL triggers need nothing
more from SQL: a trigger fires on its rule's windowed hits, which the
aggregate already counts, and ``totals_from_sums`` decides the band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction

from config.db import server_binding_cursor
from leads.models import Activity, Company, Contact, IntentSignal
from scoring.engine import (
    BehaviourRule,
    Definition,
    IntentRule,
    LeadFacts,
    PropertyCondition,
    PropertyOp,
    Score,
    decayed_sum_at,
    match_key,
    score_from_sums,
    totals_from_sums,
)
from scoring.engine.conditions import NUMBER_OPS
from scoring.facts import COMPANY_FIELDS, CONTACT_FIELDS, attributes_of
from scoring.models import BandChange, DefinitionVersion, LeadScore, MqlEvent
from scoring.signals import mql_events_recorded

Sums = dict[str, tuple[int, float]]


class Totals(NamedTuple):
    """What a stored score needs: ``totals_from_sums``'s result (a ``Score`` has the same)."""

    total: float
    fit: float
    engagement: float
    band: str


def _finish(definition: Definition, matched, sums: Sums, breakdown: bool) -> Score | Totals:
    if breakdown:
        return score_from_sums(definition, matched_attributes=matched, sums=sums)
    return Totals(*totals_from_sums(definition, matched_attributes=matched, sums=sums))


@dataclass(frozen=True, slots=True)
class Subjects:
    """Which leads to score: an inclusive id range, or explicit ids (not both)."""

    low: int | None = None
    high: int | None = None
    ids: tuple[int, ...] | None = None

    def sql(self, column: str) -> tuple[str, list[object]]:
        if self.ids is not None:
            if not self.ids:
                return "1 = 0", []
            return f"{column} IN ({', '.join(['%s'] * len(self.ids))})", list(self.ids)
        return f"{column} BETWEEN %s AND %s", [self.low, self.high]

    def filter(self, field: str) -> dict[str, object]:
        if self.ids is not None:
            return {f"{field}__in": self.ids}
        return {f"{field}__gte": self.low, f"{field}__lte": self.high}


# --- SQL -----------------------------------------------------------------------------


def _db_time(at: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(at)


def _age_days_sql(column: str) -> str:
    """Days from ``column`` to the parameter ``at`` (first %s), as a double."""
    if connection.vendor == "postgresql":
        return f"(EXTRACT(EPOCH FROM (%s::timestamptz - {column}))::float8 / 86400.0)"
    # SQLite stores UTC text; julianday() reads it (to the millisecond).
    return f"(julianday(%s) - julianday({column}))"


def _contains_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"strpos({column}, %s) > 0"
    return f"instr({column}, %s) > 0"


def _num(value: float) -> str:
    # Rule numbers are validated finite floats; repr() round-trips them exactly.
    return repr(float(value))


def _rule_match(rule: BehaviourRule | IntentRule) -> tuple[str, list[object]]:
    """The rule's match condition over the inner query ``a`` (time and window aside)."""
    conditions: list[str] = []
    params: list[object] = []
    if isinstance(rule, BehaviourRule):
        kinds = sorted(rule.kinds)
        conditions.append(f"a.kind IN ({', '.join(['%s'] * len(kinds))})")
        params += kinds
        for needle, column in (
            (rule.url_contains, "a.url_key"),
            (rule.content_contains, "a.content_key"),
        ):
            if needle:
                conditions.append(_contains_sql(column))
                params.append(match_key(needle))
        if rule.campaign:
            conditions.append("a.campaign_key = %s")
            params.append(match_key(rule.campaign))
        for condition in rule.conditions:
            sql, condition_params = _condition_sql(condition)
            conditions.append(sql)
            params += condition_params
    else:
        conditions.append(f"a.strength >= {int(rule.min_strength)}")
        if rule.topics:
            topics = sorted({match_key(t) for t in rule.topics})
            conditions.append(f"a.topic_key IN ({', '.join(['%s'] * len(topics))})")
            params += topics
    return " AND ".join(conditions), params


def _property_sql(column: str, name: str) -> tuple[str, list[object]]:
    """The property's value in the JSON ``column`` of ``a``: text, number, or NULL if absent."""
    if connection.vendor == "postgresql":
        return f"(a.{column} ->> %s::text)", [name]
    # Names are letters, digits, _ . - (PropertyCondition): safe in a quoted JSON path label.
    return f"json_extract(a.{column}, %s)", [f'$."{name}"']


def _condition_sql(condition: PropertyCondition) -> tuple[str, list[object]]:
    """The condition over ``a``'s stored property forms, exactly as ``PropertyCondition.holds``.

    A missing property gives NULL, which COALESCE turns into false before NOT,
    so a negated condition holds for it, as in the engine.
    """
    op = condition.op
    if op in NUMBER_OPS:
        value, params = _property_sql("property_numbers", condition.property)
        if connection.vendor == "postgresql":
            value = f"{value}::float8"
        symbol = {
            PropertyOp.GT: ">",
            PropertyOp.GTE: ">=",
            PropertyOp.LT: "<",
            PropertyOp.LTE: "<=",
        }
        test = f"{value} {symbol[op]} {_num(condition.value)}"  # type: ignore[arg-type]
    else:
        value, params = _property_sql("property_keys", condition.property)
        if op is PropertyOp.IN:
            needles = sorted({match_key(v) for v in condition.value})  # type: ignore[attr-defined]
            test = f"{value} IN ({', '.join(['%s'] * len(needles))})"
            params += needles
        else:
            needle = match_key(condition.value)  # type: ignore[arg-type]
            if op is PropertyOp.EQUALS:
                test = f"{value} = %s"
            elif op is PropertyOp.CONTAINS:
                test = _contains_sql(value)
            elif connection.vendor == "postgresql":
                test = f"{value} ~ %s"
            else:
                test = f"{value} REGEXP %s"  # Django registers REGEXP as Python's re.search
            params.append(needle)
    return f"{'NOT ' if condition.negate else ''}COALESCE({test}, FALSE)", params


def _rule_term(rule: BehaviourRule | IntentRule) -> str:
    """One matching event's decayed points, over ``a.age`` (days before ``at``)."""
    points = _num(rule.points)
    if rule.half_life_days is None:
        return points
    return f"{points} * POWER(0.5, a.age / {_num(rule.half_life_days)})"


def _in_window(
    rule: BehaviourRule | IntentRule, at: datetime, match: str, params: list[object]
) -> tuple[str, list[object]]:
    if rule.window_days is None:
        return match, params
    return f"{match} AND a.at >= %s", [*params, _db_time(at - timedelta(days=rule.window_days))]


def _rule_columns(
    rules: Sequence[BehaviourRule | IntentRule], at: datetime
) -> tuple[list[str], list[object]]:
    """Per rule, a hits column and a decayed-sum column over the inner query ``a``."""
    columns: list[str] = []
    params: list[object] = []
    for n, rule in enumerate(rules):
        match, cond_params = _in_window(rule, at, *_rule_match(rule))
        term = _rule_term(rule)
        columns.append(f"SUM(CASE WHEN {match} THEN 1 ELSE 0 END) AS h{n}")
        columns.append(f"SUM(CASE WHEN {match} THEN {term} ELSE 0 END) AS s{n}")
        params += cond_params + cond_params
    return columns, params


class _Source(NamedTuple):
    """Where a kind of rule reads its events: the table, its columns, and what can hit."""

    rules: Sequence[BehaviourRule | IntentRule]
    table: str
    time_column: str
    extra_columns: str
    where: str  # rows no rule can score are left out here
    params: list[object]


def _activity_source(definition: Definition) -> _Source:
    # Only kinds some rule scores: the rest (e-mail opens, bounces …) cannot hit.
    kinds = sorted(set().union(*(rule.kinds for rule in definition.behaviour)))
    columns = "kind, url_key, content_key, campaign_key"
    # Read only when a rule looks at them: without, PostgreSQL keeps the
    # index-only scan of activity_contact_score_idx.
    if any(rule.conditions for rule in definition.behaviour):
        columns += ", property_keys, property_numbers"
    return _Source(
        rules=definition.behaviour,
        table=connection.ops.quote_name(Activity._meta.db_table),
        time_column="occurred_at",
        extra_columns=columns,
        where=f"kind IN ({', '.join(['%s'] * len(kinds))})" if kinds else "1 = 0",
        params=list(kinds),
    )


def _intent_source(definition: Definition) -> _Source:
    weakest = min((rule.min_strength for rule in definition.intents), default=0)
    return _Source(
        rules=definition.intents,
        table=connection.ops.quote_name(IntentSignal._meta.db_table),
        time_column="observed_at",
        extra_columns="strength, topic_key",
        where=f"strength >= {int(weakest)}",
        params=[],
    )


def _aggregate(
    source: _Source, *, group_column: str, where: str, where_params: list[object], at: datetime
) -> dict[int, Sums]:
    """{group id: {rule key: (hits, decayed)}} for the source's rows matching ``where``."""
    if not source.rules:
        return {}
    time_column = source.time_column
    columns, column_params = _rule_columns(source.rules, at)
    sql = (
        f"SELECT a.grp, {', '.join(columns)} FROM ("
        f"SELECT {group_column} AS grp, {time_column} AS at, {source.extra_columns}, "
        f"{_age_days_sql(time_column)} AS age "
        f"FROM {source.table} WHERE ({where}) AND {source.where} AND {time_column} <= %s"
        f") a GROUP BY a.grp"
    )
    params = [*column_params, _db_time(at), *where_params, *source.params, _db_time(at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _sums_read(cursor.fetchall(), source.rules)


def _sums_read(
    rows, rules: Sequence[BehaviourRule | IntentRule], *, deltas: bool = False
) -> dict[int, Sums]:
    """{group: {rule key: (hits, sum)}} from rows (group, h0, s0, h1, s1, …).

    Rules without hits are left out, except for ``deltas``, where an event
    that came and one that left cancel out in hits but not in points.
    """
    found: dict[int, Sums] = {}
    for row in rows:
        sums = {
            rule.key: (int(row[1 + 2 * n]), float(row[2 + 2 * n]))
            for n, rule in enumerate(rules)
            if row[1 + 2 * n] or (deltas and row[2 + 2 * n])
        }
        if sums:
            found[row[0]] = sums
    return found


def _activity_sums(
    definition: Definition, *, where: str, params: list[object], group: str, at: datetime
) -> dict[int, Sums]:
    return _aggregate(
        _activity_source(definition), group_column=group, where=where, where_params=params, at=at
    )


def _intent_sums(
    definition: Definition, *, where: str, params: list[object], at: datetime
) -> dict[int, Sums]:
    return _aggregate(
        _intent_source(definition),
        group_column="company_id",
        where=where,
        where_params=params,
        at=at,
    )


# --- Running totals: the events since the last score ---------------------------------
#
# A contact's running totals (``LeadScore.base``) hold, per behaviour and
# intent rule, (hits, decayed points) of its events up to ``base_at`` = h.
# At a later moment ``at`` the rule's sum is
#
#     base · 0.5 ** ((at − h) / half-life)  +  events in (h, at]  −  events that left the window
#
# (decay factors out of the sum: every term shrinks by the same factor). A
# window of w days drops the events in [h − w, at − w) that the totals held.
# Both are index range scans over a thin slice of time, so a lead with ten
# thousand past events costs what a lead with ten costs.


def _pairs_sql(pairs: Sequence[tuple[int, datetime]], windows: Sequence[int]):
    """A CTE ``v(n, sid, h, l0, l1, …)``: the n-th (subject id, h) and h − each window."""
    names = ["n", "sid", "h", *(f"l{k}" for k in range(len(windows)))]
    columns = [
        list(range(len(pairs))),
        [sid for sid, _ in pairs],
        [_db_time(h) for _, h in pairs],
        *([_db_time(h - timedelta(days=w)) for _, h in pairs] for w in windows),
    ]
    if connection.vendor == "postgresql":
        types = ["int[]", "bigint[]", *(["timestamptz[]"] * (1 + len(windows)))]
        arrays = ", ".join(f"%s::{t}" for t in types)
        return f"v AS (SELECT * FROM unnest({arrays}) AS v({', '.join(names)}))", columns
    row = f"({', '.join(['%s'] * len(names))})"
    return (
        f"v({', '.join(names)}) AS (VALUES {', '.join([row] * len(pairs))})",
        [value for values in zip(*columns, strict=True) for value in values],
    )


def _delta_aggregate(
    source: _Source,
    *,
    subject_column: str,
    where: str = "1 = 1",
    pairs: Sequence[tuple[int, datetime]],
    at: datetime,
) -> dict[int, Sums]:
    """{n: {rule key: (Δhits, Δsum at ``at``)}} for ``pairs[n]`` = (subject id, h).

    Δ = the matching events in (h, at] (within the rule's window at ``at``)
    minus the events of [h − w, at − w) that were in the totals at h.
    """
    rules = source.rules
    if not rules or not pairs:
        return {}
    if connection.vendor != "postgresql" and len(pairs) > 1000:  # SQLite's parameter limit
        found: dict[int, Sums] = {}
        for i in range(0, len(pairs), 1000):
            part = _delta_aggregate(
                source, subject_column=subject_column, where=where,
                pairs=pairs[i : i + 1000], at=at,
            )  # fmt: skip
            found.update({i + n: sums for n, sums in part.items()})
        return found
    time_column = source.time_column
    windows = sorted({rule.window_days for rule in rules if rule.window_days is not None})
    cte, cte_params = _pairs_sql(pairs, windows)
    select = (
        f"SELECT v.n AS grp, {{tag}} AS tag, {time_column} AS at, {source.extra_columns}, "
        f"{_age_days_sql(time_column)} AS age FROM {source.table} "
        f"JOIN v ON {subject_column} = v.sid WHERE ({where}) AND {source.where} AND {{slice}}"
    )
    parts = [select.format(tag=0, slice=f"{time_column} > v.h AND {time_column} <= %s")]
    part_params = [_db_time(at), *source.params, _db_time(at)]
    for k, w in enumerate(windows):
        parts.append(
            select.format(
                tag=k + 1,
                slice=f"{time_column} >= v.l{k} AND {time_column} < %s AND {time_column} <= v.h",
            )
        )
        part_params += [_db_time(at), *source.params, _db_time(at - timedelta(days=w))]
    columns: list[str] = []
    column_params: list[object] = []
    for n, rule in enumerate(rules):
        match, params = _rule_match(rule)
        recent, recent_params = _in_window(rule, at, f"a.tag = 0 AND {match}", params)
        if rule.window_days is None:
            gone, gone_params = "1 = 0", []
        else:
            gone, gone_params = f"a.tag = {windows.index(rule.window_days) + 1} AND {match}", params
        term = _rule_term(rule)
        columns.append(f"SUM(CASE WHEN {recent} THEN 1 WHEN {gone} THEN -1 ELSE 0 END) AS h{n}")
        columns.append(
            f"SUM(CASE WHEN {recent} THEN {term} WHEN {gone} THEN -({term}) ELSE 0 END) AS s{n}"
        )
        column_params += recent_params + gone_params + recent_params + gone_params
    sql = (
        f"WITH {cte} SELECT a.grp, {', '.join(columns)} "
        f"FROM ({' UNION ALL '.join(parts)}) a GROUP BY a.grp"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cte_params, *column_params, *part_params])
        return _sums_read(cursor.fetchall(), rules, deltas=True)


def _rule_sequence(definition: Definition) -> tuple[BehaviourRule | IntentRule, ...]:
    """The rules a running total is kept for, in the order of ``LeadScore.base``."""
    return (*definition.behaviour, *definition.intents)


def _base_vector(definition: Definition, sums: Sums) -> list[float]:
    vector: list[float] = []
    for rule in _rule_sequence(definition):
        hits, total = sums.get(rule.key, (0, 0.0))
        vector += (float(hits), total)
    return vector


def _sums_since(
    definition: Definition,
    bases: Mapping[int, tuple[int, datetime, Sequence[float]]],
    at: datetime,
) -> dict[int, Sums]:
    """Sums at ``at`` from running totals: {contact: sums}, for {contact: (company, h, base)}.

    A contact whose totals do not add up (a negative count: they missed an
    event) is left out, so the caller rebuilds it from its history.
    """
    if not bases:
        return {}
    contacts = [(cid, h) for cid, (_company, h, _base) in bases.items()]
    companies = sorted({(company, h) for company, h, _base in bases.values()})
    company_n = {pair: n for n, pair in enumerate(companies)}
    activity = _activity_source(definition)
    own = _delta_aggregate(activity, subject_column="contact_id", pairs=contacts, at=at)
    shared = _delta_aggregate(
        activity, subject_column="company_id", where="contact_id IS NULL", pairs=companies, at=at
    )
    intent = _delta_aggregate(
        _intent_source(definition), subject_column="company_id", pairs=companies, at=at
    )
    rules = _rule_sequence(definition)
    found: dict[int, Sums] = {}
    for n, (cid, (company, h, base)) in enumerate(bases.items()):
        n_company = company_n[(company, h)]
        delta = _merged(own.get(n), shared.get(n_company), intent.get(n_company))
        sums: Sums = {}
        for i, rule in enumerate(rules):
            hits_delta, sum_delta = delta.get(rule.key, (0, 0.0))
            hits = round(base[2 * i]) + hits_delta
            if hits < 0:
                break
            if hits:
                decayed = decayed_sum_at(base[2 * i + 1], h, at, rule.half_life_days)
                sums[rule.key] = (hits, decayed + sum_delta)
        else:
            found[cid] = sums
    return found


def _merged(*parts: Sums | None) -> Sums:
    present = [part for part in parts if part]
    if len(present) <= 1:  # most leads: their own activity only
        return present[0] if present else {}
    merged: Sums = {}
    for part in present:
        for key, (hits, total) in (part or {}).items():
            old_hits, old_total = merged.get(key, (0, 0.0))
            merged[key] = (old_hits + hits, old_total + total)
    return merged


class _FitRules:
    """The definition's attribute rules, each evaluated once per distinct value.

    A fit rule reads one attribute (a few with ``all_of``), and leads share
    titles, sizes, industries and e-mail domains, so a chunk has far fewer
    distinct value combinations per rule than leads. The engine's own
    ``matches`` decides each combination, not-in and ANDed conditions included.
    """

    def __init__(self, definition: Definition) -> None:
        self.rules = definition.attributes
        self.seen: dict[str, dict[tuple[object, ...], bool]] = {rule.key: {} for rule in self.rules}

    def matched(self, row: Mapping[str, object]) -> list[str]:
        """The keys of the rules a ``values(*CONTACT_FIELDS)`` (or company) row matches."""
        attributes = attributes_of(row)
        found = []
        for rule in self.rules:
            names = rule.attributes
            values = tuple(attributes.get(name) for name in names)
            cache = self.seen[rule.key]
            hit = cache.get(values)
            if hit is None:
                hit = cache[values] = rule.matches(LeadFacts(dict(zip(names, values, strict=True))))
            if hit:
                found.append(rule.key)
        return found


# --- Computing ------------------------------------------------------------------------


def contact_scores_compute(
    *, definition: Definition, subjects: Subjects, at: datetime, breakdown: bool = False
) -> dict[int, Score | Totals]:
    """Scores of the contacts in ``subjects`` at ``at``: three aggregate queries and one read."""
    rows = list(Contact.objects.filter(**subjects.filter("id")).order_by().values(*CONTACT_FIELDS))
    if not rows:
        return {}
    sums = _contact_sums(definition=definition, subjects=subjects, rows=rows, at=at)
    fit = _FitRules(definition)
    return {
        row["id"]: _finish(definition, fit.matched(row), sums[row["id"]], breakdown) for row in rows
    }


def _contact_sums(
    *, definition: Definition, subjects: Subjects, rows: Sequence[Mapping], at: datetime
) -> dict[int, Sums]:
    """{contact: sums} from the whole history, for the ``rows`` of the contacts in ``subjects``."""
    contact_where, contact_params = subjects.sql("contact_id")
    own = _activity_sums(
        definition, where=contact_where, params=contact_params, group="contact_id", at=at
    )
    contact_table = connection.ops.quote_name(Contact._meta.db_table)
    subject_where, subject_params = subjects.sql("id")
    companies = f"SELECT company_id FROM {contact_table} WHERE {subject_where}"
    if connection.vendor == "postgresql":
        # As an array: the planner then probes the per-company indexes instead
        # of reading every contact-less activity and joining (measured 6x).
        companies_of = f"company_id = ANY(ARRAY({companies}))"
    else:
        companies_of = f"company_id IN ({companies})"
    shared = _activity_sums(
        definition,
        where=f"contact_id IS NULL AND {companies_of}",
        params=subject_params,
        group="company_id",
        at=at,
    )
    intent = _intent_sums(definition, where=companies_of, params=subject_params, at=at)
    return {
        row["id"]: _merged(
            own.get(row["id"]), shared.get(row["company_id"]), intent.get(row["company_id"])
        )
        for row in rows
    }


@dataclass(frozen=True, slots=True)
class Refreshed:
    """Scores from the incremental path, with each contact's new running totals."""

    scores: dict[int, Totals]
    bases: dict[int, list[float]]
    rebuilt: int  # how many were rebuilt from their whole history


def contact_scores_refresh(
    *,
    definition: Definition,
    version: DefinitionVersion,
    earliest: Mapping[int, datetime | None],
    at: datetime,
) -> Refreshed:
    """Scores of the contacts in ``earliest`` at ``at``, from their running totals.

    ``earliest`` maps each contact to the earliest time of its new activity
    (None if none). A contact is rebuilt from its whole history when it has no
    running totals under ``version``, when they are newer than ``at``, or when
    an event arrived late (``earliest`` ≤ their time); otherwise only the
    events since its totals were taken are read. Either way the same sums
    come out, so the engine finishes them as in a full rescore.
    """
    ids = sorted(earliest)
    rows = list(Contact.objects.filter(id__in=ids).order_by().values(*CONTACT_FIELDS))
    rules = _rule_sequence(definition)
    current = {
        cid: (base_at, base)
        for cid, version_id, base_at, base in LeadScore.objects.filter(contact_id__in=ids)
        .order_by()
        .values_list("contact_id", "version_id", "base_at", "base")
        if version_id == version.pk and base_at is not None and base is not None
    }
    usable: dict[int, tuple[int, datetime, Sequence[float]]] = {}
    for row in rows:
        base_at, base = current.get(row["id"], (None, None))
        when = earliest.get(row["id"])
        if (
            base_at is not None
            and len(base) == 2 * len(rules)
            and base_at <= at
            and (when is None or when > base_at)
        ):
            usable[row["id"]] = (row["company_id"], base_at, base)
    sums = _sums_since(definition, usable, at)
    rebuild = [row for row in rows if row["id"] not in sums]
    if rebuild:
        subjects = Subjects(ids=tuple(row["id"] for row in rebuild))
        sums.update(_contact_sums(definition=definition, subjects=subjects, rows=rebuild, at=at))
    fit = _FitRules(definition)
    return Refreshed(
        scores={
            row["id"]: Totals(
                *totals_from_sums(
                    definition, matched_attributes=fit.matched(row), sums=sums[row["id"]]
                )
            )
            for row in rows
        },
        bases={row["id"]: _base_vector(definition, sums[row["id"]]) for row in rows},
        rebuilt=len(rebuild),
    )


def account_scores_compute(
    *, definition: Definition, subjects: Subjects, at: datetime, breakdown: bool = False
) -> dict[int, Score | Totals]:
    """Account scores of the companies in ``subjects``: what the company itself shows.

    Its attributes, its contact-less activity and its intent, whether or not anyone
    there is a contact yet; its contacts' own scores roll up beside it, not into it.
    """
    rows = list(Company.objects.filter(**subjects.filter("id")).order_by().values(*COMPANY_FIELDS))
    if not rows:
        return {}
    where, params = subjects.sql("company_id")
    shared = _activity_sums(
        definition,
        where=f"contact_id IS NULL AND {where}",
        params=params,
        group="company_id",
        at=at,
    )
    intent = _intent_sums(definition, where=where, params=params, at=at)
    fit = _FitRules(definition)
    scores: dict[int, Score | Totals] = {}
    for row in rows:
        sums = _merged(shared.get(row["id"]), intent.get(row["id"]))
        matched = fit.matched(row)
        scores[row["id"]] = _finish(definition, matched, sums, breakdown)
    return scores


# --- Storing ----------------------------------------------------------------------------


def _cents(value: float) -> Decimal:
    return Decimal(round(value * 100)) / 100


def _score_row(score: Score, *, version: DefinitionVersion, at: datetime, **subject) -> LeadScore:
    return LeadScore(
        **subject,
        version=version,
        total=_cents(score.total),
        fit=_cents(score.fit),
        engagement=_cents(score.engagement),
        band=score.band,
        scored_at=at,
    )


_SCORE_FIELDS = [
    "version",
    "total",
    "fit",
    "engagement",
    "band",
    "previous_band",
    "scored_at",
    "base_at",
    "base",
]
_ACCOUNT_FIELDS = [f for f in _SCORE_FIELDS if f not in ("base_at", "base")]  # no running totals


# PostgreSQL: the upsert, the band changes and the new MQL events in one
# statement over arrays. A stored score of the same version that is newer than
# this one is kept (a drain ran while a full rescore was on its way):
# ``skipped`` lists those. Running totals come as one flat array, ``width``
# numbers per contact.
#
# The band a change starts from is the one of the row this statement actually
# updated, read under its lock: ``previous_band = scoring_leadscore.band`` in DO
# UPDATE names the conflicting row as it is once this statement holds it (a
# concurrent store that committed first included), and RETURNING hands it on.
# A CTE reading the old scores would see them as they were when the statement
# began, so two stores of one lead at once (two jobs, a drain and a chunk)
# both recorded the same change.
_PG_STORE_CONTACT_SCORES = """
WITH x AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(totals)s::float8[], %(fits)s::float8[],
                         %(engagements)s::float8[], %(bands)s::text[])
           WITH ORDINALITY AS x(id, total, fit, engagement, band, n)
), b AS (
    SELECT %(bases)s::float8[] AS arr
), stored AS (
    INSERT INTO scoring_leadscore (contact_id, company_id, version_id, total, fit, engagement,
                                   band, previous_band, scored_at, base_at, base)
    SELECT id, NULL, %(version)s, round(total::numeric, 2), round(fit::numeric, 2),
           round(engagement::numeric, 2), band, '', %(at)s, {base_at},
           {base}
    FROM x, b ORDER BY x.id  -- one lock order: overlapping stores queue, never deadlock
    ON CONFLICT (contact_id) DO UPDATE SET
        version_id = EXCLUDED.version_id, total = EXCLUDED.total, fit = EXCLUDED.fit,
        engagement = EXCLUDED.engagement, band = EXCLUDED.band,
        previous_band = scoring_leadscore.band, scored_at = EXCLUDED.scored_at,
        {base_update}
    WHERE scoring_leadscore.version_id <> EXCLUDED.version_id
       OR scoring_leadscore.scored_at <= EXCLUDED.scored_at
    RETURNING contact_id, previous_band
), changed AS (
    INSERT INTO scoring_bandchange (contact_id, company_id, version_id, from_band, to_band, total,
                                    changed_at)
    SELECT x.id, NULL, %(version)s, stored.previous_band, x.band, round(x.total::numeric, 2),
           %(at)s
    FROM x JOIN stored ON stored.contact_id = x.id
    WHERE coalesce(nullif(stored.previous_band, ''), 'cold') <> x.band
), hot AS (
    -- Each time a lead turns hot: from the band of the row actually updated, so two
    -- stores at once record it once (the second starts from the first's "hot").
    INSERT INTO scoring_mqlevent (contact_id, company_id, version_id, total, became_hot_at)
    SELECT id, NULL, %(version)s, round(total::numeric, 2), %(at)s
    FROM x JOIN stored ON stored.contact_id = x.id
    WHERE x.band = 'hot' AND stored.previous_band <> 'hot'
)
SELECT (SELECT count(*) FROM stored),
       ARRAY(SELECT id FROM x WHERE id NOT IN (SELECT contact_id FROM stored) ORDER BY id)
"""
# With running totals (the incremental path) they replace the stored ones;
# without (a full rescore) a score of the same version keeps its totals, which
# stay true, and one of another version loses them.
_PG_WITH_BASES = {
    "base_at": "%(at)s",
    "base": "b.arr[(x.n - 1) * %(width)s + 1 : x.n * %(width)s]",
    "base_update": "base_at = EXCLUDED.base_at, base = EXCLUDED.base",
}
_PG_WITHOUT_BASES = {
    "base_at": "NULL::timestamptz",
    "base": "NULL::float8[]",
    "base_update": (
        "base_at = CASE WHEN scoring_leadscore.version_id = EXCLUDED.version_id "
        "THEN scoring_leadscore.base_at END, "
        "base = CASE WHEN scoring_leadscore.version_id = EXCLUDED.version_id "
        "THEN scoring_leadscore.base END"
    ),
}


class Stored(NamedTuple):
    count: int
    skipped: list[int]  # contacts whose stored score (same version) was newer: left as they were


def contact_scores_store(
    *,
    scores: Mapping[int, Score | Totals],
    version: DefinitionVersion,
    at: datetime,
    bases: Mapping[int, Sequence[float]] | None = None,
) -> Stored:
    """Upsert the scores; record band changes and first-time MQLs.

    A lead with no score before counts as cold: its first score records a
    change only if it is warm or hot. MQL events are inserted once per lead
    (the first time it is hot), whatever happens later. A stored score of the
    same version computed after ``at`` is not overwritten. ``bases`` are the
    contacts' new running totals (all of the same length), taken at ``at``.
    """
    if not scores:
        return Stored(0, [])
    if connection.vendor == "postgresql":
        items = list(scores.items())
        params = {
            "ids": [cid for cid, _ in items],
            "totals": [s.total for _, s in items],
            "fits": [s.fit for _, s in items],
            "engagements": [s.engagement for _, s in items],
            "bands": [s.band for _, s in items],
            "version": version.pk,
            "at": at,
            "bases": None,
            "width": 0,
        }
        parts = _PG_WITHOUT_BASES
        if bases is not None:
            vectors = [bases[cid] for cid, _ in items]
            params["width"] = len(vectors[0])
            params["bases"] = [value for vector in vectors for value in vector]
            parts = _PG_WITH_BASES
        with server_binding_cursor() as cursor:
            cursor.execute(_PG_STORE_CONTACT_SCORES.format(**parts), params)
            count, skipped = cursor.fetchone()
        _hot_stored(scores)
        return Stored(count, list(skipped))
    return _contact_scores_store_portable(scores=scores, version=version, at=at, bases=bases)


def _contact_scores_store_portable(
    *,
    scores: Mapping[int, Score | Totals],
    version: DefinitionVersion,
    at: datetime,
    bases: Mapping[int, Sequence[float]] | None,
) -> Stored:
    # Read and written in one transaction, which on SQLite holds the database's
    # write lock from its start (IMMEDIATE): no other store runs in between.
    with transaction.atomic():
        return _contact_scores_store_locked(scores=scores, version=version, at=at, bases=bases)


def _contact_scores_store_locked(
    *,
    scores: Mapping[int, Score | Totals],
    version: DefinitionVersion,
    at: datetime,
    bases: Mapping[int, Sequence[float]] | None,
) -> Stored:
    ids = list(scores)
    previous: dict[int, tuple[str, int, datetime, datetime | None, list[float] | None]] = {}
    for i in range(0, len(ids), 5000):
        previous.update(
            (row[0], row[1:])
            for row in LeadScore.objects.filter(contact_id__in=ids[i : i + 5000]).values_list(
                "contact_id", "band", "version_id", "scored_at", "base_at", "base"
            )
        )
    newer = {
        cid
        for cid, (_band, version_id, scored_at, _, _) in previous.items()
        if version_id == version.pk and scored_at > at
    }
    scores = {cid: s for cid, s in scores.items() if cid not in newer}
    rows = []
    for cid, s in scores.items():
        row = _score_row(s, version=version, at=at, contact_id=cid)
        row.previous_band = previous[cid][0] if cid in previous else ""
        if bases is not None:
            row.base_at, row.base = at, list(bases[cid])
        elif cid in previous and previous[cid][1] == version.pk:
            row.base_at, row.base = previous[cid][3], previous[cid][4]
        rows.append(row)
    _scores_upsert(rows, subject="contact", fields=_SCORE_FIELDS)
    bands = {cid: prev[0] for cid, prev in previous.items()}
    _changes_record(subject="contact_id", previous=bands, scores=scores, version=version, at=at)
    _mql_record(subject="contact_id", previous=bands, scores=scores, version=version, at=at)
    _hot_stored(scores)
    return Stored(len(scores), sorted(newer))


def _scores_upsert(rows: list[LeadScore], *, subject: str, fields: Sequence[str]) -> None:
    """``INSERT … ON CONFLICT (<subject>) DO UPDATE`` of ``rows``: one executemany.

    What ``bulk_create(update_conflicts=True)`` does, without compiling a
    statement per 999 parameters and preparing every value through its field:
    that was two thirds of a drain's time on SQLite (a 41,000-contact import
    spent ~18 s of its 33 s storing scores). The rows are the caller's,
    already under the write lock.
    """
    if not rows:
        return
    meta = LeadScore._meta
    names = ["contact", "company", *fields]
    columns = [meta.get_field(name).column for name in names]
    attnames = [meta.get_field(name).attname for name in names]
    base = meta.get_field("base")
    adapt_time = connection.ops.adapt_datetimefield_value
    times: dict[datetime, object] = {}

    def value(row: LeadScore, attname: str):
        raw = getattr(row, attname)
        if isinstance(raw, datetime):  # scored_at and base_at: a handful of distinct times
            if raw not in times:
                times[raw] = adapt_time(raw)
            return times[raw]
        if attname == "base":
            return base.get_db_prep_save(raw, connection)
        if isinstance(raw, Decimal):
            return connection.ops.adapt_decimalfield_value(raw, 9, 2)
        return raw

    conflict = meta.get_field(subject).column
    quote = connection.ops.quote_name
    updates = ", ".join(
        f"{quote(c)} = excluded.{quote(c)}"
        for c in columns
        if c not in ("contact_id", "company_id")
    )
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({quote(conflict)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[value(row, a) for a in attnames] for row in rows])


def _hot_stored(scores: Mapping[int, Score | Totals]) -> None:
    """Tell listeners (handoff) that MQL events may be waiting: hot scores were stored."""
    if any(s.band == "hot" for s in scores.values()):
        mql_events_recorded.send(sender=__name__)


def _mql_record(
    *,
    subject: str,
    previous: Mapping[int, str],
    scores: Mapping[int, Score | Totals],
    version: DefinitionVersion,
    at: datetime,
) -> None:
    """An MqlEvent per subject that turned hot (it was not hot before, or had no score)."""
    MqlEvent.objects.bulk_create(
        [
            MqlEvent(**{subject: pk}, version=version, total=_cents(s.total), became_hot_at=at)
            for pk, s in scores.items()
            if s.band == "hot" and previous.get(pk, "") != "hot"
        ],
        batch_size=1000,
    )


def _changes_record(
    *,
    subject: str,
    previous: Mapping[int, str],
    scores: Mapping[int, Score | Totals],
    version: DefinitionVersion,
    at: datetime,
) -> None:
    """A BandChange per subject whose band moved; no previous score counts as cold."""
    BandChange.objects.bulk_create(
        [
            BandChange(
                **{subject: pk},
                version=version,
                from_band=previous.get(pk, ""),
                to_band=s.band,
                total=_cents(s.total),
                changed_at=at,
            )
            for pk, s in scores.items()
            if previous.get(pk, "cold") != s.band
        ],
        batch_size=1000,
    )


# PostgreSQL: the account scores' upsert and their band changes in one
# statement; the previous band comes from the row updated, under its lock (see
# _PG_STORE_CONTACT_SCORES). A newer account score of the same version is kept.
_PG_STORE_ACCOUNT_SCORES = """
WITH x AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(totals)s::float8[], %(fits)s::float8[],
                         %(engagements)s::float8[], %(bands)s::text[])
           AS x(id, total, fit, engagement, band)
), stored AS (
    INSERT INTO scoring_leadscore (contact_id, company_id, version_id, total, fit, engagement,
                                   band, previous_band, scored_at)
    SELECT NULL, id, %(version)s, round(total::numeric, 2), round(fit::numeric, 2),
           round(engagement::numeric, 2), band, '', %(at)s
    FROM x ORDER BY id
    ON CONFLICT (company_id) DO UPDATE SET
        version_id = EXCLUDED.version_id, total = EXCLUDED.total, fit = EXCLUDED.fit,
        engagement = EXCLUDED.engagement, band = EXCLUDED.band,
        previous_band = scoring_leadscore.band, scored_at = EXCLUDED.scored_at
    WHERE scoring_leadscore.version_id <> EXCLUDED.version_id
       OR scoring_leadscore.scored_at <= EXCLUDED.scored_at
    RETURNING company_id, previous_band
), changed AS (
    INSERT INTO scoring_bandchange (contact_id, company_id, version_id, from_band, to_band, total,
                                    changed_at)
    SELECT NULL, x.id, %(version)s, stored.previous_band, x.band, round(x.total::numeric, 2),
           %(at)s
    FROM x JOIN stored ON stored.company_id = x.id
    WHERE coalesce(nullif(stored.previous_band, ''), 'cold') <> x.band
), hot AS (
    -- An account turning hot is an MQL only while nobody there is a contact yet:
    -- then it is an account to prospect (a contact's own score makes its MQLs).
    INSERT INTO scoring_mqlevent (contact_id, company_id, version_id, total, became_hot_at)
    SELECT NULL, x.id, %(version)s, round(x.total::numeric, 2), %(at)s
    FROM x JOIN stored ON stored.company_id = x.id
    WHERE x.band = 'hot' AND stored.previous_band <> 'hot'
      AND NOT EXISTS (SELECT 1 FROM leads_contact c WHERE c.company_id = x.id)
)
SELECT count(*) FROM stored
"""


def account_scores_store(
    *,
    scores: Mapping[int, Score | Totals],
    version: DefinitionVersion,
    at: datetime,
) -> int:
    """Upsert the account scores of the companies in ``scores``; record band changes.

    As for
    contacts, a newer score of the same version is kept, and the band a change
    starts from is the one of the row actually updated. Returns how many were stored.
    """
    if not scores:
        return 0
    if connection.vendor == "postgresql":
        items = sorted(scores.items())
        params = {
            "ids": [cid for cid, _ in items],
            "totals": [s.total for _, s in items],
            "fits": [s.fit for _, s in items],
            "engagements": [s.engagement for _, s in items],
            "bands": [s.band for _, s in items],
            "version": version.pk,
            "at": at,
        }
        with server_binding_cursor() as cursor:
            cursor.execute(_PG_STORE_ACCOUNT_SCORES, params)
            stored = cursor.fetchone()[0]
        _hot_stored(scores)
        return stored
    with transaction.atomic():  # SQLite: under the database's write lock (see contacts)
        ids = list(scores)
        previous = {
            cid: (band, version_id, scored_at)
            for cid, band, version_id, scored_at in LeadScore.objects.filter(
                contact__isnull=True, company_id__in=ids
            ).values_list("company_id", "band", "version_id", "scored_at")
        }
        kept = {
            cid: s
            for cid, s in scores.items()
            if cid not in previous or previous[cid][1] != version.pk or previous[cid][2] <= at
        }
        rows = []
        for cid, s in kept.items():
            row = _score_row(s, version=version, at=at, company_id=cid)
            row.previous_band = previous[cid][0] if cid in previous else ""
            rows.append(row)
        _scores_upsert(rows, subject="company", fields=_ACCOUNT_FIELDS)
        bands = {cid: prev[0] for cid, prev in previous.items()}
        _changes_record(subject="company_id", previous=bands, scores=kept, version=version, at=at)
        with_contacts = set(
            Contact.objects.filter(company_id__in=list(kept)).values_list("company_id", flat=True)
        )
        prospects = {cid: s for cid, s in kept.items() if cid not in with_contacts}
        _mql_record(subject="company_id", previous=bands, scores=prospects, version=version, at=at)
        _hot_stored(kept)
        return len(kept)
