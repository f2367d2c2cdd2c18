"""The review pages through the test client: what each role sees and may do."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from feedback.models import ReviewSettings, ThresholdReview
from tests.feedback.test_review_service import DAY, _judged_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_review(manager_user, django_capture_on_commit_callbacks, client):
    _judged_world(400)
    client.force_login(manager_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("feedback:review-run"), {"period_start": DAY, "period_end": DAY}
        )
    review = ThresholdReview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:review-detail", args=[review.pk])
    return review


def test_the_report_shows_bands_curve_and_rules(client, done_review):
    page = client.get(reverse("feedback:review-detail", args=[done_review.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="review-curve-data"' in body  # json_script, no inline code
    assert "js/review.js" in body
    assert "whitepaper" in body and "review-rules" in body
    assert reverse("feedback:review-submit", args=[done_review.pk]) in body


def test_the_capacity_counts_one_rep_in_the_singular(client, done_review):
    ThresholdReview.objects.filter(pk=done_review.pk).update(
        report=done_review.report | {"settings": done_review.report["settings"] | {"reps": 1}}
    )
    client.cookies["django_language"] = "en"
    body = client.get(reverse("feedback:review-detail", args=[done_review.pk])).content.decode()
    assert "(1 rep × 25)" in body


def test_the_history_lists_the_review_and_its_proposal(client, done_review):
    body = client.get(reverse("feedback:review-list")).content.decode()
    assert reverse("feedback:review-detail", args=[done_review.pk]) in body
    assert f"v{done_review.proposed_version.number}" in body


def test_a_manager_sends_the_proposal_for_approval(client, done_review):
    response = client.post(reverse("feedback:review-submit", args=[done_review.pk]))
    assert response.status_code == 302
    done_review.proposed_version.refresh_from_db()
    assert done_review.proposed_version.status == "awaiting"


def test_the_history_says_what_to_do_when_empty(client, marketing_user):
    client.force_login(marketing_user)
    body = client.get(reverse("feedback:review-list")).content.decode()
    assert "empty-state" in body and reverse("feedback:review-run") in body


def test_progress_polls_while_running(client, manager_user):
    review = ThresholdReview.objects.create(period_start=DAY, period_end=DAY, status="running")
    client.force_login(manager_user)
    body = client.get(reverse("feedback:review-progress", args=[review.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in body


def test_a_reversed_period_is_a_form_error(client, manager_user):
    client.force_login(manager_user)
    response = client.post(
        reverse("feedback:review-run"),
        {"period_start": DAY, "period_end": DAY - dt.timedelta(days=1)},
    )
    assert response.status_code == 400
    assert not ThresholdReview.objects.exists()


def test_marketing_sets_the_target(client, marketing_user):
    client.force_login(marketing_user)
    response = client.post(
        reverse("feedback:review-settings"),
        {"acceptance_target": "0.55", "min_decided": "80", "calls_per_rep_week": "30"},
    )
    assert response.status_code == 302
    row = ReviewSettings.objects.get(pk=1)
    assert (str(row.acceptance_target), row.min_decided, row.updated_by) == (
        "0.55",
        80,
        marketing_user,
    )


def test_marketing_sees_but_cannot_edit_the_schedule(client, marketing_user):
    client.force_login(marketing_user)
    body = client.get(reverse("feedback:review-settings")).content.decode()
    assert reverse("feedback:review-schedule") not in body
    post = client.post(reverse("feedback:review-schedule"), {"minute": "0"})
    assert post.status_code == 403


def test_an_admin_edits_the_schedule(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("feedback:review-schedule"),
        {"minute": "15", "hour": "5", "day_of_month": "1", "month_of_year": "*",
         "day_of_week": "*", "enabled": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="feedback-threshold-review")
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("15", "5", True)


@pytest.mark.parametrize("name", ["review-list", "review-run", "review-settings"])
def test_reps_are_refused_the_review_pages(client, inside_sales_user, sales_user, name):
    for user in (inside_sales_user, sales_user):
        client.force_login(user)
        assert client.get(reverse(f"feedback:{name}")).status_code == 403


def test_reps_do_not_see_the_review_link(client, inside_sales_user, manager_user):
    client.force_login(inside_sales_user)
    assert reverse("feedback:review-list") not in client.get("/").content.decode()
    client.force_login(manager_user)
    assert reverse("feedback:review-list") in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_review_run_at_once_says_it_is_done(client, manager_user, migration_data):
    """Embedded (no separate worker) the review runs as its request commits: say so."""
    _judged_world(400)
    client.force_login(manager_user)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("feedback:review-run"), {"period_start": DAY, "period_end": DAY}, follow=True
    )
    assert ThresholdReview.objects.get().status == ThresholdReview.Status.DONE
    assert [str(m) for m in response.context["messages"]] == ["The review is done."]
