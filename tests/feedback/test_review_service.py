"""The threshold review end to end: request, run (the task), the draft through scoring."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from feedback import tasks
from feedback.models import CycleFacts, CycleRuleHit, Kind, Reason, ThresholdReview, Verdict
from feedback.services import review as review_services
from handoff.models import Cycle, Stage
from scoring.models import DefinitionVersion
from scoring.services import definitions
from tests.factories import ContactFactory
from tests.scoring.test_definitions import _ensure_active

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 10, 15)


def _judged_world(n: int, *, seed: int = 11) -> DefinitionVersion:
    """``n`` judged MQLs on DAY: demo requests are accepted, whitepaper readers rejected."""
    active = _ensure_active()
    points = {r["key"]: r["points"] for r in active.spec["behaviour"]}
    contact = ContactFactory()
    rng = random.Random(seed)
    at = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
    rows = []
    for _ in range(n):
        demo, paper = rng.random() < 0.5, rng.random() < 0.5
        p = 0.3 + 0.5 * demo - 0.25 * paper
        accepted = rng.random() < p
        score = 60 + points["demo_or_pricing_request"] * demo + points["whitepaper"] * paper
        stage = Stage.WON if accepted else Stage.RECYCLED
        rows.append(
            (
                Cycle(
                    contact=contact,
                    company_id=contact.company_id,
                    stage=stage,
                    mql_at=at,
                    version=active,
                    score_total=score,
                    score_band="hot",
                    closed_at=at,
                ),
                accepted,
                demo,
                paper,
            )
        )
    Cycle.objects.bulk_create([r[0] for r in rows])
    cycles = list(Cycle.objects.filter(contact=contact).order_by("pk"))
    reason = Reason.objects.get(code="no_need")
    Verdict.objects.bulk_create(
        [
            Verdict(
                cycle=c,
                kind=Kind.MQL,
                at=at,
                decision="accepted" if acc else "rejected",
                reason=None if acc else reason,
            )
            for c, (_, acc, _d, _p) in zip(cycles, rows, strict=True)
        ]
    )
    hits = []
    for c, (_, _acc, demo, paper) in zip(cycles, rows, strict=True):
        if demo:
            hits.append(
                CycleRuleHit(
                    cycle=c,
                    rule_key="demo_or_pricing_request",
                    category="behaviour",
                    points=points["demo_or_pricing_request"],
                )
            )
        if paper:
            hits.append(
                CycleRuleHit(
                    cycle=c,
                    rule_key="whitepaper",
                    category="behaviour",
                    points=points["whitepaper"],
                )
            )
    CycleRuleHit.objects.bulk_create(hits)
    CycleFacts.objects.bulk_create(
        [CycleFacts(cycle=c, computed_at=timezone.now()) for c in cycles]
    )
    return active


def _run(actor, *, start=DAY, end=DAY) -> ThresholdReview:
    review = review_services.review_request(actor=actor, period_start=start, period_end=end)
    review_services.review_run(review_id=review.pk)
    review.refresh_from_db()
    return review


def test_a_review_proposes_a_draft_through_scoring_that_needs_both_approvals(
    manager_user, marketing_user, django_capture_on_commit_callbacks
):
    active = _judged_world(600)
    with django_capture_on_commit_callbacks(execute=True):
        review = review_services.review_request(
            actor=manager_user, period_start=DAY, period_end=DAY
        )
    review.refresh_from_db()  # the on-commit task ran it (eager Celery)
    assert review.status == ThresholdReview.Status.DONE, review.error
    assert review.outcome == ThresholdReview.Outcome.PROPOSED
    draft = review.proposed_version
    assert draft.status == DefinitionVersion.Status.DRAFT
    assert draft.based_on_id == active.pk
    assert f"#{review.pk}" in draft.proposal_note
    paper = next(r for r in draft.spec["behaviour"] if r["key"] == "whitepaper")
    assert paper["points"] < 10  # predicts rejection: loses points
    rules = {r["key"]: r for r in review.report["rules"]}
    assert "predicts_rejection" in rules["whitepaper"]["flags"]
    assert review.report["decided"] == 600

    # The manager sends it for approval; one department's approval does not activate it.
    review_services.review_proposal_submit(actor=manager_user, review_id=review.pk)
    draft.refresh_from_db()
    assert draft.status == DefinitionVersion.Status.AWAITING
    definitions.version_decide(
        actor=manager_user, version=draft, department="sales", approve=True, comment="ok"
    )
    draft.refresh_from_db()
    assert draft.status == DefinitionVersion.Status.AWAITING
    definitions.version_decide(
        actor=marketing_user, version=draft, department="marketing", approve=True, comment="ok"
    )
    draft.refresh_from_db()
    assert draft.status == DefinitionVersion.Status.ACTIVE


@pytest.mark.parametrize(
    ("language", "title", "note", "rule"),
    [
        ("en", "Proposed by the review of 2026-10-15–2026-10-15", "Threshold review #",
         "Demo or pricing request"),
        ("ja", "2026-10-15〜2026-10-15 のレビューによる提案", "しきい値レビュー #", "デモ・見積依頼"),
    ],
)  # fmt: skip
def test_the_proposed_draft_is_in_the_requesters_language(
    manager_user, language, title, note, rule
):
    _judged_world(600)
    review = review_services.review_request(
        actor=manager_user, period_start=DAY, period_end=DAY, language=language
    )
    review_services.review_run(review_id=review.pk)
    review.refresh_from_db()
    assert review.language == language
    draft = review.proposed_version
    assert draft.title == title
    assert draft.proposal_note.startswith(note)
    assert f"{rule} (demo_or_pricing_request)" in draft.proposal_note


@pytest.mark.parametrize(("given", "stored"), [("en-us", "en"), ("fr", "ja"), (None, "ja")])
def test_a_language_we_do_not_offer_is_the_sites(manager_user, given, stored):
    _ensure_active()
    review = review_services.review_request(
        actor=manager_user, period_start=DAY, period_end=DAY, language=given
    )
    assert review.language == stored


def test_the_review_page_requests_in_the_visitors_language(client, manager_user):
    _ensure_active()
    client.force_login(manager_user)
    client.cookies["django_language"] = "en"
    client.post(
        "/feedback/reviews/run/", {"period_start": DAY.isoformat(), "period_end": DAY.isoformat()}
    )
    assert ThresholdReview.objects.get().language == "en"


def test_too_few_verdicts_propose_nothing(manager_user):
    _judged_world(40)
    review = _run(manager_user)
    assert review.status == ThresholdReview.Status.DONE
    assert review.outcome == ThresholdReview.Outcome.TOO_THIN
    assert review.proposed_version is None
    assert DefinitionVersion.objects.filter(status="draft").count() == 0


def test_the_period_is_the_teams_days(manager_user):
    _judged_world(150)
    review = _run(manager_user, start=DAY + dt.timedelta(days=1), end=DAY + dt.timedelta(days=1))
    assert review.report["decided"] == 0


def test_one_review_at_a_time(manager_user, marketing_user):
    _ensure_active()
    review_services.review_request(actor=manager_user, period_start=DAY, period_end=DAY)
    with pytest.raises(review_services.ReviewBusy):
        review_services.review_request(actor=marketing_user, period_start=DAY, period_end=DAY)


def test_a_stalled_review_no_longer_blocks(manager_user):
    _ensure_active()
    old = review_services.review_request(actor=manager_user, period_start=DAY, period_end=DAY)
    ThresholdReview.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1)
    )
    review_services.review_request(actor=manager_user, period_start=DAY, period_end=DAY)
    old.refresh_from_db()
    assert old.status == ThresholdReview.Status.FAILED


def test_a_redelivered_task_leaves_a_claimed_review_alone(manager_user):
    _judged_world(40)
    review = _run(manager_user)
    finished = review.finished_at
    assert tasks.review_run(review.pk) == "done"
    review.refresh_from_db()
    assert review.finished_at == finished


def test_the_task_of_a_deleted_review_returns(manager_user):
    assert tasks.review_run(987654) == "gone"


def test_the_scheduled_task_reviews_the_previous_month(time_machine):
    _ensure_active()
    time_machine.move_to(dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    pk = tasks.review_scheduled()
    review = ThresholdReview.objects.get(pk=pk)
    assert (review.period_start, review.period_end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert review.trigger == ThresholdReview.Trigger.SCHEDULE


def test_the_migration_made_the_monthly_schedule():
    schedule = review_services.review_schedule_get()
    assert schedule is not None
    assert (schedule.minute, schedule.hour, schedule.day_of_month) == ("0", "6", "1")
    assert schedule.enabled


def test_reps_cannot_run_a_review(inside_sales_user, sales_user):
    for user in (inside_sales_user, sales_user):
        with pytest.raises(PermissionDenied):
            review_services.review_request(actor=user, period_start=DAY, period_end=DAY)


def test_a_reversed_period_is_refused(manager_user):
    with pytest.raises(ValidationError):
        review_services.review_request(
            actor=manager_user, period_start=DAY, period_end=DAY - dt.timedelta(days=1)
        )


def test_only_admins_edit_the_schedule(manager_user, admin_user):
    args = dict(minute="30", hour="7", day_of_month="2", month_of_year="*", day_of_week="*")
    with pytest.raises(PermissionDenied):
        review_services.review_schedule_update(actor=manager_user, enabled=True, **args)
    schedule = review_services.review_schedule_update(actor=admin_user, enabled=False, **args)
    assert (schedule.minute, schedule.hour, schedule.enabled) == ("30", "7", False)


def test_a_bad_crontab_is_a_field_error(admin_user):
    with pytest.raises(ValidationError) as caught:
        review_services.review_schedule_update(
            actor=admin_user,
            minute="99",
            hour="7",
            day_of_month="1",
            month_of_year="*",
            day_of_week="*",
            enabled=True,
        )
    assert "minute" in caught.value.message_dict


def test_beat_reads_the_schedule_from_the_database():
    # `make beat` must use django-celery-beat's scheduler, or the page's edits do nothing.
    from django.conf import settings

    from config.celery import app

    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "feedback.tasks.review_scheduled" in app.tasks
    assert "feedback.tasks.review_run" in app.tasks
