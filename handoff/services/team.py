"""The team's routing, edited by managers: rules, reps' capacity and pool, absences."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from handoff.models import Absence, AssignmentRule, RepProfile
from handoff.permissions import can_edit_routing

RULE_FIELDS = (
    "order", "pool", "prefecture", "region", "industry", "min_employees", "max_employees",
    "assignee", "is_active",
)  # fmt: skip


def _require(actor) -> None:
    if not can_edit_routing(actor):
        raise PermissionDenied(_("Only a manager edits the team's routing."))


@transaction.atomic
def routing_rule_save(*, actor, values: dict, rule: AssignmentRule | None = None) -> AssignmentRule:
    """Create or change a routing rule (values already validated by its form)."""
    _require(actor)
    rule = rule or AssignmentRule()
    for name in RULE_FIELDS:
        setattr(rule, name, values.get(name, getattr(rule, name, None)))
    for name in ("prefecture", "region", "industry"):
        rule.__dict__[name] = rule.__dict__.get(name) or ""
    rule.updated_by = actor
    rule.save()
    return rule


@transaction.atomic
def routing_rule_delete(*, actor, rule_id: int) -> None:
    _require(actor)
    AssignmentRule.objects.filter(pk=rule_id).delete()


@transaction.atomic
def rep_update(*, actor, rep_id: int, pool: str, capacity: int, is_active: bool) -> RepProfile:
    _require(actor)
    rep = RepProfile.objects.select_for_update().get(pk=rep_id)
    rep.pool, rep.capacity, rep.is_active = pool, capacity, is_active
    rep.save(update_fields=["pool", "capacity", "is_active"])
    return rep


@transaction.atomic
def absence_add(*, actor, user_id: int, day: date) -> Absence:
    _require(actor)
    return Absence.objects.get_or_create(user_id=user_id, day=day)[0]


@transaction.atomic
def absence_remove(*, actor, absence_id: int) -> None:
    _require(actor)
    Absence.objects.filter(pk=absence_id).delete()
