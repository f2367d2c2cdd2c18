"""python manage.py rescore [--full]: rescore pending leads, or everything."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from config import background
from scoring.models import RescoreJob
from scoring.services import jobs


class Command(BaseCommand):
    help = (
        "Rescore the leads whose activity changed (default), or with --full every lead "
        "and account under the active definition, in chunks on Celery."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rescore every lead and account")

    def handle(self, *args, full: bool = False, **options):
        version = jobs.active_version()
        if version is None:
            raise CommandError("No active definition version: activate one first.")
        if not full:
            scored = jobs.pending_drain_all()
            self.stdout.write(f"Rescored {scored} pending leads under v{version.number}.")
            return
        try:
            with background.inline():  # on the embedded default, report the finished job
                job = jobs.rescore_full_start(version=version)
        except jobs.RescoreRunning as running:
            job = running.job
            raise CommandError(
                gettext(
                    "A full rescore of v%(version)s is already running (job %(job)s, "
                    "%(done)s of %(total)s chunks done); no second one was started."
                )
                % {
                    "version": version.number,
                    "job": job.pk,
                    "done": job.done_chunks,
                    "total": job.total_chunks,
                }
            ) from None
        job.refresh_from_db()
        if job.status == RescoreJob.Status.DONE:
            self.stdout.write(
                f"Rescored {job.leads_scored} leads and accounts under v{version.number} "
                f"in {job.total_chunks} chunks."
            )
        elif job.status == RescoreJob.Status.FAILED:
            raise CommandError(f"Rescore job {job.pk} failed: {job.message}")
        else:
            self.stdout.write(
                f"Queued rescore job {job.pk} ({job.total_chunks} chunks) for the Celery workers."
            )
