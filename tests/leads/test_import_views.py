"""The import pages and job flow: who may use them, upload -> dry run -> import, progress."""

import datetime as dt
import logging
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from leads import tasks
from leads.models import Company, Contact, ImportJob
from leads.services import imports

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LEADS_CSV = (FIXTURES / "leads_cp932.csv").read_bytes()
BAD_CSV = "会社名,メールアドレス,従業員数\r\nサンプル,ok@x.co.jp,10\r\nサンプル,broken,約300名\r\n"


def make_job(user=None, data: bytes = LEADS_CSV, **fields) -> ImportJob:
    return ImportJob.objects.create(
        file_name="leads.csv", content=data, encoding="cp932", created_by=user, **fields
    )


def job_urls(job_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("leads:import-list")),
        ("get", reverse("leads:import-detail", args=[job_id])),
        ("get", reverse("leads:import-progress", args=[job_id])),
        ("post", reverse("leads:import-check", args=[job_id])),
        ("post", reverse("leads:import-commit", args=[job_id])),
    ]


def test_anonymous_visitor_is_sent_to_login_from_every_import_page(client):
    job = make_job()
    for method, url in job_urls(job.id):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", [Role.INSIDE_SALES, Role.SALES, Role.SALES_MANAGER])
def test_roles_other_than_marketing_and_admin_cannot_import(client, role_users, role):
    job = make_job(status=ImportJob.Status.CHECKED)
    client.force_login(role_users[role])
    for method, url in job_urls(job.id):
        assert getattr(client, method)(url).status_code == 403, url
    upload = SimpleUploadedFile("x.csv", LEADS_CSV)
    response = client.post(reverse("leads:import-list"), {"file": upload, "kind": "leads"})
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED and Contact.objects.count() == 0


def test_user_without_a_role_cannot_import(client, no_role_user):
    client.force_login(no_role_user)
    assert client.get(reverse("leads:import-list")).status_code == 403


@pytest.mark.parametrize("role", [Role.MARKETING, Role.ADMIN])
def test_marketing_and_admin_see_the_import_page(client, role_users, role):
    client.force_login(role_users[role])
    assert client.get(reverse("leads:import-list")).status_code == 200


def test_empty_import_list_says_what_to_do_and_lists_the_columns(client, marketing_user):
    client.force_login(marketing_user)
    body = client.get(reverse("leads:import-list")).content.decode()
    assert "empty-state" in body
    for header in ("会社名", "メールアドレス", "法人番号", "company name", "トピック"):
        assert header in body


def test_upload_dry_run_and_import_through_the_pages(
    client, marketing_user, django_capture_on_commit_callbacks
):
    client.force_login(marketing_user)
    upload = SimpleUploadedFile("展示会リスト.csv", LEADS_CSV, content_type="text/csv")
    response = client.post(reverse("leads:import-list"), {"file": upload, "kind": "leads"})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:import-detail", args=[job.id])
    assert (job.encoding, job.total_rows, job.created_by) == ("cp932", 4, marketing_user)

    body = client.get(response["Location"]).content.decode()
    assert "Shift_JIS (CP932)" in body or "CP932" in body
    assert "備考" in body and "text-body-tertiary" in body  # the ignored column, greyed
    assert "株式会社サンプル商事" in body  # first rows
    assert 'action="{}"'.format(reverse("leads:import-commit", args=[job.id])) in body

    # Import before a dry run is refused.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("leads:import-commit", args=[job.id]))
    assert callbacks == [] and Contact.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("leads:import-check", args=[job.id]))
    assert len(callbacks) == 1 and response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED
    assert job.counts["contacts_created"] == 3 and job.processed_rows == 4
    assert Contact.objects.count() == 0  # a dry run writes nothing
    body = client.get(reverse("leads:import-detail", args=[job.id])).content.decode()
    assert "stat-value" in body

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("leads:import-commit", args=[job.id]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (Company.objects.count(), Contact.objects.count()) == (3, 3)

    # A second click queues nothing and imports nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("leads:import-commit", args=[job.id]), follow=True)
    assert callbacks == []
    assert list(response.context["messages"])
    assert Contact.objects.count() == 3


def test_a_broken_file_is_refused_at_upload(client, marketing_user):
    client.force_login(marketing_user)
    upload = SimpleUploadedFile("x.csv", "会社名\r\nサンプル\r\n".encode("euc_jp"))
    response = client.post(reverse("leads:import-list"), {"file": upload, "kind": "leads"})
    assert response.status_code == 400
    assert "CP932" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_a_file_without_usable_columns_is_refused_at_upload(client, marketing_user):
    client.force_login(marketing_user)
    upload = SimpleUploadedFile("x.csv", "氏名,役職\r\n山田,部長\r\n".encode())
    response = client.post(reverse("leads:import-list"), {"file": upload, "kind": "leads"})
    assert response.status_code == 400 and ImportJob.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(client, marketing_user, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1024
    client.force_login(marketing_user)
    upload = SimpleUploadedFile("x.csv", b"email\r\n" + b"a@b.co.jp\r\n" * 200)
    response = client.post(reverse("leads:import-list"), {"file": upload, "kind": "leads"})
    assert response.status_code == 400 and ImportJob.objects.count() == 0


def test_an_invalid_file_shows_its_errors_and_cannot_be_imported(
    client, marketing_user, django_capture_on_commit_callbacks
):
    job = make_job(marketing_user, BAD_CSV.encode("utf-8"), status=ImportJob.Status.UPLOADED)
    client.force_login(marketing_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("leads:import-check", args=[job.id]))
    job.refresh_from_db()
    assert (job.status, job.error_count) == (ImportJob.Status.INVALID, 2)
    assert {(e["line"], e["field"]) for e in job.errors} == {(3, "メールアドレス"), (3, "従業員数")}
    body = client.get(reverse("leads:import-detail", args=[job.id])).content.decode()
    assert 'id="import-errors"' in body and "約300名" in body
    with pytest.raises(imports.ImportJobStateError):
        imports.import_job_commit(job_id=job.id)
    assert Company.objects.count() == 0


def test_commit_claims_the_job_once():
    job = make_job(status=ImportJob.Status.UPLOADED)
    imports.import_job_check(job_id=job.id)
    done = imports.import_job_commit(job_id=job.id)
    assert done.status == ImportJob.Status.DONE
    with pytest.raises(imports.ImportJobStateError):
        imports.import_job_commit(job_id=job.id)
    assert Contact.objects.count() == 3


def test_two_queued_imports_cannot_both_start(marketing_user):
    job = make_job(status=ImportJob.Status.CHECKED)
    imports.import_job_queue(actor=marketing_user, job_id=job.id, step="commit")
    with pytest.raises(imports.ImportJobStateError):
        imports.import_job_queue(actor=marketing_user, job_id=job.id, step="commit")
    # The task runs once; a redelivered copy finds the job taken and does nothing.
    tasks.import_job_commit(job.id)
    tasks.import_job_commit(job.id)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Contact.objects.count() == 3


def test_a_stale_import_is_taken_over_by_the_redelivered_task(settings):
    long_ago = timezone.now() - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    job = make_job(status=ImportJob.Status.IMPORTING, started_at=long_ago)
    tasks.import_job_commit(job.id)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE


def test_tasks_log_and_return_when_the_job_is_gone(caplog):
    with caplog.at_level(logging.WARNING, logger="leads.tasks"):
        tasks.import_job_check(987654)
        tasks.import_job_commit(987654)
    assert caplog.text.count("987654") == 2


def test_progress_fragment_polls_while_the_job_runs(client, marketing_user):
    job = make_job(
        status=ImportJob.Status.CHECKING,
        started_at=timezone.now(),
        processed_rows=1000,
        total_rows=4000,
    )
    client.force_login(marketing_user)
    url = reverse("leads:import-progress", args=[job.id])
    body = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="{url}"' in body and 'hx-trigger="every 1s"' in body and "25%" in body
    page = client.get(reverse("leads:import-detail", args=[job.id])).content.decode()
    assert f'hx-get="{url}"' in page  # the job page includes the polling fragment


def test_progress_shows_writing_once_every_row_is_checked(client, marketing_user):
    job = make_job(
        status=ImportJob.Status.IMPORTING,
        started_at=timezone.now(),
        processed_rows=4,
        total_rows=4,
    )
    client.force_login(marketing_user)
    response = client.get(reverse("leads:import-progress", args=[job.id]), HTTP_HX_REQUEST="true")
    assert (
        "100%" in response.content.decode() and "progress-bar-animated" in response.content.decode()
    )


def test_finished_job_makes_the_page_refresh(client, marketing_user):
    job = make_job(status=ImportJob.Status.DONE)
    client.force_login(marketing_user)
    response = client.get(reverse("leads:import-progress", args=[job.id]), HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"


def test_htmx_request_for_the_job_gets_only_the_status_fragment(client, marketing_user):
    job = make_job(status=ImportJob.Status.DONE, counts={"contacts_created": 7})
    client.force_login(marketing_user)
    body = client.get(
        reverse("leads:import-detail", args=[job.id]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in body and "stat-value" in body and "7" in body


def test_list_shows_recent_imports_with_status_badges(client, marketing_user):
    make_job(marketing_user, status=ImportJob.Status.DONE)
    make_job(marketing_user, status=ImportJob.Status.INVALID, error_count=3)
    client.force_login(marketing_user)
    body = client.get(reverse("leads:import-list")).content.decode()
    assert "text-bg-success" in body and "text-bg-warning" in body
    assert "empty-state" not in body


def test_purge_drops_old_file_contents_only():
    old = make_job(status=ImportJob.Status.DONE)
    ImportJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=31))
    abandoned = make_job(status=ImportJob.Status.UPLOADED)
    ImportJob.objects.filter(pk=abandoned.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )
    recent = make_job(status=ImportJob.Status.DONE, finished_at=timezone.now())
    assert tasks.import_jobs_purge() == 2
    assert bytes(ImportJob.objects.get(pk=old.pk).content) == b""
    assert bytes(ImportJob.objects.get(pk=abandoned.pk).content) == b""
    assert bytes(ImportJob.objects.get(pk=recent.pk).content) == LEADS_CSV


def test_a_purged_job_can_be_viewed_but_not_run_again(client, marketing_user):
    job = make_job(status=ImportJob.Status.CHECKED, data=b"")
    client.force_login(marketing_user)
    assert client.get(reverse("leads:import-detail", args=[job.id])).status_code == 200
    with pytest.raises(imports.ImportJobStateError):
        imports.import_job_commit(job_id=job.id)


def test_an_intent_file_goes_through_the_same_job_flow(marketing_user):
    from leads.models import IntentSignal

    data = "ドメイン,トピック,強度,日付,提供元\r\na.example.jp,CRM,80,2025-04-01,bombora\r\n"
    job = imports.import_job_create(
        actor=marketing_user, file_name="intent.csv", data=data.encode("cp932"), kind="intent"
    )
    assert (job.kind, job.encoding, job.total_rows) == ("intent", "cp932", 1)
    assert imports.import_job_check(job_id=job.id).counts["signals_created"] == 1
    assert imports.import_job_commit(job_id=job.id).status == ImportJob.Status.DONE
    assert IntentSignal.objects.get().company.domain == "a.example.jp"


def test_an_intent_upload_without_its_columns_is_refused(marketing_user):
    with pytest.raises(imports.ImportFileError):
        imports.import_job_create(
            actor=marketing_user,
            file_name="x.csv",
            data=b"domain,topic\r\na.jp,CRM\r\n",
            kind="intent",
        )
    assert ImportJob.objects.count() == 0


def test_only_importers_may_create_jobs(sales_user):
    with pytest.raises(PermissionDenied):
        imports.import_job_create(actor=sales_user, file_name="x.csv", data=LEADS_CSV, kind="leads")
