"""The import job flow (web UI, Celery) and the reads for the import pages.

``import_job_create`` stores the upload after checking its size, encoding and
header; ``import_job_queue`` marks a job as waiting for the dry run or the
import (a conditional UPDATE, so a double click queues nothing twice); the
tasks call ``import_job_check`` and ``import_job_commit``, which claim the job
with another conditional UPDATE. ``import_jobs_overdue`` (the beat sweep)
finds the jobs whose task never came.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext

from leads import csvio
from leads.csvio import Column
from leads.models import ImportJob
from leads.permissions import can_import_leads
from leads.services.imports.columns import ImportFileError, csv_inspect
from leads.services.imports.contacts import leads_import_csv
from leads.services.imports.failure import failure_render, import_failure_of
from leads.services.imports.intent import intent_import_csv
from leads.services.imports.outcome import ProgressCallback, message_render

logger = logging.getLogger(__name__)


class ImportJobStateError(Exception):
    """The job is not in a state that allows this step (e.g. already importing)."""


IMPORTERS = {
    ImportJob.Kind.LEADS.value: leads_import_csv,
    ImportJob.Kind.INTENT.value: intent_import_csv,
}


def import_job_create(*, actor, file_name: str, data: bytes, kind: str) -> ImportJob:
    """Store an uploaded file as a new job, after checking it can be imported at all.

    Refuses (ImportFileError, nothing stored) a file that is too big, in an
    unknown encoding, malformed, with too many rows, or without a usable
    header, so that the user hears about it at upload. Raises PermissionDenied
    unless the actor may import.
    """
    if not can_import_leads(actor):
        raise PermissionDenied
    if kind not in IMPORTERS:
        raise ImportFileError(gettext("Unknown kind of import: %(kind)s.") % {"kind": kind})
    if len(data) > settings.IMPORT_MAX_FILE_BYTES:
        raise ImportFileError(
            gettext("The file is larger than %(mb)d MB; split it into smaller files.")
            % {"mb": settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)}
        )
    encoding, _columns, total_rows = csv_inspect(data=data, kind=kind)
    return ImportJob.objects.create(
        kind=kind,
        file_name=file_name[: ImportJob._meta.get_field("file_name").max_length],
        content=data,
        encoding=encoding,
        total_rows=total_rows,
        created_by=actor,
    )


@dataclass(frozen=True)
class ImportPreview:
    encoding_label: str
    columns: list[Column]
    rows: list[list[str]]  # the first rows, padded to the header's width


def import_job_preview(*, job: ImportJob, limit: int = 5) -> ImportPreview | None:
    """The column mapping and the first rows; None once the file was purged."""
    data = bytes(job.content or b"")
    if not data:
        return None
    head = csvio.head_rows(data, encoding=job.encoding, limit=limit + 1)
    if not head:
        return None
    columns = csvio.map_header(head[0], kind=job.kind)
    width = len(columns)
    rows = [(r + [""] * width)[:width] for r in head[1:]]
    label = csvio.ENCODING_LABELS.get(job.encoding, job.encoding)
    return ImportPreview(encoding_label=str(label), columns=columns, rows=rows)


# Statuses from which a step may be queued, and the one it moves to.
_QUEUE_FROM = {
    "check": (
        {
            ImportJob.Status.UPLOADED,
            ImportJob.Status.CHECKED,
            ImportJob.Status.INVALID,
            ImportJob.Status.FAILED,
        },
        ImportJob.Status.CHECKING,
    ),
    "commit": ({ImportJob.Status.CHECKED}, ImportJob.Status.IMPORTING),
}


def import_job_queue(*, actor, job_id: int, step: Literal["check", "commit"]) -> ImportJob:
    """Mark the job as waiting for its dry run or its import; the caller enqueues the task.

    A conditional UPDATE on the status: of two clicks, only the first queues
    anything (the second raises ImportJobStateError). The import is only
    allowed after a clean dry run (status CHECKED).
    """
    if not can_import_leads(actor):
        raise PermissionDenied
    allowed, status = _QUEUE_FROM[step]
    queued = (
        ImportJob.objects.filter(pk=job_id, status__in=allowed)
        .exclude(content=b"")
        .update(
            status=status,
            queued_at=timezone.now(),
            started_at=None,
            finished_at=None,
            processed_rows=0,
            message="",
            failure={},
        )
    )
    if not queued:
        raise ImportJobStateError(job_id)
    return ImportJob.objects.get(pk=job_id)


def _stale_before() -> datetime:
    # A task that started this long ago has been killed by the hard time limit;
    # its redelivery may take the job over. The import is one transaction, so
    # the dead attempt wrote nothing.
    return timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def _claim(job_id: int, *, ready: set[str], running: str) -> ImportJob:
    claimable = Q(status__in=ready) | Q(status=running, started_at__isnull=True)
    claimable |= Q(status=running, started_at__lt=_stale_before())
    claimed = (
        ImportJob.objects.filter(claimable, pk=job_id)
        .exclude(content=b"")
        .update(status=running, started_at=timezone.now(), finished_at=None, processed_rows=0)
    )
    if not claimed:
        ImportJob.objects.only("id").get(pk=job_id)  # DoesNotExist if it is gone
        raise ImportJobStateError(job_id)
    return ImportJob.objects.get(pk=job_id)


def _progress_writer(job_id: int) -> ProgressCallback:
    def write(done: int, total: int) -> None:
        # Autocommit, outside the import's transaction: the UI polls this row.
        ImportJob.objects.filter(pk=job_id).update(processed_rows=done, total_rows=total)

    return write


def _drop_broken_connection() -> None:
    """Close a connection the server dropped, so that the next query opens a new one.

    Django closes it itself when a transaction's rollback fails, but not after
    a query in autocommit (a progress write); it would stay broken until the
    end of the task.
    """
    if connection.in_atomic_block or connection.connection is None:
        return
    if not connection.is_usable():
        connection.close()


def _run_job(job: ImportJob, *, dry_run: bool) -> ImportJob:
    importer = IMPORTERS[job.kind]
    try:
        outcome = importer(
            data=bytes(job.content), dry_run=dry_run, on_progress=_progress_writer(job.pk)
        )
    except ImportFileError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.INVALID, message=exc.message, finished_at=timezone.now()
        )
        return ImportJob.objects.get(pk=job.pk)
    except Exception as exc:
        # Recorded for the UI in one line, then re-raised: the worker logs the
        # traceback for the operators. The import is one transaction, so
        # nothing was written whatever broke it.
        failure = import_failure_of(exc)
        _drop_broken_connection()
        try:
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.FAILED,
                message=failure.message(),
                failure=failure.as_dict(),
                finished_at=timezone.now(),
            )
        except DatabaseError:
            # The database is still unreachable: the job stays running until the
            # sweep sends it again after the time limit.
            logger.exception("could not mark import job %s failed", job.pk)
        raise
    if not outcome.is_valid:
        status = ImportJob.Status.INVALID
    else:
        status = ImportJob.Status.CHECKED if dry_run else ImportJob.Status.DONE
    counts = dict(outcome.counts)
    counts["rows_merged"] = sum(
        1 for n in outcome.notes if n.code in {"contact_duplicate", "company_duplicate"}
    )
    counts["notes"] = outcome.note_count
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        total_rows=outcome.total_rows,
        processed_rows=outcome.total_rows,
        counts=counts,
        errors=[e.as_dict() for e in outcome.errors],
        error_count=outcome.error_count,
        finished_at=timezone.now(),
        message="",
        failure={},
    )
    return ImportJob.objects.get(pk=job.pk)


def import_job_check(*, job_id: int) -> ImportJob:
    """Run the job's dry run; store counts or errors. Writes nothing but the job row.

    Raises ImportJob.DoesNotExist if the job is gone, ImportJobStateError if
    it is running elsewhere or already imported.
    """
    ready = {
        ImportJob.Status.UPLOADED,
        ImportJob.Status.CHECKED,
        ImportJob.Status.INVALID,
        ImportJob.Status.FAILED,
    }
    job = _claim(job_id, ready=ready, running=ImportJob.Status.CHECKING)
    return _run_job(job, dry_run=True)


def import_job_commit(*, job_id: int) -> ImportJob:
    """Import the job's file for real. Only after a clean dry run (status CHECKED).

    The claim is a conditional UPDATE on the status, so that two calls (a
    double click, a redelivered task) cannot import twice: the second raises
    ImportJobStateError. Raises ImportJob.DoesNotExist if the job is gone.
    """
    job = _claim(job_id, ready={ImportJob.Status.CHECKED}, running=ImportJob.Status.IMPORTING)
    return _run_job(job, dry_run=False)


def import_jobs_overdue(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """The queued jobs no worker has taken, to send again: [(job id, "check" | "commit")].

    Waiting longer than IMPORT_REQUEUE_SECONDS since queued (the broker was
    down when the page sent the task, or lost it), or started longer ago
    than the hard time limit (the worker died; ``_claim`` lets a new delivery
    take the job over). Each is marked queued again now, so it is sent at
    most once per interval; a duplicate delivery finds the job claimed.
    """
    now = now or timezone.now()
    steps = {ImportJob.Status.CHECKING: "check", ImportJob.Status.IMPORTING: "commit"}
    queued_long_ago = Q(queued_at__isnull=True) | Q(
        queued_at__lt=now - timedelta(seconds=settings.IMPORT_REQUEUE_SECONDS)
    )
    not_taken = Q(started_at__isnull=True) | Q(
        started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    )
    overdue = []
    for pk, status in (
        ImportJob.objects.filter(queued_long_ago, not_taken, status__in=list(steps))
        .exclude(content=b"")
        .values_list("id", "status")
    ):
        # Conditional: a worker that claimed the job meanwhile keeps it.
        resent = ImportJob.objects.filter(queued_long_ago, not_taken, pk=pk, status=status).update(
            queued_at=now
        )
        if resent:
            overdue.append((pk, steps[status]))
    return overdue


def import_job_message(*, job: ImportJob) -> str:
    """The job's message in the active language (a failure is stored as a code)."""
    failure = job.failure or {}
    if failure.get("code"):
        return failure_render(failure["code"], failure.get("params") or {}, job.message)
    return job.message


def import_jobs_purge(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Drop the file content of jobs finished (or abandoned) ``older_than`` ago."""
    cutoff = timezone.now() - older_than
    finished = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    return (
        ImportJob.objects.filter(finished)
        .exclude(status__in=[ImportJob.Status.CHECKING, ImportJob.Status.IMPORTING])
        .exclude(content=b"")
        .update(content=b"")
    )


# --- Reads for the import pages ---------------------------------------------


def import_job_list_for(*, actor, limit: int = 25) -> QuerySet[ImportJob]:
    if not can_import_leads(actor):
        raise PermissionDenied
    return (
        ImportJob.objects.defer("content", "errors")
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )


def import_job_get_for(*, actor, job_id: int) -> ImportJob:
    if not can_import_leads(actor):
        raise PermissionDenied
    return get_object_or_404(ImportJob.objects.select_related("created_by"), pk=job_id)


def import_job_errors(*, job: ImportJob) -> list[dict[str, Any]]:
    """The stored errors with their messages in the active language."""
    return [
        {
            "line": e.get("line"),
            "field": e.get("field", ""),
            "message": message_render(
                e.get("code", ""), e.get("params") or {}, e.get("message", "")
            ),
        }
        for e in job.errors or []
    ]
