"""CSV imports: companies and contacts, intent data, and the ImportJob flow.

``leads_import_csv`` and ``intent_import_csv`` take a whole file and either
report what they would do (dry run) or do it. Both are all or nothing: if any
row is invalid nothing is written and every invalid row is reported with its
physical line (header = line 1), column and a message.

The work has two phases. Validation reads the file row by row (pure Python,
no queries) and reports progress; it runs outside any transaction so that a
job's progress row can be updated while it runs. Writing is one transaction
and set-based: a bounded number of queries per 1,000 rows (match, load,
upsert), never a query per row.

The job flow (web UI, Celery): ``import_job_create`` stores the upload after
checking its size, encoding and header; ``import_job_queue`` marks a job as
waiting for the dry run or the import (a conditional UPDATE, so a double click
queues nothing twice); the tasks call ``import_job_check`` and
``import_job_commit``, which claim the job with another conditional UPDATE.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leads import csvio
from leads.csvio import Column, CsvFileError
from leads.models import Company, Contact, ImportJob
from leads.normalize import (
    clean_text,
    company_name_key,
    email_domain,
    is_valid_domain,
    is_valid_email,
    normalize_digits,
    normalize_domain,
    normalize_email,
    normalize_phone,
)
from leads.permissions import can_import_leads
from leads.reference import parse_industry, parse_prefecture, region_for
from leads.services.intent import (
    EXTERNAL_ID_MAX_LENGTH,
    PROVIDER_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
    IntentInput,
    intent_keys_existing,
    intent_signals_record,
)
from leads.services.resolve import CompanyRef, companies_match, companies_resolve, is_free_mail

logger = logging.getLogger(__name__)

ImportFileError = CsvFileError  # the file as a whole is unusable; nothing was read
MAX_STORED_ERRORS = 1000  # errors kept in an outcome and on a job; error_count has them all
PROGRESS_EVERY = 1000  # rows between two progress reports
WRITE_BATCH = 1000  # rows per INSERT … ON CONFLICT statement
_CHUNK = 5000  # keys per IN (…) when loading rows


class ImportJobStateError(Exception):
    """The job is not in a state that allows this step (e.g. already importing)."""


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


# --- Reading the file ---------------------------------------------------------


@dataclass
class _Prepared:
    encoding: str
    columns: list[Column]
    rows: list[tuple[int, list[str]]]  # (line, fields), header excluded


def _required_columns_error(kind: str, present: set[str]) -> str | None:
    company = {csvio.F_COMPANY_NAME, csvio.F_DOMAIN, csvio.F_CORPORATE_NUMBER}
    if kind == csvio.KIND_INTENT:
        if not present & company:
            return gettext(
                "The file needs a company name, domain or corporate number column "
                "(会社名, ドメイン, 法人番号)."
            )
        needed = [csvio.F_TOPIC, csvio.F_STRENGTH, csvio.F_OBSERVED_AT, csvio.F_PROVIDER]
        missing = [str(csvio.FIELD_LABELS[f]) for f in needed if f not in present]
        if missing:
            return gettext("The file has no column for: %(fields)s.") % {
                "fields": ", ".join(missing)
            }
        return None
    if not present & (company | {csvio.F_EMAIL}):
        return gettext(
            "The file needs at least one of these columns: company name (会社名), domain "
            "(ドメイン / URL), corporate number (法人番号) or e-mail (メールアドレス). Check that "
            "the first line is the header."
        )
    return None


def _read_header(text: str, kind: str) -> tuple[str, list[Column], Iterable]:
    delimiter = csvio.sniff_delimiter(text)
    records = csvio.read_rows(text, delimiter=delimiter)
    first = next(records, None)
    if first is None:
        raise ImportFileError(_("The file is empty."))
    columns = csvio.map_header(first[1], kind=kind)
    problem = _required_columns_error(kind, {c.field for c in columns if c.field})
    if problem:
        raise ImportFileError(problem)
    return delimiter, columns, records


def _prepare(data: bytes, kind: str) -> _Prepared:
    text, encoding = csvio.decode_csv(data)
    _delimiter, columns, records = _read_header(text, kind)
    rows = []
    for record in records:
        rows.append(record)
        if len(rows) > settings.IMPORT_MAX_ROWS:
            raise ImportFileError(
                gettext("The file has more than %(max)d rows; split it into smaller files.")
                % {"max": settings.IMPORT_MAX_ROWS}
            )
    return _Prepared(encoding=encoding, columns=columns, rows=rows)


def csv_inspect(*, data: bytes, kind: str) -> tuple[str, list[Column], int]:
    """``(encoding, columns, row count)``; raises ImportFileError for an unusable file."""
    prepared = _prepare(data, kind)
    return prepared.encoding, prepared.columns, len(prepared.rows)


# --- Cell values --------------------------------------------------------------


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


_INDUSTRY_DETAIL_MAX = _max_length(Company, "industry_detail")


_EMPLOYEES_RE = re.compile(r"^(\d+)(?:名|人|people|employees)?$")
_REVENUE_RE = re.compile(r"^[¥]?(\d+(?:\.\d+)?)(兆|億|千万|百万|万|千|k|m|b)?(?:円|yen|jpy)?$")
_REVENUE_UNITS = {
    None: 1,
    "千": 10**3,
    "k": 10**3,
    "万": 10**4,
    "百万": 10**6,
    "m": 10**6,
    "千万": 10**7,
    "億": 10**8,
    "b": 10**9,
    "兆": 10**12,
}
_DATE_RE = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ t](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(z|[+-]\d{2}:?\d{2})?$"
)
_TRUE = frozenset(
    {"1", "true", "yes", "y", "はい", "済", "済み", "停止", "配信停止", "○", "◯", "〇", "✓"}
)
_FALSE = frozenset({"0", "false", "no", "n", "いいえ", "配信中", "-"})
# Titles -> job level, highest level first; a title gets the highest level it
# mentions. "社長室" and "秘書" name an office, not a rank, and are removed first.
_NOT_A_RANK_RE = re.compile(r"社長室|役員室|秘書")
_LEVEL_WORDS = (
    (
        Contact.JobLevel.EXECUTIVE,
        re.compile(
            r"社長|代表|取締役|役員|会長|専務|常務|監査役|執行役|"
            r"\b(?:ceo|coo|cfo|cto|cio|cmo|cxo|president|chairman|chairwoman|founder|chief)\b"
        ),
    ),
    (
        Contact.JobLevel.DIRECTOR,
        re.compile(
            r"本部長|部長|事業部長|局長|室長|所長|支店長|工場長|\b(?:director|head|vp|vice president)\b"
        ),
    ),
    (
        Contact.JobLevel.MANAGER,
        re.compile(r"課長|次長|係長|マネージャ|マネジャ|リーダー|\b(?:manager|lead)\b"),
    ),
)


@functools.lru_cache(maxsize=4096)
def job_level_from_title(title: str) -> str:
    """executive / director / manager from the title's words, else staff."""
    text = _NOT_A_RANK_RE.sub(" ", clean_text(title).casefold())
    for level, pattern in _LEVEL_WORDS:
        if pattern.search(text):
            return level.value
    return Contact.JobLevel.STAFF.value


@functools.lru_cache(maxsize=256)
def _job_level_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for value, label in Contact.JobLevel.choices:
        lookup[csvio.header_key(value)] = value
        for language in ("en", "ja"):
            with translation.override(language):
                lookup[csvio.header_key(str(label))] = value
    for words, value in (
        (("一般", "担当", "担当者", "スタッフ", "社員"), Contact.JobLevel.STAFF),
        (("その他",), Contact.JobLevel.OTHER),
        (("経営者", "経営層", "役員クラス"), Contact.JobLevel.EXECUTIVE),
        (("部長クラス", "部長職"), Contact.JobLevel.DIRECTOR),
        (("課長クラス", "管理職"), Contact.JobLevel.MANAGER),
    ):
        for word in words:
            lookup[csvio.header_key(word)] = value.value
    return lookup


def _parse_job_level(text: str) -> str | None:
    key = csvio.header_key(text)
    if key in _job_level_lookup():
        return _job_level_lookup()[key]
    level = job_level_from_title(text)
    return None if level == Contact.JobLevel.STAFF else level


def _parse_employees(text: str) -> int | None:
    match = _EMPLOYEES_RE.match(normalize_digits(text).casefold())
    if not match or len(match.group(1)) > 9:
        return None
    return int(match.group(1))


@functools.lru_cache(maxsize=1024)
def _parse_revenue(text: str) -> str | None:
    key = csvio.header_key(normalize_digits(text))
    for value, label in Company.RevenueBand.choices:
        if key == csvio.header_key(value):
            return value
        for language in ("en", "ja"):
            with translation.override(language):
                if key == csvio.header_key(str(label)):
                    return value
    match = _REVENUE_RE.match(key)
    if not match:
        return None
    yen = Decimal(match.group(1)) * _REVENUE_UNITS[match.group(2)]
    for upper, band in (
        (10**8, Company.RevenueBand.UNDER_100M),
        (10**9, Company.RevenueBand.FROM_100M),
        (10**10, Company.RevenueBand.FROM_1B),
        (10**11, Company.RevenueBand.FROM_10B),
    ):
        if yen < upper:
            return band.value
    return Company.RevenueBand.OVER_100B.value


def _parse_postal_code(text: str) -> str | None:
    digits = re.sub(r"[\s〒\-‐−–—ー]", "", clean_text(text))
    if not re.fullmatch(r"\d{7}", digits):
        return None
    return f"{digits[:3]}-{digits[3:]}"


def _parse_bool(text: str) -> bool | None:
    key = csvio.header_key(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    return None


def _parse_datetime(text: str) -> datetime | None:
    """A date (midnight) or date and time; naive values are in settings.TIME_ZONE."""
    match = _DATE_RE.match(clean_text(text).casefold())
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        naive = datetime(  # noqa: DTZ001 - made aware just below
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    if offset is None:
        return timezone.make_aware(naive, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    offset = "+00:00" if offset == "z" else offset
    try:
        return datetime.fromisoformat(naive.isoformat() + offset)
    except ValueError:
        return None


def _parse_strength(text: str) -> int | None:
    raw = normalize_digits(text).removesuffix("%")
    try:
        value = Decimal(raw).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or not 0 <= value <= 100:
        return None
    return int(value)


def _parse_corporate_number(text: str) -> str | None:
    digits = re.sub(r"[\s\-‐−–—]", "", clean_text(text))
    return digits if re.fullmatch(r"\d{13}", digits) else None


# --- Leads: rows --------------------------------------------------------------

_COMPANY_TEXT = {
    csvio.F_COMPANY_NAME: "name",
    csvio.F_COMPANY_KANA: "name_kana",
    csvio.F_CITY: "city",
    csvio.F_ADDRESS: "address",
}
_CONTACT_TEXT = {
    csvio.F_CONTACT_NAME: "name",
    csvio.F_CONTACT_KANA: "name_kana",
    csvio.F_TITLE: "title",
    csvio.F_DEPARTMENT: "department",
}
# Fields the import writes; anything else on the rows is left alone.
COMPANY_FIELDS = (
    "name",
    "name_key",
    "name_kana",
    "corporate_number",
    "domain",
    "industry",
    "industry_detail",
    "employee_count",
    "revenue_band",
    "prefecture",
    "region",
    "city",
    "address",
    "postal_code",
)
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


@dataclass(slots=True)
class _LeadRow:
    line: int
    company: dict[str, Any]  # Company field -> value, only what the row gives
    number: str
    domain: str
    domain_is_derived: bool  # taken from the e-mail address, not a website column
    email: str
    contact: dict[str, Any]  # Contact field -> value, only what the row gives

    @property
    def names_company(self) -> bool:
        return bool(self.company.get("name") or self.number or self.domain)


@functools.lru_cache(maxsize=16384)
def _company_value(column: str, raw: str) -> tuple[tuple[tuple[str, Any], ...], str]:
    """``(Company field values, error code)`` for one cell; cached, as values repeat."""
    if column == csvio.F_INDUSTRY:
        code = parse_industry(raw)
        if code:
            return (("industry", code),), ""
        # Unknown wording is kept as given, not an error.
        return (("industry_detail", clean_text(raw)[:_INDUSTRY_DETAIL_MAX]),), ""
    if column == csvio.F_EMPLOYEES:
        count = _parse_employees(raw)
        return (
            ((("employee_count", count),), "") if count is not None else ((), "employees_invalid")
        )
    if column == csvio.F_REVENUE:
        band = _parse_revenue(raw)
        return ((("revenue_band", band),), "") if band else ((), "revenue_invalid")
    if column == csvio.F_PREFECTURE:
        code = parse_prefecture(raw)
        if not code:
            return (), "prefecture_invalid"
        return (("prefecture", code), ("region", region_for(code))), ""
    postal = _parse_postal_code(raw)  # csvio.F_POSTAL_CODE
    return ((("postal_code", postal),), "") if postal else ((), "postal_code_invalid")


_COMPANY_VALUE_COLUMNS = (
    csvio.F_INDUSTRY,
    csvio.F_EMPLOYEES,
    csvio.F_REVENUE,
    csvio.F_PREFECTURE,
    csvio.F_POSTAL_CODE,
)


class _LeadParser:
    def __init__(self, columns: list[Column]) -> None:
        self.columns = columns
        self.index = {c.field: c.index for c in columns if c.field}
        self.positions = list(self.index.items())
        self.header = {c.field: c.header for c in columns if c.field}
        self.width = len(columns)
        self.lengths = {
            **{f: _max_length(Company, m) for f, m in _COMPANY_TEXT.items()},
            **{f: _max_length(Contact, m) for f, m in _CONTACT_TEXT.items()},
        }
        self.company_text = [(f, m) for f, m in _COMPANY_TEXT.items() if f in self.index]
        self.contact_text = [(f, m) for f, m in _CONTACT_TEXT.items() if f in self.index]
        self.company_values = [f for f in _COMPANY_VALUE_COLUMNS if f in self.index]

    def cell(self, fields: list[str], name: str) -> str:
        i = self.index.get(name)
        return fields[i].strip() if i is not None and i < len(fields) else ""

    def parse(self, line: int, fields: list[str]) -> tuple[_LeadRow | None, list[RowError]]:
        errors: list[RowError] = []

        def fail(name: str, code: str, **params: Any) -> None:
            errors.append(_error(line, self.header.get(name, ""), code, **params))

        n = len(fields)
        if n > self.width and any(f.strip() for f in fields[self.width :]):
            fail("", "too_many_fields", found=n, expected=self.width)
        cells = {}
        for name, i in self.positions:
            if i < n and (value := fields[i].strip()):
                cells[name] = value
        company: dict[str, Any] = {}
        contact: dict[str, Any] = {}
        for targets, values in ((self.company_text, company), (self.contact_text, contact)):
            for column, model_field in targets:
                if column in cells and (value := clean_text(cells[column])):
                    if len(value) > self.lengths[column]:
                        fail(column, "too_long", max=self.lengths[column], length=len(value))
                    values[model_field] = value
        for column in self.company_values:
            if column in cells:
                updates, problem = _company_value(column, cells[column])
                if problem:
                    fail(column, problem, value=cells[column])
                company.update(updates)

        number = ""
        if raw := cells.get(csvio.F_CORPORATE_NUMBER):
            number = _parse_corporate_number(raw) or ""
            if not number:
                fail(csvio.F_CORPORATE_NUMBER, "corporate_number_invalid", value=raw)
        domain = ""
        if raw := cells.get(csvio.F_DOMAIN):
            domain = normalize_domain(raw)
            if not is_valid_domain(domain):
                fail(csvio.F_DOMAIN, "domain_invalid", value=raw)
                domain = ""
        email = ""
        if raw := cells.get(csvio.F_EMAIL):
            email = normalize_email(raw)
            if not is_valid_email(email):
                fail(csvio.F_EMAIL, "email_invalid", value=raw)
        if raw := cells.get(csvio.F_PHONE):
            phone = normalize_phone(raw)
            if len(phone) > 32 or len(clean_text(raw).replace(" ", "")) > 32:
                fail(csvio.F_PHONE, "too_long", max=32, length=len(raw))
            contact["phone"] = phone
        if raw := cells.get(csvio.F_JOB_LEVEL):
            level = _parse_job_level(raw)
            if level is None:
                fail(csvio.F_JOB_LEVEL, "job_level_invalid", value=raw)
            else:
                contact["job_level"] = level
        elif "title" in contact:
            contact["job_level"] = job_level_from_title(contact["title"])
        if raw := cells.get(csvio.F_UNSUBSCRIBED):
            flag = _parse_bool(raw)
            if flag is None:
                fail(csvio.F_UNSUBSCRIBED, "boolean_invalid", value=raw)
            elif flag:
                # One way only: an import never re-subscribes anybody (特定電子メール法);
                # that takes the person's own consent.
                contact["is_unsubscribed"] = True

        derived = False
        if not domain and email and ("name" in company or number):
            mail_domain = email_domain(email)
            if mail_domain and not is_free_mail(mail_domain):
                domain, derived = mail_domain, True
        if not email and not ("name" in company or number or domain) and not errors:
            fail("", "no_identity")
        if errors:
            return None, errors
        return _LeadRow(line, company, number, domain, derived, email, contact), []


class _Group:
    """The rows of the file that name one company."""

    __slots__ = (
        "domain",
        "domain_is_derived",
        "first_line",
        "lines",
        "name",
        "name_key",
        "number",
        "rows",
    )

    def __init__(self, line: int) -> None:
        self.first_line = line
        self.number = ""
        self.domain = ""
        self.domain_is_derived = False
        self.name = ""
        self.name_key = ""
        self.lines: dict[str, int] = {}  # "number"/"domain" -> line that gave it
        self.rows: list[tuple[int, dict[str, Any]]] = []

    @property
    def ref(self) -> CompanyRef:
        return CompanyRef.make(name=self.name, domain=self.domain, corporate_number=self.number)


class _Grouper:
    """Groups rows by company the way companies_match matches them.

    Corporate number first, then domain, then the name key; a name joins the
    first group with that key unless the group has another corporate number or
    domain (two companies may share a name). A domain taken from an e-mail
    address is weak evidence: on any conflict it is dropped, never an error.
    """

    def __init__(self, parser: _LeadParser) -> None:
        self.parser = parser
        self.groups: list[_Group] = []
        self.by_number: dict[str, _Group] = {}
        self.by_domain: dict[str, _Group] = {}
        self.by_key: dict[str, _Group] = {}

    def _compatible(self, group: _Group, number: str, domain: str, derived: bool) -> bool:
        if number and group.number and number != group.number:
            return False
        weak = derived or group.domain_is_derived
        return not (domain and group.domain and domain != group.domain and not weak)

    def add(self, row: _LeadRow) -> tuple[_Group | None, RowError | RowNote | None]:
        number, domain, derived = row.number, row.domain, row.domain_is_derived
        name = row.company.get("name", "")
        key = company_name_key(name) if name else ""
        by_number = self.by_number.get(number) if number else None
        by_domain = self.by_domain.get(domain) if domain else None
        header = self.parser.header.get
        if derived and by_domain and key and by_domain.name and by_domain.name_key != key:
            # Two names sharing a mail domain (group companies, agencies) stay apart.
            by_domain, domain, derived = None, "", False
        if by_number and by_domain and by_number is not by_domain:
            if not derived:
                return None, _error(
                    row.line,
                    header(csvio.F_DOMAIN, ""),
                    "number_domain_conflict",
                    number_line=by_number.lines.get("number", by_number.first_line),
                    domain_line=by_domain.lines.get("domain", by_domain.first_line),
                )
            by_domain, domain, derived = None, "", False
        group = by_number or by_domain
        if group is not None and number and group.number and number != group.number:
            if derived:
                group, domain, derived = None, "", False
            else:
                return None, _error(
                    row.line,
                    header(csvio.F_CORPORATE_NUMBER, ""),
                    "number_conflict",
                    value=number,
                    other=group.number,
                    other_line=group.lines["number"],
                )
        if group is not None and domain and group.domain and domain != group.domain:
            if derived:
                domain, derived = "", False
            elif not group.domain_is_derived:
                return None, _error(
                    row.line,
                    header(csvio.F_DOMAIN, ""),
                    "domain_conflict",
                    value=domain,
                    other=group.domain,
                    other_line=group.lines["domain"],
                )
        if group is None and key:
            candidate = self.by_key.get(key)
            if candidate is not None and self._compatible(candidate, number, domain, derived):
                group = candidate
        note: RowNote | None = None
        if group is None:
            group = _Group(row.line)
            self.groups.append(group)
        elif not row.email:
            note = _note(row.line, "company_duplicate", other_line=group.rows[-1][0])
        if number and not group.number:
            group.number = number
            group.lines["number"] = row.line
            self.by_number[number] = group
        upgrades = not group.domain or (group.domain_is_derived and not derived)
        if domain and upgrades and self.by_domain.get(domain, group) is group:
            group.domain, group.domain_is_derived = domain, derived
            group.lines["domain"] = row.line
            self.by_domain[domain] = group
        if key:
            self.by_key.setdefault(key, group)
            if group.name_key != key:  # a spelling variant keeps the first spelling
                group.name, group.name_key = name, key
        group.rows.append((row.line, row.company))
        return group, note


# --- Leads: matching and writing -------------------------------------------


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


@dataclass
class _Target:
    """One company the import touches: existing, or new (pk None in a dry run)."""

    company: Company
    groups: list[_Group]
    is_new: bool
    before: dict[str, Any] = field(default_factory=dict)
    changed: bool = False


def _match_groups(groups: list[_Group]) -> dict[int, int]:
    """Group index -> existing company id, via companies_match.

    A domain taken from an e-mail address is weak evidence: such a group is
    matched by 法人番号 and name first, and by the e-mail domain only if the
    company found has the same name or just a placeholder name (its domain, as
    the API names a company it only knows by domain). Otherwise the group
    loses that domain, so that creating it cannot collide with the company
    that holds it.
    """
    refs = {
        i: g.ref
        if not g.domain_is_derived
        else CompanyRef.make(name=g.name, corporate_number=g.number)
        for i, g in enumerate(groups)
    }
    found = companies_match(refs=refs.values())
    matched = {i: found[r] for i, r in refs.items() if r in found}
    by_domain = {
        i: g.domain
        for i, g in enumerate(groups)
        if i not in matched and g.domain_is_derived and g.domain
    }
    if by_domain:
        domain_refs = {d: CompanyRef.make(domain=d) for d in by_domain.values()}
        found = companies_match(refs=domain_refs.values())
        ids = {d: found[r] for d, r in domain_refs.items() if r in found}
        keys: dict[int, str] = {}
        for chunk in _chunks(sorted(set(ids.values()))):
            keys.update(Company.objects.filter(id__in=chunk).values_list("id", "name_key"))
        for i, domain in by_domain.items():
            group = groups[i]
            if domain not in ids:
                continue
            key = keys.get(ids[domain], "")
            if not group.name_key or key in {group.name_key, company_name_key(domain)}:
                matched[i] = ids[domain]
            else:
                group.domain, group.domain_is_derived = "", False
    return matched


def _load_companies(ids: Iterable[int]) -> dict[int, Company]:
    loaded: dict[int, Company] = {}
    for chunk in _chunks(sorted(set(ids))):
        loaded.update(Company.objects.in_bulk(chunk))
    return loaded


def _holders(values: set[str], field_name: str, **only: str) -> dict[str, int]:
    """value -> id of the company holding it (for the unique constraints)."""
    holders: dict[str, int] = {}
    for chunk in _chunks(sorted(values)):
        rows = Company.objects.filter(**{f"{field_name}__in": chunk}, **only)
        holders.update(rows.values_list(field_name, "id"))
    return holders


# Company field -> the CSV column that gives it (for notes).
_COLUMN_OF = {
    "name": csvio.F_COMPANY_NAME,
    "name_kana": csvio.F_COMPANY_KANA,
    "industry": csvio.F_INDUSTRY,
    "industry_detail": csvio.F_INDUSTRY,
    "employee_count": csvio.F_EMPLOYEES,
    "revenue_band": csvio.F_REVENUE,
    "prefecture": csvio.F_PREFECTURE,
    "region": csvio.F_PREFECTURE,
    "city": csvio.F_CITY,
    "address": csvio.F_ADDRESS,
    "postal_code": csvio.F_POSTAL_CODE,
}


def _merge_rows(target: _Target, header: dict[str, str], notes: list[RowNote]) -> None:
    """Apply the target's rows in line order: later non-empty values win (and say so)."""
    company = target.company
    rows = sorted((r for g in target.groups for r in g.rows), key=lambda r: r[0])
    given: dict[str, tuple[int, Any]] = {}
    for line, values in rows:
        differs: tuple[str, int] | None = None
        for name, value in values.items():
            if name == "name" and company.name and company_name_key(value) == company.name_key:
                continue  # 株式会社サンプル vs ｻﾝﾌﾟﾙ(株): a spelling, not a new name
            earlier = given.get(name)
            if differs is None and earlier is not None and earlier[1] != value:
                differs = (name, earlier[0])
            given[name] = (line, value)
            setattr(company, name, value)
            if name == "name":
                company.name_key = company_name_key(value)
        if differs is not None:
            column = header.get(_COLUMN_OF.get(differs[0], ""), "")
            notes.append(_note(line, "company_value_differs", column=column, other_line=differs[1]))


def _plan_companies(
    groups: list[_Group], *, write: bool, header: dict[str, str], notes: list[RowNote]
) -> tuple[dict[int, _Target], dict[str, int]]:
    """id(group) -> the company it lands on, with the file's values applied (not saved).

    Reads a bounded number of queries per 5,000 companies. When ``write``,
    first creates the missing companies through companies_resolve (bare rows;
    its unique constraints make a concurrent import meet on the same rows).
    """
    matched = _match_groups(groups)
    unmatched = [i for i in range(len(groups)) if i not in matched]
    new_ids: dict[int, int] = {}
    if write and unmatched:
        resolved = companies_resolve(refs=[groups[i].ref for i in unmatched])
        new_ids = {i: resolved[groups[i].ref] for i in unmatched}
    loaded = _load_companies([*matched.values(), *new_ids.values()])

    # Several groups may land on one company (e.g. one named by domain, one by
    # 法人番号): they become one target and their rows merge.
    targets: dict[object, _Target] = {}
    by_group: dict[int, _Target] = {}
    for i, group in enumerate(groups):
        pk = matched.get(i, new_ids.get(i))
        key: object = pk if pk is not None else ("new", group.ref)
        target = targets.get(key)
        if target is None:
            company = loaded[pk] if pk is not None else Company()
            before = {f: getattr(company, f) for f in COMPANY_FIELDS}
            target = targets[key] = _Target(company, [], i not in matched, before)
        target.groups.append(group)
        by_group[id(group)] = target
    for target in targets.values():
        _merge_rows(target, header, notes)

    # 法人番号 and domain are filled in when missing, never changed (another
    # value means another company, and companies_match decided which one this
    # is), and only if no other company holds them (unique constraints).
    for name, attr in (("corporate_number", "number"), ("domain", "domain")):
        wanted: dict[str, _Target] = {}
        for target in targets.values():
            for group in target.groups:
                value = getattr(group, attr)
                if value and not getattr(target.company, name):
                    wanted.setdefault(value, target)
        holders = _holders(set(wanted), name) if wanted else {}
        for value, target in wanted.items():
            is_free = holders.get(value, target.company.pk) == target.company.pk
            if is_free and not getattr(target.company, name):
                setattr(target.company, name, value)

    # A renamed company without domain or 法人番号 must not take the name key
    # of another such company (the name-only unique constraint).
    renamed = [
        t
        for t in targets.values()
        if not t.is_new
        and t.company.name_key != t.before["name_key"]
        and not (t.company.domain or t.company.corporate_number)
    ]
    holders = _holders(
        {t.company.name_key for t in renamed}, "name_key", domain="", corporate_number=""
    )
    claimed: dict[str, _Target] = {}
    for target in renamed:
        company = target.company
        owner = holders.get(company.name_key, company.pk)
        if owner != company.pk or claimed.setdefault(company.name_key, target) is not target:
            notes.append(_note(target.groups[0].rows[-1][0], "name_kept", value=company.name))
            company.name, company.name_key = target.before["name"], target.before["name_key"]

    for target in targets.values():
        target.changed = any(getattr(target.company, f) != v for f, v in target.before.items())
    return by_group, {
        "companies_created": sum(1 for t in targets.values() if t.is_new),
        "companies_updated": sum(1 for t in targets.values() if not t.is_new and t.changed),
        "companies_unchanged": sum(1 for t in targets.values() if not t.is_new and not t.changed),
    }


def _upsert_by_id(model, objects: list, fields: Sequence[str]) -> None:
    """One INSERT … ON CONFLICT (id) DO UPDATE per batch: a set-based bulk update."""
    if objects:
        model.objects.bulk_create(
            objects,
            batch_size=WRITE_BATCH,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[*fields, "updated_at"],
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
    if write:
        changed = {id(t): t.company for t in by_group.values() if t.changed}
        _upsert_by_id(Company, list(changed.values()), COMPANY_FIELDS)

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
    return counts


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


# --- Intent -----------------------------------------------------------------


def _intent_row(
    parser: _LeadParser, line: int, fields: list[str]
) -> tuple[IntentInput | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(name: str, code: str, **params: Any) -> None:
        errors.append(_error(line, parser.header.get(name, ""), code, **params))

    name = clean_text(parser.cell(fields, csvio.F_COMPANY_NAME))
    number = ""
    if raw := parser.cell(fields, csvio.F_CORPORATE_NUMBER):
        number = _parse_corporate_number(raw) or ""
        if not number:
            fail(csvio.F_CORPORATE_NUMBER, "corporate_number_invalid", value=raw)
    domain = ""
    if raw := parser.cell(fields, csvio.F_DOMAIN):
        domain = normalize_domain(raw)
        if not is_valid_domain(domain):
            fail(csvio.F_DOMAIN, "domain_invalid", value=raw)
    if len(name) > _max_length(Company, "name"):
        fail(csvio.F_COMPANY_NAME, "too_long", max=_max_length(Company, "name"), length=len(name))
    if not (name or number or domain) and not errors:
        first = next(
            (
                f
                for f in (csvio.F_COMPANY_NAME, csvio.F_DOMAIN, csvio.F_CORPORATE_NUMBER)
                if f in parser.header
            ),
            "",
        )
        fail(first, "company_missing")
    texts = {}
    for column, limit in (
        (csvio.F_TOPIC, TOPIC_MAX_LENGTH),
        (csvio.F_PROVIDER, PROVIDER_MAX_LENGTH),
        (csvio.F_EXTERNAL_ID, EXTERNAL_ID_MAX_LENGTH),
    ):
        value = clean_text(parser.cell(fields, column))
        if not value and column != csvio.F_EXTERNAL_ID:
            fail(column, "required")
        elif len(value) > limit:
            fail(column, "too_long", max=limit, length=len(value))
        texts[column] = value
    raw = parser.cell(fields, csvio.F_STRENGTH)
    strength = _parse_strength(raw) if raw else None
    if strength is None:
        fail(csvio.F_STRENGTH, "strength_invalid" if raw else "required", value=raw)
    raw = parser.cell(fields, csvio.F_OBSERVED_AT)
    observed_at = _parse_datetime(raw) if raw else None
    if observed_at is None:
        fail(csvio.F_OBSERVED_AT, "date_invalid" if raw else "required", value=raw)
    if errors:
        return None, errors
    ref = CompanyRef.make(name=name, domain=domain, corporate_number=number)
    external_id = texts[csvio.F_EXTERNAL_ID]
    if not external_id:
        # Stable across re-imports of the same file, so that they are idempotent.
        identity = "|".join(
            [
                ref.corporate_number,
                ref.domain,
                ref.name_key,
                texts[csvio.F_TOPIC].casefold(),
                observed_at.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat(),
                texts[csvio.F_PROVIDER],
            ]
        )
        external_id = "csv-" + hashlib.sha256(identity.encode()).hexdigest()[:40]
    signal = IntentInput(
        company=ref,
        topic=texts[csvio.F_TOPIC],
        strength=strength,
        observed_at=observed_at,
        provider=texts[csvio.F_PROVIDER],
        external_id=external_id,
    )
    return signal, []


def _apply_intent(signals: list[IntentInput], *, write: bool) -> dict[str, int]:
    unique: dict[tuple[str, str], IntentInput] = {}
    for signal in signals:  # the first of a repeated key wins, as in intent_signals_record
        unique.setdefault((signal.provider, signal.external_id), signal)
    existing = intent_keys_existing(keys=unique)
    new = [s for k, s in unique.items() if k not in existing]
    refs = list(dict.fromkeys(s.company for s in new))
    matched = companies_match(refs=refs)
    # What companies_resolve will create: one company per new 法人番号/domain
    # pair, and one per new name unless a company created with it has that name.
    specific = {r for r in refs if r not in matched and (r.corporate_number or r.domain)}
    specific_keys = {company_name_key(r.name or r.domain or r.corporate_number) for r in specific}
    name_only = {r.name_key for r in refs if r not in matched and r not in specific}
    companies_created = len({(r.corporate_number, r.domain) for r in specific}) + len(
        name_only - specific_keys
    )
    created = len(new)
    if write:
        result = intent_signals_record(signals=signals)
        created = result.created
    return {
        "signals_created": created,
        "signals_unchanged": len(signals) - created,
        "companies_created": companies_created,
    }


# --- The two imports --------------------------------------------------------


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


def intent_import_csv(
    *, data: bytes, dry_run: bool, on_progress: ProgressCallback | None = None
) -> ImportOutcome:
    """Import third-party intent signals from a CSV file, or report what that would do.

    Columns: the company (name, domain or corporate number), topic, strength
    (0–100), date (a date or date and time; without an offset it is in
    settings.TIME_ZONE), provider and an optional external id. Without an id,
    one is derived from a hash of company, topic, time and provider, so that
    importing the same file twice stores each signal once. Writing goes
    through ``intent_signals_record`` (which creates missing companies).

    Raises ImportFileError if the file cannot be read at all.
    """
    prepared = _prepare(data, csvio.KIND_INTENT)
    parser = _LeadParser(prepared.columns)
    total = len(prepared.rows)
    if on_progress is not None:
        on_progress(0, total)
    signals: list[IntentInput] = []
    errors: list[RowError] = []
    notes: list[RowNote] = []
    first_line: dict[tuple[str, str], int] = {}
    for done, (line, fields) in enumerate(prepared.rows, start=1):
        signal, row_errors = _intent_row(parser, line, fields)
        errors.extend(row_errors)
        if signal is not None:
            key = (signal.provider, signal.external_id)
            if key in first_line:
                notes.append(_note(line, "signal_duplicate", other_line=first_line[key]))
            first_line.setdefault(key, line)
            signals.append(signal)
        if on_progress is not None and done % PROGRESS_EVERY == 0:
            on_progress(done, total)
    if on_progress is not None:
        on_progress(total, total)
    counts: dict[str, int] = {}
    if not errors:
        if dry_run:
            counts = _apply_intent(signals, write=False)
        else:
            with transaction.atomic():
                counts = _apply_intent(signals, write=True)
    return _outcome(
        csvio.KIND_INTENT, prepared, dry_run=dry_run, counts=counts, errors=errors, notes=notes
    )


IMPORTERS = {
    ImportJob.Kind.LEADS.value: leads_import_csv,
    ImportJob.Kind.INTENT.value: intent_import_csv,
}


# --- Jobs ---------------------------------------------------------------------


def import_job_create(*, actor, file_name: str, data: bytes, kind: str) -> ImportJob:
    """Store an uploaded file as a new job, after checking it can be imported at all.

    Refuses (ImportFileError, nothing stored) a file that is too big, in an
    unknown encoding, malformed, with too many rows, or without a usable
    header, so that the user hears about it at upload. Raises PermissionDenied
    unless the actor may import.
    """
    if not can_import_leads(actor):
        raise PermissionDenied
    if kind not in IMPORTERS:
        raise ImportFileError(gettext("Unknown kind of import: %(kind)s.") % {"kind": kind})
    if len(data) > settings.IMPORT_MAX_FILE_BYTES:
        raise ImportFileError(
            gettext("The file is larger than %(mb)d MB; split it into smaller files.")
            % {"mb": settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)}
        )
    encoding, _columns, total_rows = csv_inspect(data=data, kind=kind)
    return ImportJob.objects.create(
        kind=kind,
        file_name=file_name[: ImportJob._meta.get_field("file_name").max_length],
        content=data,
        encoding=encoding,
        total_rows=total_rows,
        created_by=actor,
    )


@dataclass(frozen=True)
class ImportPreview:
    encoding_label: str
    columns: list[Column]
    rows: list[list[str]]  # the first rows, padded to the header's width


def import_job_preview(*, job: ImportJob, limit: int = 5) -> ImportPreview | None:
    """The column mapping and the first rows; None once the file was purged."""
    data = bytes(job.content or b"")
    if not data:
        return None
    head = csvio.head_rows(data, encoding=job.encoding, limit=limit + 1)
    if not head:
        return None
    columns = csvio.map_header(head[0], kind=job.kind)
    width = len(columns)
    rows = [(r + [""] * width)[:width] for r in head[1:]]
    label = csvio.ENCODING_LABELS.get(job.encoding, job.encoding)
    return ImportPreview(encoding_label=str(label), columns=columns, rows=rows)


# Statuses from which a step may be queued, and the one it moves to.
_QUEUE_FROM = {
    "check": (
        {
            ImportJob.Status.UPLOADED,
            ImportJob.Status.CHECKED,
            ImportJob.Status.INVALID,
            ImportJob.Status.FAILED,
        },
        ImportJob.Status.CHECKING,
    ),
    "commit": ({ImportJob.Status.CHECKED}, ImportJob.Status.IMPORTING),
}


def import_job_queue(*, actor, job_id: int, step: Literal["check", "commit"]) -> ImportJob:
    """Mark the job as waiting for its dry run or its import; the caller enqueues the task.

    A conditional UPDATE on the status: of two clicks, only the first queues
    anything (the second raises ImportJobStateError). The import is only
    allowed after a clean dry run (status CHECKED).
    """
    if not can_import_leads(actor):
        raise PermissionDenied
    allowed, status = _QUEUE_FROM[step]
    queued = (
        ImportJob.objects.filter(pk=job_id, status__in=allowed)
        .exclude(content=b"")
        .update(status=status, started_at=None, finished_at=None, processed_rows=0, message="")
    )
    if not queued:
        raise ImportJobStateError(job_id)
    return ImportJob.objects.get(pk=job_id)


def _stale_before() -> datetime:
    # A task that started this long ago has been killed by the hard time limit;
    # its redelivery may take the job over. The import is one transaction, so
    # the dead attempt wrote nothing.
    return timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def _claim(job_id: int, *, ready: set[str], running: str) -> ImportJob:
    claimable = Q(status__in=ready) | Q(status=running, started_at__isnull=True)
    claimable |= Q(status=running, started_at__lt=_stale_before())
    claimed = (
        ImportJob.objects.filter(claimable, pk=job_id)
        .exclude(content=b"")
        .update(status=running, started_at=timezone.now(), finished_at=None, processed_rows=0)
    )
    if not claimed:
        ImportJob.objects.only("id").get(pk=job_id)  # DoesNotExist if it is gone
        raise ImportJobStateError(job_id)
    return ImportJob.objects.get(pk=job_id)


def _progress_writer(job_id: int) -> ProgressCallback:
    def write(done: int, total: int) -> None:
        # Autocommit, outside the import's transaction: the UI polls this row.
        ImportJob.objects.filter(pk=job_id).update(processed_rows=done, total_rows=total)

    return write


def _run_job(job: ImportJob, *, dry_run: bool) -> ImportJob:
    importer = IMPORTERS[job.kind]
    try:
        outcome = importer(
            data=bytes(job.content), dry_run=dry_run, on_progress=_progress_writer(job.pk)
        )
    except ImportFileError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.INVALID, message=exc.message, finished_at=timezone.now()
        )
        return ImportJob.objects.get(pk=job.pk)
    except Exception as exc:
        # Recorded for the UI, then re-raised for the worker's log: a bug, not bad data.
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            message=gettext("The import failed unexpectedly (%(error)s); nothing was written.")
            % {"error": type(exc).__name__},
            finished_at=timezone.now(),
        )
        raise
    if not outcome.is_valid:
        status = ImportJob.Status.INVALID
    else:
        status = ImportJob.Status.CHECKED if dry_run else ImportJob.Status.DONE
    counts = dict(outcome.counts)
    counts["rows_merged"] = sum(
        1 for n in outcome.notes if n.code in {"contact_duplicate", "company_duplicate"}
    )
    counts["notes"] = outcome.note_count
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        total_rows=outcome.total_rows,
        processed_rows=outcome.total_rows,
        counts=counts,
        errors=[e.as_dict() for e in outcome.errors],
        error_count=outcome.error_count,
        finished_at=timezone.now(),
        message="",
    )
    return ImportJob.objects.get(pk=job.pk)


def import_job_check(*, job_id: int) -> ImportJob:
    """Run the job's dry run; store counts or errors. Writes nothing but the job row.

    Raises ImportJob.DoesNotExist if the job is gone, ImportJobStateError if
    it is running elsewhere or already imported.
    """
    ready = {
        ImportJob.Status.UPLOADED,
        ImportJob.Status.CHECKED,
        ImportJob.Status.INVALID,
        ImportJob.Status.FAILED,
    }
    job = _claim(job_id, ready=ready, running=ImportJob.Status.CHECKING)
    return _run_job(job, dry_run=True)


def import_job_commit(*, job_id: int) -> ImportJob:
    """Import the job's file for real. Only after a clean dry run (status CHECKED).

    The claim is a conditional UPDATE on the status, so that two calls (a
    double click, a redelivered task) cannot import twice: the second raises
    ImportJobStateError. Raises ImportJob.DoesNotExist if the job is gone.
    """
    job = _claim(job_id, ready={ImportJob.Status.CHECKED}, running=ImportJob.Status.IMPORTING)
    return _run_job(job, dry_run=False)


def import_jobs_purge(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Drop the file content of jobs finished (or abandoned) ``older_than`` ago."""
    cutoff = timezone.now() - older_than
    finished = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    return (
        ImportJob.objects.filter(finished)
        .exclude(status__in=[ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING])
        .exclude(content=b"")
        .update(content=b"")
    )


# --- Reads for the import pages ---------------------------------------------


def import_job_list_for(*, actor, limit: int = 25) -> QuerySet[ImportJob]:
    if not can_import_leads(actor):
        raise PermissionDenied
    return (
        ImportJob.objects.defer("content", "errors")
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )


def import_job_get_for(*, actor, job_id: int) -> ImportJob:
    if not can_import_leads(actor):
        raise PermissionDenied
    return get_object_or_404(ImportJob.objects.select_related("created_by"), pk=job_id)


def import_job_errors(*, job: ImportJob) -> list[dict[str, Any]]:
    """The stored errors with their messages in the active language."""
    return [
        {
            "line": e.get("line"),
            "field": e.get("field", ""),
            "message": message_render(
                e.get("code", ""), e.get("params") or {}, e.get("message", "")
            ),
        }
        for e in job.errors or []
    ]
