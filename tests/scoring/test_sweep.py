"""The sweep, chunk leases, one full rescore at a time, and pending rows a full rescore covers.

A lost message (a worker killed mid-chunk, a broker down when a batch or a job
committed) must not stall anything until the broker's visibility timeout: the
sweep finds the work in the database. Tests move the clock past the lease
with ``now=`` or time-machine rather than wait for it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from leads.models import Activity
from scoring.models import LeadScore, PendingRescore, RescoreChunk, RescoreJob
from scoring.services import jobs, sweep
from scoring.services.jobs import (
    REBUILD,
    RescoreRunning,
    active_version,
    pending_record,
    rescore_chunk_run,
    rescore_full_start,
)
from scoring.tasks import rescore_nightly
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    settings.SCORING_CHUNK_SIZE = 2
    settings.SCORING_CHUNK_LEASE_SECONDS = 30
    settings.SCORING_PENDING_GRACE_SECONDS = 5


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """The chunk ids sent to the broker (not run: a test runs them when it likes)."""
    ids: list[int] = []

    def send(chunk_ids):
        ids.extend(chunk_ids)
        return len(chunk_ids)

    monkeypatch.setattr(jobs, "_send_chunks", send)
    monkeypatch.setattr(sweep, "_send_chunks", send)
    return ids


def _later(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def _leads(n: int = 3) -> list:
    contacts = [ContactFactory() for _ in range(n)]
    for contact in contacts:
        ActivityFactory(contact=contact, company=contact.company, kind="demo_request")
    return contacts


# --- Leases and the sweep -------------------------------------------------------------


def test_a_chunk_lost_with_its_worker_is_sent_again_once_its_lease_expires(
    sent, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(timezone.now(), tick=False)
    _leads()
    with django_capture_on_commit_callbacks(execute=True):
        job = rescore_full_start(version=active_version())
    first, second, *_others = job.chunks.order_by("id")
    assert sent == list(job.chunks.order_by("id").values_list("id", flat=True))
    sent.clear()
    jobs._chunk_start(first.pk)  # a worker took it and was killed before committing
    first.refresh_from_db()
    assert (first.deliveries, first.done) == (1, False)

    time_machine.shift(25)
    rescore_chunk_run(chunk_id=second.pk)  # another worker goes on with the queue
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.chunks_redispatch(now=_later(4)) == []  # the lease holds
        # The chunks after it wait in a queue that moved 6 s ago: only the lost one.
        assert sweep.chunks_redispatch(now=_later(6)) == [first.pk]
    assert sent == [first.pk]
    first.refresh_from_db()
    assert first.redispatched == 1 and first.lease_expires_at > _later(30)

    for pk in job.chunks.order_by("id").values_list("id", flat=True):  # the workers
        rescore_chunk_run(chunk_id=pk)
    job.refresh_from_db()
    assert job.status == RescoreJob.Status.DONE
    assert RescoreChunk.objects.get(pk=first.pk).deliveries == 2


def test_chunks_whose_messages_were_lost_are_sent_again_when_the_job_is_quiet(
    sent, django_capture_on_commit_callbacks
):
    _leads()
    with django_capture_on_commit_callbacks(execute=True):
        job = rescore_full_start(version=active_version())
    ids = sorted(sent)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.chunks_redispatch(now=_later(20)) == []
    # The broker lost them (a restart without persistence): nothing started for a lease.
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.chunks_redispatch(now=_later(31)) == ids
    assert sent == ids
    with django_capture_on_commit_callbacks(execute=True):  # renewed: not sent twice
        assert sweep.chunks_redispatch(now=_later(40)) == []
    assert RescoreJob.objects.get(pk=job.pk).status == RescoreJob.Status.QUEUED


def test_a_sweep_with_nothing_to_do_costs_two_queries(django_assert_max_num_queries):
    RescoreJob.objects.create(version=active_version(), as_of=timezone.now(), status="done")
    with django_assert_max_num_queries(4):  # with the savepoint's BEGIN and COMMIT
        assert sweep.rescore_sweep() == sweep.Swept(redispatched=0, drained=0)


def test_the_sweep_drains_pending_leads_whose_drain_was_lost():
    old, fresh = ContactFactory(), ContactFactory()
    pending_record(contact_ids=[old.pk, fresh.pk], company_ids=[], earliest=REBUILD)
    PendingRescore.objects.filter(contact=old).update(queued_at=_later(-6))

    assert sweep.rescore_sweep(now=_later(-4)) == sweep.Swept(redispatched=0, drained=0)
    assert PendingRescore.objects.count() == 2  # both still young enough for their drain
    swept = sweep.rescore_sweep()
    assert swept.drained == 2  # one is old: the sweep drains all it can claim
    assert not PendingRescore.objects.exists()
    assert LeadScore.objects.filter(contact__in=[old, fresh]).count() == 2


def test_the_sweep_task_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["rescore-sweep"]
    assert entry["task"] == "scoring.tasks.rescore_sweep"
    assert entry["schedule"] == dt.timedelta(seconds=settings.SCORING_SWEEP_SECONDS)
    assert settings.SCORING_SWEEP_SECONDS + settings.SCORING_CHUNK_LEASE_SECONDS <= 60
    from config.celery import app

    assert "scoring.tasks.rescore_sweep" in app.tasks


# --- One full rescore at a time -------------------------------------------------------


def test_a_second_full_rescore_is_refused_while_one_is_alive(sent, time_machine):
    _leads()
    first = rescore_full_start(version=active_version())
    with pytest.raises(RescoreRunning) as refused:
        rescore_full_start(version=active_version(), kind=RescoreJob.Kind.NIGHTLY)
    assert refused.value.job == first
    assert RescoreJob.objects.count() == 1


def test_the_nightly_run_joins_a_running_full_rescore(sent):
    _leads()
    first = rescore_full_start(version=active_version())
    assert rescore_nightly.delay().get() == first.pk
    assert RescoreJob.objects.count() == 1


def test_the_command_refuses_a_second_full_rescore_in_one_line(sent, settings):
    _leads()
    first = rescore_full_start(version=active_version())
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(CommandError) as refused:
        call_command("rescore", "--full")
    message = str(refused.value)
    assert message == (
        f"A full rescore of v1 is already running (job {first.pk}, 0 of 4 chunks done); "
        "no second one was started."
    )
    assert RescoreJob.objects.count() == 1


def test_a_stalled_job_is_replaced_not_waited_for_forever(
    sent, time_machine, client, marketing_user
):
    """Its worker died and no sweep ran: once its lease is over, the page starts a new one."""
    _leads()
    stalled = rescore_full_start(version=active_version())
    jobs._chunk_start(stalled.chunks.order_by("id").first().pk)
    time_machine.move_to(_later(10))
    with pytest.raises(RescoreRunning):  # still within its lease
        rescore_full_start(version=active_version())

    time_machine.move_to(_later(31))
    assert not jobs.rescore_job_alive(job=RescoreJob.objects.get(pk=stalled.pk))
    client.force_login(marketing_user)
    version = active_version()
    client.post(reverse("scoring:version-rescore", args=[version.pk]))
    stalled.refresh_from_db()
    assert stalled.status == RescoreJob.Status.FAILED and "stalled" in stalled.message
    job = RescoreJob.objects.exclude(pk=stalled.pk).get()
    assert job.status == RescoreJob.Status.QUEUED and job.created_by == marketing_user

    # The dead job's chunk, delivered at last, counts for nothing.
    assert rescore_chunk_run(chunk_id=stalled.chunks.order_by("id").first().pk) == 0
    stalled.refresh_from_db()
    assert (stalled.status, stalled.done_chunks) == (RescoreJob.Status.FAILED, 0)


# --- Pending rows a full rescore covers ------------------------------------------------


def _run(job: RescoreJob) -> None:
    for pk in job.chunks.order_by("id").values_list("id", flat=True):
        rescore_chunk_run(chunk_id=pk)
    job.refresh_from_db()
    assert job.status == RescoreJob.Status.DONE


def test_a_full_rescore_deletes_the_pending_rows_it_covered_and_keeps_later_ones(sent):
    covered, later, account = ContactFactory(), ContactFactory(), CompanyFactory()
    pending_record(
        contact_ids=[covered.pk, later.pk], company_ids=[account.pk], earliest=_later(-60)
    )
    job = rescore_full_start(version=active_version())
    assert PendingRescore.objects.filter(covered_by=job).count() == 3
    # An event for ``later`` arrives after the plan: its row is marked again.
    ActivityFactory(contact=later, company=later.company, kind="demo_request")
    pending_record(contact_ids=[later.pk], company_ids=[], earliest=timezone.now())
    assert PendingRescore.objects.get(contact=later).covered_by is None

    _run(job)
    assert list(PendingRescore.objects.values_list("contact", flat=True)) == [later.pk]


def test_a_covered_late_event_makes_the_next_drain_rebuild_the_running_totals(sent):
    """The pending row asked for a rebuild; deleting it must not leave stale totals."""
    lead = ContactFactory()
    ActivityFactory(contact=lead, company=lead.company, kind="webinar_attendance")
    pending_record(contact_ids=[lead.pk], company_ids=[], earliest=REBUILD)
    jobs.pending_drain_all()
    assert LeadScore.objects.get(contact=lead).base is not None
    # An event from last week arrives late: older than the running totals.
    late = ActivityFactory(
        contact=lead, company=lead.company, kind="demo_request", occurred_at=_later(-7 * 86400)
    )
    pending_record(contact_ids=[lead.pk], company_ids=[], earliest=late.occurred_at)

    job = rescore_full_start(version=active_version())
    _run(job)
    score = LeadScore.objects.get(contact=lead)
    assert not PendingRescore.objects.exists()
    assert (score.base_at, score.base) == (None, None)  # the next drain rebuilds them
    assert Activity.objects.filter(contact=lead).count() == 2


def test_a_lead_scored_newer_by_a_drain_keeps_its_pending_row(sent):
    lead = ContactFactory()
    pending_record(contact_ids=[lead.pk], company_ids=[], earliest=REBUILD)
    job = rescore_full_start(version=active_version())
    jobs.pending_drain(at=_later(1))  # a drain ran before the chunk: its score is newer…
    pending_record(contact_ids=[lead.pk], company_ids=[], earliest=REBUILD)
    PendingRescore.objects.update(covered_by=job)  # …and the row was covered again
    _run(job)
    assert PendingRescore.objects.filter(contact=lead).exists()


# --- PostgreSQL: running chunks hold their row; two starts at once -----------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunk_running_longer_than_its_lease_is_not_sent_again(sent, monkeypatch):
    import threading

    from django.db import connection

    from tests.scoring.test_definitions import _ensure_active

    _leads(1)
    job = rescore_full_start(version=_ensure_active())
    contacts = job.chunks.get(target=RescoreChunk.Target.CONTACTS)
    inside, release = threading.Event(), threading.Event()
    compute = jobs.contact_scores_compute

    def slow(**kwargs):
        inside.set()
        release.wait(timeout=30)
        return compute(**kwargs)

    monkeypatch.setattr(jobs, "contact_scores_compute", slow)
    thread = threading.Thread(
        target=lambda: (rescore_chunk_run(chunk_id=contacts.pk), connection.close())
    )
    thread.start()
    try:
        assert inside.wait(timeout=10)
        # Long past its lease, but its worker still holds the row: left alone.
        assert contacts.pk not in sweep.chunks_redispatch(now=_later(120))
        assert jobs.rescore_job_alive(job=job, now=_later(120))
    finally:
        release.set()
        thread.join(timeout=30)
    assert RescoreChunk.objects.get(pk=contacts.pk).done


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_full_rescores_started_at_once_make_one_job(sent, monkeypatch):
    """The second passes the check before the first commits; the unique index stops it."""
    import threading
    import time

    from django.db import connection

    from tests.scoring.test_definitions import _ensure_active
    from tests.scoring.test_store_races import _waiting_on_locks

    _leads(2)
    version = _ensure_active()
    planned, release = threading.Event(), threading.Event()
    ranges = jobs._ranges

    def held(*args, **kwargs):
        if threading.current_thread().name == "first":
            planned.set()
            release.wait(timeout=30)
        return ranges(*args, **kwargs)

    monkeypatch.setattr(jobs, "_ranges", held)
    outcomes: dict[str, object] = {}

    def start(name: str) -> None:
        try:
            outcomes[name] = rescore_full_start(version=version)
        except Exception as exc:  # compared below
            outcomes[name] = exc
        finally:
            connection.close()

    first = threading.Thread(target=start, args=("first",), name="first")
    second = threading.Thread(target=start, args=("second",), name="second")
    first.start()
    try:
        assert planned.wait(timeout=10)
        second.start()
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < 1:  # the second waits on the first's job row
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)
    job = RescoreJob.objects.get()
    assert outcomes["first"] == job
    assert isinstance(outcomes["second"], RescoreRunning) and outcomes["second"].job == job
