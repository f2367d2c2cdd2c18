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
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, Min, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from config import background
from leads.models import Company, Contact
from scoring.engine import Definition
from scoring.models import (
    AuditEntry,
    DefinitionVersion,
    LeadScore,
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


class RescoreRunning(Exception):
    """A full rescore of this version is queued or running already: no second one starts."""

    def __init__(self, job: RescoreJob) -> None:
        super().__init__(f"rescore job {job.pk} of version {job.version_id} is {job.status}")
        self.job = job


def lease() -> timedelta:
    return timedelta(seconds=settings.SCORING_CHUNK_LEASE_SECONDS)


def _running_job(version: DefinitionVersion) -> RescoreJob | None:
    return (
        RescoreJob.objects.filter(version=version, status__in=RescoreJob.ACTIVE)
        .order_by("-created_at", "-id")
        .first()
    )


def _chunks_running(chunks) -> bool:
    """Whether one of ``chunks`` is being scored right now (PostgreSQL; False elsewhere).

    A running chunk holds its row locked (rescore_chunk_run), and the lock goes
    with the worker's connection: a worker killed mid-chunk leaves it unlocked.
    """
    if connection.vendor != "postgresql":
        return False
    ids = list(chunks.values_list("id", flat=True))
    if not ids:
        return False
    table = connection.ops.quote_name(RescoreChunk._meta.db_table)
    with connection.cursor() as cursor:
        # KEY SHARE conflicts only with the chunk's FOR UPDATE, and SKIP LOCKED
        # never waits: fewer rows than asked for means some are held.
        cursor.execute(
            f"SELECT count(*) FROM (SELECT id FROM {table} WHERE id = ANY(%s) "
            "FOR KEY SHARE SKIP LOCKED) free",
            [ids],
        )
        return cursor.fetchone()[0] < len(ids)


def rescore_job_alive(*, job: RescoreJob, now: datetime | None = None) -> bool:
    """Whether a queued or running job is still in someone's hands.

    Alive: planned or touched by a worker within the lease, a chunk whose lease
    has not expired (just sent, or started), or a chunk running right now. A
    job none of this holds for stalled: its worker was killed or its messages
    were lost, and nothing but the sweep would ever finish it.
    """
    if job.status not in RescoreJob.ACTIVE:
        return False
    now = now or timezone.now()
    since = now - lease()
    if max(job.created_at, job.heartbeat_at or job.created_at) >= since:
        return True
    open_chunks = RescoreChunk.objects.filter(job=job, done=False)
    if open_chunks.filter(lease_expires_at__gte=now).exists():
        return True
    return _chunks_running(open_chunks)


def rescore_full_start(
    *, version: DefinitionVersion, actor=None, kind: str = RescoreJob.Kind.FULL
) -> RescoreJob:
    """Plan a full rescore under ``version`` and queue its chunks (after commit).

    Raises RescoreRunning while another full rescore of the version is alive;
    a stalled one (``rescore_job_alive``) is marked failed and replaced. Two
    starts at once cannot both win: a partial unique index allows one queued or
    running job per version, and the loser raises RescoreRunning too.

    The pending leads committed before the plan are marked as covered by the
    job, which deletes their rows once it has stored their scores: ``as_of``
    is taken after that, so it is later than every event they wait for.
    """
    size = settings.SCORING_CHUNK_SIZE
    with transaction.atomic():
        now = timezone.now()
        current = _running_job(version)
        if current is not None:
            if rescore_job_alive(job=current, now=now):
                raise RescoreRunning(current)
            logger.warning("rescore job %s stalled; a new full rescore replaces it", current.pk)
            rescore_job_fail(
                job_id=current.pk,
                message=f"stalled: no worker held a chunk for {lease().seconds} s; replaced",
            )
        try:
            with transaction.atomic():  # a savepoint: the unique index refuses a racing twin
                job = RescoreJob.objects.create(
                    version=version, kind=kind, as_of=now, created_by=actor
                )
        except IntegrityError:
            twin = _running_job(version)
            if twin is None:
                raise
            raise RescoreRunning(twin) from None
        PendingRescore.objects.update(covered_by=job)
        job.as_of = timezone.now()
        chunks = [
            RescoreChunk(job=job, target=Target.CONTACTS, low=low, high=high)
            for low, high in _ranges(Contact, size)
        ] + [
            RescoreChunk(job=job, target=Target.ACCOUNTS, low=low, high=high)
            for low, high in _ranges(Company, size)
        ]
        for chunk in chunks:  # in the queue's hands until then
            chunk.lease_expires_at = job.as_of + lease()
        RescoreChunk.objects.bulk_create(chunks)
        job.total_chunks = len(chunks)
        job.planned = Contact.objects.count() + Company.objects.count()
        if not chunks:
            job.status, job.finished_at = RescoreJob.Status.DONE, timezone.now()
        job.save(
            update_fields=[
                "as_of",
                "total_chunks",
                "planned",
                "status",
                "finished_at",
            ]
        )
        if not chunks:
            PendingRescore.objects.filter(covered_by=job).delete()  # nobody to score
        AuditEntry.objects.create(
            version=version,
            action=AuditEntry.Action.RESCORED,
            actor=actor,
            detail={"job": job.pk, "kind": kind, "chunks": len(chunks)},
        )
        chunk_ids = list(job.chunks.order_by("id").values_list("id", flat=True))
        _dispatch_chunks(chunk_ids)
    return job


def scores_replay(
    *, version: DefinitionVersion, contact_ids: Sequence[int], moments: Sequence[datetime]
) -> int:
    """Score these contacts at each past moment, in order, as if scoring had run then.

    For leads brought in with their history (the demo data, an import of past
    activity): their band changes and the moment each first became hot are
    recorded when they happened, not all at the moment of the first rescore.
    Each moment is one set-based refresh and store in its own transaction, as a
    drain does: the first builds each lead's running totals from its history,
    the later ones read only the events since the moment before. Returns how
    many scores were stored.
    """
    definition = definition_of(version)
    ids = sorted(set(contact_ids))
    stored = 0
    for at in sorted(moments):
        for i in range(0, len(ids), settings.SCORING_CHUNK_SIZE):
            part = dict.fromkeys(ids[i : i + settings.SCORING_CHUNK_SIZE])
            with transaction.atomic():
                refreshed = contact_scores_refresh(
                    definition=definition, version=version, earliest=part, at=at
                )
                stored += contact_scores_store(
                    scores=refreshed.scores, version=version, at=at, bases=refreshed.bases
                ).count
    return stored


def rescore_requested(*, actor, version: DefinitionVersion) -> RescoreJob:
    """A person asks to rescore everything under ``version`` (the rescore button).

    Only the active version, by someone allowed, and not while a full rescore
    of it is alive (both would rescore everything); a stalled one is replaced.
    """
    if not can_rescore(actor):
        raise PermissionDenied(_("Only marketing or an administrator starts a full rescore."))
    with transaction.atomic():
        version = DefinitionVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != DefinitionVersion.Status.ACTIVE:
            raise ValidationError(_("Only the active version can rescore the leads."))
        try:
            return rescore_full_start(version=version, actor=actor)
        except RescoreRunning:
            raise ValidationError(_("A rescore of this version is already running.")) from None


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


def _chunk_start(chunk_id: int) -> None:
    """Take the chunk's lease for this delivery, in autocommit so the sweep sees it at once.

    Waits while another delivery runs the chunk (it holds the row), then finds
    it done and changes nothing. The job's heartbeat tells the sweep that its
    queue is moving.
    """
    now = timezone.now()
    started = RescoreChunk.objects.filter(pk=chunk_id, done=False).update(
        started_at=now, lease_expires_at=now + lease(), deliveries=F("deliveries") + 1
    )
    if started:
        RescoreJob.objects.filter(chunks=chunk_id, status__in=RescoreJob.ACTIVE).update(
            heartbeat_at=now
        )


def rescore_chunk_run(*, chunk_id: int) -> int:
    """Score one chunk; idempotent. Returns how many leads it scored (0 if already done).

    Takes the chunk's lease first, then scores it in one transaction holding
    the chunk's row: a second delivery waits for it and finds it done. The
    transaction also deletes the pending rows the job covers for the leads it
    stored; the one that finishes the job deletes its covered company rows.
    """
    _chunk_start(chunk_id)
    with transaction.atomic():
        # Only the chunk's own row: FOR UPDATE over the join also locked the
        # job's and the version's rows, and the chunks ran one at a time.
        chunk = (
            RescoreChunk.objects.select_for_update(of=("self",))
            .select_related("job", "job__version")
            .get(pk=chunk_id)
        )
        job = chunk.job
        if chunk.done or job.status not in RescoreJob.ACTIVE:
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
            stored = contact_scores_store(scores=scores, version=version, at=job.as_of)
            scored = stored.count
            pending_covered_clear(job=job, subjects=subjects, skipped=stored.skipped)
        else:
            scores = account_scores_compute(definition=definition, subjects=subjects, at=job.as_of)
            scored = account_scores_store(scores=scores, version=version, at=job.as_of)
        now = timezone.now()
        RescoreChunk.objects.filter(pk=chunk.pk).update(done=True, scored=scored)
        # Only a job still running counts the chunk: one marked failed meanwhile
        # (stalled and replaced, superseded) stays failed.
        RescoreJob.objects.filter(pk=job.pk, status__in=RescoreJob.ACTIVE).update(
            done_chunks=F("done_chunks") + 1,
            leads_scored=F("leads_scored") + scored,
            status=RescoreJob.Status.RUNNING,
            heartbeat_at=now,
        )
        finished = RescoreJob.objects.filter(
            pk=job.pk, status=RescoreJob.Status.RUNNING, done_chunks__gte=F("total_chunks")
        ).update(status=RescoreJob.Status.DONE, finished_at=now)
        if finished:
            pending_covered_clear(job=job, subjects=None)
    return scored


_PG_CLEAR_COVERED_CONTACTS = """
WITH gone AS (
    DELETE FROM scoring_pendingrescore WHERE id IN (
        SELECT id FROM scoring_pendingrescore
        WHERE covered_by_id = %(job)s AND contact_id BETWEEN %(low)s AND %(high)s
          AND NOT (contact_id = ANY(%(skipped)s::bigint[]))
        FOR UPDATE SKIP LOCKED)
    RETURNING contact_id, earliest
)
UPDATE scoring_leadscore s SET base_at = NULL, base = NULL FROM gone
WHERE s.contact_id = gone.contact_id AND gone.earliest <= s.base_at
"""
# A company's row also asks for its contacts' running totals to be rebuilt when
# its events are older than them; those rows are left to the drain, which does
# that, rather than write here to other chunks' scores.
_PG_CLEAR_COVERED_COMPANIES = """
DELETE FROM scoring_pendingrescore WHERE id IN (
    SELECT p.id FROM scoring_pendingrescore p
    WHERE p.covered_by_id = %(job)s AND p.company_id IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM scoring_leadscore s JOIN {contact} c ON c.id = s.contact_id
          WHERE c.company_id = p.company_id AND p.earliest <= s.base_at)
    FOR UPDATE OF p SKIP LOCKED)
"""


def pending_covered_clear(
    *, job: RescoreJob, subjects: Subjects | None, skipped: Iterable[int] = ()
) -> None:
    """Delete the pending rows ``job`` covers and has scored, in the chunk's transaction.

    With ``subjects`` (a contact chunk): the contacts' rows, except ``skipped``
    ones (a newer score was kept). A lead whose running totals are newer than
    its row's earliest event gets them cleared, so the next drain rebuilds
    them, as the row asked. Without (the job's last chunk): the companies'
    rows. Rows held by a drain or by a batch marking them again are skipped
    (SKIP LOCKED): the drain deletes them, the batch uncovers them.
    """
    skipped = sorted(skipped)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if subjects is not None:
                params = {"job": job.pk, "low": subjects.low, "high": subjects.high}
                cursor.execute(_PG_CLEAR_COVERED_CONTACTS, {**params, "skipped": skipped})
            else:
                contact = connection.ops.quote_name(Contact._meta.db_table)
                cursor.execute(_PG_CLEAR_COVERED_COMPANIES.format(contact=contact), {"job": job.pk})
        return
    # SQLite: the chunk's transaction holds the database's write lock.
    covered = PendingRescore.objects.filter(covered_by=job)
    if subjects is not None:
        rows = covered.filter(**subjects.filter("contact_id")).exclude(contact_id__in=skipped)
        gone = list(rows.values_list("id", "contact_id", "earliest"))
        for _pk, contact_id, earliest in gone:
            if earliest is not None:
                LeadScore.objects.filter(contact_id=contact_id, base_at__gte=earliest).update(
                    base_at=None, base=None
                )
        PendingRescore.objects.filter(id__in=[pk for pk, _c, _e in gone]).delete()
        return
    rows = covered.filter(company__isnull=False).exclude(
        Exists(
            LeadScore.objects.filter(
                contact__company_id=OuterRef("company_id"), base_at__gte=OuterRef("earliest")
            )
        )
    )
    rows.delete()


def rescore_job_fail(*, job_id: int, message: str) -> None:
    RescoreJob.objects.filter(pk=job_id).exclude(status=RescoreJob.Status.DONE).update(
        status=RescoreJob.Status.FAILED, finished_at=timezone.now(), message=message[:2000]
    )


# --- Incremental ----------------------------------------------------------------------


# Asks for a rebuild from history, whatever the running totals' age.
REBUILD = datetime(1970, 1, 1, tzinfo=UTC)

_PENDING_UPSERT = """
INSERT INTO scoring_pendingrescore ({column}, queued_at, earliest) VALUES {values}
ON CONFLICT ({column}) DO UPDATE SET covered_by_id = NULL, earliest = CASE
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
    def add(send: _SendDrain) -> None:
        send.marked += marked

    background.on_commit_once(_SendDrain, add)


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
