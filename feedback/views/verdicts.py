"""Accept / reject buttons (the queue's rows, the workspace) and deals recorded by hand."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from feedback.forms import OutcomeForm, VerdictForm
from feedback.models import Verdict
from feedback.panels import verdict_cell, verdict_panel
from feedback.permissions import can_record_outcome, can_view_reports
from feedback.services.outcomes import outcome_record
from feedback.services.verdicts import can_judge, verdict_kind_for, verdict_record
from handoff.models import Cycle
from handoff.permissions import can_view_cycle


def _cycle_for(user, cycle_id: int) -> Cycle:
    """The cycle, if ``user`` may see it at all (404 otherwise: out of scope)."""
    cycle = get_object_or_404(Cycle.objects.select_related("contact", "company"), pk=cycle_id)
    if not can_view_cycle(user, cycle):
        raise PermissionDenied
    return cycle


def _back(cycle: Cycle) -> str:
    if cycle.contact_id:
        return reverse("portal:lead-detail", args=[cycle.contact_id]) + "#verdict-panel"
    return reverse("portal:company-detail", args=[cycle.company_id]) + "#verdict-panel"


def _done_message(verdict: Verdict) -> str:
    if verdict.decision == Verdict.Decision.ACCEPTED:
        return gettext("Accepted. Thank you: this tells marketing the definition works.")
    if verdict.disposition == "disqualified":
        return gettext("Rejected (%(reason)s): the lead is disqualified.") % {
            "reason": verdict.reason.label
        }
    return gettext("Rejected (%(reason)s): the lead goes back to nurture.") % {
        "reason": verdict.reason.label
    }


def _respond(request, cycle: Cycle, *, problem: str = "", done: str = "", status: int = 200):
    """The htmx answer: the queue cell or the workspace panel, whichever asked."""
    cycle.refresh_from_db()
    if request.POST.get("from") == "queue":
        context = {"cell": verdict_cell(user=request.user, cycle=cycle), "cycle": cycle}
        template = "feedback/_verdict_cell.html"
    else:
        context = {"verdict": verdict_panel(user=request.user, cycle=cycle)}
        template = "feedback/_verdict_panel.html"
    context |= {"verdict_problem": problem, "verdict_done": done}
    response = render(request, template, context, status=status)
    if done:
        response["HX-Trigger"] = "verdict-recorded"
    return response


@role_required(can_view_reports)
@require_POST
def cycle_verdict(request, cycle_id: int):
    cycle = _cycle_for(request.user, cycle_id)
    kind = verdict_kind_for(cycle)
    # Visible but not theirs to judge: forbidden, whatever the form says. Nothing due
    # (judged already, moved on) is the service's clear message below.
    if kind is not None and not can_judge(request.user, cycle, kind):
        raise PermissionDenied
    form = VerdictForm(request.POST)
    if not form.is_valid():
        problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
        if not request.htmx:
            messages.warning(request, problem)
            return redirect(_back(cycle))
        return _respond(request, cycle, problem=problem, status=400)
    data = form.cleaned_data
    try:
        verdict = verdict_record(
            actor=request.user,
            cycle_id=cycle.pk,
            decision=data["decision"],
            reason_code=data.get("reason") or "",
            note=data.get("note") or "",
            judgement=data.get("judgement") or "",
        )
    except ValidationError as exc:
        problem = " ".join(exc.messages)
        if not request.htmx:
            messages.warning(request, problem)
            return redirect(_back(cycle))
        return _respond(request, cycle, problem=problem, status=409)
    done = _done_message(verdict)
    if not request.htmx:
        messages.success(request, done)
        return redirect(_back(cycle))
    return _respond(request, cycle, done=done)


@role_required(can_view_reports)
@require_POST
def cycle_outcome(request, cycle_id: int):
    cycle = _cycle_for(request.user, cycle_id)
    if not can_record_outcome(request.user, cycle):
        raise PermissionDenied
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.warning(
            request, " ".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect(_back(cycle))
    data = form.cleaned_data
    try:
        result = outcome_record(
            actor=request.user,
            crm_id=data["crm_id"],
            status=data["status"],
            amount=data.get("amount"),
            created_on=data.get("created_on"),
            closed_on=data.get("closed_on"),
            contact_id=cycle.contact_id,
        )
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        opp = result.opportunity
        if not result.changed:
            messages.info(request, gettext("Nothing new: the deal was recorded like this already."))
        else:
            messages.success(
                request,
                gettext("Deal %(id)s recorded: %(status)s.")
                % {"id": opp.crm_id, "status": opp.get_status_display()},
            )
    return redirect(_back(cycle))
