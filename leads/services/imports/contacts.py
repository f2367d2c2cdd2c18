"""The leads import: companies and contacts from a CSV file."""

from __future__ import annotations

from django.db import transaction

from leads import csvio
from leads.models import Company, Contact
from leads.services.imports.columns import _prepare, _Prepared
from leads.services.imports.companies import (
    COMPANY_FIELDS,
    WRITE_BATCH,
    _chunks,
    _Group,
    _Grouper,
    _plan_companies,
    _upsert_by_id,
)
from leads.services.imports.outcome import (
    PROGRESS_EVERY,
    ImportOutcome,
    ProgressCallback,
    RowError,
    RowNote,
    _note,
    _outcome,
)
from leads.services.imports.rows import _LeadParser, _LeadRow
from leads.signals import lead_facts_changed

CONTACT_FIELDS = (
    "company_id",
    "name",
    "name_kana",
    "title",
    "department",
    "job_level",
    "phone",
    "is_unsubscribed",
)


def _apply_leads(
    rows: list[_LeadRow],
    groups_of: list[_Group | None],
    grouper: _Grouper,
    *,
    write: bool,
    notes: list[RowNote],
) -> dict[str, int]:
    by_group, counts = _plan_companies(
        grouper.groups, write=write, header=grouper.parser.header, notes=notes
    )
    marked: set[int] = set()  # companies told to rescore: they stand for their contacts too
    if write:
        changed = {id(t): t.company for t in by_group.values() if t.changed}
        _upsert_by_id(Company, list(changed.values()), COMPANY_FIELDS)
        marked = {c.pk for c in changed.values() if c.pk is not None}
        lead_facts_changed(company_ids=marked)

    # Contacts: one per normalised e-mail, the file's rows merged in line order.
    per_email: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if row.email:
            per_email.setdefault(row.email, []).append(index)
    existing: dict[str, Contact] = {}
    for chunk in _chunks(list(per_email)):
        existing.update((c.email, c) for c in Contact.objects.filter(email__in=chunk))
    created: list[Contact] = []
    updated: list[Contact] = []
    unchanged = would_create = 0
    for email, indexes in per_email.items():
        contact = existing.get(email)
        is_new = contact is None
        if is_new and not write:
            would_create += 1  # a dry run needs no instance to count it
            continue
        if contact is None:
            contact = Contact(email=email)
        before = [getattr(contact, f) for f in CONTACT_FIELDS]
        for index in indexes:
            for name, value in rows[index].contact.items():
                setattr(contact, name, value)
            group = groups_of[index]
            if group is not None:
                contact.company_id = by_group[id(group)].company.pk
        if is_new:
            created.append(contact)
        elif [getattr(contact, f) for f in CONTACT_FIELDS] != before:
            updated.append(contact)
        else:
            unchanged += 1
    counts.update(
        contacts_created=len(created) + would_create,
        contacts_updated=len(updated),
        contacts_unchanged=unchanged,
    )
    if write:
        write_fields = [f.removesuffix("_id") for f in CONTACT_FIELDS]
        # update_conflicts on e-mail: a contact created by a concurrent import
        # or API call since we read is updated instead of failing the import.
        Contact.objects.bulk_create(
            created,
            batch_size=WRITE_BATCH,
            update_conflicts=True,
            unique_fields=["email"],
            update_fields=[*write_fields, "updated_at"],
        )
        _upsert_by_id(Contact, updated, write_fields)
        _attributes_changed([*created, *updated], covered=marked)
    return counts


def _attributes_changed(contacts: list[Contact], *, covered: set[int]) -> None:
    """Tell listeners (scoring) which contacts were created or changed.

    A contact whose company is ``covered`` (marked in this transaction) is left
    out: a company stands for all its contacts, so marking both rescored every
    such contact twice (92,250 scores for a 41,000-contact, 10,250-company file).
    """
    contacts = [c for c in contacts if c.company_id not in covered]
    ids = {c.pk for c in contacts if c.pk is not None}
    missing = [c.email for c in contacts if c.pk is None]
    for chunk in _chunks(missing):
        ids.update(Contact.objects.filter(email__in=chunk).values_list("id", flat=True))
    lead_facts_changed(contact_ids=ids)


def _parse_leads(
    prepared: _Prepared, on_progress: ProgressCallback | None
) -> tuple[list[_LeadRow], list[_Group | None], _Grouper, list[RowError], list[RowNote]]:
    parser = _LeadParser(prepared.columns)
    grouper = _Grouper(parser)
    rows: list[_LeadRow] = []
    groups_of: list[_Group | None] = []
    errors: list[RowError] = []
    notes: list[RowNote] = []
    first_line: dict[str, int] = {}
    total = len(prepared.rows)
    for done, (line, fields) in enumerate(prepared.rows, start=1):
        row, row_errors = parser.parse(line, fields)
        if row is not None:
            group = None
            if row.names_company:
                group, problem = grouper.add(row)
                if isinstance(problem, RowError):
                    row_errors = [problem]
                elif problem is not None:
                    notes.append(problem)
            if row.email:
                if row.email in first_line:
                    notes.append(_note(line, "contact_duplicate", other_line=first_line[row.email]))
                first_line.setdefault(row.email, line)
            elif row.contact:
                notes.append(_note(line, "no_email"))
            if not row_errors:
                rows.append(row)
                groups_of.append(group)
        errors.extend(row_errors)
        if on_progress is not None and done % PROGRESS_EVERY == 0:
            on_progress(done, total)
    return rows, groups_of, grouper, errors, notes


def leads_import_csv(
    *, data: bytes, dry_run: bool, on_progress: ProgressCallback | None = None
) -> ImportOutcome:
    """Import companies and contacts from a CSV file, or report what that would do.

    Validates every row first (reporting progress through ``on_progress(done,
    total)`` every PROGRESS_EVERY rows, outside any transaction). If a row is
    invalid, writes nothing and returns the errors. Otherwise, in one
    transaction: creates missing companies, fills in or overwrites the company
    and contact fields the file gives a non-empty value for, and creates
    missing contacts (matched by normalised e-mail). A dry run only reads.

    Raises ImportFileError if the file cannot be read at all.
    """
    prepared = _prepare(data, csvio.KIND_LEADS)
    total = len(prepared.rows)
    if on_progress is not None:
        on_progress(0, total)
    rows, groups_of, grouper, errors, notes = _parse_leads(prepared, on_progress)
    if on_progress is not None:
        on_progress(total, total)
    counts: dict[str, int] = {}
    if not errors:
        if dry_run:
            counts = _apply_leads(rows, groups_of, grouper, write=False, notes=notes)
        else:
            with transaction.atomic():
                counts = _apply_leads(rows, groups_of, grouper, write=True, notes=notes)
    return _outcome(
        csvio.KIND_LEADS, prepared, dry_run=dry_run, counts=counts, errors=errors, notes=notes
    )
