"""Accept or reject a cycle's MQL or SQL: the verdict, and the stage change it makes.

Inside sales judge the MQLs they own (stage MQL, or accepted / working when a first call
accepted it without a verdict); field sales judge the SQLs handed to them (stage handed
over). Accepting moves an MQL to *accepted* and an SQL to *accepted by field sales*;
rejecting sends either back to nurture (*recycled*, with handoff's cooling-off) or, for a
permanent reason, to *disqualified*. The stage change is handoff's ``cycle_transition``
(which checks the funnel, the actor and a concurrent change) and the verdict row is
written in the same transaction, so a verdict never exists without its transition.
Two clicks at once: one wins; the other gets ``VerdictConflict`` (the unique verdict per
cycle and kind, or handoff's conditional stage update).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import Kind, Reason, Verdict
from feedback.permissions import can_judge_mql, can_judge_sql
from feedback.services.facts import cycle_facts_sync_after_commit
from handoff.models import Cycle, Stage
from handoff.services.lifecycle import TransitionConflict, TransitionRefused, cycle_transition

# The stages at which each verdict can still be given.
MQL_JUDGED_AT = frozenset({Stage.MQL, Stage.ACCEPTED, Stage.WORKING})
SQL_JUDGED_AT = frozenset({Stage.HANDED_OVER})
NOTE_MAX = 2000


class VerdictConflict(ValidationError):
    """The cycle was judged or moved by someone else a moment ago."""


def verdict_kind_for(cycle: Cycle) -> str | None:
    """Which verdict a cycle awaits at its stage (None: none is due)."""
    if cycle.stage in MQL_JUDGED_AT:
        return Kind.MQL
    if cycle.stage in SQL_JUDGED_AT:
        return Kind.SQL
    return None


def can_judge(user, cycle: Cycle, kind: str) -> bool:
    return bool(can_judge_mql(user, cycle) if kind == Kind.MQL else can_judge_sql(user, cycle))


def reasons_for(*, kind: str) -> list[Reason]:
    return [r for r in Reason.objects.filter(is_active=True) if r.offered_for(kind)]


def _clean(
    *, kind: str, decision: str, reason_code: str, note: str, judgement: str
) -> tuple[Reason | None, str, str]:
    errors: dict[str, str] = {}
    if decision not in Verdict.Decision.values:
        errors["decision"] = _("Choose accept or reject.")
    if judgement not in Verdict.Judgement.values:
        errors["judgement"] = _("Choose too high, about right or too low.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = _("Keep the note under %(n)d characters.") % {"n": NOTE_MAX}
    reason = None
    if decision == Verdict.Decision.REJECTED:
        reason = Reason.objects.filter(code=(reason_code or "").strip()).first()
        if not reason_code:
            errors["reason"] = _("Say why you reject this lead.")
        elif reason is None or not reason.offered_for(kind):
            errors["reason"] = _("Choose one of the offered reasons.")
    if errors:
        raise ValidationError(errors)
    return reason, note, judgement


def verdict_record(
    *,
    actor,
    cycle_id: int,
    decision: str,
    reason_code: str = "",
    note: str = "",
    judgement: str = "",
    at: datetime | None = None,
) -> Verdict:
    """Record ``actor``'s verdict on the MQL or SQL that cycle ``cycle_id`` awaits.

    Moves the cycle (accepted / accepted by field sales / recycled / disqualified) through
    handoff's transition service and writes the verdict, in one transaction.
    Raises ValidationError (field errors; no verdict due), PermissionDenied,
    VerdictConflict, Cycle.DoesNotExist.
    """
    at = at or timezone.now()
    cycle = Cycle.objects.get(pk=cycle_id)
    kind = verdict_kind_for(cycle)
    if kind is None:
        raise ValidationError(
            _("A lead at “%(stage)s” awaits no verdict.") % {"stage": cycle.get_stage_display()},
            code="not_due",
        )
    if not can_judge(actor, cycle, kind):
        raise PermissionDenied(_("This lead is not yours to judge."))
    reason, note, judgement = _clean(
        kind=kind, decision=decision, reason_code=reason_code, note=note, judgement=judgement
    )
    if decision == Verdict.Decision.ACCEPTED:
        target = Stage.ACCEPTED if kind == Kind.MQL else Stage.SQL_ACCEPTED
        if kind == Kind.MQL and cycle.stage != Stage.MQL:
            target = None  # a first call accepted it already; the verdict is the record
    else:
        target = Stage.DISQUALIFIED if reason.is_permanent else Stage.RECYCLED
    try:
        with transaction.atomic():
            if target is not None:
                # handoff checks the funnel and the actor, and that nobody moved it first.
                cycle = cycle_transition(
                    cycle_id=cycle.pk,
                    to_stage=target,
                    actor=actor,
                    reason_code=f"{kind}_{decision}" + (f":{reason.code}" if reason else ""),
                    note=note,
                    at=at,
                )
            elif not Cycle.objects.filter(pk=cycle.pk, stage=cycle.stage).exists():
                raise TransitionConflict("moved", code="conflict")
            # The reports' facts read the verdict after the commit.
            cycle_facts_sync_after_commit(cycle_ids=[cycle.pk])
            return Verdict.objects.create(
                cycle=cycle,
                kind=kind,
                decision=decision,
                reason=reason,
                disposition=target if decision == Verdict.Decision.REJECTED else "",
                note=note,
                judgement=judgement,
                actor=actor,
                at=at,
                score_total=cycle.score_total,
                score_band=cycle.score_band,
            )
    except (IntegrityError, TransitionConflict, TransitionRefused):
        raise VerdictConflict(
            _("Someone judged or moved this lead a moment ago. Reload it and try again."),
            code="conflict",
        ) from None
