"""Celery adapters for rescoring: load by id, call one service.

Tasks are acks_late: a chunk delivered twice is scored once (see
services.jobs.rescore_chunk_run), and a drain that dies leaves its pending
rows for the next one.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from scoring.models import RescoreChunk
from scoring.services import jobs, sweep

logger = logging.getLogger(__name__)


@shared_task(name="scoring.tasks.rescore_chunk", acks_late=True, bind=True, max_retries=3)
def rescore_chunk(self, chunk_id: int) -> int:
    """Score one id range of a full rescore job.

    A database hiccup (a dropped connection, a deadlock) is retried with
    backoff: the chunk rolled back, so a retry is a clean run. Any other
    error, or the last retry's, marks the job failed with the reason.
    """
    try:
        return jobs.rescore_chunk_run(chunk_id=chunk_id)
    except RescoreChunk.DoesNotExist:
        logger.warning("rescore chunk %s is gone; skipped", chunk_id)
        return 0
    except OperationalError as exc:
        if self.request.retries < self.max_retries and not self.request.is_eager:
            raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
        _fail(chunk_id, exc)
        raise
    except Exception as exc:
        _fail(chunk_id, exc)
        raise


def _fail(chunk_id: int, exc: Exception) -> None:
    job_id = RescoreChunk.objects.filter(pk=chunk_id).values_list("job_id", flat=True).first()
    if job_id is not None:
        jobs.rescore_job_fail(job_id=job_id, message=f"chunk {chunk_id}: {exc}")


@shared_task(name="scoring.tasks.rescore_pending", acks_late=True)
def rescore_pending() -> int:
    """Rescore the leads whose activity changed (one task per ingested batch)."""
    return jobs.pending_drain_all()


@shared_task(name="scoring.tasks.rescore_nightly", acks_late=True)
def rescore_nightly() -> int | None:
    """Beat, nightly: rescore everything at today's date, so decay moves leads across bands.

    A full rescore of the version already running does the same: the nightly
    run joins it (returns its id) rather than score every lead a second time.
    """
    version = jobs.active_version()
    if version is None:
        return None
    try:
        return jobs.rescore_full_start(version=version, kind="nightly").pk
    except jobs.RescoreRunning as running:
        logger.info(
            "a full rescore of v%s is running (job %s); no nightly one started",
            version.number,
            running.job.pk,
        )
        return running.job.pk


@shared_task(name="scoring.tasks.rescore_sweep", acks_late=True)
def rescore_sweep() -> dict[str, int]:
    """Beat, every SCORING_SWEEP_SECONDS: send lost chunks again, drain stranded leads."""
    swept = sweep.rescore_sweep()
    return {"redispatched": swept.redispatched, "drained": swept.drained}
