"""Reads for the definition pages: versions, their approvals, audit trail and jobs.

Everyone with a role may read every version (``can_view_definitions``), so
nothing here is scoped further; the views check that predicate first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leads.models import Contact
from scoring.models import (
    Approval,
    AuditEntry,
    BandChange,
    DefinitionVersion,
    LeadScore,
    MqlEvent,
    RescoreJob,
)
from scoring.permissions import departments_of

RULE_CATEGORIES = ("attributes", "behaviour", "intents")


def version_list() -> QuerySet[DefinitionVersion]:
    """Every version, newest first, with its author and approvals (for the list page)."""
    return DefinitionVersion.objects.select_related("created_by", "based_on").prefetch_related(
        Prefetch("approvals", queryset=Approval.objects.select_related("decided_by"))
    )


def version_get(*, version_id: int) -> DefinitionVersion:
    """One version (404 if there is none)."""
    return get_object_or_404(
        DefinitionVersion.objects.select_related("created_by", "based_on").prefetch_related(
            Prefetch("approvals", queryset=Approval.objects.select_related("decided_by"))
        ),
        pk=version_id,
    )


def version_choices() -> list[tuple[int, str]]:
    """(id, "v3 Title (status)") for the compare page's pickers, newest first."""
    return [
        (v.pk, f"v{v.number} {v.title} ({v.get_status_display()})")
        for v in DefinitionVersion.objects.only("id", "number", "title", "status")
    ]


def version_active() -> DefinitionVersion | None:
    return DefinitionVersion.objects.filter(status=DefinitionVersion.Status.ACTIVE).first()


def approvals_of_round(version: DefinitionVersion) -> list[Approval]:
    """The decisions of the version's current review round (from a prefetch if present)."""
    return [a for a in version.approvals.all() if a.review_round == version.review_round]


def version_audit(*, version: DefinitionVersion, limit: int = 200) -> list[AuditEntry]:
    """The version's audit trail, newest first."""
    return list(version.audit_entries.select_related("actor")[:limit])


def rescore_job_latest(*, version: DefinitionVersion) -> RescoreJob | None:
    return (
        RescoreJob.objects.filter(version=version)
        .select_related("created_by")
        .order_by("-created_at", "-id")
        .first()
    )


def rescore_job_get(*, job_id: int) -> RescoreJob:
    return get_object_or_404(RescoreJob.objects.select_related("created_by"), pk=job_id)


BAND_ORDER = {"": -1, "cold": 0, "warm": 1, "hot": 2}


@dataclass(frozen=True, slots=True)
class BandMove:
    from_band: str  # "" for a lead scored for the first time
    to_band: str
    count: int

    @property
    def is_up(self) -> bool:
        return BAND_ORDER[self.to_band] > BAND_ORDER[self.from_band]


def rescore_job_moves(*, job: RescoreJob) -> list[BandMove]:
    """How many leads (not accounts) the job moved, by (from, to) band: one query.

    A job writes every band change it makes at its ``as_of`` (under its version),
    so they are found by that moment; most moved first, ups before downs.
    """
    rows = (
        BandChange.objects.filter(
            version_id=job.version_id, changed_at=job.as_of, contact__isnull=False
        )
        .order_by()
        .values_list("from_band", "to_band")
        .annotate(n=Count("id"))
    )
    moves = [BandMove(from_band=a, to_band=b, count=n) for a, b, n in rows]
    return sorted(moves, key=lambda m: (not m.is_up, -m.count, m.from_band, m.to_band))


def versions_awaiting(*, actor) -> list[DefinitionVersion]:
    """The versions waiting for a decision that ``actor`` may still give (one query).

    For each of the actor's departments that has not decided in the current round,
    unless the actor approved for the other one (one person never signs twice).
    """
    departments = set(departments_of(actor))
    if not departments:
        return []
    waiting = []
    for version in version_list().filter(status=DefinitionVersion.Status.AWAITING):
        this_round = approvals_of_round(version)
        decided = {a.department for a in this_round}
        signed = any(
            a.decided_by_id == actor.pk and a.decision == Approval.Decision.APPROVED
            for a in this_round
        )
        if departments - decided and not signed:
            waiting.append(version)
    return waiting


# --- Comparing two versions -----------------------------------------------------------

RuleStatus = Literal["added", "removed", "changed", "same"]


@dataclass(frozen=True, slots=True)
class RuleDiff:
    """One rule key across two specs: absent on one side, or which fields differ."""

    category: str
    key: str
    status: RuleStatus
    left: Mapping[str, Any] | None
    right: Mapping[str, Any] | None
    changed_fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class SpecComparison:
    """What differs between two specs: thresholds and BANT fields, and rules by key."""

    changed_thresholds: frozenset[str]
    changed_bant: frozenset[str]
    rules: Mapping[str, tuple[RuleDiff, ...]]  # by category, left's order then added rules

    @property
    def change_count(self) -> int:
        rule_changes = sum(1 for diffs in self.rules.values() for d in diffs if d.status != "same")
        return len(self.changed_thresholds) + len(self.changed_bant) + rule_changes


def _changed_fields(left: Mapping[str, Any], right: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))


def spec_compare(*, left: Mapping[str, Any], right: Mapping[str, Any]) -> SpecComparison:
    """Compare two stored specs field by field; rules are matched by their key."""
    rules: dict[str, tuple[RuleDiff, ...]] = {}
    for category in RULE_CATEGORIES:
        old = {r["key"]: r for r in left.get(category, [])}
        new = {r["key"]: r for r in right.get(category, [])}
        diffs = []
        for key in [*old, *(k for k in new if k not in old)]:
            a, b = old.get(key), new.get(key)
            if a is None:
                diffs.append(RuleDiff(category, key, "added", None, b, frozenset(b)))
            elif b is None:
                diffs.append(RuleDiff(category, key, "removed", a, None, frozenset(a)))
            else:
                changed = _changed_fields(a, b)
                status: RuleStatus = "changed" if changed else "same"
                diffs.append(RuleDiff(category, key, status, a, b, changed))
        rules[category] = tuple(diffs)
    return SpecComparison(
        changed_thresholds=_changed_fields(left.get("thresholds", {}), right.get("thresholds", {})),
        changed_bant=_changed_fields(left.get("bant", {}), right.get("bant", {})),
        rules=rules,
    )


# --- The dashboard --------------------------------------------------------------------


@dataclass(frozen=True)
class BandFigures:
    hot: int
    warm: int
    cold: int
    unscored: int
    new_mqls_7d: int

    @property
    def scored(self) -> int:
        return self.hot + self.warm + self.cold


def band_figures() -> BandFigures:
    """How many leads are hot, warm, cold or not scored yet, and the week's new MQLs: 3 queries."""
    counts = dict(
        LeadScore.objects.filter(contact__isnull=False)
        .order_by()
        .values_list("band")
        .annotate(n=Count("id"))
    )
    scored = sum(counts.values())
    week_ago = timezone.now() - timedelta(days=7)
    return BandFigures(
        hot=counts.get("hot", 0),
        warm=counts.get("warm", 0),
        cold=counts.get("cold", 0),
        unscored=max(0, Contact.objects.count() - scored),
        new_mqls_7d=MqlEvent.objects.filter(became_hot_at__gte=week_ago).count(),
    )
