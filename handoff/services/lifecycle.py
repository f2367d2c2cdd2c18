"""A cycle's journey: the allowed stage changes, each recorded, and leads raised by hand.

``cycle_transition`` is the one way a stage changes (the feedback app records its
verdicts through it too). It refuses a change the funnel does not allow with
``TransitionRefused`` (HTTP 409 in the API) and a change another person made first
with ``TransitionConflict``: the UPDATE is conditional on the stage it was read with,
so of two clicks at once one wins and the other is told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from handoff.models import (
    CLOSED_STAGES,
    Bant,
    Cycle,
    Stage,
    Transition,
)
from handoff.permissions import can_raise_lead, can_work_cycle, can_work_handover, is_manager
from handoff.services.calendar import calendar_of, handoff_settings, sla_due
from handoff.services.priority import cycles_refresh_priority
from handoff.signals import cycles_changed, cycles_opened
from leads.models import Contact
from scoring.models import LeadScore

# What may follow what. A closed stage is final: a lead comes back as a new cycle.
TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.MQL: frozenset({Stage.ACCEPTED, Stage.WORKING, Stage.RECYCLED, Stage.DISQUALIFIED}),
    Stage.ACCEPTED: frozenset({Stage.WORKING, Stage.RECYCLED, Stage.DISQUALIFIED}),
    Stage.WORKING: frozenset({Stage.SQL, Stage.RECYCLED, Stage.DISQUALIFIED}),
    Stage.SQL: frozenset({Stage.HANDED_OVER, Stage.RECYCLED, Stage.DISQUALIFIED}),
    Stage.HANDED_OVER: frozenset(
        {Stage.SQL_ACCEPTED, Stage.OPPORTUNITY, Stage.RECYCLED, Stage.DISQUALIFIED}
    ),
    Stage.SQL_ACCEPTED: frozenset(
        {Stage.OPPORTUNITY, Stage.LOST, Stage.RECYCLED, Stage.DISQUALIFIED}
    ),
    Stage.OPPORTUNITY: frozenset({Stage.WON, Stage.LOST}),
}
# Stages field sales (or the CRM) move, the rest are inside sales'.
FIELD_STAGES = frozenset({Stage.HANDED_OVER, Stage.SQL_ACCEPTED, Stage.OPPORTUNITY})


class TransitionRefused(ValidationError):
    """The funnel does not allow this change from the cycle's stage."""


class TransitionConflict(ValidationError):
    """Someone changed the cycle first; reload it."""


class LeadAlreadyInQueue(ValidationError):
    """The lead has an open cycle already."""


def is_allowed(from_stage: str, to_stage: str) -> bool:
    return to_stage in TRANSITIONS.get(from_stage, frozenset())


def _check_actor(actor, cycle: Cycle, to_stage: str) -> None:
    if actor is None:  # the system (a task, the scoring drain, the CRM via a service)
        return
    if cycle.stage in FIELD_STAGES or to_stage in FIELD_STAGES - {Stage.HANDED_OVER}:
        allowed = can_work_handover(actor, cycle) or can_work_cycle(actor, cycle)
    else:
        allowed = can_work_cycle(actor, cycle)
    if not allowed:
        raise PermissionDenied(_("This lead is not yours to move."))


def _score_now(cycle: Cycle) -> tuple[LeadScore | None]:
    if cycle.contact_id is not None:
        return LeadScore.objects.filter(contact_id=cycle.contact_id).first()
    return LeadScore.objects.filter(company_id=cycle.company_id, contact__isnull=True).first()


@dataclass(frozen=True, slots=True)
class Step:
    to_stage: str
    reason_code: str = ""
    note: str = ""


def _apply(cycle: Cycle, steps: Sequence[Step], actor, at: datetime) -> Cycle:
    """Move ``cycle`` through ``steps`` in the caller's transaction, recording each."""
    score = _score_now(cycle)
    cooling_days = None
    for step in steps:
        if not is_allowed(cycle.stage, step.to_stage):
            raise TransitionRefused(
                _("A lead at “%(from)s” cannot move to “%(to)s”.")
                % {"from": Stage(cycle.stage).label, "to": Stage(step.to_stage).label},
                code="refused",
            )
        values: dict[str, object] = {"stage": step.to_stage, "updated_at": at}
        if step.to_stage == Stage.SQL:
            values["sql_at"] = at
        elif step.to_stage == Stage.HANDED_OVER:
            values["handed_over_at"] = at
        if step.to_stage in CLOSED_STAGES:
            values["closed_at"] = at
        if step.to_stage == Stage.RECYCLED:
            if cooling_days is None:
                cooling_days = handoff_settings().cooling_off_days
            values["cooling_until"] = at + timedelta(days=cooling_days)
        # Conditional on the stage it was read in: a concurrent change wins first.
        won = Cycle.objects.filter(pk=cycle.pk, stage=cycle.stage).update(**values)
        if not won:
            raise TransitionConflict(
                _("Someone else changed this lead a moment ago. Reload it and try again."),
                code="conflict",
            )
        Transition.objects.create(
            cycle=cycle,
            contact_id=cycle.contact_id,
            company_id=cycle.company_id,
            from_stage=cycle.stage,
            to_stage=step.to_stage,
            actor=actor,
            at=at,
            version_id=score.version_id if score else cycle.version_id,
            score_total=score.total if score else None,
            score_band=score.band if score else "",
            reason_code=step.reason_code[:64],
            note=step.note,
        )
        for name, value in values.items():
            setattr(cycle, name, value)
    cycles_refresh_priority(cycle_ids=[cycle.pk])
    cycles_changed.send(sender=Cycle, cycle_ids=[cycle.pk])
    return cycle


def cycle_transition(
    *,
    cycle_id: int,
    to_stage: str,
    actor=None,
    reason_code: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Cycle:
    """Move a cycle to ``to_stage``, recorded with who, when, the score then, and why.

    ``actor`` None is the system. ``reason_code`` and ``note`` are the caller's (the
    feedback app's reason taxonomy, for instance): handoff stores them as they are.
    Raises TransitionRefused, TransitionConflict, PermissionDenied, Cycle.DoesNotExist.
    """
    at = at or timezone.now()
    with transaction.atomic():
        cycle = Cycle.objects.get(pk=cycle_id)
        _check_actor(actor, cycle, to_stage)
        return _apply(cycle, [Step(to_stage, reason_code, note)], actor, at)


def cycle_advance(
    *, cycle_id: int, steps: Sequence[Step], actor=None, at: datetime | None = None
) -> Cycle:
    """Several stage changes at once, in one transaction (a first call: MQL → accepted → working)."""
    at = at or timezone.now()
    with transaction.atomic():
        cycle = Cycle.objects.get(pk=cycle_id)
        if steps:
            _check_actor(actor, cycle, steps[-1].to_stage)
        return _apply(cycle, steps, actor, at)


def score_snapshot(score) -> list[dict[str, object]]:
    """A score's breakdown as the cycle keeps it (an engine ``Score``)."""
    return [
        {"rule": c.rule_key, "category": c.category, "points": c.points, "hits": c.hits}
        for c in score.breakdown
    ]


def cycle_raise(*, actor, contact_id: int, reason: str) -> Cycle:
    """Put a lead in the queue by hand, whatever its score (a decision maker met at an event).

    Inside sales keep what they raise; a manager's raise is assigned like an MQL.
    Raises PermissionDenied, ValidationError (no reason), LeadAlreadyInQueue.
    """
    from handoff.services.assignment import cycles_assign
    from scoring.explain import lead_score_explain

    if not can_raise_lead(actor):
        raise PermissionDenied(_("Only inside sales and managers put leads in the queue."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this lead should be called.")})
    contact = Contact.objects.get(pk=contact_id)
    explained = lead_score_explain(contact_id=contact.pk)
    row = handoff_settings()
    now = timezone.now()
    touch_due, qualify_due = sla_due(row, calendar_of(row), now)
    last = (
        Cycle.objects.filter(contact=contact).order_by("-number").values_list("number", flat=True)
    )
    try:
        with transaction.atomic():
            cycle = Cycle.objects.create(
                contact=contact,
                company_id=contact.company_id,
                number=(last.first() or 0) + 1,
                origin=Cycle.Origin.SALES,
                raised_by=actor,
                raise_reason=reason,
                mql_at=now,
                version=explained.version if explained else None,
                score_total=round(explained.score.total, 2) if explained else None,
                score_fit=round(explained.score.fit, 2) if explained else None,
                score_band=explained.score.band if explained else "",
                breakdown=score_snapshot(explained.score) if explained else [],
                first_touch_due_at=touch_due,
                qualify_due_at=qualify_due,
            )
            Bant.objects.create(cycle=cycle)
            Transition.objects.create(
                cycle=cycle, contact_id=contact.pk, company_id=contact.company_id,
                from_stage="", to_stage=Stage.MQL, actor=actor, at=now,
                version=cycle.version, score_total=cycle.score_total,
                score_band=cycle.score_band, reason_code="raised_by_sales", note=reason,
            )  # fmt: skip
            cycles_refresh_priority(cycle_ids=[cycle.pk])
            cycles_opened.send(sender=Cycle, cycle_ids=[cycle.pk])
            mine = None if is_manager(actor) else actor
            cycles_assign(cycles=[cycle], to_user=mine, by=actor, at=now)
    except IntegrityError:
        raise LeadAlreadyInQueue(
            _("This lead is in the queue already."), code="already_open"
        ) from None
    cycle.refresh_from_db()
    return cycle
