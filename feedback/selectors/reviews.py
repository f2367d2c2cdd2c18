"""Reads for the threshold review's pages: the history, and each proposal's measured effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from feedback.models import Kind, ThresholdReview, Verdict
from feedback.review.stats import Interval, wilson
from handoff.models import Cycle
from scoring.models import DefinitionVersion


def reviews_list() -> list[ThresholdReview]:
    return list(
        ThresholdReview.objects.select_related("requested_by", "based_on", "proposed_version")[:200]
    )


def review_running() -> ThresholdReview | None:
    return ThresholdReview.objects.filter(
        status__in=[ThresholdReview.Status.QUEUED, ThresholdReview.Status.RUNNING]
    ).first()


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    mqls: int
    judged: int
    accepted: int

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.judged if self.judged else None

    @property
    def interval(self) -> Interval:
        return wilson(self.accepted, self.judged)

    @property
    def weekly(self) -> float:
        days = max((self.end - self.start).total_seconds() / 86400, 1)
        return self.mqls * 7 / days


@dataclass(frozen=True)
class Effect:
    """Acceptance and MQL volume in equal periods before and after an activation."""

    activated_at: datetime
    days: int
    before: Window
    after: Window


def _window(start: datetime, end: datetime) -> Window:
    verdicts = Verdict.objects.filter(cycle=OuterRef("pk"), kind=Kind.MQL)
    rows = Cycle.objects.filter(mql_at__gte=start, mql_at__lt=end).annotate(
        acc=Exists(verdicts.filter(decision=Verdict.Decision.ACCEPTED)),
        rej=Exists(verdicts.filter(decision=Verdict.Decision.REJECTED)),
    )
    mqls = judged = accepted = 0
    for acc, rej, stage in rows.values_list("acc", "rej", "stage"):
        mqls += 1
        if rej:
            judged += 1
        elif acc or stage not in ("mql", "recycled", "disqualified"):
            judged += 1
            accepted += 1
    return Window(start, end, mqls, judged, accepted)


def version_effect(version: DefinitionVersion | None, *, days: int) -> Effect | None:
    """The effect of an activated version: ``days`` before vs the same length after.

    The after period is cut to what has passed (and the before period to the same), so
    the two are always equal; None until the version has been active for a day.
    """
    if version is None or version.activated_at is None:
        return None
    at = version.activated_at
    span = min(timedelta(days=days), (version.retired_at or timezone.now()) - at)
    if span < timedelta(days=1):
        return None
    return Effect(
        activated_at=at,
        days=span.days,
        before=_window(at - span, at),
        after=_window(at, at + span),
    )
