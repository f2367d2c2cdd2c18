"""CSV imports through a real Celery worker, on Redis and PostgreSQL, as in production.

The rest of the suite runs tasks eagerly, which cannot show that a task
survives JSON serialisation, that a worker in another process finds the job
row and its file in the database, or that the progress the UI polls is
committed outside the import's transaction. These tests go through the pages,
send the tasks through Redis to ``celery worker`` (tests/worker_fixtures.py)
and poll the job row as the progress fragment does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from leads.models import Company, Contact, ImportJob
from leads.services import imports

JOB_TIMEOUT = 30  # seconds; a guard against a hang, not a speed requirement

# The worker sees committed rows only, hence transaction=True.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

LEADS_CSV = (
    "会社名,氏名,メールアドレス,役職,都道府県\r\n"
    "株式会社ワーカー商事,山田 太郎,taro.yamada@worker-shoji.co.jp,営業部長,東京都\r\n"
    "株式会社ワーカー商事,佐藤 花子,hanako.sato@worker-shoji.co.jp,課長,東京都\r\n"
    "合同会社キュー,鈴木 一郎,ichiro@queue-llc.jp,代表社員,大阪府\r\n"
).encode("utf-8-sig")

CHECK_TASK = "leads.tasks.import_job_check"
COMMIT_TASK = "leads.tasks.import_job_commit"
FINISHED = {
    ImportJob.Status.CHECKED,
    ImportJob.Status.INVALID,
    ImportJob.Status.DONE,
    ImportJob.Status.FAILED,
}


@pytest.fixture(autouse=True)
def _role_groups(transactional_db) -> None:
    """Put back the role groups, which a data migration made and a flush removed.

    Every transactional test ends with a flush; the post_migrate signal then
    re-creates content types and permissions, but not the groups.
    serialized_rollback would restore them, but it inserts the content types
    again under their old ids and fails after a flush by another test.
    """
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def _wait_until_finished(job_id: int, worker) -> ImportJob:
    """Poll the job row, as the progress fragment does, until the worker is done with it."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in FINISHED:
            return job
        if time.monotonic() > deadline:
            pytest.fail(
                f"import job {job_id} is still {job.status!r} after {JOB_TIMEOUT} s; "
                f"the worker printed:\n{worker.log()}"
            )
        time.sleep(0.1)


def _upload_and_check(client, worker) -> ImportJob:
    upload = SimpleUploadedFile("展示会リスト.csv", LEADS_CSV, content_type="text/csv")
    response = client.post(reverse("leads:import-list"), {"file": upload, "kind": "leads"})
    assert response.status_code == 302, response.content.decode()
    job = ImportJob.objects.get()
    client.post(reverse("leads:import-check", args=[job.id]))
    job = _wait_until_finished(job.id, worker)
    assert job.status == ImportJob.Status.CHECKED, (job.message, job.errors)
    return job


def _received_by_worker(worker, task: str) -> int:
    """How many times the worker has received ``task`` this session.

    Celery logs "Task <name>[<id>] received" before running it. Without this
    count, a task run eagerly in this process would pass the tests just as well.
    """
    return len(re.findall(rf"Task {re.escape(task)}\[[0-9a-f-]+\] received", worker.log()))


@contextmanager
def _contact_inserts_fail() -> Iterator[None]:
    """Make every INSERT into the contacts table raise, for the worker's connection too.

    A trigger is the one way to break a task inside another process. The test
    database outlives this test, so the trigger must go in every case.
    """
    table = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION portal_test_refuse_insert() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER portal_test_refuse_insert BEFORE INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION portal_test_refuse_insert()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS portal_test_refuse_insert ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS portal_test_refuse_insert()")


def test_worker_checks_and_imports_an_uploaded_file_with_progress(
    client, marketing_user, live_celery_worker
):
    client.force_login(marketing_user)
    checks = _received_by_worker(live_celery_worker, CHECK_TASK)
    job = _upload_and_check(client, live_celery_worker)
    assert _received_by_worker(live_celery_worker, CHECK_TASK) == checks + 1
    assert job.counts["contacts_created"] == 3
    assert not Contact.objects.exists()  # the dry run wrote nothing but the job row

    commits = _received_by_worker(live_celery_worker, COMMIT_TASK)
    client.post(reverse("leads:import-commit", args=[job.id]))
    job = _wait_until_finished(job.id, live_celery_worker)

    assert _received_by_worker(live_celery_worker, COMMIT_TASK) == commits + 1
    assert job.status == ImportJob.Status.DONE, (job.message, job.errors)
    assert job.processed_rows == job.total_rows == 3
    assert job.percent == 100
    assert job.started_at is not None and job.finished_at is not None
    assert job.counts["companies_created"] == 2 and job.counts["contacts_created"] == 3
    assert dict(Contact.objects.values_list("email", "name")) == {
        "taro.yamada@worker-shoji.co.jp": "山田 太郎",
        "hanako.sato@worker-shoji.co.jp": "佐藤 花子",
        "ichiro@queue-llc.jp": "鈴木 一郎",
    }
    assert set(Company.objects.values_list("name", flat=True)) == {
        "株式会社ワーカー商事",
        "合同会社キュー",
    }


def test_an_import_that_fails_in_the_worker_marks_the_job_failed(
    client, marketing_user, live_celery_worker
):
    client.force_login(marketing_user)
    job = _upload_and_check(client, live_celery_worker)

    commits = _received_by_worker(live_celery_worker, COMMIT_TASK)
    with _contact_inserts_fail():
        client.post(reverse("leads:import-commit", args=[job.id]))
        job = _wait_until_finished(job.id, live_celery_worker)

    assert _received_by_worker(live_celery_worker, COMMIT_TASK) == commits + 1
    assert job.status == ImportJob.Status.FAILED
    # The UI says what happened in one line, in the worker's language (the page
    # renders it in the reader's); the traceback is in the worker's log.
    assert job.failure == {"code": "database_error", "params": {"detail": "refused by the test"}}
    with translation.override(settings.LANGUAGE_CODE):
        assert job.message == imports.ImportFailure(**job.failure).message()
    assert "\n" not in job.message
    assert job.finished_at is not None
    # One transaction: the companies written before the contacts were rolled back.
    assert not Company.objects.exists() and not Contact.objects.exists()
