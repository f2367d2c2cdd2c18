"""Types, constants and small helpers the engine's modules share."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, get_args

from common.text import match_key

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

# --- Labels ---------------------------------------------------------------------------

# "" tags a text given without a language: it stands for every language.
ANY_LANGUAGE = ""
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


@dataclass(frozen=True, slots=True)
class Label:
    """A rule's name, in each language it was given in (Japanese and English here).

    ``texts`` holds (language, text) pairs, sorted; a text given without a language
    is tagged ``ANY_LANGUAGE``. The page picks the viewer's language with ``text``.
    """

    texts: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        pairs = tuple(sorted(dict(self.texts).items()))
        if not pairs:
            raise ValueError("a label needs a text in at least one language")
        for language, text in pairs:
            if language != ANY_LANGUAGE and not _LANGUAGE.match(str(language)):
                raise ValueError(f"not a language code: {language!r}")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"label text for {language or 'any language'!r} must be text")
        object.__setattr__(self, "texts", tuple((lang, text.strip()) for lang, text in pairs))

    @classmethod
    def of(cls, value: str | Mapping[str, str] | Label) -> Label:
        """A label from a plain text (any language), a {language: text} mapping, or a label."""
        if isinstance(value, Label):
            return value
        if isinstance(value, str):
            return cls(((ANY_LANGUAGE, value),))
        if isinstance(value, Mapping):
            return cls(tuple((lang, text) for lang, text in value.items() if text))
        raise ValueError(f"a label must be text or {{language: text}}, not {value!r}")

    def text(self, language: str = "ja") -> str:
        """The text in ``language``, else the language-less one, else Japanese, else any."""
        by_language = dict(self.texts)
        base = language.split("-")[0]
        for choice in (language, base, ANY_LANGUAGE, "ja", "en"):
            if choice in by_language:
                return by_language[choice]
        return self.texts[0][1]

    def as_json(self) -> str | dict[str, str]:
        """The stored form: the plain text when it has no language, else {language: text}."""
        if self.texts == ((ANY_LANGUAGE, self.texts[0][1]),):
            return self.texts[0][1]
        return dict(self.texts)

    def __str__(self) -> str:
        return self.text()


@lru_cache(maxsize=8192)
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


def text_list(value: object, *, what: str, noun: str = "strings") -> tuple[str, ...]:
    """``value`` as a list operator stores it: its texts once each, in order (a set sorted).

    ValueError (``what`` first) unless it is a non-empty list of texts that are not blank
    once match-keyed: a bare text is not a list of one.
    """
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{what} needs a list of {noun}")
    items = sorted(value) if isinstance(value, set | frozenset) else list(value)
    if not items or any(not isinstance(v, str) or not match_key(v) for v in items):
        raise ValueError(f"{what} needs a non-empty list of non-empty {noun}")
    return tuple(dict.fromkeys(items))
