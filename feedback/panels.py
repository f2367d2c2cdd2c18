"""What feedback shows on the pages that compose several apps: its own parts only.

The verdict buttons of the queue's rows (``verdict_cells``: one query for a page of
rows) and the verdict and outcome panel of a lead's workspace (``verdict_panel``). The
composing pages (``portal``) put them beside handoff's parts; the templates are
``feedback/_verdict_cell.html`` and ``feedback/_verdict_panel.html``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from feedback.models import Kind, Opportunity, Reason, Verdict
from feedback.permissions import can_record_outcome
from feedback.services.verdicts import can_judge, verdict_kind_for
from handoff.models import Cycle, Stage

# Stages at which a deal can be recorded from the workspace.
OUTCOME_STAGES = frozenset({Stage.HANDED_OVER, Stage.SQL_ACCEPTED, Stage.OPPORTUNITY})


@dataclass(frozen=True, slots=True)
class VerdictCell:
    """What a queue row offers: the verdict due, if this user may give it, and the reasons."""

    cycle_id: int
    kind: str | None
    can_judge: bool
    reasons: Sequence[Reason] = ()
    given: Verdict | None = None


@dataclass(frozen=True, slots=True)
class VerdictPanel:
    cycle: Cycle
    kind: str | None
    can_judge: bool
    reasons: Sequence[Reason]
    verdicts: Sequence[Verdict]
    opportunities: Sequence[Opportunity]
    can_record_outcome: bool
    judgements: Sequence[tuple[str, str]] = field(default_factory=tuple)


def _reasons() -> dict[str, list[Reason]]:
    active = list(Reason.objects.filter(is_active=True))
    return {kind: [r for r in active if r.offered_for(kind)] for kind in Kind.values}


def verdict_cells(*, user, cycles: Sequence[Cycle]) -> dict[int, VerdictCell]:
    """The verdict each cycle of a queue page awaits from ``user``: two queries in all."""
    ids = [c.pk for c in cycles]
    given = {
        (v.cycle_id, v.kind): v
        for v in Verdict.objects.filter(cycle_id__in=ids).select_related("reason")
    }
    reasons = _reasons() if ids else {}
    cells = {}
    for cycle in cycles:
        kind = verdict_kind_for(cycle)
        done = given.get((cycle.pk, kind)) if kind else None
        allowed = bool(kind and done is None and can_judge(user, cycle, kind))
        cells[cycle.pk] = VerdictCell(
            cycle_id=cycle.pk,
            kind=kind if done is None else None,
            can_judge=allowed,
            reasons=reasons.get(kind, []) if allowed else (),
            given=done or given.get((cycle.pk, Kind.MQL)),
        )
    return cells


def verdict_cell(*, user, cycle: Cycle) -> VerdictCell:
    return verdict_cells(user=user, cycles=[cycle])[cycle.pk]


def verdict_panel(*, user, cycle: Cycle | None) -> VerdictPanel | None:
    """The workspace's verdicts and deals for ``cycle`` (None: the lead has no cycle)."""
    if cycle is None:
        return None
    verdicts = list(cycle.verdicts.select_related("reason", "actor").order_by("at", "pk"))
    kind = verdict_kind_for(cycle)
    if kind and any(v.kind == kind for v in verdicts):
        kind = None
    allowed = bool(kind and can_judge(user, cycle, kind))
    return VerdictPanel(
        cycle=cycle,
        kind=kind,
        can_judge=allowed,
        reasons=_reasons()[kind] if allowed else (),
        verdicts=verdicts,
        opportunities=list(cycle.opportunities.order_by("-created_on", "-pk")),
        can_record_outcome=cycle.stage in OUTCOME_STAGES and bool(can_record_outcome(user, cycle)),
        judgements=[(v, str(label)) for v, label in Verdict.Judgement.choices if v],
    )
