"""An import that fails (a dropped database connection, a refused statement) says so in one line.

Every entry point (the command, the pages, the Celery job) tells its reader,
in their language, that the import failed, that nothing was written, and why;
the traceback goes to the operators' log. The fault itself (a backend
terminated mid-import on PostgreSQL) is injected in tests/test_faults.py; here
the importer raises what the database driver raises.
"""

from __future__ import annotations

import datetime as dt
import logging
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, ProgrammingError
from django.urls import reverse
from django.utils import timezone, translation

from config.log import ConsoleFilter, shell_language
from leads import tasks
from leads.models import Company, Contact, ImportJob
from leads.services import imports
from leads.services.imports.failure import import_failure_of

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LEADS_CSV = (FIXTURES / "leads_cp932.csv").read_bytes()
ADMIN_SHUTDOWN = "terminating connection due to administrator command"


class _AdminShutdown(Exception):
    """What psycopg raises for a backend killed by pg_terminate_backend (SQLSTATE 57P01)."""

    sqlstate = "57P01"


def _connection_lost() -> OperationalError:
    exc = OperationalError(f"{ADMIN_SHUTDOWN}\nserver closed the connection unexpectedly")
    exc.__cause__ = _AdminShutdown(ADMIN_SHUTDOWN)
    return exc


@pytest.fixture
def importer_fails(monkeypatch):
    """Make both importers raise ``raised[0]`` (a dropped connection unless a test says)."""
    raised = [_connection_lost()]

    def fail(**kwargs):
        raise raised[0]

    for kind in list(imports.IMPORTERS):
        monkeypatch.setitem(imports.IMPORTERS, kind, fail)
    return raised


def _in(language: str, code: str, **params) -> str:
    with translation.override(language):
        return imports.ImportFailure(code, params).message()


# --- The failure's sentence ------------------------------------------------------------


def test_a_terminated_backend_is_a_lost_connection():
    failure = import_failure_of(_connection_lost())
    assert failure == imports.ImportFailure("connection_lost", {"detail": ADMIN_SHUTDOWN})
    assert _in("en", **failure.as_dict()["params"], code="connection_lost") == (
        "The import failed and nothing was written: the connection to the database was lost "
        f"({ADMIN_SHUTDOWN}). Run it again once the database is reachable."
    )
    japanese = _in("ja", "connection_lost", detail=ADMIN_SHUTDOWN)
    assert "何も書き込まれていません" in japanese and ADMIN_SHUTDOWN in japanese


def test_other_failures_say_what_refused_the_import():
    refused = import_failure_of(ProgrammingError('relation "leads_contact" does not exist'))
    assert refused.code == "database_error"
    assert refused.params == {"detail": 'relation "leads_contact" does not exist'}
    assert import_failure_of(KeyError("x")) == imports.ImportFailure(
        "unexpected", {"error": "KeyError"}
    )


# --- The command -----------------------------------------------------------------------


def test_the_command_says_in_one_line_that_nothing_was_imported(importer_fails, caplog):
    out, err = StringIO(), StringIO()
    with caplog.at_level(logging.ERROR), pytest.raises(CommandError) as caught:
        call_command("import_leads", str(FIXTURES / "leads_cp932.csv"), stdout=out, stderr=err)
    message = str(caught.value)
    assert "\n" not in message
    assert message == f"{FIXTURES / 'leads_cp932.csv'}: " + _in(
        "ja", "connection_lost", detail=ADMIN_SHUTDOWN
    )
    assert out.getvalue() == err.getvalue() == ""
    # The traceback is for the operators' log, and kept off the console.
    (record,) = [r for r in caplog.records if r.name.endswith("import_leads")]
    assert record.exc_info is not None
    assert not ConsoleFilter().filter(record)
    assert (Company.objects.count(), Contact.objects.count()) == (0, 0)


def test_the_command_speaks_the_shells_language(importer_fails, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    with pytest.raises(CommandError) as caught:
        call_command("import_leads", str(FIXTURES / "leads_cp932.csv"), stdout=StringIO())
    assert "nothing was written: the connection to the database was lost" in str(caught.value)


def test_the_command_shows_the_traceback_when_asked(importer_fails):
    with pytest.raises(OperationalError):
        call_command(
            "import_leads", str(FIXTURES / "leads_cp932.csv"), traceback=True, stdout=StringIO()
        )


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, None),
        ({"LANG": "fr_FR.UTF-8"}, None),
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ({"LANGUAGE": "fr:en", "LANG": "ja_JP.UTF-8"}, "en"),
    ],
)
def test_the_shells_language(monkeypatch, environment, expected):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert shell_language(["ja", "en"]) == expected


# --- The job (pages and Celery) ----------------------------------------------------------


def _checked_job(user) -> ImportJob:
    return ImportJob.objects.create(
        file_name="leads.csv",
        content=LEADS_CSV,
        encoding="cp932",
        created_by=user,
        status=ImportJob.Status.CHECKED,
    )


def test_a_failed_import_job_is_marked_failed_and_shown_in_the_readers_language(
    client, marketing_user, importer_fails, django_capture_on_commit_callbacks
):
    job = _checked_job(marketing_user)
    client.force_login(marketing_user)
    with pytest.raises(OperationalError), django_capture_on_commit_callbacks(execute=True):
        # Eager here: the task re-raises for the worker's log, after marking the job.
        client.post(reverse("leads:import-commit", args=[job.id]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert job.failure == {"code": "connection_lost", "params": {"detail": ADMIN_SHUTDOWN}}
    assert job.message == _in("ja", "connection_lost", detail=ADMIN_SHUTDOWN)  # the worker's

    english = client.get(
        reverse("leads:import-detail", args=[job.id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "the connection to the database was lost" in english
    japanese = client.get(
        reverse("leads:import-detail", args=[job.id]), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert "何も書き込まれていません" in japanese
    assert "Traceback" not in english + japanese


def test_a_failed_job_can_be_checked_and_imported_again(marketing_user, importer_fails):
    job = _checked_job(marketing_user)
    imports.import_job_queue(actor=marketing_user, job_id=job.id, step="commit")
    with pytest.raises(OperationalError):
        tasks.import_job_commit.delay(job.id)
    again = imports.import_job_queue(actor=marketing_user, job_id=job.id, step="check")
    assert again.status == ImportJob.Status.CHECKING and again.failure == {}


# --- The sweep sends again what no worker took --------------------------------------------


def test_the_sweep_sends_again_the_imports_no_worker_took(marketing_user, monkeypatch, settings):
    settings.IMPORT_REQUEUE_SECONDS = 60
    now = timezone.now()
    waiting = _checked_job(marketing_user)
    imports.import_job_queue(actor=marketing_user, job_id=waiting.id, step="commit")
    fresh = _checked_job(marketing_user)
    imports.import_job_queue(actor=marketing_user, job_id=fresh.id, step="check")
    dead = _checked_job(marketing_user)
    ImportJob.objects.filter(pk=dead.pk).update(
        status=ImportJob.Status.IMPORTING, started_at=now - dt.timedelta(hours=1)
    )
    ImportJob.objects.filter(pk=waiting.pk).update(queued_at=now - dt.timedelta(seconds=61))
    ImportJob.objects.filter(pk=fresh.pk).update(queued_at=now - dt.timedelta(seconds=59))

    sent: list[tuple[str, int]] = []
    for task in (tasks.import_job_check, tasks.import_job_commit):
        monkeypatch.setattr(task, "delay", lambda pk, name=task.name: sent.append((name, pk)))
    assert tasks.import_jobs_sweep.delay().get() == 2
    assert sorted(sent) == sorted(
        [("leads.tasks.import_job_commit", waiting.pk), ("leads.tasks.import_job_commit", dead.pk)]
    )
    assert imports.import_jobs_overdue() == []  # queued again now: not sent twice
    assert settings.CELERY_BEAT_SCHEDULE["import-jobs-sweep"]["task"] == (
        "leads.tasks.import_jobs_sweep"
    )
