"""The threshold review: request one, run it, send its proposal for approval.

``review_request`` records a queued ``ThresholdReview`` and sends the task after the
commit; ``review_run`` (the task's one call) claims it, reads the period's judged MQLs
with their rule hits at MQL time, hands plain data to ``feedback.review.propose``, stores
the report and, when something should change, creates the proposed draft through
scoring's ``draft_propose``, which then needs both departments' approval like any draft.

One review at a time: requesting and claiming both take the ``ReviewSettings`` row's lock,
so of two requests at once the second sees the first queued and is refused, and a
redelivered task finds its review already claimed. A review queued or running for longer
than ``STALE_AFTER`` (its worker died) no longer blocks: the next request marks it failed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import Role
from config import background
from feedback.models import (
    CycleRuleHit,
    Kind,
    Opportunity,
    ReviewSettings,
    ThresholdReview,
    Verdict,
)
from feedback.permissions import can_edit_review_settings, can_run_review
from feedback.review import JudgedMql, propose
from feedback.review.rules import RuleInfo
from handoff.models import Cycle, Stage
from handoff.services.calendar import handoff_settings
from scoring.models import DefinitionVersion
from scoring.services.definitions import draft_propose, draft_submit

logger = logging.getLogger(__name__)

Status = ThresholdReview.Status
STALE_AFTER = timedelta(minutes=30)
# A cycle that left the MQL stage without an MQL rejection was accepted (a first call took it).
_PAST_MQL = {s for s in Stage if s not in (Stage.MQL, Stage.RECYCLED, Stage.DISQUALIFIED)}


class ReviewBusy(ValidationError):
    """Another review is queued or running; one runs at a time."""


def review_settings_get() -> ReviewSettings:
    return ReviewSettings.objects.get_or_create(pk=1)[0]


def team_zone() -> ZoneInfo:
    """The team's time zone (handoff's calendar): a review's days are the team's days."""
    return ZoneInfo(handoff_settings().time_zone)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the team's zone, as aware datetimes."""
    zone = team_zone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _lock_settings() -> ReviewSettings:
    # The row lock every request and claim takes: it serialises them (see the module doc).
    review_settings_get()
    return ReviewSettings.objects.select_for_update().get(pk=1)


def _fail_stale(now: datetime) -> None:
    ThresholdReview.objects.filter(
        status__in=[Status.QUEUED, Status.RUNNING], created_at__lt=now - STALE_AFTER
    ).update(status=Status.FAILED, error="stalled: no worker finished it", finished_at=now)


def _language(code: str | None) -> str:
    """``code`` as one of settings.LANGUAGES ("en-us" is "en"), else settings.LANGUAGE_CODE."""
    offered = {c for c, _name in settings.LANGUAGES}
    if code:
        for candidate in (code.lower(), code.lower().split("-")[0]):
            if candidate in offered:
                return candidate
    return settings.LANGUAGE_CODE


@transaction.atomic
def review_request(
    *,
    actor,
    period_start: date,
    period_end: date,
    trigger: str = ThresholdReview.Trigger.MANUAL,
    language: str | None = None,
) -> ThresholdReview:
    """Queue a review of ``period_start``–``period_end`` (inclusive, the team's days).

    ``actor`` None is the schedule. ``language`` is the requester's (a request's
    LANGUAGE_CODE; None or one we do not offer is settings.LANGUAGE_CODE): the proposed
    draft's title and note are written in it. Raises PermissionDenied (not a manager or
    marketing), ValidationError (a period that is reversed or in the future) or ReviewBusy.
    Sends ``feedback.tasks.review_run`` once the transaction commits.
    """
    if actor is not None and not can_run_review(actor):
        raise PermissionDenied(_("Only managers and marketing run the threshold review."))
    today = timezone.now().astimezone(team_zone()).date()
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period must end on or after its start.")})
    if period_start > today:
        raise ValidationError({"period_start": _("The period must start today or earlier.")})
    now = timezone.now()
    _lock_settings()
    _fail_stale(now)
    if ThresholdReview.objects.filter(status__in=[Status.QUEUED, Status.RUNNING]).exists():
        raise ReviewBusy(_("A review is already running. Wait for it to finish."))
    review = ThresholdReview.objects.create(
        period_start=period_start,
        period_end=period_end,
        trigger=trigger,
        requested_by=actor,
        language=_language(language),
    )

    def send() -> None:
        from feedback.tasks import review_run as review_run_task

        background.send(review_run_task, review.pk)

    transaction.on_commit(send)
    return review


def previous_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    last = first - timedelta(days=1)
    return last.replace(day=1), last


def review_scheduled() -> ThresholdReview | None:
    """The schedule's review: the team's previous calendar month (None when one is running)."""
    start, end = previous_month(timezone.now().astimezone(team_zone()).date())
    try:
        return review_request(
            actor=None, period_start=start, period_end=end, trigger=ThresholdReview.Trigger.SCHEDULE
        )
    except ReviewBusy:
        logger.info("scheduled threshold review skipped: another review is running")
        return None


def _claim(review_id: int) -> bool:
    with transaction.atomic():
        _lock_settings()
        # Conditional UPDATE: a redelivered task finds the review claimed and leaves it.
        return bool(
            ThresholdReview.objects.filter(pk=review_id, status=Status.QUEUED).update(
                status=Status.RUNNING, started_at=timezone.now(), progress=5
            )
        )


def _progress(review_id: int, value: int) -> None:
    ThresholdReview.objects.filter(pk=review_id).update(progress=value)


def _rule_infos(spec: dict) -> tuple[list[RuleInfo], dict[str, dict]]:
    infos, labels = [], {}
    for category, name in (
        ("attributes", "fit"),
        ("behaviour", "behaviour"),
        ("intents", "intent"),
    ):
        for rule in spec.get(category, []):
            label = rule.get("label") or rule["key"]
            labels[rule["key"]] = label if isinstance(label, dict) else {"": str(label)}
            infos.append(RuleInfo(rule["key"], rule["key"], name, float(rule["points"])))
    return infos, labels


def _points_by_version(version_ids: set[int]) -> dict[int, dict[str, float]]:
    specs = DefinitionVersion.objects.filter(pk__in=version_ids).values_list("pk", "spec")
    return {
        pk: {
            r["key"]: float(r["points"])
            for category in ("attributes", "behaviour", "intents")
            for r in spec.get(category, [])
        }
        for pk, spec in specs
    }


@dataclass(frozen=True)
class Evidence:
    mqls: list[JudgedMql]
    cycles: int  # MQLs of the period, judged or not


def review_evidence(*, start: datetime, end: datetime, based_on: DefinitionVersion) -> Evidence:
    """The judged MQLs of cycles that became MQLs in [start, end), as plain facts.

    Judged: an MQL verdict, or the cycle moved past the MQL stage without one (accepted).
    Converted: a deal won. Hits are each rule's stored contribution over its points in
    the version the cycle was scored with (or ``based_on``'s, for a rule it lacked).
    A fixed number of queries, whatever the period holds.
    """
    mql_verdicts = Verdict.objects.filter(cycle=OuterRef("pk"), kind=Kind.MQL)
    rows = list(
        Cycle.objects.filter(mql_at__gte=start, mql_at__lt=end)
        .annotate(
            accepted_v=Exists(mql_verdicts.filter(decision=Verdict.Decision.ACCEPTED)),
            rejected_v=Exists(mql_verdicts.filter(decision=Verdict.Decision.REJECTED)),
            won=Exists(Opportunity.objects.filter(cycle=OuterRef("pk"), status="won")),
        )
        .values("pk", "stage", "version_id", "score_total", "score_band", "sql_at",
                "accepted_v", "rejected_v", "won")
    )  # fmt: skip
    judged = {}
    for row in rows:
        if row["rejected_v"]:
            judged[row["pk"]] = (row, False)
        elif row["accepted_v"] or row["stage"] in _PAST_MQL or row["sql_at"] is not None:
            judged[row["pk"]] = (row, True)
    hits: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for cycle_id, key, points in (
        CycleRuleHit.objects.filter(cycle_id__in=list(judged))
        .values_list("cycle_id", "rule_key", "points")
        .iterator(chunk_size=5000)
    ):
        hits[cycle_id].append((key, points))
    per_version = _points_by_version(
        {r["version_id"] for r, _ in judged.values() if r["version_id"]}
    )
    current = _points_by_version({based_on.pk})[based_on.pk]
    mqls = []
    for cycle_id, (row, accepted) in judged.items():
        own = per_version.get(row["version_id"], {})
        counts = {}
        for key, contribution in hits[cycle_id]:
            unit = own.get(key) or current.get(key)
            if unit:
                counts[key] = max(0.0, contribution / unit)
        mqls.append(
            JudgedMql(
                score=float(row["score_total"] or 0),
                accepted=accepted,
                converted=bool(row["won"] or row["stage"] == Stage.WON),
                band=row["score_band"] or "hot",
                hits=counts,
            )
        )
    return Evidence(mqls=mqls, cycles=len(rows))


def inside_sales_reps() -> int:
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.INSIDE_SALES.value)
        .distinct()
        .count()
    )


def _note(review: ThresholdReview, report: dict) -> str:
    changes = report["changes"]
    parts = [
        _("Threshold review #%(id)d of %(start)s–%(end)s: %(n)d judged MQLs, %(rate)s accepted.")
        % {
            "id": review.pk,
            "start": review.period_start.isoformat(),
            "end": review.period_end.isoformat(),
            "n": report["decided"],
            "rate": f"{(report['overall']['acceptance'] or 0) * 100:.0f}%",
        }
    ]
    current = report["current"]
    for name, value in sorted(changes["thresholds"].items()):
        parts.append(
            _("%(name)s threshold %(old)s → %(new)s.")
            % {"name": name, "old": f"{current[name]:g}", "new": f"{value:g}"}
        )
    old = {r["key"]: r["points"] for r in report["rules"]}
    lang = (translation.get_language() or "ja")[:2]
    for key, value in sorted(changes["points"].items()):
        # The rule's label in the note's language, and its key, which the editor shows too.
        texts = report["labels"].get(key) or {}
        label = texts.get(lang) or texts.get("") or next(iter(texts.values()), "")
        parts.append(
            _("%(key)s: %(old)s → %(new)s points.")
            % {
                "key": f"{label} ({key})" if label and label != key else key,
                "old": f"{old[key]:g}",
                "new": f"{value:g}",
            }
        )
    parts.append(_("The evidence: /feedback/reviews/%(id)d/") % {"id": review.pk})
    return "\n".join(parts)


def review_run(*, review_id: int) -> ThresholdReview | None:
    """Run a queued review: its report, and the proposed draft when something should change.

    Changes the review row (status, progress, report, outcome, proposed_version) and,
    through scoring, creates one draft. A review already claimed is left alone (None is
    returned for one that does not exist). An error marks the review failed and is raised.
    """
    if not ThresholdReview.objects.filter(pk=review_id).exists():
        logger.info("threshold review %s is gone", review_id)
        return None
    if not _claim(review_id):
        return ThresholdReview.objects.get(pk=review_id)
    review = ThresholdReview.objects.get(pk=review_id)
    try:
        with translation.override(review.language or settings.LANGUAGE_CODE):
            _run(review)
    except Exception as exc:
        ThresholdReview.objects.filter(pk=review_id).update(
            status=Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )  # fmt: skip
        raise
    return ThresholdReview.objects.get(pk=review_id)


def _run(review: ThresholdReview) -> None:
    based_on = DefinitionVersion.objects.filter(status=DefinitionVersion.Status.ACTIVE).first()
    if based_on is None:
        raise ValidationError("no active definition to review")
    options = review_settings_get()
    start, end = period_bounds(review.period_start, review.period_end)
    evidence = review_evidence(start=start, end=end, based_on=based_on)
    _progress(review.pk, 40)
    infos, labels = _rule_infos(based_on.spec)
    thresholds = based_on.spec["thresholds"]
    days = (review.period_end - review.period_start).days + 1
    reps = inside_sales_reps()
    proposal = propose(
        evidence.mqls,
        infos,
        current_warm=float(thresholds["warm"]),
        current_hot=float(thresholds["hot"]),
        target=float(options.acceptance_target),
        min_decided=options.min_decided,
        weeks=days / 7,
        capacity=float(reps * options.calls_per_rep_week),
    )
    _progress(review.pk, 80)
    report = proposal.as_json() | {
        "cycles": evidence.cycles,
        "labels": labels,
        "based_on": based_on.number,
        "settings": {
            "acceptance_target": float(options.acceptance_target),
            "min_decided": options.min_decided,
            "calls_per_rep_week": options.calls_per_rep_week,
            "reps": reps,
        },
        "days": days,
    }
    with transaction.atomic():
        draft = None
        if proposal.has_changes:
            draft = draft_propose(
                based_on=based_on,
                changes=report["changes"],
                actor=review.requested_by,
                note=_note(review, report),
                title=_("Proposed by the review of %(start)s–%(end)s")
                % {"start": review.period_start.isoformat(), "end": review.period_end.isoformat()},
            )
        ThresholdReview.objects.filter(pk=review.pk).update(
            status=Status.DONE, outcome=proposal.outcome, report=report, based_on=based_on,
            proposed_version=draft, progress=100, finished_at=timezone.now(),
        )  # fmt: skip


def review_proposal_submit(*, actor, review_id: int) -> DefinitionVersion:
    """Send a review's proposed draft for both departments' approval (scoring's submit)."""
    if not can_run_review(actor):
        raise PermissionDenied(_("Only managers and marketing run the threshold review."))
    review = ThresholdReview.objects.select_related("proposed_version").get(pk=review_id)
    if review.proposed_version is None:
        raise ValidationError(_("This review proposed nothing."))
    return draft_submit(actor=actor, version=review.proposed_version)


@transaction.atomic
def review_settings_update(
    *, actor, acceptance_target: Decimal, min_decided: int, calls_per_rep_week: int
) -> ReviewSettings:
    """Change what the two departments agreed the review aims for."""
    if not can_edit_review_settings(actor):
        raise PermissionDenied(_("Only managers and marketing change the review's target."))
    row = _lock_settings()
    row.acceptance_target = acceptance_target
    row.min_decided = min_decided
    row.calls_per_rep_week = calls_per_rep_week
    row.updated_by = actor
    row.full_clean()
    row.save()
    return row


REVIEW_TASK_NAME = "feedback-threshold-review"


@dataclass(frozen=True)
class Schedule:
    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str
    timezone: str
    enabled: bool
    last_run_at: datetime | None


def review_schedule_get() -> Schedule | None:
    """The review's beat entry (the migration makes it; None if someone deleted it)."""
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.filter(name=REVIEW_TASK_NAME).select_related("crontab").first()
    if task is None or task.crontab is None:
        return None
    c = task.crontab
    return Schedule(
        c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week, str(c.timezone),
        task.enabled, task.last_run_at,
    )  # fmt: skip


@transaction.atomic
def review_schedule_update(
    *,
    actor,
    minute: str,
    hour: str,
    day_of_month: str,
    month_of_year: str,
    day_of_week: str,
    enabled: bool,
) -> Schedule:
    """Set when beat runs the review (a crontab in the team's zone); admins only.

    Beat's database scheduler sees the change on its next tick; no restart is needed.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from feedback.permissions import can_edit_review_schedule

    if not can_edit_review_schedule(actor):
        raise PermissionDenied(_("Only administrators change the review's schedule."))
    crontab = CrontabSchedule(
        minute=minute.strip(), hour=hour.strip(), day_of_month=day_of_month.strip(),
        month_of_year=month_of_year.strip(), day_of_week=day_of_week.strip(),
        timezone=handoff_settings().time_zone,
    )  # fmt: skip
    try:
        crontab.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    crontab = CrontabSchedule.objects.filter(
        minute=crontab.minute, hour=crontab.hour, day_of_month=crontab.day_of_month,
        month_of_year=crontab.month_of_year, day_of_week=crontab.day_of_week,
        timezone=crontab.timezone,
    ).first() or _saved(crontab)  # fmt: skip
    PeriodicTask.objects.update_or_create(
        name=REVIEW_TASK_NAME,
        defaults={"task": "feedback.tasks.review_scheduled", "crontab": crontab, "interval": None,
                  "enabled": enabled},
    )  # fmt: skip
    return review_schedule_get()


def _saved(crontab):
    crontab.save()
    return crontab
