"""Celery adapters for the CSV imports: load by id, call one service.

Tasks run with acks_late, so a task may be delivered twice: the services claim
their job with a conditional UPDATE, and the second delivery finds nothing to
do. A job deleted meanwhile is logged and skipped.
"""

from __future__ import annotations

import logging

from celery import shared_task

from config import background
from leads.models import ImportJob
from leads.services import imports

logger = logging.getLogger(__name__)


@shared_task(name="leads.tasks.import_job_check", acks_late=True)
def import_job_check(job_id: int) -> None:
    """The dry run of an uploaded file (status CHECKING -> CHECKED or INVALID)."""
    try:
        imports.import_job_check(job_id=job_id)
    except ImportJob.DoesNotExist:
        logger.warning("import job %s is gone; nothing to check", job_id)
    except imports.ImportJobStateError:
        logger.info("import job %s is not waiting for a dry run; skipped", job_id)


@shared_task(name="leads.tasks.import_job_commit", acks_late=True)
def import_job_commit(job_id: int) -> None:
    """The real import, after a clean dry run (status IMPORTING -> DONE)."""
    try:
        imports.import_job_commit(job_id=job_id)
    except ImportJob.DoesNotExist:
        logger.warning("import job %s is gone; nothing to import", job_id)
    except imports.ImportJobStateError:
        logger.info("import job %s is not waiting to be imported; skipped", job_id)


@shared_task(name="leads.tasks.import_jobs_purge", acks_late=True)
def import_jobs_purge() -> int:
    """Beat, daily: drop uploaded file contents 30 days after their import finished."""
    purged = imports.import_jobs_purge()
    logger.info("purged the file content of %d import jobs", purged)
    return purged


@shared_task(name="leads.tasks.import_jobs_sweep", acks_late=True)
def import_jobs_sweep() -> int:
    """Beat, every minute: send again the dry runs and imports no worker has taken."""
    tasks = {"check": import_job_check, "commit": import_job_commit}
    overdue = imports.import_jobs_overdue()
    for job_id, step in overdue:
        if not background.deliver(tasks[step], job_id):
            break
    if overdue:
        logger.warning("sent %d import jobs again: %s", len(overdue), overdue)
    return len(overdue)
