"""CSV plumbing shared by the imports and the export.

Reading: ``decode_csv`` (UTF-8 with or without BOM, then CP932, anything else
refused), ``read_rows`` (physical line numbers, CRLF or LF, comma or tab) and
``map_header`` (Japanese and English column names, via ``HEADER_ALIASES``).
Writing: ``escape_formula`` (OWASP CSV injection) and ``csv_stream`` (Excel-
friendly bytes: BOM or CP932, CRLF). No ORM here.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class CsvFileError(Exception):
    """The file as a whole cannot be read; ``message`` says why, for the user."""

    def __init__(self, message: str | Promise, *, line: int = 0) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.line = line


# --- Decoding -------------------------------------------------------------

ENCODING_UTF8_BOM = "utf-8-sig"
ENCODING_UTF8 = "utf-8"
ENCODING_CP932 = "cp932"
ENCODING_LABELS = {
    ENCODING_UTF8_BOM: _("UTF-8 (with BOM)"),
    ENCODING_UTF8: _("UTF-8"),
    ENCODING_CP932: _("Shift_JIS (CP932)"),
}

# Characters a real CP932 text file never holds: C0/C1 controls other than tab
# and line breaks, and the private-use area the user-defined lead bytes (F0–F9,
# and A0/FD–FF in Python's codec) decode to. Mis-decoded EUC-JP or binary data
# almost always produces some.
_IMPLAUSIBLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")
_NUL = "\x00"
_JAPANESE_RE = re.compile("[\u3040-\u30ff\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]")


def _japanese_ratio(text: str) -> float:
    non_ascii = [c for c in text if ord(c) > 0x7F]
    if not non_ascii:
        return 0.0
    return sum(1 for c in non_ascii if _JAPANESE_RE.match(c)) / len(non_ascii)


def decode_csv(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: strict UTF-8 (BOM or not), then strict CP932.

    Raises CsvFileError for anything else (EUC-JP, UTF-16, binary data), so
    that a file is never imported as mojibake.
    """
    if not data.strip():
        raise CsvFileError(_("The file is empty."))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvFileError(
            _(
                "The file is UTF-16 (Excel's “Unicode text”). Save it as “CSV UTF-8 "
                "(comma delimited)” and upload it again."
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        # A NUL character is refused by read_rows, with its line.
        encoding = ENCODING_UTF8_BOM if data.startswith(b"\xef\xbb\xbf") else ENCODING_UTF8
        return text, encoding
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        text = ""
    plausible = not _IMPLAUSIBLE_RE.search(text.replace(_NUL, ""))
    if text and plausible and not _looks_like_euc_jp(data, text):
        return text, ENCODING_CP932  # a NUL character is refused by read_rows, with its line
    raise CsvFileError(
        _(
            "The file is neither UTF-8 nor Shift_JIS (CP932), or it is damaged. In Excel, "
            "save it as “CSV UTF-8 (comma delimited)” and upload it again; nothing was imported."
        )
    )


def _looks_like_euc_jp(data: bytes, cp932_text: str) -> bool:
    """True if the bytes read better as EUC-JP than as CP932 (which we refuse)."""
    try:
        euc_text = data.decode("euc_jp")
    except UnicodeDecodeError:
        return False
    return _japanese_ratio(euc_text) > _japanese_ratio(cp932_text)


# --- Reading rows -----------------------------------------------------------


def sniff_delimiter(text: str) -> str:
    """Comma, unless the header line has tabs and no comma (Excel's "text" export)."""
    first = text.split("\n", 1)[0]
    return "\t" if "\t" in first and "," not in first else ","


# Excel holds at most this many characters in a cell, so a longer value cannot
# be what a spreadsheet meant: it is text swallowed by a quote left open.
MAX_VALUE_CHARS = 32_767
# A quoted value whose second or later line has this many delimiters (or the
# header's width minus one, if more) holds whole rows a stray quote swallowed.
# Small files are left alone: a memo line in a three-column file may have two commas.
_SWALLOWED_MIN_DELIMITERS = 4
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_QUOTED_RE = re.compile(r'"[^"]*(?:""[^"]*)*"')


def _line_of(text: str, position: int, *, start: int = 0, start_line: int = 1) -> int:
    """The physical line (as csv counts them: CRLF, LF or CR) of ``text[position]``."""
    return start_line + len(_LINE_BREAK_RE.findall(text, start, position))


def _offset_of_line(text: str, line: int) -> int:
    if line <= 1:
        return 0
    for number, match in enumerate(_LINE_BREAK_RE.finditer(text), start=2):
        if number == line:
            return match.end()
    return len(text)


def _quote_problem(text: str, start: int, delimiter: str) -> tuple[str, int, int] | None:
    """The first quoting error in the record at ``text[start:]``.

    ``(kind, opened, at)``: "unclosed" when a quote opened at ``opened`` is
    never closed; "stray" when the value quoted at ``opened`` is followed by
    more text at ``at`` (a quote inside it was not doubled). None if the
    record's quoting is sound. Only called after the csv module refused the
    record, so it may be slow-ish; the regular expressions keep it linear.
    """
    unquoted = re.compile(f"[^{re.escape(delimiter)}\r\n]*")
    size, pos = len(text), start
    while pos < size:
        if text[pos] == '"':
            match = _QUOTED_RE.match(text, pos)
            if match is None:
                return "unclosed", pos, size
            end = match.end()
            if end < size and text[end] not in (delimiter, "\r", "\n"):
                return "stray", pos, end
            pos = end
        else:
            pos = unquoted.match(text, pos).end()
        if pos >= size or text[pos] != delimiter:
            return None
        pos += 1
    return None


def _malformed(text: str, line: int, delimiter: str) -> CsvFileError:
    """Why the record starting on ``line`` cannot be read, naming the line to fix."""
    start = _offset_of_line(text, line)
    problem = _quote_problem(text, start, delimiter)
    if problem is None:
        # The csv module's own limit on a value (131,072 characters).
        return _too_long(line, _line_of(text, len(text), start=start, start_line=line))
    kind, opened, at = problem
    opened_line = _line_of(text, opened, start=start, start_line=line)
    at_line = _line_of(text, at, start=start, start_line=line)
    if kind == "stray" and at_line == opened_line:
        return CsvFileError(
            gettext(
                'Line %(line)d: a quote (") inside a quoted value must be doubled (""); '
                "here the value ends at a quote and more text follows. Nothing was imported."
            )
            % {"line": opened_line},
            line=opened_line,
        )
    if kind == "unclosed":
        message = gettext(
            'Line %(line)d opens a quote (") that is never closed, so every line after it '
            "would be read as part of one value. Close or remove the quote. Nothing was imported."
        )
    else:
        # Closed only lines later, by the quote of another value: the quote on
        # opened_line swallowed the lines in between.
        message = gettext(
            'Line %(line)d opens a quote (") that is not closed on that line but on line '
            "%(end)d, so the lines in between would be read as part of one value. Close or "
            "remove the quote. Nothing was imported."
        )
    return CsvFileError(message % {"line": opened_line, "end": at_line}, line=opened_line)


def _too_long(line: int, end: int) -> CsvFileError:
    return CsvFileError(
        gettext(
            "Line %(line)d: a value is longer than %(max)s characters (it runs to line "
            "%(end)d). A quote opened on line %(line)d is probably not closed where it should "
            "be. Nothing was imported."
        )
        % {"line": line, "max": f"{MAX_VALUE_CHARS:,}", "end": end},
        line=line,
    )


def _check_spanning_record(
    fields: list[str], line: int, end: int, delimiter: str, width: int
) -> None:
    """A record over lines ``line``..``end``: refuse values that swallowed rows."""
    threshold = max(_SWALLOWED_MIN_DELIMITERS, width - 1)
    for value in fields:
        if len(value) > MAX_VALUE_CHARS:
            raise _too_long(line, end)
        if delimiter not in value:
            continue
        for part in _LINE_BREAK_RE.split(value)[1:]:
            if part.count(delimiter) >= threshold:
                raise CsvFileError(
                    gettext(
                        "Line %(line)d: a quoted value runs to line %(end)d and holds what "
                        "look like whole rows. A quote opened on line %(line)d is probably "
                        "not closed where it should be. Nothing was imported."
                    )
                    % {"line": line, "end": end},
                    line=line,
                )


def read_rows(text: str, *, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` for every non-blank record, the header first.

    ``line`` is the physical line the record starts on (header = 1), so that a
    quoted field holding a line break does not shift later line numbers.

    Quoting is strict (RFC 4180), because a lenient reader turns a stray quote
    into silently swallowed rows. Raises CsvFileError naming the line to fix
    for: a quote never closed (the line it opened on), text after a closing
    quote, a value longer than Excel's cell limit, a quoted value holding
    whole rows, a NUL character. A quote inside an unquoted value (``5"``) is
    kept as it is, as Excel reads it.
    """
    nul = text.find(_NUL)
    if nul >= 0:
        line = _line_of(text, nul)
        raise CsvFileError(
            gettext(
                "Line %(line)d holds a NUL character: the file is binary data or UTF-16, not "
                "CSV text. Nothing was imported."
            )
            % {"line": line},
            line=line,
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    width = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise _malformed(text, line, delimiter) from None
        end = reader.line_num
        if end > line:  # a quoted value holds a line break
            _check_spanning_record(fields, line, end, delimiter, width)
        if any(f.strip() for f in fields):
            width = width or len(fields)
            yield line, fields
        line = end + 1


def head_rows(
    data: bytes, *, encoding: str, limit: int, max_bytes: int = 256 * 1024
) -> list[list[str]]:
    """The first ``limit`` records (header included) from the file's beginning.

    For previews: decodes at most ``max_bytes`` instead of the whole file.
    """
    codec = "utf-8-sig" if encoding.startswith("utf-8") else encoding
    text = data[:max_bytes].decode(codec, errors="ignore")
    rows: list[list[str]] = []
    try:
        for _line, fields in read_rows(text, delimiter=sniff_delimiter(text)):
            rows.append(fields)
            if len(rows) >= limit:
                break
    except CsvFileError:
        pass
    return rows


# --- Header aliases -------------------------------------------------------

# Canonical field names. The import maps every CSV column to one of these.
F_COMPANY_NAME = "company_name"
F_COMPANY_KANA = "company_kana"
F_CORPORATE_NUMBER = "corporate_number"
F_DOMAIN = "domain"
F_EMAIL = "email"
F_CONTACT_NAME = "contact_name"
F_CONTACT_KANA = "contact_kana"
F_TITLE = "title"
F_DEPARTMENT = "department"
F_PHONE = "phone"
F_JOB_LEVEL = "job_level"
F_INDUSTRY = "industry"
F_EMPLOYEES = "employee_count"
F_REVENUE = "revenue"
F_PREFECTURE = "prefecture"
F_CITY = "city"
F_ADDRESS = "address"
F_POSTAL_CODE = "postal_code"
F_UNSUBSCRIBED = "unsubscribed"
F_TOPIC = "topic"
F_STRENGTH = "strength"
F_OBSERVED_AT = "observed_at"
F_PROVIDER = "provider"
F_EXTERNAL_ID = "external_id"
# "フリガナ" alone: the contact's kana in a file with a person-name column,
# otherwise the company's (the NTA file: 商号又は名称, フリガナ, …).
F_KANA_AMBIGUOUS = "kana"

FIELD_LABELS = {
    F_COMPANY_NAME: _("Company name"),
    F_COMPANY_KANA: _("Company name (kana)"),
    F_CORPORATE_NUMBER: _("Corporate number"),
    F_DOMAIN: _("Web domain"),
    F_EMAIL: _("E-mail"),
    F_CONTACT_NAME: _("Name"),
    F_CONTACT_KANA: _("Name (kana)"),
    F_TITLE: _("Title"),
    F_DEPARTMENT: _("Department"),
    F_PHONE: _("Phone"),
    F_JOB_LEVEL: _("Job level"),
    F_INDUSTRY: _("Industry"),
    F_EMPLOYEES: _("Employees"),
    F_REVENUE: _("Revenue"),
    F_PREFECTURE: _("Prefecture"),
    F_CITY: _("City"),
    F_ADDRESS: _("Address"),
    F_POSTAL_CODE: _("Postal code"),
    F_UNSUBSCRIBED: _("Unsubscribed"),
    F_TOPIC: _("Topic"),
    F_STRENGTH: _("Strength (0–100)"),
    F_OBSERVED_AT: _("Observed at"),
    F_PROVIDER: _("Provider"),
    F_EXTERNAL_ID: _("External id"),
}

_COMPANY_ALIASES = {
    F_COMPANY_NAME: [
        "会社名",
        "企業名",
        "商号又は名称",
        "商号",
        "法人名",
        "社名",
        "取引先名",
        "company",
        "company name",
        "companyname",
        "organization",
        "organisation",
        "account name",
    ],
    F_COMPANY_KANA: [
        "会社名フリガナ",
        "会社名カナ",
        "会社名(フリガナ)",
        "会社名(カナ)",
        "企業名フリガナ",
        "企業名カナ",
        "会社フリガナ",
        "商号フリガナ",
        "company kana",
        "company name kana",
        "company furigana",
    ],
    F_CORPORATE_NUMBER: ["法人番号", "corporate number", "corporatenumber", "houjin bangou"],
    F_DOMAIN: [
        "ドメイン",
        "url",
        "ウェブサイト",
        "webサイト",
        "ホームページ",
        "hp",
        "サイト",
        "会社url",
        "企業url",
        "website",
        "web site",
        "web",
        "homepage",
        "domain",
        "company domain",
    ],
}
LEAD_ALIASES: dict[str, list[str]] = {
    **_COMPANY_ALIASES,
    F_EMAIL: [
        "メールアドレス",
        "メール",
        "eメール",
        "eメールアドレス",
        "e-mail",
        "email",
        "email address",
        "e-mail address",
        "mail",
        "mail address",
    ],
    F_CONTACT_NAME: [
        "氏名",
        "名前",
        "お名前",
        "担当者名",
        "担当者",
        "担当者氏名",
        "name",
        "full name",
        "contact name",
        "contact",
    ],
    F_CONTACT_KANA: [
        "氏名フリガナ",
        "氏名カナ",
        "氏名(フリガナ)",
        "氏名(カナ)",
        "名前フリガナ",
        "名前(フリガナ)",
        "担当者名フリガナ",
        "担当者フリガナ",
        "name kana",
        "contact kana",
        "name furigana",
    ],
    F_KANA_AMBIGUOUS: ["フリガナ", "ふりがな", "カナ", "かな", "furigana", "kana"],
    F_TITLE: ["役職", "役職名", "肩書", "肩書き", "title", "job title", "position"],
    F_DEPARTMENT: ["部署", "部署名", "部門", "所属", "所属部署", "department", "dept", "division"],
    F_PHONE: ["電話番号", "電話", "tel", "phone", "phone number", "telephone"],
    F_JOB_LEVEL: ["役職区分", "職位", "役職レベル", "job level", "joblevel", "level"],
    F_INDUSTRY: ["業種", "業界", "industry"],
    F_EMPLOYEES: [
        "従業員数",
        "社員数",
        "従業員",
        "employees",
        "employee count",
        "number of employees",
        "headcount",
    ],
    F_REVENUE: ["売上規模", "売上高", "売上", "年商", "revenue", "annual revenue"],
    F_PREFECTURE: ["都道府県", "都道府県名", "prefecture"],
    F_CITY: ["市区町村", "市区町村名", "city"],
    F_ADDRESS: ["住所", "丁目番地等", "所在地", "番地", "address", "street address", "street"],
    F_POSTAL_CODE: ["郵便番号", "〒", "postal code", "postcode", "zip", "zip code"],
    F_UNSUBSCRIBED: [
        "配信停止",
        "配信停止フラグ",
        "メール配信停止",
        "unsubscribed",
        "unsubscribe",
        "opt out",
        "opt-out",
    ],
}
INTENT_ALIASES: dict[str, list[str]] = {
    **_COMPANY_ALIASES,
    F_TOPIC: ["トピック", "テーマ", "関心トピック", "インテントトピック", "topic", "intent topic"],
    F_STRENGTH: [
        "強度",
        "スコア",
        "インテント強度",
        "インテントスコア",
        "strength",
        "score",
        "intent score",
    ],
    F_OBSERVED_AT: [
        "日付",
        "日時",
        "観測日",
        "観測日時",
        "検知日",
        "date",
        "observed at",
        "observed_at",
        "datetime",
        "timestamp",
    ],
    F_PROVIDER: ["提供元", "プロバイダ", "プロバイダー", "データ提供元", "provider", "source"],
    F_EXTERNAL_ID: ["id", "外部id", "external id", "external_id", "signal id"],
}

_SEPARATORS_RE = re.compile(r"[\s_\-・]+")
_BRACKETED_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|<[^>]*>")


def header_key(text: str) -> str:
    """NFKC, case-folded, without spaces or separators: "Ｅ-Mail " -> "email"."""
    return _SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def _lookup(aliases: dict[str, list[str]]) -> dict[str, str]:
    return {header_key(alias): field for field, names in aliases.items() for alias in names}


_LEAD_LOOKUP = _lookup(LEAD_ALIASES)
_INTENT_LOOKUP = _lookup(INTENT_ALIASES)


@dataclass(frozen=True)
class Column:
    """One CSV column and what the import does with it."""

    index: int
    header: str
    field: str  # "" when the column is ignored
    note: str = ""  # why it is ignored, for the preview

    @property
    def is_ignored(self) -> bool:
        return not self.field

    @property
    def label(self) -> str:
        return str(FIELD_LABELS.get(self.field, ""))


KIND_LEADS = "leads"
KIND_INTENT = "intent"


def map_header(headers: Sequence[str], *, kind: str) -> list[Column]:
    """Map each header to a field; unknown and repeated columns are ignored.

    A header is looked up as typed and then without a bracketed suffix, so
    "従業員数(人)" is the employees column while "氏名(カナ)" stays a kana one.
    """
    lookup = _INTENT_LOOKUP if kind == KIND_INTENT else _LEAD_LOOKUP
    found: list[str] = []
    for header in headers:
        key = header_key(header)
        field = lookup.get(key) or lookup.get(header_key(_BRACKETED_RE.sub("", header)), "")
        found.append(field)
    if F_KANA_AMBIGUOUS in found:
        kana = F_CONTACT_KANA if F_CONTACT_NAME in found else F_COMPANY_KANA
        found = [kana if f == F_KANA_AMBIGUOUS else f for f in found]
    columns: list[Column] = []
    seen: set[str] = set()
    for index, (header, field) in enumerate(zip(headers, found, strict=True)):
        if not field:
            note = gettext("Not a known column") if header.strip() else gettext("No header")
            columns.append(Column(index, header, "", note))
        elif field in seen:
            columns.append(Column(index, header, "", gettext("Repeats an earlier column")))
        else:
            seen.add(field)
            columns.append(Column(index, header, field))
    return columns


# --- Writing ----------------------------------------------------------------

# OWASP "CSV injection": a cell starting with one of these is a formula to
# Excel / LibreOffice. The first character is NFKC-normalised before the check,
# so full-width ＝＋－＠ (which Excel's Japanese IME input converts) are caught
# too. The neutralised cell starts with a single quote and keeps its text.
_FORMULA_STARTS = frozenset("=+-@\t\r")


@functools.lru_cache(maxsize=4096)
def _starts_formula(first: str) -> bool:
    return unicodedata.normalize("NFKC", first)[:1] in _FORMULA_STARTS


def escape_formula(value: str) -> str:
    # Cached by first character: an export asks this of every cell.
    if value and _starts_formula(value[0]):
        return "'" + value
    return value


class _Echo:
    """A write-only file whose ``write`` returns what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_stream(
    rows: Iterable[Sequence[object]], *, encoding: str = ENCODING_UTF8_BOM, rows_per_chunk=500
) -> Iterator[bytes]:
    """Encoded CSV bytes for ``rows``, CRLF-terminated, text cells formula-escaped.

    ``encoding`` is ``utf-8-sig`` (a BOM first, so Excel reads UTF-8) or
    ``cp932``; characters CP932 cannot encode become "?". ``None`` becomes an
    empty cell; numbers are written as they are.
    """
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    codec = "utf-8" if encoding == ENCODING_UTF8_BOM else encoding
    if encoding == ENCODING_UTF8_BOM:
        yield b"\xef\xbb\xbf"
    buffer: list[str] = []
    for row in rows:
        cells = [
            ""
            if cell is None
            else cell
            if isinstance(cell, int | float)
            else escape_formula(str(cell))
            for cell in row
        ]
        buffer.append(writer.writerow(cells))
        if len(buffer) >= rows_per_chunk:
            yield "".join(buffer).encode(codec, errors="replace")
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode(codec, errors="replace")
