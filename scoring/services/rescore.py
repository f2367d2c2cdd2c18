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
the engine does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from config.db import server_binding_cursor
from leads.models import Activity, Company, Contact, IntentSignal
from scoring.engine import (
    BehaviourRule,
    Definition,
    IntentRule,
    LeadFacts,
    Score,
    match_key,
    score_from_sums,
    totals_from_sums,
)
from scoring.facts import COMPANY_FIELDS, CONTACT_FIELDS, attributes_of
from scoring.models import BandChange, DefinitionVersion, LeadScore, MqlEvent

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


def _rule_columns(
    rules: Sequence[BehaviourRule | IntentRule], at: datetime
) -> tuple[list[str], list[object]]:
    """Per rule, a hits column and a decayed-sum column over the inner query ``a``."""
    columns: list[str] = []
    params: list[object] = []
    for n, rule in enumerate(rules):
        conditions: list[str] = []
        cond_params: list[object] = []
        if isinstance(rule, BehaviourRule):
            kinds = sorted(rule.kinds)
            conditions.append(f"a.kind IN ({', '.join(['%s'] * len(kinds))})")
            cond_params += kinds
            for needle, column in (
                (rule.url_contains, "a.url_key"),
                (rule.content_contains, "a.content_key"),
            ):
                if needle:
                    conditions.append(_contains_sql(column))
                    cond_params.append(match_key(needle))
            if rule.campaign:
                conditions.append("a.campaign_key = %s")
                cond_params.append(match_key(rule.campaign))
        else:
            conditions.append(f"a.strength >= {int(rule.min_strength)}")
            if rule.topics:
                topics = sorted({match_key(t) for t in rule.topics})
                conditions.append(f"a.topic_key IN ({', '.join(['%s'] * len(topics))})")
                cond_params += topics
        if rule.window_days is not None:
            conditions.append("a.at >= %s")
            cond_params.append(_db_time(at - timedelta(days=rule.window_days)))
        match = " AND ".join(conditions)
        points = _num(rule.points)
        if rule.half_life_days is None:
            term = points
        else:
            term = f"{points} * POWER(0.5, a.age / {_num(rule.half_life_days)})"
        columns.append(f"SUM(CASE WHEN {match} THEN 1 ELSE 0 END) AS h{n}")
        columns.append(f"SUM(CASE WHEN {match} THEN {term} ELSE 0 END) AS s{n}")
        params += cond_params + cond_params
    return columns, params


def _aggregate(
    *,
    rules: Sequence[BehaviourRule | IntentRule],
    table: str,
    time_column: str,
    extra_columns: str,
    group_column: str,
    where: str,
    where_params: list[object],
    at: datetime,
) -> dict[int, Sums]:
    """{group id: {rule key: (hits, decayed)}} for the rows of ``table`` matching ``where``."""
    if not rules:
        return {}
    columns, column_params = _rule_columns(rules, at)
    sql = (
        f"SELECT a.grp, {', '.join(columns)} FROM ("
        f"SELECT {group_column} AS grp, {time_column} AS at, {extra_columns}, "
        f"{_age_days_sql(time_column)} AS age "
        f"FROM {table} WHERE {where} AND {time_column} <= %s"
        f") a GROUP BY a.grp"
    )
    params = [*column_params, _db_time(at), *where_params, _db_time(at)]
    found: dict[int, Sums] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            sums = {
                rule.key: (int(row[1 + 2 * n]), float(row[2 + 2 * n]))
                for n, rule in enumerate(rules)
                if row[1 + 2 * n]
            }
            if sums:
                found[row[0]] = sums
    return found


def _activity_sums(
    definition: Definition, *, where: str, params: list[object], group: str, at: datetime
) -> dict[int, Sums]:
    # Only kinds some rule scores: the rest (e-mail opens, bounces …) cannot hit.
    kinds = sorted(set().union(*(rule.kinds for rule in definition.behaviour)))
    kind_filter = f"kind IN ({', '.join(['%s'] * len(kinds))})" if kinds else "1 = 0"
    return _aggregate(
        rules=definition.behaviour,
        table=connection.ops.quote_name(Activity._meta.db_table),
        time_column="occurred_at",
        extra_columns="kind, url_key, content_key, campaign_key",
        group_column=group,
        where=f"({where}) AND {kind_filter}",
        where_params=[*params, *kinds],
        at=at,
    )


def _intent_sums(
    definition: Definition, *, where: str, params: list[object], at: datetime
) -> dict[int, Sums]:
    weakest = min((rule.min_strength for rule in definition.intents), default=0)
    return _aggregate(
        rules=definition.intents,
        table=connection.ops.quote_name(IntentSignal._meta.db_table),
        time_column="observed_at",
        extra_columns="strength, topic_key",
        group_column="company_id",
        where=f"({where}) AND strength >= {int(weakest)}",
        where_params=params,
        at=at,
    )


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

    A fit rule reads one attribute, and leads share titles, sizes,
    industries and e-mail domains, so a chunk has far fewer distinct values
    per rule than leads. The engine's own ``matches`` decides each value.
    """

    def __init__(self, definition: Definition) -> None:
        self.rules = definition.attributes
        self.seen: dict[str, dict[object, bool]] = {rule.key: {} for rule in self.rules}

    def matched(self, row: Mapping[str, object]) -> list[str]:
        """The keys of the rules a ``values(*CONTACT_FIELDS)`` (or company) row matches."""
        attributes = attributes_of(row)
        found = []
        for rule in self.rules:
            value = attributes.get(rule.attribute)
            cache = self.seen[rule.key]
            hit = cache.get(value)
            if hit is None:
                hit = cache[value] = rule.matches(LeadFacts({rule.attribute: value}))
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
    fit = _FitRules(definition)
    scores: dict[int, Score | Totals] = {}
    for row in rows:
        company_id = row["company_id"]
        sums = _merged(own.get(row["id"]), shared.get(company_id), intent.get(company_id))
        matched = fit.matched(row)
        scores[row["id"]] = _finish(definition, matched, sums, breakdown)
    return scores


def _contactless(subjects: Subjects):
    return Company.objects.filter(**subjects.filter("id")).filter(contacts__isnull=True)


def account_scores_compute(
    *, definition: Definition, subjects: Subjects, at: datetime, breakdown: bool = False
) -> dict[int, Score | Totals]:
    """Scores of the companies in ``subjects`` that have no contact (accounts)."""
    rows = list(_contactless(subjects).order_by().values(*COMPANY_FIELDS))
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


_SCORE_FIELDS = ["version", "total", "fit", "engagement", "band", "scored_at"]


# PostgreSQL: the upsert, the band changes and the new MQL events in one
# statement over arrays (all CTEs read the scores as they were before it).
_PG_STORE_CONTACT_SCORES = """
WITH x AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(totals)s::float8[], %(fits)s::float8[],
                         %(engagements)s::float8[], %(bands)s::text[])
           AS x(id, total, fit, engagement, band)
), old AS (
    SELECT s.contact_id, s.band FROM scoring_leadscore s JOIN x ON x.id = s.contact_id
), stored AS (
    INSERT INTO scoring_leadscore (contact_id, company_id, version_id, total, fit, engagement,
                                   band, scored_at)
    SELECT id, NULL, %(version)s, round(total::numeric, 2), round(fit::numeric, 2),
           round(engagement::numeric, 2), band, %(at)s
    FROM x
    ON CONFLICT (contact_id) DO UPDATE SET
        version_id = EXCLUDED.version_id, total = EXCLUDED.total, fit = EXCLUDED.fit,
        engagement = EXCLUDED.engagement, band = EXCLUDED.band, scored_at = EXCLUDED.scored_at
    RETURNING 1
), changed AS (
    INSERT INTO scoring_bandchange (contact_id, company_id, version_id, from_band, to_band, total,
                                    changed_at)
    SELECT x.id, NULL, %(version)s, coalesce(old.band, ''), x.band, round(x.total::numeric, 2),
           %(at)s
    FROM x LEFT JOIN old ON old.contact_id = x.id
    WHERE coalesce(old.band, 'cold') <> x.band
), hot AS (
    INSERT INTO scoring_mqlevent (contact_id, version_id, total, became_hot_at)
    SELECT id, %(version)s, round(total::numeric, 2), %(at)s FROM x WHERE band = 'hot'
    ON CONFLICT (contact_id) DO NOTHING
)
SELECT count(*) FROM stored
"""


def contact_scores_store(
    *, scores: Mapping[int, Score | Totals], version: DefinitionVersion, at: datetime
) -> int:
    """Upsert the scores; record band changes and first-time MQLs. Returns how many.

    A lead with no score before counts as cold: its first score records a
    change only if it is warm or hot. MQL events are inserted once per lead
    (the first time it is hot), whatever happens later.
    """
    if not scores:
        return 0
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
        }
        with server_binding_cursor() as cursor:
            cursor.execute(_PG_STORE_CONTACT_SCORES, params)
            return cursor.fetchone()[0]
    return _contact_scores_store_portable(scores=scores, version=version, at=at)


def _contact_scores_store_portable(
    *, scores: Mapping[int, Score | Totals], version: DefinitionVersion, at: datetime
) -> int:
    ids = list(scores)
    previous: dict[int, str] = {}
    for i in range(0, len(ids), 5000):
        previous.update(
            LeadScore.objects.filter(contact_id__in=ids[i : i + 5000]).values_list(
                "contact_id", "band"
            )
        )
    LeadScore.objects.bulk_create(
        [_score_row(s, version=version, at=at, contact_id=cid) for cid, s in scores.items()],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["contact"],
        update_fields=_SCORE_FIELDS,
    )
    _changes_record(subject="contact_id", previous=previous, scores=scores, version=version, at=at)
    MqlEvent.objects.bulk_create(
        [
            MqlEvent(contact_id=cid, version=version, total=_cents(s.total), became_hot_at=at)
            for cid, s in scores.items()
            if s.band == "hot"
        ],
        batch_size=1000,
        ignore_conflicts=True,  # only the first time a lead becomes hot
    )
    return len(scores)


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


def account_scores_store(
    *,
    subjects: Subjects,
    scores: Mapping[int, Score | Totals],
    version: DefinitionVersion,
    at: datetime,
) -> int:
    """Replace the account scores of ``subjects``: companies that gained a contact lose theirs."""
    stale = LeadScore.objects.filter(contact__isnull=True, **subjects.filter("company_id"))
    previous = dict(stale.values_list("company_id", "band"))
    stale.delete()
    LeadScore.objects.bulk_create(
        [_score_row(s, version=version, at=at, company_id=cid) for cid, s in scores.items()],
        batch_size=1000,
    )
    _changes_record(subject="company_id", previous=previous, scores=scores, version=version, at=at)
    return len(scores)
