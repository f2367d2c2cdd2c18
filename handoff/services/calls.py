"""Working a lead: logging a call with its BANT answers, and promoting it to SQL.

``call_log`` writes the call, updates the BANT record, stops the first-touch clock on
the first touch and moves a fresh MQL to working (accepted first: a rep who works a lead
has taken it), all in one transaction, so nothing is ever half-saved. ``cycle_promote``
checks the recorded BANT against the active definition's condition on the server,
makes the lead an SQL, hands it to a field sales rep by the same assignment rules and
queues the CRM webhook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from handoff.models import (
    INSIDE_STAGES,
    Bant,
    BantSource,
    BantStatus,
    Call,
    Cycle,
    PainPoint,
    Pool,
    Stage,
)
from handoff.permissions import can_work_cycle
from handoff.services.assignment import cycles_assign
from handoff.services.lifecycle import Step, TransitionRefused, _apply
from handoff.services.priority import cycles_refresh_priority
from scoring.engine import bant_qualifies
from scoring.services.jobs import active_version, definition_of

BANT_ITEMS = ("budget", "authority", "need", "timeframe")
BANT_LABELS = {
    "budget": "Budget",
    "authority": "Authority",
    "need": "Need",
    "timeframe": "Timeframe",
}


@dataclass(frozen=True, slots=True)
class CallInput:
    """A call as the form or the API gives it. Statuses are BantStatus values."""

    outcome: str
    notes: str = ""
    next_action_at: datetime | None = None
    next_action_note: str = ""
    budget_status: str | None = None
    budget_range: str | None = None
    budget_amount_man: int | None = None
    authority_status: str | None = None
    authority_role: str | None = None
    decision_maker_name: str | None = None
    decision_maker_title: str | None = None
    need_status: str | None = None
    pain_points: tuple[str, ...] | None = None  # PainPoint codes
    need_notes: str | None = None
    timeframe_status: str | None = None
    timeframe_kind: str | None = None
    timeframe_month: date | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def _choice(errors, name: str, value, choices) -> None:
    if value is not None and value not in choices:
        errors.setdefault(name, []).append(_("Choose one of the offered values."))


def call_validate(data: CallInput) -> dict[str, list[str]]:
    """Field errors of a call (empty when it can be saved)."""
    errors: dict[str, list[str]] = {}
    _choice(errors, "outcome", data.outcome, Call.Outcome.values)
    for item in BANT_ITEMS:
        _choice(errors, f"{item}_status", getattr(data, f"{item}_status"), BantStatus.values)
    _choice(errors, "budget_range", data.budget_range or None, Bant.BudgetRange.values)
    _choice(errors, "authority_role", data.authority_role, Bant.Role.values)
    _choice(errors, "timeframe_kind", data.timeframe_kind, Bant.Timeframe.values)
    if data.budget_amount_man is not None and not 0 <= data.budget_amount_man <= 10_000_000:
        errors.setdefault("budget_amount_man", []).append(
            _("Give the budget in 万円, from 0 to 10,000,000.")
        )
    dated = (Bant.Timeframe.MONTH, Bant.Timeframe.QUARTER)
    if data.timeframe_kind in dated and data.timeframe_month is None:
        errors.setdefault("timeframe_month", []).append(_("Give the target month."))
    if data.budget_status == BantStatus.CONFIRMED and not (
        data.budget_range or data.budget_amount_man is not None
    ):
        errors.setdefault("budget_range", []).append(
            _("A confirmed budget needs a range or an amount.")
        )
    if data.authority_status == BantStatus.CONFIRMED and data.authority_role in (
        None,
        Bant.Role.UNKNOWN,
    ):
        errors.setdefault("authority_role", []).append(
            _("A confirmed authority needs the contact's role in the decision.")
        )
    if data.pain_points is not None:
        known = set(PainPoint.objects.filter(is_active=True).values_list("code", flat=True))
        if set(data.pain_points) - known:
            errors.setdefault("pain_points", []).append(_("Choose pain points from the list."))
    if data.next_action_at is not None and timezone.localdate(
        data.next_action_at
    ) < timezone.localdate(timezone.now()):
        errors.setdefault("next_action_at", []).append(_("The next action cannot be in the past."))
    return errors


def _bant_update(bant: Bant, data: CallInput) -> None:
    for name in (
        "budget_status", "budget_range", "budget_amount_man", "authority_status",
        "authority_role", "decision_maker_name", "decision_maker_title", "need_status",
        "need_notes", "timeframe_status", "timeframe_kind", "timeframe_month",
    ):  # fmt: skip
        value = getattr(data, name)
        if value is not None:
            setattr(bant, name, value if value != "" or name.endswith("_month") else "")
    for item in BANT_ITEMS:
        if getattr(data, f"{item}_status") is not None:
            setattr(bant, f"{item}_source", BantSource.CALL)
    if data.timeframe_kind == Bant.Timeframe.UNDECIDED:
        bant.timeframe_month = None


def call_log(*, actor, cycle_id: int, data: CallInput, at: datetime | None = None) -> Call:
    """Log a call on a cycle; see the module. Raises ValidationError with field errors."""
    errors = call_validate(data)
    if errors:
        raise ValidationError(errors)
    at = at or timezone.now()
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle_id)
        if not can_work_cycle(actor, cycle):
            raise PermissionDenied(_("Only the lead's owner or a manager logs its calls."))
        if cycle.stage not in INSIDE_STAGES:
            raise TransitionRefused(
                _("This lead is past qualification; its calls belong to field sales now."),
                code="refused",
            )
        bant, _created = Bant.objects.get_or_create(cycle=cycle)
        _bant_update(bant, data)
        bant.save()
        if data.pain_points is not None:
            bant.pain_points.set(PainPoint.objects.filter(code__in=data.pain_points))
        call = Call.objects.create(
            cycle=cycle,
            rep=actor if getattr(actor, "pk", None) else None,
            at=at,
            outcome=data.outcome,
            notes=data.notes,
            bant={item: bant.status_of(item) for item in BANT_ITEMS},
            next_action_at=data.next_action_at,
            next_action_note=data.next_action_note,
        )
        updates = {"next_action_at": data.next_action_at, "next_action_note": data.next_action_note}
        if cycle.first_touch_at is None:
            updates["first_touch_at"] = at
        Cycle.objects.filter(pk=cycle.pk).update(**updates)
        cycles_refresh_priority(cycle_ids=[cycle.pk])
        for name, value in updates.items():
            setattr(cycle, name, value)
        steps = []
        if cycle.stage == Stage.MQL:
            steps.append(Step(Stage.ACCEPTED, "first_touch"))
        if cycle.stage in (Stage.MQL, Stage.ACCEPTED):
            steps.append(Step(Stage.WORKING, "first_touch"))
        _apply(cycle, steps, actor if getattr(actor, "pk", None) else None, at)
    return call


class BantIncomplete(ValidationError):
    """The BANT condition is not met; ``missing`` names what is not confirmed."""

    def __init__(self, missing: list[str], *, needed: int = 0) -> None:
        self.missing = missing
        self.needed = needed
        names = ", ".join(_(BANT_LABELS[item]) for item in missing)
        message = _("Not sales-qualified yet: confirm %(items)s first.") % {"items": names}
        if needed:
            message += " " + _("%(n)s more BANT items must be confirmed.") % {"n": needed}
        super().__init__(message, code="bant_incomplete")


def bant_missing(bant: Bant) -> tuple[list[str], int]:
    """(required items not confirmed, how many more items the minimum count needs)."""
    version = active_version()
    if version is None:
        return [], 0
    requirement = definition_of(version).bant
    confirmed = bant.confirmed()
    if bant_qualifies(requirement, confirmed):
        return [], 0
    missing = [i for i in BANT_ITEMS if i in requirement.required and not confirmed[i]]
    count = sum(confirmed.values())
    more = max(0, requirement.min_count - count - len(missing))
    return missing, more


def cycle_promote(*, actor, cycle_id: int, at: datetime | None = None) -> Cycle:
    """Make a worked lead an SQL and hand it to field sales; see the module.

    Raises BantIncomplete (the page says what is missing; HTTP 409 in the API),
    TransitionRefused (not at working), TransitionConflict, PermissionDenied.
    """
    from handoff.services.webhooks import webhooks_queue

    at = at or timezone.now()
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().get(pk=cycle_id)
        if not can_work_cycle(actor, cycle):
            raise PermissionDenied(_("Only the lead's owner or a manager promotes it."))
        if cycle.stage != Stage.WORKING:
            raise TransitionRefused(
                _("Only a lead being worked (a call logged) can become an SQL."), code="refused"
            )
        bant = Bant.objects.get_or_create(cycle=cycle)[0]
        missing, more = bant_missing(bant)
        if missing or more:
            raise BantIncomplete(missing, needed=more)
        user = actor if getattr(actor, "pk", None) else None
        _apply(cycle, [Step(Stage.SQL, "bant_met")], user, at)
        owners = cycles_assign(cycles=[cycle], pool=Pool.FIELD, by=None, at=at)
        if owners.get(cycle.pk):
            _apply(cycle, [Step(Stage.HANDED_OVER, "assigned")], None, at)
            webhooks_queue(cycle=cycle)
    cycle.refresh_from_db()
    return cycle
