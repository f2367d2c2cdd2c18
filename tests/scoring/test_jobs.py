"""Full rescoring in chunks: held to the engine, idempotent, band changes and MQL events.

Chunks are queued on commit; ``django_capture_on_commit_callbacks(execute=True)``
runs them (eagerly) as a committed activation or ``rescore --full`` would.
Without it, a test runs the chunks itself, in the order and as often as it likes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leads.models import Activity, Company, Contact
from scoring.engine import score, score_account, starter_definition
from scoring.facts import facts_for_company, facts_for_contact
from scoring.models import (
    BandChange,
    DefinitionVersion,
    LeadScore,
    MqlEvent,
    RescoreChunk,
    RescoreJob,
)
from scoring.services import jobs
from scoring.services.jobs import active_version, definition_of, rescore_chunk_run
from scoring.spec import spec_from_definition
from scoring.tasks import rescore_chunk
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, IntentSignalFactory

pytestmark = pytest.mark.django_db

Status = DefinitionVersion.Status


def _ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _activity(contact: Contact | None, kind: str, days: float, company: Company | None = None):
    return ActivityFactory(
        contact=contact,
        company=company or contact.company,
        kind=kind,
        occurred_at=_ago(days),
        properties={},
    )


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    settings.SCORING_CHUNK_SIZE = 2


@pytest.fixture
def leads() -> dict[str, Contact | Company]:
    """A hot, a warm and a cold lead, and an account (a company with no contact).

    Scores under the starter definition are far from its thresholds (30, 60).
    """
    big = CompanyFactory(employee_count=1200, industry="E")
    hot = ContactFactory(company=big)  # fit 40: director, 1,000+ employees, industry
    _activity(hot, Activity.Kind.DEMO_REQUEST, 1)  # +40
    warm = ContactFactory(title="担当", job_level="")
    for kind in ("whitepaper_download", "webinar_attendance", "form_submission"):
        _activity(warm, kind, 1)  # ≈ 39
    cold = ContactFactory()
    _activity(cold, Activity.Kind.PAGE_VIEW, 3)  # 15 + ≈ 1
    account = CompanyFactory(employee_count=500)  # fit 10
    IntentSignalFactory(company=account, strength=80, observed_at=_ago(2))  # ≈ 9
    _activity(None, Activity.Kind.EVENT_VISIT, 2, company=account)  # ≈ 9.5
    return {"hot": hot, "warm": warm, "cold": cold, "account": account}


def _rescore(capture, version: DefinitionVersion | None = None) -> RescoreJob:
    with capture(execute=True):
        job = jobs.rescore_full_start(version=version or active_version())
    job.refresh_from_db()
    return job


def _activate(**thresholds: float) -> DefinitionVersion:
    """Make a new version with the starter's rules and these thresholds the active one."""
    current = active_version()
    current.status = Status.RETIRED
    current.save(update_fields=["status"])
    spec = spec_from_definition(starter_definition())
    spec["thresholds"].update(thresholds)
    return DefinitionVersion.objects.create(
        number=current.number + 1, title="Test", spec=spec, status=Status.ACTIVE
    )


def _expected(job: RescoreJob) -> dict[tuple[str, int], object]:
    """What the pure engine says, for every lead and account, at the job's moment."""
    definition = definition_of(job.version)
    found = {
        ("contact", pk): score(definition, facts_for_contact(pk), job.as_of)
        for pk in Contact.objects.values_list("id", flat=True)
    }
    for pk in Company.objects.values_list("id", flat=True):  # every company's account
        found["company", pk] = score_account(definition, facts_for_company(pk), job.as_of)
    return found


def _assert_scores_match_the_engine(job: RescoreJob) -> None:
    expected = _expected(job)
    stored = {
        ("contact", row.contact_id) if row.contact_id else ("company", row.company_id): row
        for row in LeadScore.objects.all()
    }
    assert stored.keys() == expected.keys()
    for key, pure in expected.items():
        row = stored[key]
        assert (row.version_id, row.scored_at, row.band) == (job.version_id, job.as_of, pure.band)
        # SQL sums decayed points in another order: a rule may differ by a hundredth.
        tolerance = 0.0100001 * max(1, len(pure.breakdown))
        assert float(row.total) == pytest.approx(pure.total, abs=tolerance)
        assert float(row.engagement) == pytest.approx(pure.engagement, abs=tolerance)
        assert float(row.fit) == pure.fit


def _snapshot() -> tuple[list, list, list]:
    return (
        list(LeadScore.objects.order_by("id").values()),
        list(BandChange.objects.order_by("id").values()),
        list(MqlEvent.objects.order_by("id").values()),
    )


# --- A full rescore -------------------------------------------------------------------


def test_a_full_rescore_stores_what_the_engine_computes(leads, django_capture_on_commit_callbacks):
    job = _rescore(django_capture_on_commit_callbacks)
    # 3 contacts in chunks of 2, and 4 companies' accounts (the leads' 3 and the account).
    assert (job.status, job.total_chunks, job.done_chunks) == (RescoreJob.Status.DONE, 4, 4)
    assert job.leads_scored == 7 and job.finished_at is not None
    assert sorted(job.chunks.values_list("target", flat=True)) == [
        "accounts",
        "accounts",
        "contacts",
        "contacts",
    ]
    _assert_scores_match_the_engine(job)
    bands = {
        name: LeadScore.objects.get(contact=leads[name]).band for name in ("hot", "warm", "cold")
    }
    bands["account"] = LeadScore.objects.get(company=leads["account"], contact=None).band
    assert bands == {"hot": "hot", "warm": "warm", "cold": "cold", "account": "cold"}


def test_a_rescore_with_nothing_to_score_is_done_at_once(django_capture_on_commit_callbacks):
    job = _rescore(django_capture_on_commit_callbacks)
    assert (job.status, job.total_chunks, job.leads_scored) == (RescoreJob.Status.DONE, 0, 0)


def test_running_a_chunk_again_changes_nothing(leads):
    job = jobs.rescore_full_start(version=active_version())  # chunks queued, not run
    first, *others = job.chunks.order_by("id")
    scored = rescore_chunk_run(chunk_id=first.id)
    assert scored == 2
    before = _snapshot()

    assert rescore_chunk_run(chunk_id=first.id) == 0  # a second delivery of the same task
    assert _snapshot() == before
    job.refresh_from_db()
    assert (job.done_chunks, job.leads_scored, job.status) == (1, 2, RescoreJob.Status.RUNNING)

    for chunk in others:
        rescore_chunk_run(chunk_id=chunk.id)
    done = _snapshot()
    for chunk in job.chunks.all():  # every chunk delivered once more after the job finished
        assert rescore_chunk_run(chunk_id=chunk.id) == 0
    assert _snapshot() == done
    job.refresh_from_db()
    assert (job.status, job.done_chunks, job.leads_scored) == (RescoreJob.Status.DONE, 4, 7)
    _assert_scores_match_the_engine(job)


def test_a_chunk_that_dies_half_way_leaves_nothing_and_runs_again(leads, monkeypatch):
    job = jobs.rescore_full_start(version=active_version())
    chunk = job.chunks.filter(target=RescoreChunk.Target.CONTACTS).order_by("id").first()
    store = jobs.contact_scores_store

    def store_then_die(**kwargs):
        store(**kwargs)  # the scores are written…
        raise RuntimeError("worker lost")  # …and the process dies before the commit

    monkeypatch.setattr(jobs, "contact_scores_store", store_then_die)
    with pytest.raises(RuntimeError):
        rescore_chunk_run(chunk_id=chunk.id)
    assert _snapshot() == ([], [], [])
    chunk.refresh_from_db()
    job.refresh_from_db()
    assert not chunk.done
    assert (job.done_chunks, job.leads_scored, job.status) == (0, 0, RescoreJob.Status.QUEUED)

    monkeypatch.setattr(jobs, "contact_scores_store", store)
    for pk in job.chunks.order_by("id").values_list("id", flat=True):  # the redelivery
        rescore_chunk_run(chunk_id=pk)
    job.refresh_from_db()
    assert (job.status, job.done_chunks, job.leads_scored) == (RescoreJob.Status.DONE, 4, 7)
    _assert_scores_match_the_engine(job)
    assert BandChange.objects.filter(contact=leads["hot"]).count() == 1
    assert MqlEvent.objects.count() == 1


def test_a_chunk_task_that_raises_fails_its_job(leads, monkeypatch):
    job = jobs.rescore_full_start(version=active_version())
    chunk = job.chunks.order_by("id").first()

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs, "contact_scores_store", broken)
    with pytest.raises(RuntimeError):
        rescore_chunk.delay(chunk.id)
    job.refresh_from_db()
    assert job.status == RescoreJob.Status.FAILED
    assert job.message == f"chunk {chunk.id}: disk full"
    assert rescore_chunk_run(chunk_id=job.chunks.order_by("id").last().id) == 0


def test_a_chunk_that_is_gone_is_skipped():
    assert rescore_chunk.delay(10**9).get() == 0


def test_a_job_of_a_replaced_version_stops(leads, django_capture_on_commit_callbacks):
    old = jobs.rescore_full_start(version=active_version())
    new_version = _activate()
    assert rescore_chunk_run(chunk_id=old.chunks.order_by("id").first().id) == 0
    old.refresh_from_db()
    assert old.status == RescoreJob.Status.FAILED
    assert "superseded" in old.message
    assert not LeadScore.objects.exists()

    job = _rescore(django_capture_on_commit_callbacks, new_version)
    assert set(LeadScore.objects.values_list("version", flat=True)) == {new_version.pk}
    _assert_scores_match_the_engine(job)


# --- Band changes and MQL events ----------------------------------------------------


def _changes(contact: Contact) -> list[tuple[str, str, int, dt.datetime]]:
    return list(
        BandChange.objects.filter(contact=contact)
        .order_by("id")
        .values_list("from_band", "to_band", "version", "changed_at")
    )


def test_band_changes_are_recorded_with_their_version_and_time(
    leads, django_capture_on_commit_callbacks
):
    v1 = active_version()
    first = _rescore(django_capture_on_commit_callbacks)
    hot, warm, cold = leads["hot"], leads["warm"], leads["cold"]
    assert _changes(hot) == [("", "hot", v1.pk, first.as_of)]
    assert _changes(warm) == [("", "warm", v1.pk, first.as_of)]
    assert _changes(cold) == []  # a first score that is cold is no change
    assert BandChange.objects.get(contact=hot).total == LeadScore.objects.get(contact=hot).total

    stricter = _activate(hot=1000)  # nobody is hot any more
    second = _rescore(django_capture_on_commit_callbacks)
    assert _changes(hot)[1:] == [("hot", "warm", stricter.pk, second.as_of)]
    assert len(_changes(warm)) == 1  # still warm: nothing recorded

    again = _rescore(django_capture_on_commit_callbacks)  # same version, same bands
    assert again.as_of > second.as_of
    assert len(_changes(hot)) == 2

    looser = _activate(warm=0, hot=10)
    third = _rescore(django_capture_on_commit_callbacks)
    assert _changes(hot)[2:] == [("warm", "hot", looser.pk, third.as_of)]
    assert _changes(cold) == [("cold", "hot", looser.pk, third.as_of)]
    account = leads["account"]
    assert list(
        BandChange.objects.filter(company=account).values_list("from_band", "to_band", "version")
    ) == [("cold", "hot", looser.pk)]


def test_an_mql_event_is_recorded_each_time_a_lead_turns_hot(
    leads, django_capture_on_commit_callbacks
):
    v1 = active_version()
    first = _rescore(django_capture_on_commit_callbacks)
    event = MqlEvent.objects.get()
    assert (event.contact, event.version, event.became_hot_at) == (leads["hot"], v1, first.as_of)
    assert event.total == LeadScore.objects.get(contact=leads["hot"]).total

    _rescore(django_capture_on_commit_callbacks)  # still hot: no second event
    assert MqlEvent.objects.count() == 1
    _activate(hot=1000)
    _rescore(django_capture_on_commit_callbacks)  # not hot any more…
    v3 = _activate()
    again = _rescore(django_capture_on_commit_callbacks)  # …and hot again: a new event
    assert list(
        MqlEvent.objects.order_by("id").values_list("contact", "version", "became_hot_at")
    ) == [
        (leads["hot"].pk, v1.pk, first.as_of),
        (leads["hot"].pk, v3.pk, again.as_of),
    ]


def test_an_account_nobody_there_knows_turning_hot_is_an_mql_event(
    django_capture_on_commit_callbacks,
):
    prospect = CompanyFactory(employee_count=1200, industry="E")  # fit 25
    known = CompanyFactory(employee_count=1200, industry="E")
    ContactFactory(company=known, title="担当", job_level="")
    for company in (prospect, known):
        IntentSignalFactory(company=company, strength=80, observed_at=_ago(1))
        _activity(None, Activity.Kind.DEMO_REQUEST, 1, company=company)  # 25 + 40 + 10 ≥ 60
    _rescore(django_capture_on_commit_callbacks)
    assert LeadScore.objects.get(company=known, contact=None).band == "hot"
    events = list(MqlEvent.objects.filter(contact=None).values_list("company", flat=True))
    assert events == [prospect.pk]


# --- Accounts -------------------------------------------------------------------------


def test_a_company_keeps_its_account_score_when_it_gains_a_contact(
    django_capture_on_commit_callbacks,
):
    company = CompanyFactory()  # fit 0: warm however engaged (the fit floor is 10)
    IntentSignalFactory(company=company, strength=80, observed_at=_ago(2))
    _activity(None, Activity.Kind.DEMO_REQUEST, 2, company=company)
    first = _rescore(django_capture_on_commit_callbacks)
    account = LeadScore.objects.get(company=company, contact=None)
    assert account.band == "warm"
    _assert_scores_match_the_engine(first)

    contact = ContactFactory(company=company)
    job = _rescore(django_capture_on_commit_callbacks)
    again = LeadScore.objects.get(company=company, contact=None)
    assert (again.total, again.band) == (account.total, account.band)
    # The account's activity and intent carry over to its first contact.
    own = LeadScore.objects.get(contact=contact)
    assert float(own.engagement) == pytest.approx(float(account.engagement), abs=0.011)
    _assert_scores_match_the_engine(job)


def test_a_rescore_request_is_checked_in_the_service(marketing_user, sales_user):
    from django.core.exceptions import PermissionDenied, ValidationError

    from scoring.models import DefinitionVersion, RescoreJob
    from scoring.services.jobs import rescore_requested

    active = DefinitionVersion.objects.get(status="active")
    with pytest.raises(PermissionDenied):
        rescore_requested(actor=sales_user, version=active)
    RescoreJob.objects.create(version=active, as_of=active.created_at)  # queued, not yet run
    with pytest.raises(ValidationError):
        rescore_requested(actor=marketing_user, version=active)
    RescoreJob.objects.update(status=RescoreJob.Status.DONE)
    job = rescore_requested(actor=marketing_user, version=active)
    assert job.created_by == marketing_user
    active.status = DefinitionVersion.Status.RETIRED
    active.save()
    with pytest.raises(ValidationError):
        rescore_requested(actor=marketing_user, version=active)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_chunks_of_one_job_run_side_by_side(monkeypatch, settings):
    """A chunk holds only its own row: another chunk of the job is not kept waiting."""
    import threading

    from django.db import connection

    from tests.scoring.test_definitions import _ensure_active

    settings.SCORING_CHUNK_SIZE = 1
    first, second = ContactFactory(), ContactFactory()
    monkeypatch.setattr(jobs, "_dispatch_chunks", lambda ids: None)
    job = jobs.rescore_full_start(version=_ensure_active())
    chunks = dict(
        RescoreChunk.objects.filter(job=job, target=RescoreChunk.Target.CONTACTS).values_list(
            "low", "id"
        )
    )
    inside, release = threading.Event(), threading.Event()
    compute = jobs.contact_scores_compute

    def held(**kwargs):
        if kwargs["subjects"].low == first.pk:
            inside.set()
            release.wait(timeout=30)
        return compute(**kwargs)

    monkeypatch.setattr(jobs, "contact_scores_compute", held)
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            rescore_chunk_run(chunk_id=chunks[first.pk])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run_first)
    thread.start()
    try:
        assert inside.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # waiting would fail, not hang
        assert rescore_chunk_run(chunk_id=chunks[second.pk]) == 1
    finally:
        release.set()
        thread.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert not errors
    job.refresh_from_db()
    assert job.done_chunks == 2
