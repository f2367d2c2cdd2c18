"""What an import reports: row errors and notes, their messages, and the outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from leads.csvio import Column
from leads.services.imports.columns import _Prepared

MAX_STORED_ERRORS = 1000  # errors kept in an outcome and on a job; error_count has them all
PROGRESS_EVERY = 1000  # rows between two progress reports


# --- Messages -----------------------------------------------------------------
# Row errors and notes are stored with a code and parameters, and rendered in
# the reader's language (a worker translates nothing it stores).

MESSAGES = {
    "too_long": _("At most %(max)d characters are allowed; this value has %(length)d."),
    "too_many_fields": _("The row has %(found)d fields but the header has %(expected)d."),
    "no_identity": _(
        "The row has no e-mail address and no company name, domain or corporate number."
    ),
    "email_invalid": _("“%(value)s” is not a valid e-mail address."),
    "company_name_invalid": _("“%(value)s” is not a company name: it has no letters or digits."),
    "domain_invalid": _("“%(value)s” is not a web address or domain."),
    "corporate_number_invalid": _("A corporate number has 13 digits; found “%(value)s”."),
    "employees_invalid": _(
        "Give the number of employees as a whole number, such as 1200; “%(value)s” is not one "
        "(approximate values such as 約300名 are refused)."
    ),
    "revenue_invalid": _(
        "“%(value)s” is neither a revenue band nor an amount in yen (such as 5億円 or 300000000)."
    ),
    "prefecture_invalid": _("“%(value)s” is not a Japanese prefecture."),
    "postal_code_invalid": _("A postal code has 7 digits (such as 100-0001); found “%(value)s”."),
    "job_level_invalid": _(
        "“%(value)s” is not a job level (executive, director, manager, staff or other)."
    ),
    "boolean_invalid": _("“%(value)s” is not yes or no (use 1 or 0, はい or いいえ, yes or no)."),
    "number_domain_conflict": _(
        "The corporate number and the domain belong to two different companies named earlier "
        "in the file (lines %(number_line)d and %(domain_line)d)."
    ),
    "number_conflict": _(
        "Corporate number %(value)s differs from %(other)s, given for the same company on line "
        "%(other_line)d."
    ),
    "domain_conflict": _(
        "Domain %(value)s differs from %(other)s, given for the same company on line %(other_line)d."
    ),
    "company_missing": _("Name the company: give a company name, domain or corporate number."),
    "required": _("This value is required."),
    "strength_invalid": _("Strength must be a number from 0 to 100; found “%(value)s”."),
    "date_invalid": _(
        "“%(value)s” is not a date or a date and time (such as 2025-04-01 or 2025/04/01 09:30)."
    ),
    # Notes: not errors; the import goes ahead and says what it did.
    "contact_duplicate": _(
        "Same e-mail address as line %(other_line)d: the rows were merged and this row's "
        "non-empty values win."
    ),
    "company_duplicate": _(
        "Same company as line %(other_line)d: the rows were merged and this row's non-empty "
        "values win."
    ),
    "company_value_differs": _(
        "“%(column)s” differs from line %(other_line)d for the same company; this row's value wins."
    ),
    "no_email": _("No e-mail address: only the company was imported, not the person."),
    "name_kept": _(
        "Another company without a domain or corporate number is already called “%(value)s”; "
        "the company name was not changed."
    ),
    "signal_duplicate": _("Repeats the signal on line %(other_line)d; the first one is kept."),
}


def message_render(code: str, params: dict[str, Any], fallback: str = "") -> str:
    """A stored error or note in the active language."""
    template = MESSAGES.get(code)
    if template is None:
        return fallback
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return fallback or str(template)


@dataclass(frozen=True)
class RowError:
    line: int  # physical CSV line; the header is line 1
    field: str  # the column's header as written in the file; "" for the whole row
    message: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "code": self.code,
            "params": self.params,
        }


@dataclass(frozen=True)
class RowNote:
    line: int
    message: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False)


def _error(line: int, column: str, code: str, **params: Any) -> RowError:
    return RowError(line, column, message_render(code, params), code, params)


def _note(line: int, code: str, **params: Any) -> RowNote:
    return RowNote(line, message_render(code, params), code, params)


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did (or, in a dry run, would do)."""

    kind: str
    encoding: str
    dry_run: bool
    total_rows: int
    counts: dict[str, int]
    errors: list[RowError]  # the first MAX_STORED_ERRORS, in line order
    error_count: int
    columns: list[Column] = field(default_factory=list)
    notes: list[RowNote] = field(default_factory=list)  # the first MAX_STORED_ERRORS
    note_count: int = 0

    @property
    def is_valid(self) -> bool:
        return self.error_count == 0


# Keys of ImportOutcome.counts, in display order.
LEAD_COUNT_KEYS = (
    "companies_created",
    "companies_updated",
    "companies_unchanged",
    "contacts_created",
    "contacts_updated",
    "contacts_unchanged",
)
INTENT_COUNT_KEYS = ("signals_created", "signals_unchanged", "companies_created")
COUNT_LABELS = {
    "companies_created": _("Companies created"),
    "companies_updated": _("Companies updated"),
    "companies_unchanged": _("Companies unchanged"),
    "contacts_created": _("Contacts created"),
    "contacts_updated": _("Contacts updated"),
    "contacts_unchanged": _("Contacts unchanged"),
    "signals_created": _("Intent signals created"),
    "signals_unchanged": _("Intent signals already stored"),
}

ProgressCallback = Callable[[int, int], None]


def _outcome(
    kind: str,
    prepared: _Prepared,
    *,
    dry_run: bool,
    counts: dict[str, int],
    errors: list[RowError],
    notes: list[RowNote],
) -> ImportOutcome:
    errors.sort(key=lambda e: e.line)
    notes.sort(key=lambda n: n.line)
    return ImportOutcome(
        kind=kind,
        encoding=prepared.encoding,
        dry_run=dry_run,
        total_rows=len(prepared.rows),
        counts=counts,
        errors=errors[:MAX_STORED_ERRORS],
        error_count=len(errors),
        columns=prepared.columns,
        notes=notes[:MAX_STORED_ERRORS],
        note_count=len(notes),
    )
