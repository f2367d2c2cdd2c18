"""Running the rescoring: full jobs in id-range chunks, and the incremental drain.

A full rescore (on activation, nightly, or ``manage.py rescore --full``) is a
``RescoreJob`` split into ``RescoreChunk`` id ranges of contacts and of
companies (every company has an account score); each chunk is one Celery task. A chunk computes and
stores its scores and flips its ``done`` flag in one transaction, so a task
delivered twice (acks_late) or killed half-way leaves exactly what one clean
run leaves: the second delivery finds the chunk done, the killed one rolled
back. All scores of a job are computed at the job's ``as_of``.

The incremental path: ingestion records ``PendingRescore`` rows in its own
transaction (``receivers``), and one task per batch drains them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from config import background
from leads.models import Company, Contact
from scoring.engine import Definition
from scoring.models import (
    AuditEntry,
    DefinitionVersion,
    PendingRescore,
    RescoreChunk,
    RescoreJob,
)
from scoring.permissions import can_rescore
from scoring.services.rescore import (
    Subjects,
    account_scores_compute,
    account_scores_store,
    contact_scores_compute,
    contact_scores_refresh,
    contact_scores_store,
)
from scoring.spec import definition_from_spec

logger = logging.getLogger(__name__)

Target = RescoreChunk.Target


@lru_cache(maxsize=16)
def _definition(version_id: int, updated_at: str) -> Definition:
    spec = DefinitionVersion.objects.values_list("spec", flat=True).get(pk=version_id)
    return definition_from_spec(spec)


def definition_of(version: DefinitionVersion) -> Definition:
    """The engine definition of a version (parsed once per process and edit)."""
    return _definition(version.pk, version.updated_at.isoformat())


def active_version() -> DefinitionVersion | None:
    return DefinitionVersion.objects.filter(status=DefinitionVersion.Status.ACTIVE).first()


def _ranges(model, size: int, **filters) -> list[tuple[int, int]]:
    bounds = model.objects.filter(**filters).aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return []
    return [
        (low, min(low + size - 1, bounds["high"]))
        for low in range(bounds["low"], bounds["high"] + 1, size)
    ]


def _dispatch_chunks(chunk_ids: Iterable[int]) -> None:
    """Queue one task per chunk once the job is committed (workers must see it).

    On the embedded default they run on the background thread, so the page that
    activated a version returns at once and its progress bar shows the run.
    """
    ids = list(chunk_ids)
    transaction.on_commit(lambda: _send_chunks(ids))


def _send_chunks(ids: list[int]) -> int:
    """Send one task per chunk; stops at the first the broker refuses. Returns how many went.

    The chunks are committed with their lease: those not sent are re-dispatched
    by the sweep once it expires, so a broker outage delays the job, never fails it.
    """
    from scoring.tasks import rescore_chunk

    for sent, pk in enumerate(ids):
        if not background.send(rescore_chunk, pk):
            return sent
    return len(ids)


def rescore_full_start(
    *, version: DefinitionVersion, actor=None, kind: str = RescoreJob.Kind.FULL
) -> RescoreJob:
    """Plan a full rescore under ``version`` and queue its chunks (after commit)."""
    size = settings.SCORING_CHUNK_SIZE
    with transaction.atomic():
        job = RescoreJob.objects.create(
            version=version, kind=kind, as_of=timezone.now(), created_by=actor
        )
        chunks = [
            RescoreChunk(job=job, target=Target.CONTACTS, low=low, high=high)
            for low, high in _ranges(Contact, size)
        ] + [
            RescoreChunk(job=job, target=Target.ACCOUNTS, low=low, high=high)
            for low, high in _ranges(Company, size)
        ]
        RescoreChunk.objects.bulk_create(chunks)
        job.total_chunks = len(chunks)
        job.planned = Contact.objects.count() + Company.objects.count()
        if not chunks:
            job.status, job.finished_at = RescoreJob.Status.DONE, timezone.now()
        job.save(update_fields=["total_chunks", "planned", "status", "finished_at"])
        AuditEntry.objects.create(
            version=version,
            action=AuditEntry.Action.RESCORED,
            actor=actor,
            detail={"job": job.pk, "kind": kind, "chunks": len(chunks)},
        )
        chunk_ids = list(job.chunks.order_by("id").values_list("id", flat=True))
        _dispatch_chunks(chunk_ids)
    return job


def rescore_requested(*, actor, version: DefinitionVersion) -> RescoreJob:
    """A person asks to rescore everything under ``version`` (the rescore button).

    Only the active version, by someone allowed, and not while a full rescore
    of it is queued or running (both would rescore everything). Under a lock
    on the version, so two clicks at once start one job.
    """
    if not can_rescore(actor):
        raise PermissionDenied(_("Only marketing or an administrator starts a full rescore."))
    with transaction.atomic():
        version = DefinitionVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != DefinitionVersion.Status.ACTIVE:
            raise ValidationError(_("Only the active version can rescore the leads."))
        running = RescoreJob.objects.filter(
            version=version,
            status__in=[RescoreJob.Status.QUEUED, RescoreJob.Status.RUNNING],
        )
        if running.exists():
            raise ValidationError(_("A rescore of this version is already running."))
        return rescore_full_start(version=version, actor=actor)


def _status_shared(version: DefinitionVersion) -> str:
    """The version's status, read under a share lock held until commit (PostgreSQL).

    Chunks share it, so they run side by side; activating another version
    locks the row for update, so it waits for running chunks, and chunks
    that start after it see the version retired. Scores of a retired version
    cannot land after the new version's.
    """
    if connection.vendor != "postgresql":
        return DefinitionVersion.objects.values_list("status", flat=True).get(pk=version.pk)
    table = connection.ops.quote_name(DefinitionVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status FROM {table} WHERE id = %s FOR SHARE", [version.pk])
        return cursor.fetchone()[0]


def rescore_chunk_run(*, chunk_id: int) -> int:
    """Score one chunk; idempotent. Returns how many leads it scored (0 if already done)."""
    with transaction.atomic():
        # Only the chunk's own row: FOR UPDATE over the join also locked the
        # job's and the version's rows, and the chunks ran one at a time.
        chunk = (
            RescoreChunk.objects.select_for_update(of=("self",))
            .select_related("job", "job__version")
            .get(pk=chunk_id)
        )
        job = chunk.job
        if chunk.done or job.status in (RescoreJob.Status.DONE, RescoreJob.Status.FAILED):
            return 0
        version = job.version
        if _status_shared(version) != DefinitionVersion.Status.ACTIVE:
            # A newer version was activated: its own job rescores everything.
            RescoreJob.objects.filter(pk=job.pk).update(
                status=RescoreJob.Status.FAILED,
                finished_at=timezone.now(),
                message="superseded by a newer active version",
            )
            return 0
        definition = definition_of(version)
        subjects = Subjects(low=chunk.low, high=chunk.high)
        if chunk.target == Target.CONTACTS:
            scores = contact_scores_compute(definition=definition, subjects=subjects, at=job.as_of)
            scored = contact_scores_store(scores=scores, version=version, at=job.as_of).count
        else:
            scores = account_scores_compute(definition=definition, subjects=subjects, at=job.as_of)
            scored = account_scores_store(scores=scores, version=version, at=job.as_of)
        RescoreChunk.objects.filter(pk=chunk.pk).update(done=True, scored=scored)
        RescoreJob.objects.filter(pk=job.pk).update(
            done_chunks=F("done_chunks") + 1,
            leads_scored=F("leads_scored") + scored,
            status=RescoreJob.Status.RUNNING,
        )
        RescoreJob.objects.filter(pk=job.pk, done_chunks__gte=F("total_chunks")).update(
            status=RescoreJob.Status.DONE, finished_at=timezone.now()
        )
    return scored


def rescore_job_fail(*, job_id: int, message: str) -> None:
    RescoreJob.objects.filter(pk=job_id).exclude(status=RescoreJob.Status.DONE).update(
        status=RescoreJob.Status.FAILED, finished_at=timezone.now(), message=message[:2000]
    )


# --- Incremental ----------------------------------------------------------------------


# Asks for a rebuild from history, whatever the running totals' age.
REBUILD = datetime(1970, 1, 1, tzinfo=UTC)

_PENDING_UPSERT = """
INSERT INTO scoring_pendingrescore ({column}, queued_at, earliest) VALUES {values}
ON CONFLICT ({column}) DO UPDATE SET earliest = CASE
    WHEN excluded.earliest IS NULL THEN scoring_pendingrescore.earliest
    WHEN scoring_pendingrescore.earliest IS NULL
         OR excluded.earliest < scoring_pendingrescore.earliest THEN excluded.earliest
    ELSE scoring_pendingrescore.earliest END
"""


def pending_record(
    *, contact_ids: Iterable[int], company_ids: Iterable[int], earliest: datetime | None = None
) -> None:
    """Mark leads for rescoring, in the caller's transaction; one drain task after commit.

    ``earliest`` is the earliest time of the new activity (None: nothing new
    happened; ``REBUILD``: rebuild the running totals). A lead already
    pending keeps the earlier of the two. This is an upsert that updates, not
    one that ignores conflicts: it waits for a drain that has claimed the
    row, so a batch stored while its lead is being drained commits after the
    drain and leaves a new pending row, never a lost one.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    when = None if earliest is None else connection.ops.adapt_datetimefield_value(earliest)
    recorded = 0
    for column, ids in (("contact_id", contact_ids), ("company_id", company_ids)):
        ordered = sorted(set(ids))  # one lock order: concurrent batches cannot deadlock
        for i in range(0, len(ordered), 500):
            batch = ordered[i : i + 500]
            values = ", ".join(["(%s, %s, %s)"] * len(batch))
            params = [p for pk in batch for p in (pk, now, when)]
            with connection.cursor() as cursor:
                cursor.execute(_PENDING_UPSERT.format(column=column, values=values), params)
            recorded += len(batch)
    if recorded:
        _drain_after_commit(recorded)


class _SendDrain:
    """The on-commit callback of one transaction: sends the drain tasks for what it marked.

    One task, or for a large batch one per ``SCORING_DRAIN_CLAIM`` leads, at
    most ``SCORING_DRAIN_TASKS``: each drain claims that many at a time and
    SKIP LOCKED hands the next ones to another, so several workers rescore
    one large batch side by side. Still coalesced: never a task per event.
    """

    def __init__(self) -> None:
        self.marked = 0

    def __call__(self) -> None:
        from scoring.tasks import rescore_pending

        tasks = min(settings.SCORING_DRAIN_TASKS, -(-self.marked // settings.SCORING_DRAIN_CLAIM))
        for _task in range(max(1, tasks)):
            # The batch is committed: a broker that is down must not turn the
            # answer into an error. The pending rows stay; the sweep drains them.
            if not background.deliver(rescore_pending):
                break


def _drain_after_commit(marked: int = 1) -> None:
    # Once per transaction: several batches in one transaction share one callback.
    if connection.in_atomic_block:
        for _sids, func, _robust in connection.run_on_commit:
            if isinstance(func, _SendDrain):
                func.marked += marked
                return
    send = _SendDrain()
    send.marked = marked
    transaction.on_commit(send)


def pending_drain(*, limit: int = 5000, at: datetime | None = None) -> int:
    """Rescore up to ``limit`` pending leads under the active version; returns how many.

    The pending rows are claimed with SKIP LOCKED on PostgreSQL, so two
    workers draining at once split the work, and deleted in the transaction
    that stores the scores: a crash leaves them pending. Contacts are scored
    from their running totals (``contact_scores_refresh``); the moment
    ``at`` is taken after the claim, so everything that committed before it
    is seen. A contact whose newer score was stored meanwhile (by another
    drain) is put back, with its ``earliest``, so nothing it saw is lost.
    """
    version = active_version()
    if version is None:
        return 0
    definition = definition_of(version)
    with transaction.atomic():
        claimed = PendingRescore.objects.select_for_update(skip_locked=True).order_by("id")[:limit]
        rows = list(claimed.values_list("id", "contact_id", "company_id", "earliest"))
        if not rows:
            return 0
        at = at or timezone.now()
        earliest: dict[int, datetime | None] = {}
        for _pk, contact_id, _company_id, when in rows:
            if contact_id is not None:
                earliest[contact_id] = _earlier(earliest.get(contact_id), when)
        by_company = {co: when for _pk, _c, co, when in rows if co is not None}
        if by_company:
            for contact_id, company_id in Contact.objects.filter(
                company_id__in=by_company
            ).values_list("id", "company_id"):
                earliest[contact_id] = _earlier(earliest.get(contact_id), by_company[company_id])
        PendingRescore.objects.filter(id__in=[pk for pk, _, _, _ in rows]).delete()
        scored = 0
        ids = sorted(earliest)
        for i in range(0, len(ids), settings.SCORING_CHUNK_SIZE):
            part = {pk: earliest[pk] for pk in ids[i : i + settings.SCORING_CHUNK_SIZE]}
            refreshed = contact_scores_refresh(
                definition=definition, version=version, earliest=part, at=at
            )
            stored = contact_scores_store(
                scores=refreshed.scores, version=version, at=at, bases=refreshed.bases
            )
            scored += stored.count
            put_back: dict[datetime | None, list[int]] = {}
            for pk in stored.skipped:
                put_back.setdefault(part[pk], []).append(pk)
            for when, contact_ids in put_back.items():
                pending_record(contact_ids=contact_ids, company_ids=[], earliest=when)
        if by_company:
            subjects = Subjects(ids=tuple(sorted(by_company)))
            scores = account_scores_compute(definition=definition, subjects=subjects, at=at)
            scored += account_scores_store(scores=scores, version=version, at=at)
    return scored


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def pending_drain_all(*, limit: int | None = None, rounds: int = 1000) -> int:
    """Drain until nothing is left to claim: no pending rows, or all held by another drain."""
    limit = limit or settings.SCORING_DRAIN_CLAIM
    total = 0
    for _round in range(rounds):
        scored = pending_drain(limit=limit)
        total += scored
        if not scored and not _claimable():
            break
    return total


def _claimable() -> bool:
    """Whether some pending row is neither locked by another drain nor waiting in vain."""
    if active_version() is None:
        return False
    with transaction.atomic():
        return PendingRescore.objects.select_for_update(skip_locked=True).exists()
