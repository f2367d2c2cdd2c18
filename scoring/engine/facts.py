"""What the engine knows about a lead: its attributes, activity and intent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scoring.engine.base import ATTRIBUTES, AttrValue, _is_a, _require_aware

# --- Facts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityFact:
    """One thing a person (or an anonymous visitor of a company) did.

    ``properties`` carries what rules look at: ``url``, ``title`` (the
    content's title) and ``campaign`` for the built-in filters, and any key
    (``utm_source``, ``minutes_watched`` …, text or numbers) for property
    conditions. The adapter passes the activity's text and number properties.
    """

    kind: str
    occurred_at: datetime
    properties: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware(self.occurred_at, f"activity {self.kind!r} occurred_at")


@dataclass(frozen=True, slots=True)
class IntentFact:
    """A third-party observation that the lead's company researches a topic."""

    topic: str
    strength: int  # 0–100, as leads.models.IntentSignal
    observed_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.observed_at, f"intent {self.topic!r} observed_at")
        if isinstance(self.strength, bool) or not isinstance(self.strength, int):
            raise TypeError(f"intent {self.topic!r}: strength must be an int")
        if not 0 <= self.strength <= 100:
            raise ValueError(f"intent {self.topic!r}: strength must be 0–100, not {self.strength}")


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """Everything the engine knows about one lead (a contact with its company).

    ``attributes`` uses the keys of ``ATTRIBUTES``; a key may be absent, None or
    "" (Django's blank), all of which mean "unknown". ``activities`` should hold
    the contact's own activity plus its company's contact-less activity, and
    ``intents`` the company's intent signals, so that an account's score
    carries over to its contacts. An account (a company with no contact yet)
    is scored with ``score_account``.
    """

    attributes: Mapping[str, AttrValue] = field(default_factory=dict)
    activities: Sequence[ActivityFact] = ()
    intents: Sequence[IntentFact] = ()

    def __post_init__(self) -> None:
        for key, value in self.attributes.items():
            expected = ATTRIBUTES.get(key)
            if expected is None:
                raise ValueError(f"unknown attribute {key!r}; known: {sorted(ATTRIBUTES)}")
            if value is None:
                continue
            if not _is_a(value, expected):
                raise TypeError(
                    f"attribute {key!r} must be {expected.__name__} or None, not {value!r}"
                )
        object.__setattr__(self, "activities", tuple(self.activities))
        object.__setattr__(self, "intents", tuple(self.intents))

    def value(self, attribute: str) -> AttrValue:
        """The attribute's value, with "" folded into None (unknown)."""
        value = self.attributes.get(attribute)
        return None if value == "" else value
