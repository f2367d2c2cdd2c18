"""Set-based contact upsert by e-mail, shared by event ingestion and the contacts API.

Two modes: event ingestion only fills a contact's blank fields and never
overwrites what someone typed; the contacts API (``overwrite=True``) sets every
field it is given. Either way the fill-blank rule is evaluated in the UPDATE
itself (``CASE WHEN name = '' ...``), so a concurrent edit is never clobbered
by a stale read, and no row is locked.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from leads.models import Contact
from leads.normalize import email_domain
from leads.services.resolve import CompanyRef, companies_resolve, is_free_mail
from leads.services.retry import retrying
from leads.signals import lead_facts_changed

_CHUNK = 500  # rows per IN (...) / CASE: keeps each statement small on SQLite too

# The text fields an upsert may set, in the order they are compared.
TEXT_FIELDS = ("name", "name_kana", "title", "department", "job_level", "phone")
FLAG_FIELDS = ("has_consent", "is_unsubscribed")


@dataclass(frozen=True)
class ContactInput:
    """One contact as a caller names it. ``email`` is already normalised and valid.

    ``company`` is the company the caller names explicitly. Without one, the
    company comes from the e-mail's domain (unless it is a free-mail domain),
    and that derived company only ever fills a contact with none.
    """

    email: str
    name: str = ""
    name_kana: str = ""
    title: str = ""
    department: str = ""
    job_level: str = ""
    phone: str = ""
    has_consent: bool | None = None
    is_unsubscribed: bool | None = None
    company: CompanyRef | None = None

    def company_ref(self) -> CompanyRef | None:
        """The explicit company, else the e-mail domain's company, else None."""
        if self.company is not None and not self.company.is_empty:
            return self.company
        return _company_ref(email_domain(self.email), "")


@dataclass(frozen=True)
class ContactUpsertResult:
    ids: Mapping[str, int]  # e-mail -> contact id
    company_ids: Mapping[str, int | None]  # e-mail -> the contact's company after the write
    created: frozenset[str] = field(default_factory=frozenset)  # e-mails of new contacts
    updated: frozenset[str] = field(default_factory=frozenset)  # e-mails whose row changed


def company_ref_for_contact(*, email: str, company_name: str = "") -> CompanyRef | None:
    """What an event says about a contact's company: its name and/or the e-mail's domain."""
    return _company_ref(email_domain(email), company_name)


@functools.lru_cache(maxsize=8192)
def _company_ref(domain: str, company_name: str) -> CompanyRef | None:
    """Cached: a batch names the same few companies again and again (CompanyRef is immutable)."""
    if is_free_mail(domain):
        domain = ""
    ref = CompanyRef.make(name=company_name, domain=domain)
    return None if ref.is_empty else ref


def _is_blank(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, CompanyRef) and value.is_empty)


def _merge(contacts: Sequence[ContactInput], *, overwrite: bool) -> dict[str, ContactInput]:
    """One input per e-mail. Filling keeps the first value given; overwriting, the last."""
    merged: dict[str, ContactInput] = {}
    for contact in contacts:
        seen = merged.get(contact.email)
        if seen is None:
            merged[contact.email] = contact
            continue
        first, second = (contact, seen) if overwrite else (seen, contact)
        changes = {
            name: getattr(second, name)
            for name in (*TEXT_FIELDS, *FLAG_FIELDS, "company")
            if _is_blank(getattr(first, name)) and not _is_blank(getattr(second, name))
        }
        merged[contact.email] = replace(first, **changes) if changes else first
    return merged


def _conditional_updates(
    changes: dict[int, dict[str, object]], *, overwrite_fields: dict[int, set[str]]
) -> None:
    """Apply ``{contact id: {field: value}}`` in one UPDATE per chunk.

    A field not in ``overwrite_fields[id]`` is only written while still blank,
    checked by the database at write time.
    """
    ids = sorted(changes)
    now = timezone.now()
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        names = sorted({name for pk in chunk for name in changes[pk]})
        assignments = {}
        for name in names:
            column = "company_id" if name == "company" else name
            whens = []
            for pk in chunk:
                if name not in changes[pk]:
                    continue
                if name in overwrite_fields.get(pk, ()):
                    condition = Q(pk=pk)
                elif name == "company":
                    condition = Q(pk=pk, company__isnull=True)
                else:
                    condition = Q(pk=pk, **{name: ""})
                whens.append(When(condition, then=Value(changes[pk][name])))
            assignments[column] = Case(
                *whens, default=F(column), output_field=Contact._meta.get_field(name)
            )
        Contact.objects.filter(pk__in=chunk).update(**assignments, updated_at=now)


@dataclass(frozen=True)
class ContactPlan:
    """Contacts to upsert, merged by e-mail, with the rows they already have.

    Made by ``contacts_plan`` (one read); ``company_refs`` says which companies
    the write needs, so that the caller resolves exactly those (together with
    its own) in one ``companies_resolve`` pass, and no company is created for
    a contact that already has one.
    """

    contacts: Mapping[str, ContactInput]  # e-mail -> merged input
    existing: Mapping[str, Mapping]  # e-mail -> current row values
    overwrite: bool

    def needs_company(self, contact: ContactInput) -> bool:
        row = self.existing.get(contact.email)
        if row is None or row["company_id"] is None:
            return True
        explicit = contact.company is not None and not contact.company.is_empty
        return self.overwrite and explicit

    def company_refs(self) -> list[CompanyRef]:
        return [
            ref
            for contact in self.contacts.values()
            if (ref := contact.company_ref()) is not None and self.needs_company(contact)
        ]


def contacts_plan(*, contacts: Sequence[ContactInput], overwrite: bool) -> ContactPlan:
    """Merge the inputs by e-mail and read the existing rows: one query per 500 e-mails."""
    merged = _merge(contacts, overwrite=overwrite)
    emails = list(merged)
    existing: dict[str, dict] = {}
    # Plain SQL: this read runs on every ingest request, and the ORM's query
    # building and dict rows cost more than the query itself.
    names = ("id", "email", "company_id", *TEXT_FIELDS, *FLAG_FIELDS)
    table = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        for i in range(0, len(emails), _CHUNK):
            chunk = emails[i : i + _CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {', '.join(names)} FROM {table} WHERE email IN ({marks})", chunk
            )
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                row["has_consent"] = bool(row["has_consent"])  # SQLite returns 0/1
                row["is_unsubscribed"] = bool(row["is_unsubscribed"])
                existing[row["email"]] = row
    return ContactPlan(contacts=merged, existing=existing, overwrite=overwrite)


# PostgreSQL: the whole insert is one statement with one array per column,
# and RETURNING gives the new ids, so no read-back is needed. (Django's
# bulk_create with ignore_conflicts returns no ids and costs ~50 µs a row.)
_PG_INSERT = """
INSERT INTO {table} (company_id, email, name, name_kana, title, department, job_level, phone,
                     has_consent, is_unsubscribed, created_at, updated_at)
SELECT c, e, n, nk, ti, d, j, p, hc, u, %s, %s
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[], %s::boolean[], %s::boolean[])
     AS t(c, e, n, nk, ti, d, j, p, hc, u)
ON CONFLICT (email) DO NOTHING
RETURNING id, email, company_id
"""


def _insert(new: list[Contact]) -> dict[str, tuple[int, int | None]] | None:
    """Insert, skipping e-mails a concurrent request stored first.

    On PostgreSQL, returns ``{email: (id, company_id)}`` of the rows inserted;
    elsewhere None (the caller reads the ids back).
    """
    if not new:
        return {}
    if connection.vendor != "postgresql":
        Contact.objects.bulk_create(new, batch_size=_CHUNK, ignore_conflicts=True)
        return None
    now = timezone.now()
    columns = [
        [c.company_id for c in new],
        [c.email for c in new],
        *([getattr(c, name) for c in new] for name in TEXT_FIELDS),
        *([getattr(c, name) for c in new] for name in FLAG_FIELDS),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_PG_INSERT.format(table=Contact._meta.db_table), [now, now, *columns])
        return {email: (pk, company_id) for pk, email, company_id in cursor.fetchall()}


def contacts_write(
    *, plan: ContactPlan, company_ids: Mapping[CompanyRef, int]
) -> ContactUpsertResult:
    """Create missing contacts and update existing ones; the caller owns the transaction.

    ``company_ids`` must hold the id of every ref in ``plan.company_refs()``.
    Runs at most three queries per 500 contacts: insert new (skipping e-mails
    a concurrent request inserted first), one conditional UPDATE, and read back
    ids and companies, which PostgreSQL needs only when a row changed or raced.
    """
    merged, existing, overwrite = plan.contacts, plan.existing, plan.overwrite
    if not merged:
        return ContactUpsertResult(ids={}, company_ids={})
    emails = list(merged)

    def company_for(contact: ContactInput) -> int | None:
        ref = contact.company_ref()
        if ref is None or not plan.needs_company(contact):
            return None
        return company_ids[ref]

    new = [
        Contact(
            email=email,
            company_id=company_for(contact),
            **{name: getattr(contact, name) for name in TEXT_FIELDS},
            **{
                name: getattr(contact, name)
                for name in FLAG_FIELDS
                if getattr(contact, name) is not None
            },
        )
        for email, contact in sorted(merged.items())  # one insert order: no deadlocks
        if email not in existing
    ]
    inserted = _insert(new)

    changes: dict[int, dict[str, object]] = {}
    overwrite_fields: dict[int, set[str]] = {}
    for email, row in existing.items():
        contact = merged[email]
        wanted: dict[str, object] = {}
        forced: set[str] = set()
        for name in TEXT_FIELDS:
            value = getattr(contact, name)
            if value and value != row[name] and (overwrite or not row[name]):
                wanted[name] = value
                if overwrite:
                    forced.add(name)
        for name in FLAG_FIELDS:
            value = getattr(contact, name)
            if overwrite and value is not None and value != row[name]:
                wanted[name] = value
                forced.add(name)
        company_id = company_for(contact)
        if company_id is not None and company_id != row["company_id"]:
            wanted["company"] = company_id
            if row["company_id"] is not None:  # only an explicit company in overwrite mode
                forced.add("company")
        if wanted:
            changes[row["id"]] = wanted
            overwrite_fields[row["id"]] = forced
    if changes:
        _conditional_updates(changes, overwrite_fields=overwrite_fields)

    ids: dict[str, int] = {}
    contact_companies: dict[str, int | None] = {}
    if inserted is not None and not changes and len(inserted) == len(new):
        # Nothing raced and nothing changed: what we read and inserted is current.
        for email, row in existing.items():
            ids[email], contact_companies[email] = row["id"], row["company_id"]
        for email, (pk, company_id) in inserted.items():
            ids[email], contact_companies[email] = pk, company_id
        emails = []
    # Read back: ids of the new rows (bulk_create with ignore_conflicts returns
    # none) and every contact's company as it now is, racing writers included.
    for i in range(0, len(emails), _CHUNK):
        for pk, email, company_id in Contact.objects.filter(
            email__in=emails[i : i + _CHUNK]
        ).values_list("id", "email", "company_id"):
            ids[email] = pk
            contact_companies[email] = company_id
    by_id = {row["id"]: email for email, row in existing.items()}
    return ContactUpsertResult(
        ids=ids,
        company_ids=contact_companies,
        created=frozenset(inserted)
        if inserted is not None
        else frozenset(email for email in merged if email not in existing),
        updated=frozenset(by_id[pk] for pk in changes),
    )


def contacts_upsert(*, contacts: Sequence[ContactInput], overwrite: bool) -> ContactUpsertResult:
    """Upsert contacts by e-mail, resolving (and creating) their companies first.

    With ``overwrite=False`` only blank fields (and a missing company) are
    filled; with ``overwrite=True`` every given field is set, and an explicitly
    named company replaces the contact's company. One transaction, run again after a
    deadlock with a concurrent batch (``retrying``) unless the caller holds one.
    """
    return retrying(
        lambda: _contacts_upsert(contacts=contacts, overwrite=overwrite), what="contacts_upsert"
    )


@transaction.atomic
def _contacts_upsert(*, contacts: Sequence[ContactInput], overwrite: bool) -> ContactUpsertResult:
    plan = contacts_plan(contacts=contacts, overwrite=overwrite)
    company_ids = companies_resolve(refs=plan.company_refs())
    result = contacts_write(plan=plan, company_ids=company_ids)
    if result.ids:
        lead_facts_changed(contact_ids=result.ids.values())
    return result
