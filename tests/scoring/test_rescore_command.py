"""python manage.py rescore [--full], the operators' way to rescore."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from scoring.models import AuditEntry, DefinitionVersion, LeadScore, PendingRescore, RescoreJob
from scoring.services import jobs
from scoring.services.jobs import active_version
from scoring.tasks import rescore_chunk
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _rescore(*args: str) -> str:
    out = StringIO()
    call_command("rescore", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def three_leads_and_an_account(settings):
    settings.SCORING_CHUNK_SIZE = 2
    return [ContactFactory() for _ in range(3)], CompanyFactory()


def test_rescore_drains_the_pending_leads():
    marked, unmarked = ContactFactory(), ContactFactory()
    PendingRescore.objects.create(contact=marked)
    assert _rescore() == "Rescored 1 pending leads under v1.\n"
    assert list(LeadScore.objects.values_list("contact", flat=True)) == [marked.pk]
    assert not LeadScore.objects.filter(contact=unmarked).exists()
    assert not PendingRescore.objects.exists()


def test_rescore_with_nothing_pending_scores_nothing():
    ContactFactory()
    assert _rescore() == "Rescored 0 pending leads under v1.\n"
    assert not LeadScore.objects.exists()


def test_rescore_full_queues_a_job_for_the_workers(
    three_leads_and_an_account, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = _rescore("--full")
    job = RescoreJob.objects.get()
    assert out == f"Queued rescore job {job.pk} (4 chunks) for the Celery workers.\n"
    job.refresh_from_db()  # the chunks ran once the job was committed
    assert (job.status, job.version, job.leads_scored) == (
        RescoreJob.Status.DONE,
        active_version(),
        7,  # 3 leads and 4 companies' accounts
    )
    assert LeadScore.objects.count() == 7
    audit = AuditEntry.objects.get(action=AuditEntry.Action.RESCORED)
    assert (audit.actor, audit.detail) == (None, {"job": job.pk, "kind": "full", "chunks": 4})


def test_rescore_full_reports_a_job_that_ran_at_once(three_leads_and_an_account, monkeypatch):
    # With eager Celery (no REDIS_URL) the chunks run as the job commits, before
    # the command reads it back; here they run before the test's transaction ends.
    monkeypatch.setattr(
        jobs, "_dispatch_chunks", lambda ids: [rescore_chunk.delay(pk) for pk in ids]
    )
    assert _rescore("--full") == "Rescored 7 leads and accounts under v1 in 4 chunks.\n"
    assert LeadScore.objects.count() == 7


def test_rescore_full_with_nothing_to_score_is_done_at_once():
    assert _rescore("--full") == "Rescored 0 leads and accounts under v1 in 0 chunks.\n"
    assert RescoreJob.objects.get().status == RescoreJob.Status.DONE


@pytest.mark.parametrize("args", [[], ["--full"]], ids=["pending", "full"])
def test_rescore_without_an_active_version_is_an_error(args):
    PendingRescore.objects.create(contact=ContactFactory())
    DefinitionVersion.objects.update(status=DefinitionVersion.Status.RETIRED)
    with pytest.raises(CommandError, match="No active definition version"):
        _rescore(*args)
    assert not RescoreJob.objects.exists()
    assert PendingRescore.objects.count() == 1
