"""The demo's earlier threshold review: run on the weeks before the cutoff, and approved.

Issue 12 asks that the effect report and the review history have something true to
show on first start. So the seed, between replaying the weeks before ``review_cutoff``
and the weeks after, runs feedback's real review over the verdicts the team gave up to
then, sends its proposal for approval and has marketing and the sales manager approve
it through scoring's real services. Only the dates are made up: everything the review
and the approval wrote is moved back to the cutoff (see ``_backdate``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from feedback.models import ThresholdReview
from feedback.services.review import (
    ReviewBusy,
    review_proposal_submit,
    review_request,
    review_run,
    team_zone,
)
from portal.demo.catalog import ACTIVITY_DAYS
from scoring.models import Approval, AuditEntry, DefinitionVersion, RescoreJob
from scoring.services.definitions import version_decide

Status = DefinitionVersion.Status
# When each step happened, counted back from the cutoff (the activation).
REQUESTED_BEFORE = timedelta(days=2, hours=2)
RUN_TAKES = timedelta(minutes=2)
SUBMITTED_BEFORE = timedelta(days=2)
MARKETING_BEFORE = timedelta(days=1, hours=3)


def demo_review_earlier() -> ThresholdReview | None:
    """The earlier review an earlier seeding approved, if its version is still active.

    ``--reset`` deletes the demo's leads but not the definitions they were scored with,
    so a seed after a reset finds it and re-dates it rather than reviewing again.
    """
    return (
        ThresholdReview.objects.filter(
            status=ThresholdReview.Status.DONE,
            based_on__isnull=False,
            proposed_version__status=Status.ACTIVE,
        )
        .select_related("based_on", "proposed_version")
        .order_by("-pk")
        .first()
    )


def demo_review_approve(*, now: datetime, cutoff: datetime) -> ThresholdReview | None:
    """Review the weeks before ``cutoff``, approve what it proposes, dated as if done then.

    Returns the review (None if another one is running). When it proposed nothing (too
    few verdicts at a small ``--contacts``; ``min_decided`` is the departments' setting
    and is left alone) the weeks after the cutoff are scored under the same version.
    Writes the review,
    the proposed version (active from ``cutoff``), its approvals and audit entries, and
    retires the version it was based on.
    """
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["manager", "marketing"])}
    manager, marketing = users["manager"], users["marketing"]
    zone = team_zone()
    first = now - timedelta(days=ACTIVITY_DAYS)
    # A review reads finished days: its period ends the day before it is requested.
    try:
        review = review_request(
            actor=manager,
            period_start=first.astimezone(zone).date(),
            period_end=_period_end(cutoff),
        )
    except ReviewBusy:
        return None
    # Run here, not left to the task sent after the commit: inside a caller's
    # transaction (a test's) that never comes. A task that comes finds it claimed.
    review = review_run(review_id=review.pk)
    if review.proposed_version is None:
        review_backdate(review=review, now=now, cutoff=cutoff)
        return review
    version = review_proposal_submit(actor=manager, review_id=review.pk)
    version_decide(
        actor=marketing, version=version, department=Approval.Department.MARKETING,
        approve=True, comment="受注につながるリードに絞れる。提案どおり承認します。",
    )  # fmt: skip
    with transaction.atomic():
        version_decide(
            actor=manager, version=version, department=Approval.Department.SALES,
            approve=True, comment="閾値を上げてもチームの対応件数は十分。承認。",
        )  # fmt: skip
        # The activation planned a full rescore at this moment, which would store
        # scores dated after the weeks the seed still has to replay. Its chunks are
        # deleted before they are sent (the task skips a gone chunk); the replay
        # scores the demo leads from the cutoff on, and `make seed` rescores all.
        jobs = RescoreJob.objects.filter(version=version)
        AuditEntry.objects.filter(version=version, action=AuditEntry.Action.RESCORED).delete()
        jobs.delete()
    review = ThresholdReview.objects.select_related("based_on", "proposed_version").get(
        pk=review.pk
    )
    review_backdate(review=review, now=now, cutoff=cutoff)
    return review


def _period_end(cutoff: datetime) -> date:
    """The last day reviewed: the day before the review was requested (a review reads
    finished days only)."""
    return (cutoff - REQUESTED_BEFORE - timedelta(days=1)).astimezone(team_zone()).date()


def review_backdate(*, review: ThresholdReview, now: datetime, cutoff: datetime) -> None:
    """Move the review, its version's approval and the swap of versions to ``cutoff``.

    The seed rewrites history here, and only here: plain UPDATEs of timestamps that the
    services set to the moment of seeding (or, after a reset, to an earlier cutoff). The
    reviewed version is dated active from before the history starts, and retired at the
    cutoff; the approvals, a day and two before it.
    """
    requested = cutoff - REQUESTED_BEFORE
    submitted = cutoff - SUBMITTED_BEFORE
    marketing = cutoff - MARKETING_BEFORE
    period_days = (review.period_end - review.period_start).days
    end = _period_end(cutoff)
    ThresholdReview.objects.filter(pk=review.pk).update(
        period_start=end - timedelta(days=period_days), period_end=end, created_at=requested,
        started_at=requested, finished_at=requested + RUN_TAKES,
    )  # fmt: skip
    old, new = review.based_on, review.proposed_version
    if new is None or new.status != Status.ACTIVE:
        return
    started = now - timedelta(days=ACTIVITY_DAYS + 1)
    DefinitionVersion.objects.filter(pk=old.pk, activated_at__gt=started).update(
        activated_at=started
    )
    DefinitionVersion.objects.filter(pk=old.pk).update(retired_at=cutoff, updated_at=cutoff)
    DefinitionVersion.objects.filter(pk=new.pk).update(
        created_at=requested + RUN_TAKES, submitted_at=submitted, activated_at=cutoff,
        updated_at=cutoff,
    )  # fmt: skip
    approvals = Approval.objects.filter(version=new)
    approvals.filter(department=Approval.Department.MARKETING).update(decided_at=marketing)
    approvals.filter(department=Approval.Department.SALES).update(decided_at=cutoff)
    steps = AuditEntry.objects.filter(version=new)
    Action = AuditEntry.Action
    steps.filter(action__in=[Action.CREATED, Action.EDITED]).update(at=requested + RUN_TAKES)
    steps.filter(action=Action.SUBMITTED).update(at=submitted)
    steps.filter(action=Action.APPROVED, detail__department=Approval.Department.MARKETING).update(
        at=marketing
    )
    steps.filter(
        Q(action=Action.ACTIVATED)
        | Q(action=Action.APPROVED, detail__department=Approval.Department.SALES)
    ).update(at=cutoff)
    AuditEntry.objects.filter(version=old, action=Action.RETIRED).update(at=cutoff)
