"""The definition's life: draft → awaiting approval → active → retired.

Marketing drafts (a copy of a version) and edits the draft, then submits it.
A version becomes active only once marketing and sales (a sales manager) have
both approved it in the current review round, each with a comment; activating
retires the previously active version and starts a full rescore. A refusal
sends the version back to draft; resubmitting starts a new round, so an
approval of an earlier text never counts for a changed one.

Every step writes an ``AuditEntry`` in the same transaction. Permission is
checked here (PermissionDenied), not only in views, so no caller can skip it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scoring.models import Approval, AuditEntry, DefinitionVersion
from scoring.permissions import (
    can_draft_definition,
    can_propose_definition,
    departments_of,
)
from scoring.services.jobs import rescore_full_start
from scoring.spec import SpecError, spec_normalised

Status = DefinitionVersion.Status
Department = Approval.Department


class ActivationConflict(Exception):
    """Another version was activated at the same moment; this one stays awaiting."""


class StaleDraft(ValidationError):
    """The draft was saved by someone else after the editor was opened; nothing was saved."""

    def __init__(self, version: DefinitionVersion) -> None:
        last = (
            AuditEntry.objects.filter(version=version, action=AuditEntry.Action.EDITED)
            .select_related("actor")
            .first()
        )
        who = last.actor.display_name if last and last.actor else ""
        when = timezone.localtime(version.updated_at).strftime("%Y-%m-%d %H:%M")
        super().__init__(
            _(
                "%(who)s saved this draft at %(when)s, after you opened it, so your changes are "
                "not saved yet. Check theirs in the version's history; saving again keeps yours "
                "and replaces theirs."
            )
            % {"who": who or _("Someone"), "when": when}
        )
        self.updated_at = version.updated_at


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        items: dict[str, Any] = {}
        for key, item in value.items():
            items.update(_flatten(item, f"{path}.{key}" if path else str(key)))
        return items
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, Mapping) and "key" in v for v in value)
    ):
        items = {}
        for item in value:
            items.update(_flatten(item, f"{path}[{item['key']}]"))
        return items
    return {path: value}


def spec_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What differs between two specs, one entry per changed leaf (rules by key)."""
    old, new = _flatten(before), _flatten(after)
    return [
        {"path": path, "before": old.get(path), "after": new.get(path)}
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


def _audit(version: DefinitionVersion, action: str, actor, **detail: Any) -> AuditEntry:
    return AuditEntry.objects.create(version=version, action=action, actor=actor, detail=detail)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _locked(version: DefinitionVersion) -> DefinitionVersion:
    return DefinitionVersion.objects.select_for_update().get(pk=version.pk)


def _valid_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return spec_normalised(spec)
    except SpecError as exc:
        raise ValidationError({"spec": exc.args[0]}) from None


@transaction.atomic
def draft_create(*, actor, based_on: DefinitionVersion, title: str = "") -> DefinitionVersion:
    """A new draft copying ``based_on``'s definition."""
    _require(can_draft_definition(actor), _("Only marketing drafts definitions."))
    # Numbers are taken under a lock on the newest version, so two drafts
    # created at once get different numbers rather than an IntegrityError.
    newest = DefinitionVersion.objects.select_for_update().order_by("-number").first()
    number = (newest.number if newest else 0) + 1
    version = DefinitionVersion.objects.create(
        number=number,
        title=title or _("Draft based on v%(n)d") % {"n": based_on.number},
        spec=based_on.spec,
        based_on=based_on,
        created_by=actor,
    )
    _audit(version, AuditEntry.Action.CREATED, actor, based_on=based_on.number)
    return version


def _scaled_cap(rule: Mapping[str, Any], points: float) -> float | None:
    """The rule's cap after its points change: in proportion, so it caps as many hits."""
    cap, old = rule.get("cap"), rule.get("points")
    if cap is None or not old or not points:
        return None
    return round(float(cap) * points / float(old), 2) + 0.0


def spec_with_changes(spec: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` with new points for some rules and new thresholds (plain data in, out).

    ``changes`` is ``{"points": {rule key: points}, "thresholds": {"warm": …, "hot": …}}``;
    a behaviour or intent rule's cap follows its points in proportion (none at 0 points).
    Unknown rule keys are a ValidationError, so a proposal never silently misses a rule.
    """
    new = {**spec, "thresholds": {**spec["thresholds"], **dict(changes.get("thresholds", {}))}}
    points = dict(changes.get("points", {}))
    for category in ("attributes", "behaviour", "intents"):
        rules = []
        for rule in spec.get(category, []):
            rule = dict(rule)
            if rule["key"] in points:
                value = round(float(points.pop(rule["key"])), 2) + 0.0
                if "cap" in rule:
                    rule["cap"] = _scaled_cap(rule, value)
                rule["points"] = value
            rules.append(rule)
        new[category] = rules
    if points:
        raise ValidationError(
            _("The proposal names rules the definition does not have: %(keys)s")
            % {"keys": ", ".join(sorted(points))}
        )
    return new


@transaction.atomic
def draft_propose(
    *,
    based_on: DefinitionVersion,
    changes: Mapping[str, Any],
    actor,
    note: str,
    title: str = "",
) -> DefinitionVersion:
    """A draft copying ``based_on`` with ``changes`` applied, proposed by ``actor`` or the system.

    ``changes`` as in ``spec_with_changes``. ``note`` becomes the draft's change note and
    its ``proposal_note`` (what proposed it), so it can be submitted at once; it then goes
    through the same two-department approval as any draft. ``actor`` None is the system
    (a scheduled review). Writes the version and its created / edited audit entries.
    """
    if actor is not None:
        _require(can_propose_definition(actor), _("Only marketing or a manager proposes."))
    if not note.strip():
        raise ValidationError({"change_note": _("Say what changed and why.")})
    spec = _valid_spec(spec_with_changes(based_on.spec, changes))
    newest = DefinitionVersion.objects.select_for_update().order_by("-number").first()
    number = (newest.number if newest else 0) + 1
    version = DefinitionVersion.objects.create(
        number=number,
        title=title or _("Proposed from v%(n)d") % {"n": based_on.number},
        spec=spec,
        based_on=based_on,
        created_by=actor,
        change_note=note.strip(),
        proposal_note=note.strip(),
    )
    _audit(version, AuditEntry.Action.CREATED, actor, based_on=based_on.number, proposed=True)
    changed = spec_changes(based_on.spec, spec)
    if changed:
        _audit(version, AuditEntry.Action.EDITED, actor, changes=changed)
    return version


@transaction.atomic
def draft_update(
    *,
    actor,
    version: DefinitionVersion,
    spec: Mapping[str, Any],
    title: str,
    change_note: str,
    opened_at: str | None = None,
) -> DefinitionVersion:
    """Replace a draft's definition, title and note; the audit records the differences.

    ``opened_at`` is the draft's ``updated_at`` (ISO format) when the editor
    was opened: if someone saved it since, ``StaleDraft`` is raised and
    nothing changes, so two marketers cannot silently overwrite each other.
    """
    _require(can_draft_definition(actor), _("Only marketing edits definitions."))
    version = _locked(version)
    if version.status != Status.DRAFT:
        raise ValidationError(
            _("Only a draft can be edited; this version is %(status)s.")
            % {"status": version.get_status_display()}
        )
    if opened_at is not None and opened_at != version.updated_at.isoformat():
        raise StaleDraft(version)
    if not title.strip():
        raise ValidationError({"title": _("Give the version a title.")})
    new_spec = _valid_spec(spec)
    changes = spec_changes(version.spec, new_spec)
    title = title.strip()
    if version.title != title:
        changes.insert(0, {"path": "title", "before": version.title, "after": title})
    if version.change_note != change_note:
        changes.insert(
            0, {"path": "change_note", "before": version.change_note, "after": change_note}
        )
    if not changes:
        return version
    version.spec, version.title, version.change_note = new_spec, title, change_note
    version.save(update_fields=["spec", "title", "change_note", "updated_at"])
    _audit(version, AuditEntry.Action.EDITED, actor, changes=changes)
    return version


@transaction.atomic
def draft_submit(*, actor, version: DefinitionVersion) -> DefinitionVersion:
    """Ask marketing and sales to approve the draft (a new review round).

    Marketing submits any draft; a proposed one (``proposal_note`` set) also whoever
    may propose (a manager who ran the review).
    """
    version = _locked(version)
    _require(
        can_draft_definition(actor)
        or bool(version.proposal_note and can_propose_definition(actor)),
        _("Only marketing submits definitions."),
    )
    if version.status != Status.DRAFT:
        raise ValidationError(_("Only a draft can be submitted."))
    if not version.change_note.strip():
        raise ValidationError({"change_note": _("Say what changed and why before submitting.")})
    version.status = Status.AWAITING
    version.review_round += 1
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "review_round", "submitted_at", "updated_at"])
    _audit(version, AuditEntry.Action.SUBMITTED, actor, round=version.review_round)
    return version


@transaction.atomic
def version_withdraw(*, actor, version: DefinitionVersion) -> DefinitionVersion:
    """Take an awaiting version back to draft (its approvals so far lapse)."""
    _require(can_draft_definition(actor), _("Only marketing withdraws definitions."))
    version = _locked(version)
    if version.status != Status.AWAITING:
        raise ValidationError(_("Only a version awaiting approval can be withdrawn."))
    version.status = Status.DRAFT
    version.save(update_fields=["status", "updated_at"])
    _audit(version, AuditEntry.Action.WITHDRAWN, actor)
    return version


def version_decide(
    *,
    actor,
    version: DefinitionVersion,
    department: str,
    approve: bool,
    comment: str,
) -> DefinitionVersion:
    """Approve or refuse for a department; activates on the second approval.

    Raises ActivationConflict if another version was activated concurrently
    (the approval is then not recorded; try again).
    """
    if department not in departments_of(actor):
        raise PermissionDenied(_("You cannot decide for this department."))
    if not comment.strip():
        raise ValidationError({"comment": _("A decision needs a comment.")})
    try:
        with transaction.atomic():
            version = _decide(actor, version, department, approve, comment.strip())
    except IntegrityError as exc:
        if "scoring_one_active_definition" in str(exc):
            raise ActivationConflict(
                _("Another version was activated at the same moment. Reload and try again.")
            ) from None
        raise
    if version.status == Status.ACTIVE:
        rescore_full_start(version=version, actor=actor)
    return version


def _decide(actor, version, department, approve, comment) -> DefinitionVersion:
    version = _locked(version)
    if version.status != Status.AWAITING:
        raise ValidationError(_("Only a version awaiting approval can be decided."))
    this_round = version.approvals.filter(review_round=version.review_round)
    if this_round.filter(department=department).exists():
        raise ValidationError(_("This department has already decided in this round."))
    if (
        approve
        and this_round.filter(decided_by=actor, decision=Approval.Decision.APPROVED).exists()
    ):
        # Two departments sign; one person holding both roles cannot sign twice.
        raise ValidationError(
            _("You approved for the other department; this approval must come from someone else.")
        )
    Approval.objects.create(
        version=version,
        review_round=version.review_round,
        department=department,
        decision=Approval.Decision.APPROVED if approve else Approval.Decision.REFUSED,
        comment=comment,
        decided_by=actor,
    )
    action = AuditEntry.Action.APPROVED if approve else AuditEntry.Action.REFUSED
    _audit(
        version, action, actor, department=department, comment=comment, round=version.review_round
    )
    if not approve:
        version.status = Status.DRAFT
        version.save(update_fields=["status", "updated_at"])
        return version
    approved = set(
        version.approvals.filter(
            review_round=version.review_round, decision=Approval.Decision.APPROVED
        ).values_list("department", flat=True)
    )
    if approved >= {Department.MARKETING, Department.SALES}:
        _activate(version, actor)
    return version


def _activate(version: DefinitionVersion, actor) -> None:
    now = timezone.now()
    current = DefinitionVersion.objects.select_for_update().filter(status=Status.ACTIVE).first()
    if current is not None:
        current.status = Status.RETIRED
        current.retired_at = now
        current.save(update_fields=["status", "retired_at", "updated_at"])
        _audit(current, AuditEntry.Action.RETIRED, actor, replaced_by=version.number)
    version.status = Status.ACTIVE
    version.activated_at = now
    # The partial unique index refuses a second active version: a racing
    # activation fails here (IntegrityError) and its transaction rolls back.
    version.save(update_fields=["status", "activated_at", "updated_at"])
    _audit(
        version, AuditEntry.Action.ACTIVATED, actor, replaced=current.number if current else None
    )
