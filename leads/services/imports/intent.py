"""The intent import: third-party intent signals from a CSV file."""

from __future__ import annotations

import hashlib
import zoneinfo
from typing import Any

from django.db import transaction

from leads import csvio
from leads.models import Company
from leads.normalize import (
    clean_text,
    company_name_key,
    is_company_name,
    is_valid_domain,
    normalize_domain,
)
from leads.services.imports.cells import _parse_corporate_number, _parse_datetime, _parse_strength
from leads.services.imports.columns import _prepare
from leads.services.imports.outcome import (
    PROGRESS_EVERY,
    ImportOutcome,
    ProgressCallback,
    RowError,
    RowNote,
    _error,
    _note,
    _outcome,
)
from leads.services.imports.rows import _LeadParser, _max_length
from leads.services.intent import (
    EXTERNAL_ID_MAX_LENGTH,
    PROVIDER_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
    IntentInput,
    intent_keys_existing,
    intent_signals_record,
)
from leads.services.resolve import CompanyRef, companies_match


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
    if name and not is_company_name(name):
        fail(csvio.F_COMPANY_NAME, "company_name_invalid", value=name)
        name = ""
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
