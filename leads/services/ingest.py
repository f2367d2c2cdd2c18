"""What integrations send in: activity events in batches, and company upserts.

``events_ingest`` is the hot path (thousands of events a second): everything
is set-based, one transaction per batch, a bounded number of queries whatever
the batch size. Callers validate first (leads.api.validation does it for the
REST API); the service only re-checks invariants it cannot live without.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import Activity, Company, Contact
from leads.normalize import company_name_key
from leads.reference import region_for
from leads.services.contacts import ContactInput, contacts_plan, contacts_write
from leads.services.resolve import CompanyRef, companies_match, companies_resolve

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
    """Which ``(source, external_id)`` keys are stored; one query per source and chunk."""
    by_source: dict[str, list[str]] = {}
    for source, external_id in dict.fromkeys(keys):
        by_source.setdefault(source, []).append(external_id)
    found: set[tuple[str, str]] = set()
    for source, ids in by_source.items():
        for i in range(0, len(ids), _CHUNK):
            found.update(
                Activity.objects.filter(
                    source=source, external_id__in=ids[i : i + _CHUNK]
                ).values_list("source", "external_id")
            )
    return found


def _touch_last_activity(*, contact_ids: set[int], company_ids: set[int]) -> None:
    """Move last_activity_at forward to the newest activity: one UPDATE per table.

    The subquery reads the (contact|company, occurred_at) index backwards, so
    each touched row costs one index probe; rows already as recent are skipped
    (a backfill of old events writes nothing).
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


@transaction.atomic
def events_ingest(*, events: Sequence[EventInput]) -> IngestResult:
    """Store a batch of activity events; all or nothing, set-based.

    An event whose ``(source, external_id)`` is already stored, or repeats an
    earlier event of the batch, is a duplicate and changes nothing (replaying
    a batch is safe). For the new events: their companies are resolved in one
    pass (created if new), their contacts upserted by e-mail (blank fields
    filled, nothing overwritten), the activities bulk-inserted with
    ``Activity.company`` set to the contact's company, and the touched
    contacts' and companies' ``last_activity_at`` moved forward.

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

    first_of: dict[tuple[str, str], int] = {}
    for index, event in enumerate(events):
        first_of.setdefault((event.source, event.external_id), index)
    existing = activity_keys_existing(keys=list(first_of))
    new_indexes = [index for key, index in first_of.items() if key not in existing]
    new_events = [events[index] for index in new_indexes]

    plan = contacts_plan(
        contacts=[e.contact for e in new_events if e.contact is not None], overwrite=False
    )
    refs = [e.company for e in new_events if e.company is not None]
    company_ids = companies_resolve(refs=refs + plan.company_refs())
    written = contacts_write(plan=plan, company_ids=company_ids)

    rows = []
    for event in new_events:
        if event.contact is not None:
            contact_id = written.ids[event.contact.email]
            company_id = written.company_ids[event.contact.email]
        else:
            contact_id, company_id = None, company_ids[event.company]
        rows.append(
            Activity(
                contact_id=contact_id,
                company_id=company_id,
                kind=event.kind,
                occurred_at=event.occurred_at,
                source=event.source,
                external_id=event.external_id,
                properties=event.properties,
            )
        )
    # ignore_conflicts: an event racing in a concurrent batch is stored once by
    # the unique constraint; this batch then counts it as created too.
    Activity.objects.bulk_create(rows, batch_size=_CHUNK, ignore_conflicts=True)
    touched_contacts = {r.contact_id for r in rows if r.contact_id is not None}
    touched_companies = {r.company_id for r in rows if r.company_id is not None}
    _touch_last_activity(contact_ids=touched_contacts, company_ids=touched_companies)

    created = set(new_indexes)
    outcomes = tuple(
        EventOutcome.CREATED if index in created else EventOutcome.DUPLICATE
        for index in range(len(events))
    )
    return IngestResult(
        outcomes=outcomes,
        created=len(created),
        duplicates=len(events) - len(created),
        contact_ids=frozenset(touched_contacts),
        company_ids=frozenset(touched_companies),
    )


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
