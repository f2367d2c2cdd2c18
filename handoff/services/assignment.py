"""Who works a cycle: the company's owner, else the first matching routing rule, else a
weighted round robin over the pool's reps who are in today; nobody available: it waits.

Set-based: a batch of cycles costs a fixed handful of queries whatever its size. The
round robin is Balinski and Young's *quota method*: the next lead goes to the rep with
the largest weight / (count + 1) among those still under their upper quota, so after
any number of leads every rep's count is within one of their weighted share (a
hypothesis test checks it; the nginx smooth round robin we tried first is not). The
counts live in the reps' rows and are read under a row lock, so two assigners at once
continue one fair sequence instead of both starting from the same state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from handoff.models import (
    Absence,
    AccountOwner,
    Assignment,
    AssignmentRule,
    Cycle,
    Notification,
    Pool,
    RepProfile,
)
from handoff.permissions import can_reassign
from handoff.signals import cycles_changed
from leads.models import Company

Method = Assignment.Method


@dataclass(frozen=True, slots=True)
class Pick:
    user_id: int | None
    method: str
    rule_id: int | None = None


def quota_round_robin(weights: dict[int, int], counts: dict[int, int], n: int) -> list[int]:
    """``n`` picks over reps weighted by ``weights``, advancing ``counts`` in place. Pure.

    A rep is eligible while count < (picks so far + 1) × weight / total weight (their
    upper quota); of those the largest weight / (count + 1) wins, ties to the lowest id.
    A rep back from an absence starts at their lower quota, so they do not take every
    lead until they have caught up.
    """
    if not weights or n <= 0:
        return []
    order = sorted(weights)
    total_weight = sum(weights.values())
    done = sum(counts.get(r, 0) for r in order)
    for rep in order:  # catch-up bounded: nobody starts below their lower quota
        floor = done * weights[rep] // total_weight
        if counts.get(rep, 0) < floor:
            done += floor - counts.get(rep, 0)
            counts[rep] = floor
    picks = []
    for _pick in range(n):
        done += 1
        chosen, best = order[0], -1.0
        for rep in order:
            count = counts.get(rep, 0)
            if count * total_weight < done * weights[rep]:
                priority = weights[rep] / (count + 1)
                if priority > best:
                    chosen, best = rep, priority
        counts[chosen] = counts.get(chosen, 0) + 1
        picks.append(chosen)
    return picks


def _rule_matches(rule: AssignmentRule, company: Company | None) -> bool:
    if company is None:
        return False
    if rule.prefecture and company.prefecture != rule.prefecture:
        return False
    if rule.region and company.region != rule.region:
        return False
    if rule.industry and company.industry != rule.industry:
        return False
    count = company.employee_count
    if rule.min_employees is not None and (count is None or count < rule.min_employees):
        return False
    return not (rule.max_employees is not None and (count is None or count > rule.max_employees))


def _available(pool: str, today) -> set[int]:
    """The pool's reps who take leads and are not away today."""
    away = set(Absence.objects.filter(day=today).values_list("user_id", flat=True))
    return set(
        RepProfile.objects.filter(pool=pool, is_active=True, user__is_active=True)
        .exclude(user_id__in=away)
        .values_list("user_id", flat=True)
    )


def _picks(cycles: Sequence[Cycle], pool: str, today) -> dict[int, Pick]:
    """Who gets each cycle (by cycle id): owner, rule, round robin, or nobody."""
    available = _available(pool, today)
    company_ids = {c.company_id for c in cycles if c.company_id}
    companies = Company.objects.in_bulk(company_ids)
    owners = dict(
        AccountOwner.objects.filter(company_id__in=company_ids).values_list("company_id", "user_id")
    )
    rules = list(AssignmentRule.objects.filter(pool=pool, is_active=True).order_by("order", "id"))
    found: dict[int, Pick] = {}
    rest: list[Cycle] = []
    for cycle in cycles:
        owner = owners.get(cycle.company_id)
        if owner in available:
            found[cycle.pk] = Pick(owner, Method.COMPANY_OWNER)
            continue
        company = companies.get(cycle.company_id)
        rule = next(
            (r for r in rules if r.assignee_id in available and _rule_matches(r, company)), None
        )
        if rule is not None:
            found[cycle.pk] = Pick(rule.assignee_id, Method.RULE, rule.pk)
        else:
            rest.append(cycle)
    if rest:
        # Locked in id order, so concurrent assigners queue here rather than deadlock.
        reps = list(
            RepProfile.objects.select_for_update()
            .filter(user_id__in=available, pool=pool)
            .order_by("user_id")
        )
        if not reps:
            found.update({c.pk: Pick(None, Method.NONE) for c in rest})
        else:
            counts = {r.user_id: r.rr_count for r in reps}
            weights = {r.user_id: r.capacity for r in reps}
            sequence = quota_round_robin(weights, counts, len(rest))
            found.update(
                {
                    c.pk: Pick(user, Method.ROUND_ROBIN)
                    for c, user in zip(rest, sequence, strict=True)
                }
            )
            for rep in reps:
                rep.rr_count = counts[rep.user_id]
            RepProfile.objects.bulk_update(reps, ["rr_count"])
    return found


def _managers() -> list[int]:
    User = get_user_model()
    return list(
        User.objects.filter(is_active=True, groups__name=Role.SALES_MANAGER)
        .distinct()
        .values_list("id", flat=True)
    )


def cycles_assign(
    *,
    cycles: Sequence[Cycle],
    pool: str = Pool.INSIDE,
    to_user=None,
    by=None,
    at: datetime | None = None,
) -> dict[int, int | None]:
    """Give each cycle an owner in ``pool`` (or ``to_user``), in the caller's transaction.

    Writes the owners with one bulk update, an ``Assignment`` row each and a
    notification for each new owner; cycles nobody can take wait unassigned, and the
    managers are told. Returns {cycle id: user id or None}.
    """
    if not cycles:
        return {}
    at = at or timezone.now()
    today = timezone.localtime(at, timezone.get_default_timezone()).date()
    with transaction.atomic():
        if to_user is not None:
            picks = {c.pk: Pick(to_user.pk, Method.MANAGER if by else Method.RULE) for c in cycles}
        else:
            picks = _picks(cycles, pool, today)
        field = "owner" if pool == Pool.INSIDE else "field_owner"
        stamp = "assigned_at" if pool == Pool.INSIDE else "field_assigned_at"
        by_user: dict[int | None, list[int]] = {}
        for cycle in cycles:
            pick = picks[cycle.pk]
            setattr(cycle, f"{field}_id", pick.user_id)
            setattr(cycle, stamp, at if pick.user_id else None)
            by_user.setdefault(pick.user_id, []).append(cycle.pk)
        # One UPDATE per rep (a pool has tens), not per cycle, nor a CASE per row.
        for user_id, ids in by_user.items():
            Cycle.objects.filter(pk__in=ids).update(
                **{f"{field}_id": user_id, stamp: at if user_id else None}
            )
        cycles_changed.send(sender=Cycle, cycle_ids=[c.pk for c in cycles])
        Assignment.objects.bulk_create(
            [
                Assignment(
                    cycle=c,
                    pool=pool,
                    user_id=picks[c.pk].user_id,
                    method=picks[c.pk].method,
                    rule_id=picks[c.pk].rule_id,
                    by=by,
                    at=at,
                )
                for c in cycles
            ],
            batch_size=1000,
        )
        kind = Notification.Kind.ASSIGNED if pool == Pool.INSIDE else Notification.Kind.HANDED_OVER
        notes = [
            Notification(user_id=picks[c.pk].user_id, kind=kind, cycle=c, created_at=at)
            for c in cycles
            if picks[c.pk].user_id and (by is None or picks[c.pk].user_id != by.pk)
        ]
        waiting = [c for c in cycles if picks[c.pk].user_id is None]
        if waiting:
            managers = _managers()
            notes += [
                Notification(
                    user_id=manager,
                    kind=Notification.Kind.UNASSIGNED,
                    cycle=c,
                    created_at=at,
                    params={"pool": pool},
                )
                for c in waiting
                for manager in managers
            ]
            Cycle.objects.filter(pk__in=[c.pk for c in waiting]).update(unassigned_notified_at=at)
        Notification.objects.bulk_create(notes, batch_size=1000)
        if notes:
            from handoff.services.notifications import notifications_email_after_commit

            notifications_email_after_commit()
    return {pk: pick.user_id for pk, pick in picks.items()}


def cycles_reassign(*, actor, cycle_ids: Iterable[int], user_id: int) -> int:
    """A manager gives cycles (one or many) to a rep; recorded and the rep told.

    The inside owner before SQL, the field owner after. Raises PermissionDenied and
    ValidationError (the rep does not work in that pool). Returns how many moved.
    """
    from handoff.models import INSIDE_STAGES, OPEN_STAGES

    if not can_reassign(actor):
        raise PermissionDenied(_("Only a manager reassigns leads."))
    ids = sorted(set(cycle_ids))
    User = get_user_model()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationError({"user": _("Choose an active rep.")})
    now = timezone.now()
    moved = 0
    with transaction.atomic():
        cycles = list(Cycle.objects.select_for_update().filter(pk__in=ids, stage__in=OPEN_STAGES))
        for pool, group in (
            (Pool.INSIDE, [c for c in cycles if c.stage in INSIDE_STAGES]),
            (Pool.FIELD, [c for c in cycles if c.stage not in INSIDE_STAGES]),
        ):
            if not group:
                continue
            profile = RepProfile.objects.filter(user=user, pool=pool).first()
            if profile is None:
                raise ValidationError(
                    {
                        "user": _("%(user)s does not work in this pool.")
                        % {"user": user.display_name}
                    }
                )
            cycles_assign(cycles=group, pool=pool, to_user=user, by=actor, at=now)
            moved += len(group)
    return moved
