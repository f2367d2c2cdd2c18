"""Types, constants and small helpers the engine's modules share."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, get_args

AttrValue = str | int | bool | None
Category = Literal["fit", "behaviour", "intent"]
Band = Literal["cold", "warm", "hot"]
BantItem = Literal["budget", "authority", "need", "timeframe"]
BANT_ITEMS: frozenset[str] = frozenset(get_args(BantItem))

# Mirrors leads.models.Activity.Kind (a test keeps the two in step). A behaviour
# rule naming another kind is refused, because it would silently never match.
ACTIVITY_KINDS: frozenset[str] = frozenset(
    {
        "page_view",
        "whitepaper_download",
        "case_study_download",
        "webinar_registration",
        "webinar_attendance",
        "form_submission",
        "demo_request",
        "pricing_request",
        "trial_signup",
        "email_open",
        "email_click",
        "email_unsubscribe",
        "email_bounce",
        "event_visit",
        "video_view",
        "chat",
        "meeting",
    }
)

# The flat attribute keys a lead's facts may carry, with their Python type.
# Mirrors leads.models.Contact / Company; the adapter passes None (or "") when a
# value is unknown.
ATTRIBUTES: Mapping[str, type] = MappingProxyType({
    "contact.title": str,
    "contact.job_level": str,  # a Contact.JobLevel value
    "contact.department": str,
    "contact.email_domain": str,
    "contact.is_unsubscribed": bool,
    "contact.has_consent": bool,
    "company.industry": str,  # a JSIC division letter, leads.reference.Industry
    "company.employee_count": int,
    "company.prefecture": str,
    "company.region": str,
    "company.revenue_band": str,  # a Company.RevenueBand value
    "company.domain": str,
})  # fmt: skip

_SECONDS_PER_DAY = 86_400.0


@lru_cache(maxsize=8192)
def match_key(text: str) -> str:
    """The form in which text is compared: NFKC, case-folded, single spaces, trimmed.

    So ``"ＤＩＲＥＣＴＯＲ"``, ``"Director"`` and ``" director "`` all match ``"director"``.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware: {value!r}")


def _is_a(value: object, expected: type) -> bool:
    # bool is an int subclass; here True is not a number and 1 is not a yes/no.
    if expected is bool:
        return isinstance(value, bool)
    return isinstance(value, expected) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_hundredths(value: float) -> bool:
    return math.isfinite(value) and round(value, 2) == value
