"""The CRM's outcomes: an opportunity created, then won or lost, with its amount and dates.

``outcome_record`` is idempotent on the CRM's id of the deal: the same call twice changes
nothing the second time; a later call with a new status, amount or date updates the row.
A deal is linked to its lead's cycle (the latest that reached SQL, else the latest) and
moves that cycle through handoff's transition service as far as the funnel allows:
handed over / accepted by field sales → opportunity → won or lost. A cycle that is closed
already (recycled, say) keeps its stage; the deal is still counted for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import Opportunity
from feedback.permissions import can_record_outcome
from feedback.services.facts import cycle_facts_sync_after_commit
from handoff.models import Cycle, Stage
from handoff.services.lifecycle import Step, TransitionConflict, cycle_advance, is_allowed
from leads.models import Contact
from leads.normalize import normalize_email, normalize_identifier

AMOUNT_MAX = Decimal("99999999999999")
# Cycles that reached SQL, newest first, are the ones a deal belongs to.
AFTER_SQL = (
    Stage.SQL,
    Stage.HANDED_OVER,
    Stage.SQL_ACCEPTED,
    Stage.OPPORTUNITY,
    Stage.WON,
    Stage.LOST,
)


class LeadNotFound(ValidationError):
    """No lead answers to the e-mail, contact id or CRM lead id given (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    opportunity: Opportunity
    created: bool
    changed: bool
    cycle_stage: str | None  # the cycle's stage after the call (None: no cycle)


def _lead(*, email: str, contact_id: int | None, crm_lead_id: str) -> Contact:
    given = [bool(email), contact_id is not None, bool(crm_lead_id)]
    if not any(given):
        raise ValidationError({"lead": _("Name the lead by e-mail, contact id or CRM lead id.")})
    contact = None
    if contact_id is not None:
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            raise LeadNotFound({"contact_id": _("No lead has this id.")})
    if email:
        by_email = Contact.objects.filter(email=normalize_email(email)).first()
        if by_email is None:
            raise LeadNotFound({"email": _("No lead has this e-mail address.")})
        if contact is not None and by_email.pk != contact.pk:
            raise ValidationError({"email": _("This e-mail belongs to another lead.")})
        contact = by_email
    if crm_lead_id and contact is None:
        ids = Opportunity.objects.filter(crm_lead_id=crm_lead_id).values_list("contact_id")
        found = list(Contact.objects.filter(pk__in=ids)[:2])
        if not found:
            raise LeadNotFound(
                {
                    "crm_lead_id": _(
                        "No earlier outcome named this CRM lead id; name the lead by e-mail."
                    )
                }
            )
        if len(found) > 1:
            raise ValidationError({"crm_lead_id": _("This CRM lead id names more than one lead.")})
        contact = found[0]
    return contact


def _cycle_of(contact: Contact) -> Cycle | None:
    cycles = Cycle.objects.filter(contact=contact).order_by("-number")
    return cycles.filter(stage__in=AFTER_SQL).first() or cycles.first()


def _path(stage: str, status: str) -> list[str]:
    """The stage changes that take a cycle at ``stage`` to where a deal in ``status`` is."""
    goal = {Opportunity.Status.OPEN: Stage.OPPORTUNITY, Opportunity.Status.WON: Stage.WON}.get(
        status, Stage.LOST
    )
    if stage == goal:
        return []
    if is_allowed(stage, goal):
        return [goal]
    if is_allowed(stage, Stage.OPPORTUNITY) and is_allowed(Stage.OPPORTUNITY, goal):
        return [Stage.OPPORTUNITY, goal]
    return []


def _clean(status: str, amount, created_on, closed_on) -> dict[str, str]:
    errors: dict[str, str] = {}
    if status not in Opportunity.Status.values:
        errors["status"] = _("Use open, won or lost.")
    if amount is not None and not (Decimal(0) <= Decimal(amount) <= AMOUNT_MAX):
        errors["amount"] = _("The amount must be zero or more, in yen.")
    if status in (Opportunity.Status.WON, Opportunity.Status.LOST) and closed_on is None:
        errors["closed_on"] = _("Say when the deal was won or lost.")
    if closed_on is not None and created_on is not None and closed_on < created_on:
        errors["closed_on"] = _("A deal cannot close before it was created.")
    if created_on is not None and created_on > timezone.localdate() + timedelta(days=1):
        errors["created_on"] = _("This date is in the future.")
    return errors


def outcome_record(
    *,
    actor,
    crm_id: str,
    status: str,
    created_on: date | None = None,
    closed_on: date | None = None,
    amount: Decimal | None = None,
    email: str = "",
    contact_id: int | None = None,
    crm_lead_id: str = "",
    at: datetime | None = None,
) -> OutcomeResult:
    """Create or update the deal ``crm_id`` and move its lead's cycle to match.

    ``at`` is when the cycle's stage changes are recorded (now, unless replaying).

    Raises ValidationError (field errors), PermissionDenied.
    """
    crm_id = normalize_identifier(crm_id or "")
    crm_lead_id = normalize_identifier(crm_lead_id or "")
    if not crm_id:
        raise ValidationError({"crm_id": _("Give the CRM's id of the deal.")})
    if len(crm_id) > 128 or len(crm_lead_id) > 128:
        raise ValidationError({"crm_id": _("Ids are at most 128 characters.")})
    errors = _clean(status, amount, created_on, closed_on)
    if errors:
        raise ValidationError(errors)
    contact = _lead(email=email, contact_id=contact_id, crm_lead_id=crm_lead_id)
    args = (actor, contact, crm_id, crm_lead_id, status, created_on, closed_on, amount, at)
    try:
        return _record(*args)
    except (IntegrityError, TransitionConflict):
        # Another call created the same deal, or moved the cycle, a moment ago: once more,
        # now as an update of what it wrote.
        return _record(*args)


def _record(actor, contact, crm_id, crm_lead_id, status, created_on, closed_on, amount, at):
    with transaction.atomic():
        # Read-modify-write of one deal: lock it so two updates apply one after the other.
        opp = Opportunity.objects.select_for_update().filter(crm_id=crm_id).first()
        created = opp is None
        if created:
            cycle = _cycle_of(contact)
            opp = Opportunity(
                crm_id=crm_id,
                contact=contact,
                cycle=cycle,
                created_on=created_on or timezone.localdate(),
                recorded_by=actor if getattr(actor, "pk", None) else None,
            )
        elif opp.contact_id != contact.pk:
            raise ValidationError({"crm_id": _("This deal belongs to another lead.")})
        cycle = opp.cycle
        if actor is not None and not can_record_outcome(actor, cycle):
            raise PermissionDenied(_("This deal is not yours to record."))
        if not created and opp.status != Opportunity.Status.OPEN and status != opp.status:
            raise ValidationError(
                {"status": _("This deal is %(status)s already; a closed deal does not reopen.")
                 % {"status": opp.get_status_display()}}
            )  # fmt: skip
        new = {
            "status": status,
            "amount": opp.amount if amount is None else Decimal(amount),
            "created_on": created_on or opp.created_on,
            "closed_on": closed_on if status != Opportunity.Status.OPEN else None,
            "crm_lead_id": crm_lead_id or opp.crm_lead_id,
        }
        changed = created or any(getattr(opp, k) != v for k, v in new.items())
        for key, value in new.items():
            setattr(opp, key, value)
        if changed:
            opp.full_clean(exclude=["contact", "cycle", "recorded_by"], validate_unique=False)
            opp.save()
        stage = None
        if cycle is not None:
            # The reports' facts read the deal (its revenue) after the commit.
            cycle_facts_sync_after_commit(cycle_ids=[cycle.pk])
            steps = _path(cycle.stage, status)
            if steps:
                who = actor if getattr(actor, "pk", None) else None
                cycle = cycle_advance(
                    cycle_id=cycle.pk,
                    steps=[Step(s, f"crm_{status}") for s in steps],
                    actor=who,
                    at=at,
                )
            stage = cycle.stage
        return OutcomeResult(opportunity=opp, created=created, changed=changed, cycle_stage=stage)
