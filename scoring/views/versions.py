"""The definition's versions: list, detail, and the workflow buttons. Thin views.

Every view checks its ``scoring.permissions`` predicate (anonymous → login,
no role → 403); the services check again, so a hidden button is never the
only guard.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from scoring import selectors
from scoring.forms import DecisionForm
from scoring.models import Approval, DefinitionVersion, RescoreJob
from scoring.permissions import (
    can_decide_definition,
    can_draft_definition,
    can_rescore,
    can_view_definitions,
    departments_of,
)
from scoring.services import definitions
from scoring.services.jobs import rescore_requested
from scoring.views import display

Status = DefinitionVersion.Status
PAGE_SIZE = 25


def _count_rules(spec) -> dict[str, int]:
    return {category: len(spec.get(category, [])) for category in selectors.RULE_CATEGORIES}


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: DefinitionVersion
    badge: str
    approvals: list[Approval]
    is_active: bool


@role_required(can_view_definitions)
def version_list(request):
    page = Paginator(selectors.version_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        VersionRow(
            version=v,
            badge=display.STATUS_BADGES[v.status],
            approvals=selectors.approvals_of_round(v) if v.status == Status.AWAITING else [],
            is_active=v.status == Status.ACTIVE,
        )
        for v in page
    ]
    active = selectors.version_active()
    context = {
        "page": page,
        "rows": rows,
        "target": "#version-table",
        "active": active,
        "active_scale": display.threshold_scale(active.spec["thresholds"]) if active else None,
        "active_counts": _count_rules(active.spec) if active else None,
        "active_bant": display.bant_sentence(active.spec.get("bant", {})) if active else "",
        "can_draft": can_draft_definition(request.user),
    }
    if request.htmx:
        return render(request, "scoring/_version_rows.html", context)
    return render(request, "scoring/version_list.html", context)


def job_context(job: RescoreJob | None) -> dict | None:
    """What the rescore progress bar shows; it polls while the job is queued or running."""
    if job is None:
        return None
    running = job.status in (RescoreJob.Status.QUEUED, RescoreJob.Status.RUNNING)
    bar = {
        RescoreJob.Status.DONE: "bg-success",
        RescoreJob.Status.FAILED: "bg-danger",
    }.get(job.status, "")
    moves = selectors.rescore_job_moves(job=job) if job.status == RescoreJob.Status.DONE else []
    return {
        "job": job,
        "running": running,
        "percent": job.percent,
        "bar_class": bar,
        "poll_url": reverse("scoring:rescore-progress", args=[job.pk]),
        "detail": gettext("%(scored)s of %(planned)s leads and accounts scored")
        % {"scored": f"{job.leads_scored:,}", "planned": f"{max(job.planned, job.leads_scored):,}"},
        "moves": [display.band_move(move) for move in moves],
        "outcome": display.moves_sentence(moves) if job.status == RescoreJob.Status.DONE else "",
    }


def _decision_forms(request, version, bound: DecisionForm | None):
    """One form per department the user may still decide for in this round."""
    if version.status != Status.AWAITING:
        return []
    decided = {a.department for a in selectors.approvals_of_round(version)}
    departments = departments_of(request.user)
    forms = []
    for department in departments:
        if department in decided:
            continue
        if bound is not None and bound.data.get("department") == department:
            form = bound
        else:
            form = DecisionForm(initial={"department": department}, departments=departments)
        forms.append((Approval.Department(department).label, form))
    return forms


def _detail_context(request, version: DefinitionVersion, decision: DecisionForm | None = None):
    user = request.user
    spec = version.spec
    approvals = selectors.approvals_of_round(version)
    decided = {a.department for a in approvals}
    is_marketing = can_draft_definition(user)
    active = selectors.version_active()
    return {
        "version": version,
        "badge": display.STATUS_BADGES[version.status],
        "scale": display.threshold_scale(spec["thresholds"]),
        "bant": display.bant_sentence(spec.get("bant", {})),
        "rules": display.rule_views(spec),
        "counts": _count_rules(spec),
        "approvals": approvals if version.review_round else [],
        "pending_departments": [
            label
            for value, label in Approval.Department.choices
            if value not in decided and version.status == Status.AWAITING
        ],
        "decision_forms": _decision_forms(request, version, decision),
        "can_edit": is_marketing and version.status == Status.DRAFT,
        "can_withdraw": is_marketing and version.status == Status.AWAITING,
        "can_copy": is_marketing,
        "can_rescore": can_rescore(user) and version.status == Status.ACTIVE,
        "active": active if active and active.pk != version.pk else None,
        "audit": display.audit_views(selectors.version_audit(version=version)),
        "progress": job_context(selectors.rescore_job_latest(version=version)),
    }


@role_required(can_view_definitions)
def version_detail(request, version_id: int):
    version = selectors.version_get(version_id=version_id)
    return render(request, "scoring/version_detail.html", _detail_context(request, version))


def _error_messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _back(version: DefinitionVersion, anchor: str = ""):
    return redirect(reverse("scoring:version-detail", args=[version.pk]) + anchor)


@role_required(can_draft_definition)
@require_POST
def version_copy(request, version_id: int):
    based_on = selectors.version_get(version_id=version_id)
    draft = definitions.draft_create(actor=request.user, based_on=based_on)
    messages.success(
        request,
        gettext("v%(n)s is a new draft copied from v%(from)s. Change it, then submit it.")
        % {"n": draft.number, "from": based_on.number},
    )
    return redirect("scoring:version-edit", draft.pk)


@role_required(can_draft_definition)
@require_POST
def version_submit(request, version_id: int):
    version = selectors.version_get(version_id=version_id)
    try:
        definitions.draft_submit(actor=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, _error_messages(exc))
    else:
        messages.success(
            request,
            gettext("Submitted: marketing and a sales manager can now approve or refuse it."),
        )
    return _back(version)


@role_required(can_draft_definition)
@require_POST
def version_withdraw(request, version_id: int):
    version = selectors.version_get(version_id=version_id)
    try:
        definitions.version_withdraw(actor=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, _error_messages(exc))
    else:
        messages.success(request, gettext("Withdrawn: the version is a draft again."))
    return _back(version)


@role_required(can_decide_definition)
@require_POST
def version_decide(request, version_id: int):
    version = selectors.version_get(version_id=version_id)
    departments = departments_of(request.user)
    if request.POST.get("department") not in departments:
        raise PermissionDenied
    form = DecisionForm(request.POST, departments=departments)
    if not form.is_valid():
        context = _detail_context(request, version, decision=form)
        return render(request, "scoring/version_detail.html", context, status=400)
    data = form.cleaned_data
    try:
        version = definitions.version_decide(
            actor=request.user,
            version=version,
            department=data["department"],
            approve=data["decision"] == DecisionForm.APPROVE,
            comment=data["comment"],
        )
    except ValidationError as exc:
        messages.error(request, _error_messages(exc))
    except definitions.ActivationConflict as exc:
        messages.error(request, str(exc))
    else:
        if version.status == Status.ACTIVE:
            messages.success(
                request,
                gettext("v%(n)s is now the active definition; all leads are being rescored.")
                % {"n": version.number},
            )
        elif data["decision"] == DecisionForm.APPROVE:
            messages.success(
                request, gettext("Approved. The other department's approval is still needed.")
            )
        else:
            messages.info(
                request, gettext("Refused: the version went back to marketing as a draft.")
            )
    return _back(version)


@role_required(can_rescore)
@require_POST
def version_rescore(request, version_id: int):
    version = selectors.version_get(version_id=version_id)
    try:
        rescore_requested(actor=request.user, version=version)
    except ValidationError as exc:
        messages.warning(request, _error_messages(exc))
    else:
        messages.success(request, gettext("Rescoring all leads and accounts under this version."))
    return _back(version, "#rescore")


@role_required(can_view_definitions)
def rescore_progress(request, job_id: int) -> HttpResponse:
    job = selectors.rescore_job_get(job_id=job_id)
    return render(request, "scoring/_rescore_progress.html", job_context(job))
