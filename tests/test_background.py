"""The embedded default's background thread: a page that starts long work returns at once."""

from __future__ import annotations

import threading

import pytest
from celery import shared_task
from django.urls import reverse

from config import background
from scoring.models import RescoreJob
from scoring.services.definitions import draft_create, draft_submit, version_decide
from tests.factories import ActivityFactory, ContactFactory
from tests.scoring.test_definitions import _ensure_active

_release = threading.Event()
_ran: list[str] = []


@shared_task(name="tests.test_background.held_task")
def held_task(tag: str) -> str:
    _release.wait(timeout=30)
    _ran.append(tag)
    return tag


@pytest.fixture
def embedded(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMBEDDED_BACKGROUND_TASKS = True
    _release.clear()
    _ran.clear()
    yield
    _release.set()
    assert background.wait_idle(timeout=30)


def test_a_sent_task_runs_after_send_returns_in_order(embedded):
    background.send(held_task, "first")
    background.send(held_task, "second")
    assert _ran == []  # send returned while the task waits
    _release.set()
    assert background.wait_idle(timeout=30)
    assert _ran == ["first", "second"]


def test_inline_runs_the_task_before_send_returns(embedded):
    _release.set()
    with background.inline():
        background.send(held_task, "now")
    assert _ran == ["now"]


def test_without_the_embedded_default_send_is_delay(settings, monkeypatch):
    settings.EMBEDDED_BACKGROUND_TASKS = True
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(held_task, "delay", lambda *args: sent.append(args))
    background.send(held_task, "to the broker")
    assert sent == [("to the broker",)]


@pytest.mark.django_db(transaction=True)
def test_activating_a_version_returns_before_the_rescore_ends_then_says_what_moved(
    client, marketing_user, manager_user, embedded
):
    """The approving manager's request does not wait for the rescore; the bar shows it."""
    lead = ContactFactory(title="部長", company__employee_count=1200, company__industry="E")
    ActivityFactory(contact=lead, kind="demo_request", properties={})
    active = _ensure_active()  # a flush by an earlier transactional test removed it
    draft = draft_create(actor=marketing_user, based_on=active)
    draft.change_note = "test"
    draft.save()
    draft_submit(actor=marketing_user, version=draft)
    version_decide(
        actor=marketing_user, version=draft, department="marketing", approve=True, comment="ok"
    )
    client.force_login(manager_user)
    gate = threading.Event()
    background.send(held_task, "gate")  # holds the thread, so the rescore waits behind it
    response = client.post(
        reverse("scoring:version-decide", args=[draft.pk]),
        {"department": "sales", "decision": "approve", "comment": "営業も承認"},
    )
    assert response.status_code == 302
    job = RescoreJob.objects.get(version=draft)
    assert job.status == RescoreJob.Status.QUEUED  # the request did not run it
    gate.set()
    _release.set()
    assert background.wait_idle(timeout=60)
    job.refresh_from_db()
    assert job.status == RescoreJob.Status.DONE
    progress = client.get(
        reverse("scoring:rescore-progress", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = progress.content.decode()
    assert "became hot (MQL)" in html and "new → Hot (MQL) 1" in html


def _broker_down(*args, **kwargs):
    from kombu.exceptions import OperationalError

    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_send_the_broker_refuses_is_logged_not_raised(settings, monkeypatch, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(held_task, "delay", _broker_down)
    with caplog.at_level("WARNING", logger="config.background"):
        assert background.send(held_task, "lost") is False
    assert "could not send tests.test_background.held_task('lost',)" in caplog.text
    assert "Connection refused" in caplog.text


def test_a_task_error_is_not_mistaken_for_the_broker(monkeypatch):
    def broken(*args):
        raise ValueError("a bug in the task")

    monkeypatch.setattr(held_task, "delay", broken)
    with pytest.raises(ValueError):
        background.deliver(held_task, "bug")


class _Counted:
    runs: list[int] = []

    def __init__(self) -> None:
        self.parts = 0

    def __call__(self) -> None:
        _Counted.runs.append(self.parts)


@pytest.mark.django_db(transaction=True)
def test_on_commit_once_queues_one_callback_per_transaction_with_every_part():
    from django.db import transaction

    _Counted.runs = []

    def add(callback: _Counted) -> None:
        callback.parts += 1

    with transaction.atomic():
        for _ in range(3):
            background.on_commit_once(_Counted, add)
        assert _Counted.runs == []  # not before the commit
    assert _Counted.runs == [3]
    background.on_commit_once(_Counted, add)  # outside a transaction: at once
    assert _Counted.runs == [3, 1]
    with pytest.raises(RuntimeError), transaction.atomic():
        background.on_commit_once(_Counted, add)
        raise RuntimeError
    assert _Counted.runs == [3, 1]  # rolled back: never run
