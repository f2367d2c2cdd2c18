"""Parsing one CSV cell: numbers, amounts, dates, flags and job levels.

Lenient about how people write values in spreadsheets (full-width digits,
5億円, 2025年4月1日, はい/いいえ); each parser returns None for a value it
cannot read, and the row parser turns that into a row error.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone, translation

from leads import csvio
from leads.models import Company, Contact
from leads.normalize import clean_text, normalize_digits

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
