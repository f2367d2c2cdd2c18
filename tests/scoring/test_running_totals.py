"""Running totals: the incremental path reads only the events since a lead's last score.

A contact's ``LeadScore.base`` holds per rule (hits, decayed points) at
``base_at``; a later score adds the events since then and drops those that
left a window. These tests hold that to the full rescore (which reads the
whole history) for random definitions and data, and pin down when the
totals are rebuilt: no totals, another version's, or an event that arrived
late.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from leads.models import Activity, Company, Contact, IntentSignal
from scoring.models import DefinitionVersion, LeadScore, PendingRescore
from scoring.services import jobs
from scoring.services.jobs import REBUILD, active_version, definition_of, pending_record
from scoring.services.rescore import (
    Subjects,
    contact_scores_compute,
    contact_scores_refresh,
    contact_scores_store,
)
from tests.factories import ActivityFactory, ContactFactory
from tests.scoring.test_engine_properties import AT, KINDS, PROPERTIES, TOPICS, definitions
from tests.scoring.test_rescore_parity import SLOW, _Rollback

pytestmark = pytest.mark.django_db

# Seconds before the moment of a stage: negative ones are in its future.
SECONDS = st.integers(-2 * 86_400, 200 * 86_400)
events = st.lists(
    st.tuples(
        st.sampled_from(["own", "shared"]),
        st.sampled_from(KINDS),
        SECONDS,
        st.sampled_from(PROPERTIES),
    ),
    max_size=8,
)
signals = st.lists(st.tuples(st.sampled_from(TOPICS), st.integers(0, 100), SECONDS), max_size=3)


def _add(company, contact, rows, intents, at, tag) -> list[datetime]:
    """Store events and signals at ``at`` − seconds; return their times."""
    times = []
    for n, (whose, kind, seconds, props) in enumerate(rows):
        when = at - timedelta(seconds=seconds)
        Activity.objects.create(
            contact=contact if whose == "own" else None,
            company=company,
            kind=kind,
            occurred_at=when,
            source="t",
            external_id=f"{tag}{n}",
            properties=props,
        )
        times.append(when)
    for n, (topic, strength, seconds) in enumerate(intents):
        when = at - timedelta(seconds=seconds)
        IntentSignal.objects.create(
            company=company,
            topic=topic,
            strength=strength,
            observed_at=when,
            provider="p",
            external_id=f"{tag}{n}",
        )
        times.append(when)
    return times


@SLOW
@given(
    definition=definitions(),
    first=events,
    first_intents=signals,
    later=events,
    later_intents=signals,
    gap_days=st.floats(0, 120),
)
def test_running_totals_give_what_the_whole_history_gives(
    definition, first, first_intents, later, later_intents, gap_days
):
    version = active_version()
    later_at = AT + timedelta(days=gap_days)
    try:
        with transaction.atomic():
            company = Company.objects.create(name="株式会社ラン", name_key="ラン")
            contact = Contact.objects.create(company=company, email="run@example.co.jp")
            _add(company, contact, first, first_intents, AT, "a")
            built = contact_scores_refresh(
                definition=definition, version=version, earliest={contact.pk: None}, at=AT
            )
            assert built.rebuilt == 1  # no running totals yet
            contact_scores_store(scores=built.scores, version=version, at=AT, bases=built.bases)
            times = _add(company, contact, later, later_intents, later_at, "b")
            earliest = min(times, default=None)
            refreshed = contact_scores_refresh(
                definition=definition,
                version=version,
                earliest={contact.pk: earliest},
                at=later_at,
            )
            late = earliest is not None and earliest <= AT
            assert refreshed.rebuilt == (1 if late else 0)
            whole = contact_scores_compute(
                definition=definition, subjects=Subjects(ids=(contact.pk,)), at=later_at
            )[contact.pk]
            got = refreshed.scores[contact.pk]
            # The totals' floats are summed in another order: at most a cent per rule,
            # and only on a tie.
            tolerance = 0.0100001 * max(1, len(definition.rules))
            assert abs(got.total - whole.total) <= tolerance
            assert got.fit == whole.fit
            assert abs(got.engagement - whole.engagement) <= tolerance
            # Hits are counted exactly: compare them through the new totals.
            rebuilt = contact_scores_refresh(
                definition=definition,
                version=version,
                earliest={contact.pk: REBUILD},
                at=later_at,
            )
            hits = refreshed.bases[contact.pk][0::2]
            assert hits == rebuilt.bases[contact.pk][0::2]
            sums = refreshed.bases[contact.pk][1::2]
            expected = rebuilt.bases[contact.pk][1::2]
            assert sums == pytest.approx(expected, rel=1e-9, abs=1e-9)
            raise _Rollback
    except _Rollback:
        pass


@pytest.fixture
def starter():
    version = active_version()
    return version, definition_of(version)


def _score(contact, at, earliest, starter):
    version, definition = starter
    refreshed = contact_scores_refresh(
        definition=definition, version=version, earliest={contact.pk: earliest}, at=at
    )
    contact_scores_store(scores=refreshed.scores, version=version, at=at, bases=refreshed.bases)
    return refreshed


def _pricing_view(contact, at, n):
    return ActivityFactory(
        contact=contact,
        company=contact.company,
        kind="page_view",
        occurred_at=at,
        external_id=f"pv{n}",
        properties={"url": "/pricing"},
    )


NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _viewed_and_scored(starter, at: datetime):
    """A contact who viewed the pricing page the day before ``NOW``, scored at ``at``."""
    contact = ContactFactory()
    _pricing_view(contact, NOW - timedelta(days=1), 1)
    _score(contact, at, None, starter)
    return contact


def _hits(refreshed, contact, rule_key, definition) -> int:
    keys = [rule.key for rule in (*definition.behaviour, *definition.intents)]
    return round(refreshed.bases[contact.pk][2 * keys.index(rule_key)])


def test_a_later_score_reads_only_the_events_since_the_last(starter):
    definition = starter[1]
    contact = ContactFactory()
    now = datetime(2026, 11, 1, 9, tzinfo=UTC)
    for n in (10, 20):
        _pricing_view(contact, now - timedelta(days=n), n)
    first = _score(contact, now, None, starter)
    assert first.rebuilt == 1
    assert _hits(first, contact, "pricing_page", definition) == 2
    # An old event slipped in without telling anyone (no pending row, no
    # earliest): the running totals cannot see it, which shows that the
    # history is not read again…
    _pricing_view(contact, now - timedelta(days=3), "old")
    later = now + timedelta(hours=1)
    fast = _score(contact, later, None, starter)
    assert fast.rebuilt == 0
    assert _hits(fast, contact, "pricing_page", definition) == 2
    # …while a new one is added, and an old one told how late it is (as
    # ingestion tells) makes them rebuilt from the history.
    _pricing_view(contact, later + timedelta(minutes=1), "new")
    newer = _score(contact, later + timedelta(minutes=2), None, starter)
    assert (newer.rebuilt, _hits(newer, contact, "pricing_page", definition)) == (0, 3)
    told = _score(contact, later + timedelta(minutes=3), now - timedelta(days=3), starter)
    assert (told.rebuilt, _hits(told, contact, "pricing_page", definition)) == (1, 4)
    assert told.scores[contact.pk].total > newer.scores[contact.pk].total


def test_new_events_are_added_and_old_ones_leave_their_window(starter):
    definition = starter[1]
    contact = ContactFactory()
    now = datetime(2026, 11, 1, 9, tzinfo=UTC)
    ActivityFactory(
        contact=contact, company=contact.company, kind="demo_request",
        occurred_at=now - timedelta(days=59), external_id="demo",
    )  # fmt: skip
    first = _score(contact, now, None, starter)
    assert first.scores[contact.pk].engagement == 40  # demo or pricing request, 60-day window
    _pricing_view(contact, now + timedelta(days=1), "new")
    later = _score(contact, now + timedelta(days=2), now + timedelta(days=1), starter)
    assert later.rebuilt == 0
    # The demo request left its 60-day window; the pricing view came in.
    breakdown = contact_scores_compute(
        definition=definition,
        subjects=Subjects(ids=(contact.pk,)),
        at=now + timedelta(days=2),
        breakdown=True,
    )[contact.pk]
    assert {c.rule_key for c in breakdown.breakdown if c.category != "fit"} == {
        "pricing_page",
        "page_view",
    }
    assert later.scores[contact.pk].engagement == breakdown.engagement


def test_totals_of_another_version_are_not_used(starter):
    version, definition = starter
    contact = _viewed_and_scored(starter, NOW)
    now = NOW
    other = DefinitionVersion.objects.create(
        number=99, title="other", spec=version.spec, status=DefinitionVersion.Status.RETIRED
    )
    refreshed = contact_scores_refresh(
        definition=definition, version=other, earliest={contact.pk: None}, at=now
    )
    assert refreshed.rebuilt == 1


def test_a_full_rescore_keeps_totals_of_its_version_and_drops_others(starter):
    version, definition = starter
    contact = _viewed_and_scored(starter, NOW)
    now = NOW
    kept = LeadScore.objects.get(contact=contact)
    scores = contact_scores_compute(
        definition=definition, subjects=Subjects(ids=(contact.pk,)), at=now + timedelta(hours=1)
    )
    contact_scores_store(scores=scores, version=version, at=now + timedelta(hours=1))
    after = LeadScore.objects.get(contact=contact)
    assert (after.base_at, after.base) == (kept.base_at, kept.base)
    assert after.scored_at == now + timedelta(hours=1)

    other = DefinitionVersion.objects.create(
        number=99, title="other", spec=version.spec, status=DefinitionVersion.Status.RETIRED
    )
    contact_scores_store(scores=scores, version=other, at=now + timedelta(hours=2))
    after = LeadScore.objects.get(contact=contact)
    assert (after.base_at, after.base, after.version_id) == (None, None, other.pk)


def test_an_older_score_of_the_same_version_does_not_replace_a_newer_one(starter):
    version, definition = starter
    contact = _viewed_and_scored(starter, NOW)
    now = NOW
    scores = contact_scores_compute(
        definition=definition, subjects=Subjects(ids=(contact.pk,)), at=now - timedelta(hours=1)
    )
    stored = contact_scores_store(scores=scores, version=version, at=now - timedelta(hours=1))
    assert stored == (0, [contact.pk])
    assert LeadScore.objects.get(contact=contact).scored_at == now


def test_pending_rows_keep_the_earliest_time(django_capture_on_commit_callbacks):
    contact = ContactFactory()
    t = datetime(2026, 11, 1, 9, tzinfo=UTC)
    with django_capture_on_commit_callbacks():
        pending_record(contact_ids=[contact.pk], company_ids=[], earliest=t)
        pending_record(contact_ids=[contact.pk], company_ids=[], earliest=None)
        assert PendingRescore.objects.get(contact=contact).earliest == t
        pending_record(contact_ids=[contact.pk], company_ids=[], earliest=t + timedelta(days=1))
        assert PendingRescore.objects.get(contact=contact).earliest == t
        pending_record(contact_ids=[contact.pk], company_ids=[], earliest=t - timedelta(days=1))
        assert PendingRescore.objects.get(contact=contact).earliest == t - timedelta(days=1)
        pending_record(contact_ids=[], company_ids=[contact.company_id], earliest=None)
        assert PendingRescore.objects.get(company=contact.company).earliest is None
    assert PendingRescore.objects.count() == 2


def test_ingestion_tells_how_late_its_events_are(api_client, django_capture_on_commit_callbacks):
    occurred = datetime(2026, 10, 1, 9, tzinfo=UTC)
    body = {
        "events": [
            {
                "source": "ma",
                "external_id": f"e{n}",
                "kind": "page_view",
                "occurred_at": (occurred + timedelta(days=n)).isoformat(),
                "contact": {"email": "late@sample.co.jp", "company": "株式会社レイト"},
            }
            for n in range(3)
        ]
    }
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post("/api/v1/events", body, format="json")
    assert response.status_code == 200
    assert PendingRescore.objects.get(contact__email="late@sample.co.jp").earliest == occurred


def test_changed_attributes_ask_for_a_rebuild(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post(
            "/api/v1/contacts",
            {"email": "moved@sample.co.jp", "company": {"name": "株式会社ムーブ"}},
            format="json",
        )
    assert response.status_code in (200, 201), response.content
    assert PendingRescore.objects.get(contact__email="moved@sample.co.jp").earliest == REBUILD


def test_a_drain_puts_back_a_lead_whose_newer_score_was_stored(starter, monkeypatch):
    now = NOW
    contact = _viewed_and_scored(starter, now + timedelta(days=1))  # a newer score is there
    sent = []
    monkeypatch.setattr(jobs, "_drain_after_commit", lambda marked: sent.append(marked))
    pending_record(contact_ids=[contact.pk], company_ids=[], earliest=now - timedelta(days=1))
    assert jobs.pending_drain(at=now) == 0
    again = PendingRescore.objects.get(contact=contact)
    assert again.earliest == now - timedelta(days=1)
    assert len(sent) == 2


def test_a_large_batch_is_shared_by_several_drain_tasks(settings, monkeypatch):
    from django.db import connection

    from scoring.tasks import rescore_pending

    settings.SCORING_DRAIN_CLAIM = 2
    settings.SCORING_DRAIN_TASKS = 3
    sent = []
    monkeypatch.setattr(rescore_pending, "delay", lambda: sent.append(1))
    contacts = [ContactFactory() for _ in range(5)]

    def callbacks():
        return [f for _s, f, _r in connection.run_on_commit if isinstance(f, jobs._SendDrain)]

    before = sum(f.marked for f in callbacks())
    pending_record(contact_ids=[c.pk for c in contacts[:3]], company_ids=[])
    pending_record(contact_ids=[c.pk for c in contacts[3:]], company_ids=[])
    assert len(callbacks()) == 1  # one callback per transaction, for all it marked
    assert callbacks()[0].marked - before == 5
    one = jobs._SendDrain()
    one.marked = 1
    one()
    assert len(sent) == 1  # one lead marked: one task
    sent.clear()
    callbacks()[0]()
    assert len(sent) == 3  # five leads, two per claim, at most three tasks
    assert jobs.pending_drain_all() == 5
