"""What integrations send in: activity events in batches, and company upserts.

``events_ingest`` is the hot path (thousands of events a second): everything
is set-based, one transaction per batch, a bounded number of queries whatever
the batch size. Callers validate first (leads.api.validation does it for the
REST API); the service only re-checks invariants it cannot live without.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import server_binding_cursor
from leads.models import Activity, Company, Contact
from leads.normalize import company_name_key
from leads.reference import region_for
from leads.services.contacts import ContactInput, contacts_plan, contacts_write
from leads.services.resolve import CompanyRef, companies_match, companies_resolve
from leads.services.retry import retrying
from leads.signals import lead_facts_changed

logger = logging.getLogger(__name__)

_CHUNK = 1000  # keys per IN (...)
_KINDS = frozenset(Activity.Kind.values)


# --- Events ---------------------------------------------------------------


@dataclass(frozen=True)
class EventInput:
    """One activity, by a contact (e-mail) or, with no contact, by a company."""

    source: str
    external_id: str
    kind: str  # an Activity.Kind value
    occurred_at: datetime  # aware
    properties: dict = field(default_factory=dict)
    contact: ContactInput | None = None
    company: CompanyRef | None = None


class EventOutcome(enum.StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class IngestResult:
    outcomes: tuple[EventOutcome, ...]  # one per input event, in order
    created: int
    duplicates: int
    # The contacts and companies that received new activity: the hook for
    # incremental scoring (a later issue rescores exactly these).
    contact_ids: frozenset[int]
    company_ids: frozenset[int]


def _event_problems(event: EventInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    if (event.contact is None) == (event.company is None or event.company.is_empty):
        problems["contact"] = _("Name either a contact (by e-mail) or a company, not both.")
    if event.kind not in _KINDS:
        problems["kind"] = _("Unknown kind.")
    if not isinstance(event.occurred_at, datetime) or event.occurred_at.utcoffset() is None:
        problems["occurred_at"] = _("The time must include a time zone.")
    if not event.source or not event.external_id:
        problems["external_id"] = _("Give both source and external_id.")
    return problems


def activity_keys_existing(*, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which ``(source, external_id)`` keys are stored; one query per source and chunk.

    Plain SQL on the unique index: this runs on every request, and building
    the same query through the ORM costs more than running it.
    """
    by_source: dict[str, list[str]] = {}
    for source, external_id in dict.fromkeys(keys):
        by_source.setdefault(source, []).append(external_id)
    table = connection.ops.quote_name(Activity._meta.db_table)
    found: set[tuple[str, str]] = set()
    with connection.cursor() as cursor:
        for source, ids in by_source.items():
            for i in range(0, len(ids), _CHUNK):
                chunk = ids[i : i + _CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT source, external_id FROM {table} "
                    f"WHERE source = %s AND external_id IN ({marks})",
                    [source, *chunk],
                )
                found.update(cursor.fetchall())
    return found


def _touch_last_activity(*, contact_ids: set[int], company_ids: set[int]) -> None:
    """Portable path: move last_activity_at forward to the newest activity.

    One UPDATE per table; the subquery reads the (contact|company, occurred_at)
    index backwards, so each touched row costs one index probe, and rows
    already as recent are skipped (a backfill of old events writes nothing).
    """
    for model, ids, column in (
        (Contact, contact_ids, "contact_id"),
        (Company, company_ids, "company_id"),
    ):
        if not ids:
            continue
        newest = Subquery(
            Activity.objects.filter(**{column: OuterRef("pk")})
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        )
        model.objects.filter(pk__in=sorted(ids)).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=newest)
        ).update(last_activity_at=newest)


# PostgreSQL path: the insert and both last_activity_at updates are one
# statement, one array per column. Django's bulk_create spends ~60 µs of
# Python per row and returns nothing with ignore_conflicts; RETURNING says
# exactly which events this batch stored, so a duplicate racing in from a
# concurrent batch is reported as one, and only stored events touch
# last_activity_at (= greatest(itself, their newest occurred_at)).
_PG_INSERT_ACTIVITY = """
WITH stored AS (
    INSERT INTO {activity} (contact_id, company_id, kind, occurred_at, source, external_id,
                            properties, url_key, content_key, campaign_key, property_keys,
                            property_numbers, received_at)
    SELECT c, co, k, o, s, e, p::jsonb, uk, ck, ca, pk::jsonb, pn::jsonb, %s
    FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[], %s::text[],
                %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                %s::text[])
         AS t(c, co, k, o, s, e, p, uk, ck, ca, pk, pn)
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING contact_id, company_id, occurred_at, source, external_id
),
{touch_contacts},
{touch_companies}
SELECT source, external_id FROM stored
"""
# Rows are locked in id order (ORDER BY under FOR NO KEY UPDATE) so that two
# batches touching the same contacts queue instead of deadlocking; only rows
# that will change are locked or written.
_PG_TOUCH = """
{name}_newest AS (
    SELECT {column} AS id, max(occurred_at) AS at FROM stored
    WHERE {column} IS NOT NULL GROUP BY {column}
),
{name}_locked AS MATERIALIZED (
    SELECT t.id FROM {table} AS t JOIN {name}_newest AS v ON v.id = t.id
    WHERE t.last_activity_at IS NULL OR t.last_activity_at < v.at
    ORDER BY t.id FOR NO KEY UPDATE OF t
),
{name}_touched AS (
    UPDATE {table} AS t SET last_activity_at = v.at
    FROM {name}_newest AS v, {name}_locked AS l
    WHERE v.id = t.id AND l.id = t.id
      AND (t.last_activity_at IS NULL OR t.last_activity_at < v.at)
)"""


@dataclass(frozen=True, slots=True)
class _Row:
    """An activity to insert: the event and whom it is about."""

    contact_id: int | None
    company_id: int | None
    event: EventInput

    @property
    def key(self) -> tuple[str, str]:
        return (self.event.source, self.event.external_id)


def _insert_activities(rows: list[_Row]) -> set[tuple[str, str]]:
    """Insert, skipping keys already stored, and touch last_activity_at.

    Returns the keys this call stored.
    """
    if not rows:
        return set()
    if connection.vendor != "postgresql":
        # ignore_conflicts: a racing duplicate is stored once by the unique
        # constraint, and this batch then counts it as created too.
        Activity.objects.bulk_create(
            [
                Activity(
                    contact_id=r.contact_id,
                    company_id=r.company_id,
                    kind=r.event.kind,
                    occurred_at=r.event.occurred_at,
                    source=r.event.source,
                    external_id=r.event.external_id,
                    properties=r.event.properties,
                    **Activity.match_keys(r.event.properties),
                )
                for r in rows
            ],
            batch_size=_CHUNK,
            ignore_conflicts=True,
        )
        _touch_last_activity(
            contact_ids={r.contact_id for r in rows if r.contact_id is not None},
            company_ids={r.company_id for r in rows if r.company_id is not None},
        )
        return {r.key for r in rows}
    events = [r.event for r in rows]
    columns = [
        [r.contact_id for r in rows],
        [r.company_id for r in rows],
        [e.kind for e in events],
        [e.occurred_at for e in events],
        [e.source for e in events],
        [e.external_id for e in events],
        [json.dumps(e.properties, ensure_ascii=False) for e in events],
    ]
    keys = [Activity.match_keys(e.properties) for e in events]
    columns += [[k[name] for k in keys] for name in ("url_key", "content_key", "campaign_key")]
    columns += [
        [json.dumps(k[name], ensure_ascii=False) for k in keys]
        for name in ("property_keys", "property_numbers")
    ]
    sql = _PG_INSERT_ACTIVITY.format(
        activity=Activity._meta.db_table,
        touch_contacts=_PG_TOUCH.format(
            name="contact", column="contact_id", table=Contact._meta.db_table
        ).strip(),
        touch_companies=_PG_TOUCH.format(
            name="company", column="company_id", table=Company._meta.db_table
        ).strip(),
    )
    # Server-side binding: psycopg prepares this statement after a few runs.
    with server_binding_cursor() as cursor:
        cursor.execute(sql, [timezone.now(), *columns])
        return set(cursor.fetchall())


def events_ingest(*, events: Sequence[EventInput]) -> IngestResult:
    """Store a batch of activity events; all or nothing, set-based.

    An event whose ``(source, external_id)`` is already stored, or repeats an
    earlier event of the batch, is a duplicate and changes nothing (replaying
    a batch is safe). For the new events: their companies are resolved in one
    pass (created if new), their contacts upserted by e-mail (blank fields
    filled, nothing overwritten), the activities bulk-inserted with
    ``Activity.company`` set to the contact's company, and the touched
    contacts' and companies' ``last_activity_at`` moved forward.

    Two batches touching the same contacts can deadlock on PostgreSQL (each
    holds rows the other updates); the loser's transaction is rolled back
    whole and run again, up to three times, unless the caller holds an outer
    transaction.

    Raises ValidationError (keys ``"<index>.<field>"``) if an event breaks an
    invariant; nothing is written then.
    """
    errors = {
        f"{index}.{name}": message
        for index, event in enumerate(events)
        for name, message in _event_problems(event).items()
    }
    if errors:
        raise ValidationError(errors)
    return retrying(lambda: _events_ingest(events), what="events_ingest")


@transaction.atomic
def _events_ingest(events: Sequence[EventInput]) -> IngestResult:
    first_of: dict[tuple[str, str], int] = {}
    for index, event in enumerate(events):
        first_of.setdefault((event.source, event.external_id), index)
    existing = activity_keys_existing(keys=list(first_of))
    new_indexes = [index for key, index in first_of.items() if key not in existing]
    new_events = [events[index] for index in new_indexes]

    plan = contacts_plan(
        contacts=[e.contact for e in new_events if e.contact is not None], overwrite=False
    )
    refs = [e.company for e in new_events if e.company is not None] + plan.company_refs()
    # Sorted: concurrent batches then insert shared new companies (and wait on
    # each other's) in one order, which cannot deadlock.
    refs.sort(key=lambda r: (r.corporate_number, r.domain, r.name))
    company_ids = companies_resolve(refs=refs)
    written = contacts_write(plan=plan, company_ids=company_ids)

    rows = []
    for event in new_events:
        if event.contact is not None:
            email = event.contact.email
            rows.append(_Row(written.ids[email], written.company_ids[email], event))
        else:
            rows.append(_Row(None, company_ids[event.company], event))
    stored = _insert_activities(rows)

    created = {i for i in new_indexes if (events[i].source, events[i].external_id) in stored}
    kept = [r for r in rows if r.key in stored]
    outcomes = tuple(
        EventOutcome.CREATED if index in created else EventOutcome.DUPLICATE
        for index in range(len(events))
    )
    result = IngestResult(
        outcomes=outcomes,
        created=len(created),
        duplicates=len(events) - len(created),
        contact_ids=frozenset(r.contact_id for r in kept if r.contact_id is not None),
        company_ids=frozenset(r.company_id for r in kept if r.company_id is not None),
    )
    if kept:
        # A contact's activity changes that contact's score; a company's
        # contact-less activity changes its account's and all its contacts'.
        lead_facts_changed(
            contact_ids=result.contact_ids,
            company_ids={r.company_id for r in kept if r.contact_id is None},
            activity_since=min(r.event.occurred_at for r in kept),
        )
    return result


# --- Companies --------------------------------------------------------------

# Fields a company upsert may set besides its identity (name, domain, number).
COMPANY_FIELDS = (
    "name_kana",
    "industry",
    "industry_detail",
    "employee_count",
    "revenue_band",
    "prefecture",
    "city",
    "address",
    "postal_code",
)


@dataclass(frozen=True)
class CompanyInput:
    """A company as the API names it: ``ref`` says which one, ``values`` what to set.

    ``values`` holds validated model values for COMPANY_FIELDS; a field not
    given is left alone (an upsert never blanks a field).
    """

    ref: CompanyRef
    values: Mapping[str, object] = field(default_factory=dict)


class CompanyOutcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    REJECTED = "rejected"


@dataclass(frozen=True)
class CompanyUpsertItem:
    outcome: CompanyOutcome
    company_id: int | None
    errors: Mapping[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CompanyUpsertResult:
    items: tuple[CompanyUpsertItem, ...]  # one per input, in order
    company_ids: frozenset[int]  # created or updated


def _identity_owners(refs: Sequence[CompanyRef]) -> dict[tuple[str, str], int]:
    """``(column, value) -> company id`` for every domain and number the refs name: one query."""
    domains = sorted({r.domain for r in refs if r.domain})
    numbers = sorted({r.corporate_number for r in refs if r.corporate_number})
    if not domains and not numbers:
        return {}
    owners: dict[tuple[str, str], int] = {}
    rows = Company.objects.filter(
        Q(domain__in=domains) | Q(corporate_number__in=numbers)
    ).values_list("id", "domain", "corporate_number")
    for pk, domain, number in rows:
        if domain:
            owners[("domain", domain)] = pk
        if number:
            owners[("corporate_number", number)] = pk
    return owners


@transaction.atomic
def companies_upsert(*, companies: Sequence[CompanyInput]) -> CompanyUpsertResult:
    """Create or update companies; set-based, all accepted items in one transaction.

    Each input picks its company the way every import does (companies_resolve:
    corporate number, then domain, then name; created if none matches), then
    every given field is set. When two inputs pick one company, the later one's
    values win. An input that would give a company a domain or corporate number
    another company holds is rejected with field errors and changes nothing.
    """
    refs = [c.ref for c in companies]
    matched = companies_match(refs=refs)
    resolved = companies_resolve(refs=refs)

    # An input may not give its company a domain or number another company
    # holds (in the database or claimed earlier in this batch).
    owners = _identity_owners(refs)
    errors: dict[int, dict[str, list[str]]] = {}
    for index, item in enumerate(companies):
        pk = resolved[item.ref]
        for column in ("domain", "corporate_number"):
            value = getattr(item.ref, column)
            if not value:
                continue
            owner = owners.setdefault((column, value), pk)
            if owner != pk:
                message = _("Another company (id %(id)s) already has this value.")
                errors.setdefault(index, {})[column] = [message % {"id": owner}]

    # Final values per company, later inputs winning.
    wanted: dict[int, dict[str, object]] = {}
    for index, item in enumerate(companies):
        if index in errors:
            continue
        values = wanted.setdefault(resolved[item.ref], {})
        if item.ref.name:
            values["name"] = item.ref.name
        if item.ref.domain:
            values["domain"] = item.ref.domain
        if item.ref.corporate_number:
            values["corporate_number"] = item.ref.corporate_number
        values.update({k: v for k, v in item.values.items() if v not in (None, "")})

    current = {
        row["id"]: row
        for row in Company.objects.filter(pk__in=list(wanted))
        .values("id", "name", "domain", "corporate_number", *COMPANY_FIELDS)
        .iterator()
    }
    changed: list[Company] = []
    names: set[str] = set()
    for pk, row in current.items():
        values = wanted[pk]
        if all(row.get(k) == v for k, v in values.items()):
            continue
        merged = {**row, **values}
        if "prefecture" in values:
            merged["region"] = region_for(str(values["prefecture"]))
            names.add("region")
        merged["name_key"] = company_name_key(str(merged["name"]))
        names.update(values)
        changed.append(Company(**merged))
    if changed:
        fields = sorted(names | {"name_key", "updated_at"})
        now = timezone.now()
        for company in changed:
            company.updated_at = now
        try:
            # A savepoint: a racing writer taking the same domain between our
            # check and this UPDATE must give a 400, never a 500.
            with transaction.atomic():
                Company.objects.bulk_update(changed, fields, batch_size=500)
        except IntegrityError:
            raise ValidationError(
                _("Another request changed these companies at the same time; send them again.")
            ) from None
        # Fit rules read these attributes: the companies' accounts and contacts rescore.
        lead_facts_changed(company_ids={company.pk for company in changed})

    items = []
    seen: set[int] = set()
    for index, item in enumerate(companies):
        if index in errors:
            items.append(
                CompanyUpsertItem(
                    outcome=CompanyOutcome.REJECTED, company_id=None, errors=errors[index]
                )
            )
            continue
        pk = resolved[item.ref]
        is_new = item.ref not in matched and pk not in seen
        seen.add(pk)
        items.append(
            CompanyUpsertItem(
                outcome=CompanyOutcome.CREATED if is_new else CompanyOutcome.UPDATED,
                company_id=pk,
            )
        )
    return CompanyUpsertResult(items=tuple(items), company_ids=frozenset(wanted))
