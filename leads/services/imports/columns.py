"""Reading an import file: decoding, the header's column mapping, the rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leads import csvio
from leads.csvio import Column, CsvFileError

ImportFileError = CsvFileError  # the file as a whole is unusable; nothing was read


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
