"""Parsing and validating the rows of a leads file, one row at a time (no queries)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from leads import csvio
from leads.csvio import Column
from leads.models import Company, Contact
from leads.normalize import (
    clean_text,
    email_domain,
    is_company_name,
    is_valid_domain,
    is_valid_email,
    normalize_domain,
    normalize_email,
    normalize_phone,
)
from leads.reference import parse_industry, parse_prefecture, region_for
from leads.services.imports.cells import (
    _parse_bool,
    _parse_corporate_number,
    _parse_employees,
    _parse_job_level,
    _parse_postal_code,
    _parse_revenue,
    job_level_from_title,
)
from leads.services.imports.outcome import RowError, _error
from leads.services.resolve import is_free_mail


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


_INDUSTRY_DETAIL_MAX = _max_length(Company, "industry_detail")


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
        if "name" in company and not is_company_name(company["name"]):
            # Only spaces and punctuation: it could neither match nor name a company.
            fail(csvio.F_COMPANY_NAME, "company_name_invalid", value=company.pop("name"))
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
