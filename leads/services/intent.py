"""Recording third-party intent signals: the REST API and the CSV intent import.

Intent data names companies, not people, so every signal's company is resolved
(and created if new) through ``companies_resolve``. A signal is identified by
``(provider, external_id)``; recording the same signal twice stores it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from common.text import match_key
from leads.models import IntentSignal
from leads.services.resolve import CompanyRef, companies_resolve
from leads.signals import lead_facts_changed

_CHUNK = 1000  # keys per query; well under SQLite's variable limit

TOPIC_MAX_LENGTH = IntentSignal._meta.get_field("topic").max_length
PROVIDER_MAX_LENGTH = IntentSignal._meta.get_field("provider").max_length
EXTERNAL_ID_MAX_LENGTH = IntentSignal._meta.get_field("external_id").max_length


@dataclass(frozen=True)
class IntentInput:
    company: CompanyRef
    topic: str
    strength: int  # 0..100
    observed_at: datetime  # aware
    provider: str
    external_id: str


@dataclass(frozen=True)
class IntentRecordResult:
    created: int
    duplicates: int
    # Companies that received a new signal: the hook for incremental scoring.
    company_ids: frozenset[int]


def _problems(signal: IntentInput) -> dict[str, str]:
    """Invariants the callers (API serializer, CSV import) are expected to have checked."""
    problems: dict[str, str] = {}
    if signal.company.is_empty:
        problems["company"] = _("Name the company by domain, name or corporate number.")
    if not signal.topic or len(signal.topic) > TOPIC_MAX_LENGTH:
        problems["topic"] = _("Give a topic of at most %(n)d characters.") % {"n": TOPIC_MAX_LENGTH}
    strength = signal.strength
    if isinstance(strength, bool) or not isinstance(strength, int) or not 0 <= strength <= 100:
        problems["strength"] = _("Strength must be a whole number from 0 to 100.")
    if not isinstance(signal.observed_at, datetime) or signal.observed_at.utcoffset() is None:
        problems["observed_at"] = _("The time must include a time zone.")
    if not signal.provider or len(signal.provider) > PROVIDER_MAX_LENGTH:
        problems["provider"] = _("Give a provider of at most %(n)d characters.") % {
            "n": PROVIDER_MAX_LENGTH
        }
    if not signal.external_id or len(signal.external_id) > EXTERNAL_ID_MAX_LENGTH:
        problems["external_id"] = _("Give an external id of at most %(n)d characters.") % {
            "n": EXTERNAL_ID_MAX_LENGTH
        }
    return problems


def intent_keys_existing(*, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which ``(provider, external_id)`` keys are already stored: one query per provider chunk."""
    by_provider: dict[str, list[str]] = {}
    for provider, external_id in dict.fromkeys(keys):
        by_provider.setdefault(provider, []).append(external_id)
    found: set[tuple[str, str]] = set()
    for provider, ids in by_provider.items():
        for i in range(0, len(ids), _CHUNK):
            rows = IntentSignal.objects.filter(
                Q(provider=provider, external_id__in=ids[i : i + _CHUNK])
            ).values_list("provider", "external_id")
            found.update(rows)
    return found


def intent_signals_record(*, signals: Sequence[IntentInput]) -> IntentRecordResult:
    """Store the signals not stored before; set-based, all or nothing.

    Resolves every new signal's company (creating missing companies), then
    inserts the new signals in bulk. A signal whose ``(provider, external_id)``
    is already stored, or repeats an earlier one in ``signals``, counts as a
    duplicate and changes nothing. Runs a bounded number of queries whatever
    the batch size.

    Raises ValidationError (keys ``"<index>.<field>"``) if a signal breaks the
    invariants above; nothing is written then.
    """
    return intent_signals_record_each(signals=signals).result


_INSERT_COLUMNS = (
    "company",
    "topic",
    "topic_key",
    "strength",
    "observed_at",
    "provider",
    "external_id",
    "received_at",
)
_INSERT_BATCH = 100  # 800 parameters: under SQLite's 999


def _insert_returning_keys(rows: Sequence[IntentSignal]) -> set[tuple[str, str]]:
    """Insert ``rows``, skipping stored keys; the ``(provider, external_id)`` inserted."""
    if not rows:
        return set()
    meta = IntentSignal._meta
    fields = [meta.get_field(name) for name in _INSERT_COLUMNS]
    now = timezone.now()
    quote = connection.ops.quote_name
    inserted: set[tuple[str, str]] = set()
    with connection.cursor() as cursor:
        for i in range(0, len(rows), _INSERT_BATCH):
            batch = rows[i : i + _INSERT_BATCH]
            params = []
            for row in batch:
                row.received_at = now
                params += [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields]
            values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(batch))
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} "
                f"({', '.join(quote(f.column) for f in fields)}) VALUES {values} "
                "ON CONFLICT (provider, external_id) DO NOTHING "
                "RETURNING provider, external_id",
                params,
            )
            inserted.update((provider, external_id) for provider, external_id in cursor.fetchall())
    return inserted


@dataclass(frozen=True)
class IntentRecordEach:
    result: IntentRecordResult
    is_created: tuple[bool, ...]  # per input signal, in order: stored now (else duplicate)


@transaction.atomic
def intent_signals_record_each(*, signals: Sequence[IntentInput]) -> IntentRecordEach:
    """``intent_signals_record``, also saying which signals were stored (for per-item results)."""
    errors = {
        f"{index}.{field}": message
        for index, signal in enumerate(signals)
        for field, message in _problems(signal).items()
    }
    if errors:
        raise ValidationError(errors)
    if not signals:
        empty = IntentRecordResult(created=0, duplicates=0, company_ids=frozenset())
        return IntentRecordEach(result=empty, is_created=())

    first_of: dict[tuple[str, str], int] = {}
    for index, signal in enumerate(signals):  # the first of a repeated key wins
        first_of.setdefault((signal.provider, signal.external_id), index)
    existing = intent_keys_existing(keys=first_of)
    new_indexes = {index for key, index in first_of.items() if key not in existing}
    new = [signals[index] for index in sorted(new_indexes)]
    company_ids = companies_resolve(refs=[s.company for s in new])
    rows = [
        IntentSignal(
            company_id=company_ids[s.company],
            topic=s.topic,
            topic_key=match_key(s.topic),
            strength=s.strength,
            observed_at=s.observed_at,
            provider=s.provider,
            external_id=s.external_id,
        )
        for s in new
    ]
    # A concurrent request may store the same signal between our read of the
    # existing keys and this insert: the unique constraint keeps one row, and
    # RETURNING says which rows this insert stored, so exactly one request
    # reports the signal created.
    inserted = _insert_returning_keys(rows)
    stored = [row for row in rows if (row.provider, row.external_id) in inserted]
    result = IntentRecordResult(
        created=len(stored),
        duplicates=len(signals) - len(stored),
        company_ids=frozenset(row.company_id for row in stored),
    )
    if stored:
        lead_facts_changed(
            company_ids=result.company_ids, activity_since=min(row.observed_at for row in stored)
        )
    new_indexes = {
        i for i in new_indexes if (signals[i].provider, signals[i].external_id) in inserted
    }
    return IntentRecordEach(
        result=result, is_created=tuple(i in new_indexes for i in range(len(signals)))
    )
