"""The handoff's own pages and actions. Thin: parse, call a service, render.

``workspace_context`` is the handoff's part of the lead and company pages (which
``portal`` composes): the cycle, its SLA, BANT, calls, the call form, promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from handoff import selectors
from handoff.forms import AbsenceForm, CallForm, RaiseForm, ReassignForm, RepForm, RuleForm
from handoff.models import (
    INSIDE_STAGES,
    Absence,
    AssignmentRule,
    Bant,
    BantStatus,
    Cycle,
    Pool,
    RepProfile,
    Stage,
)
from handoff.permissions import (
    can_edit_routing,
    can_raise_lead,
    can_reassign,
    can_see_notifications,
    can_view_queue,
    can_work_cycle,
    can_work_handover,
)
from handoff.services import notifications
from handoff.services import team as team_services
from handoff.services.assignment import cycles_reassign
from handoff.services.calendar import handoff_settings
from handoff.services.calls import BANT_ITEMS, BantIncomplete, bant_missing, call_log, cycle_promote
from handoff.services.lifecycle import (
    LeadAlreadyInQueue,
    TransitionConflict,
    TransitionRefused,
    cycle_raise,
)
from handoff.services.sla import sla_state
from leads.models import Contact
from scoring.views.display import label_text, points

FUNNEL = (Stage.MQL, Stage.ACCEPTED, Stage.WORKING, Stage.SQL, Stage.HANDED_OVER,
          Stage.OPPORTUNITY, Stage.WON)  # fmt: skip


def _bant_names() -> dict[str, str]:
    return {
        "budget": gettext("Budget"),
        "authority": gettext("Authority"),
        "need": gettext("Need"),
        "timeframe": gettext("Timeframe"),
    }


@dataclass(frozen=True, slots=True)
class BantChip:
    item: str
    label: str
    status: str
    status_label: str
    from_form: bool
    detail: str


def bant_chips(bant: Bant) -> list[BantChip]:
    names = _bant_names()
    details = {
        "budget": bant.get_budget_range_display() if bant.budget_range else (
            gettext("%(n)s 万円") % {"n": f"{bant.budget_amount_man:,}"}
            if bant.budget_amount_man is not None else ""
        ),
        "authority": ", ".join(
            p for p in (
                bant.get_authority_role_display() if bant.authority_role != Bant.Role.UNKNOWN else "",
                bant.decision_maker_name,
            ) if p
        ),
        "need": ", ".join(
            p.label(translation.get_language() or "ja") for p in bant.pain_points.all()
        ) if bant.pk else "",
        "timeframe": bant.timeframe_month.strftime("%Y-%m") if bant.timeframe_month else (
            bant.get_timeframe_kind_display() if bant.timeframe_kind else ""
        ),
    }  # fmt: skip
    return [
        BantChip(
            item=item,
            label=names[item],
            status=bant.status_of(item),
            status_label=str(BantStatus(bant.status_of(item)).label),
            from_form=getattr(bant, f"{item}_source") == "form",
            detail=details[item] or (bant.form_answers or {}).get(item, ""),
        )
        for item in BANT_ITEMS
    ]


@dataclass(frozen=True, slots=True)
class Step:
    stage: str
    label: str
    state: str  # "done", "current", "todo"


def funnel_steps(cycle: Cycle) -> list[Step]:
    order = list(FUNNEL)
    if cycle.stage == Stage.SQL_ACCEPTED:
        at = order.index(Stage.HANDED_OVER)
    elif cycle.stage in order:
        at = order.index(cycle.stage)
    else:
        at = -1  # closed off the path (recycled, disqualified, lost)
    return [
        Step(stage, str(Stage(stage).label), "done" if n < at else "current" if n == at else "todo")
        for n, stage in enumerate(order)
    ]


def mql_lines(cycle: Cycle) -> list[tuple[str, str, bool]]:
    """(label, points, is_negative) of the breakdown kept from the MQL moment."""
    spec = cycle.version.spec if cycle.version_id else {}
    labels = {
        rule["key"]: label_text(rule.get("label"), rule["key"])
        for category in ("attributes", "behaviour", "intents")
        for rule in spec.get(category, [])
    }
    return [
        (
            labels.get(part["rule"], part["rule"]),
            points(round(part["points"], 1)),
            part["points"] < 0,
        )
        for part in cycle.breakdown[:8]
    ]


def workspace_context(
    request,
    *,
    contact: Contact | None = None,
    company=None,
    call_form: CallForm | None = None,
    raise_form: RaiseForm | None = None,
    problem: str = "",
) -> dict:
    """The handoff's part of a lead's (or an account's) page; see the module."""
    user = request.user
    if contact is not None:
        cycle = selectors.cycle_of_contact(contact_id=contact.pk)
    else:
        cycle = selectors.cycle_of_account(company_id=company.pk)
    now = timezone.now()
    context: dict = {
        "cycle": cycle,
        "handoff_problem": problem,
        "can_raise": can_raise_lead(user)
        and contact is not None
        and (cycle is None or not cycle.is_open),
        "raise_form": raise_form or RaiseForm(),
        "raise_contact": contact,
    }
    if cycle is None:
        return context
    bant = selectors.bant_of(cycle)
    works = cycle.is_open and cycle.stage in INSIDE_STAGES and can_work_cycle(user, cycle)
    missing, more = bant_missing(bant) if cycle.stage == Stage.WORKING else ([], 0)
    names = _bant_names()
    soon = timedelta(minutes=handoff_settings().remind_before_minutes)
    context |= {
        "sla": sla_state(cycle, now=now, soon=soon),
        "steps": funnel_steps(cycle),
        "chips": bant_chips(bant),
        "calls": list(cycle.calls.select_related("rep")[:10]),
        "mql_lines": mql_lines(cycle),
        "can_work": works,
        "can_work_handover": cycle.is_open and can_work_handover(user, cycle),
        "call_form": call_form or (CallForm.for_bant(bant) if works else None),
        "can_promote": works and cycle.stage == Stage.WORKING,
        "promote_missing": [names[i] for i in missing],
        "promote_more": more,
        "can_reassign": can_reassign(user) and cycle.is_open,
        "reassign_form": ReassignForm(
            pool=Pool.INSIDE if cycle.stage in INSIDE_STAGES else Pool.FIELD
        ),
    }
    return context


def _back(request, cycle: Cycle) -> str:
    if cycle.contact_id:
        return reverse("portal:lead-detail", args=[cycle.contact_id]) + "#handoff-panel"
    return reverse("portal:company-detail", args=[cycle.company_id]) + "#handoff-panel"


def _panel(request, cycle: Cycle, *, status: int = 200, **extra) -> HttpResponse:
    subject = {"contact": cycle.contact} if cycle.contact_id else {"company": cycle.company}
    context = workspace_context(request, **subject, **extra)
    return render(request, "handoff/_workspace.html", context, status=status)


@role_required(can_view_queue)
@require_POST
def cycle_call(request, cycle_id: int):
    cycle = selectors.cycle_get(cycle_id=cycle_id)
    if not can_work_cycle(request.user, cycle):
        raise PermissionDenied
    form = CallForm(request.POST)
    if not form.is_valid():
        return _panel(request, cycle, status=400, call_form=form)
    try:
        call_log(actor=request.user, cycle_id=cycle.pk, data=form.to_input())
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return _panel(request, cycle, status=400, call_form=form)
        return _panel(request, cycle, status=409, problem=" ".join(exc.messages))
    if not request.htmx:
        messages.success(request, gettext("Call logged."))
        return redirect(_back(request, cycle))
    return _panel(request, cycle)


@role_required(can_view_queue)
@require_POST
def cycle_promote_view(request, cycle_id: int):
    cycle = selectors.cycle_get(cycle_id=cycle_id)
    if not can_work_cycle(request.user, cycle):
        raise PermissionDenied
    try:
        promoted = cycle_promote(actor=request.user, cycle_id=cycle.pk)
    except (BantIncomplete, TransitionRefused, TransitionConflict) as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        if promoted.field_owner:
            messages.success(
                request,
                gettext("An SQL now, handed over to %(name)s.")
                % {"name": promoted.field_owner.display_name},
            )
        else:
            messages.warning(
                request,
                gettext("An SQL now. No field sales rep is in: the managers will hand it over."),
            )
    return redirect(_back(request, cycle))


@role_required(can_raise_lead)
@require_POST
def contact_raise(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    form = RaiseForm(request.POST)
    back = reverse("portal:lead-detail", args=[contact.pk]) + "#handoff-panel"
    if not form.is_valid():
        messages.warning(request, gettext("Say why this lead should be called."))
        return redirect(back)
    try:
        cycle_raise(actor=request.user, contact_id=contact.pk, reason=form.cleaned_data["reason"])
    except LeadAlreadyInQueue as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        messages.success(request, gettext("The lead is in the queue."))
    return redirect(back)


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@role_required(can_reassign)
@require_POST
def cycles_reassign_view(request):
    ids = [int(v) for v in request.POST.getlist("cycle") if v.isdigit()][:1000]
    form = ReassignForm(request.POST)
    back = _safe_next(request, reverse("portal:queue"))
    if not ids or not form.is_valid():
        messages.warning(request, gettext("Choose leads and the rep to give them to."))
        return redirect(back)
    try:
        moved = cycles_reassign(
            actor=request.user, cycle_ids=ids, user_id=form.cleaned_data["user"].pk
        )
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            gettext("%(n)s leads given to %(name)s.")
            % {"n": moved, "name": form.cleaned_data["user"].display_name},
        )
    return redirect(back)


# --- Notifications -----------------------------------------------------------------------


@role_required(can_see_notifications)
def notification_list(request):
    items = [
        (n, notifications.notification_text(n), notifications.notification_url(n))
        for n in selectors.notifications_for(actor=request.user)
    ]
    return render(request, "handoff/notification_list.html", {"items": items})


@role_required(can_see_notifications)
@require_POST
def notifications_read(request):
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()] or None
    notifications.notifications_mark_read(actor=request.user, ids=ids)
    target = request.POST.get("go", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("handoff:notification-list")


# --- The team's routing (managers) -----------------------------------------------------


@role_required(can_edit_routing)
def team(request):
    rule_form, absence_form = RuleForm(prefix="rule"), AbsenceForm(prefix="absence")
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "rule":
            rule = None
            if request.POST.get("rule_id", "").isdigit():
                rule = get_object_or_404(AssignmentRule, pk=int(request.POST["rule_id"]))
            rule_form = RuleForm(request.POST, prefix="rule", instance=rule)
            if rule_form.is_valid():
                team_services.routing_rule_save(
                    actor=request.user, values=rule_form.cleaned_data, rule=rule
                )
                messages.success(request, gettext("Routing rule saved."))
                return redirect("handoff:team")
        elif action == "rule-delete" and request.POST.get("rule_id", "").isdigit():
            team_services.routing_rule_delete(
                actor=request.user, rule_id=int(request.POST["rule_id"])
            )
            messages.success(request, gettext("Routing rule deleted."))
            return redirect("handoff:team")
        elif action == "rep" and request.POST.get("rep_id", "").isdigit():
            rep = get_object_or_404(RepProfile, pk=int(request.POST["rep_id"]))
            form = RepForm(request.POST, prefix=f"rep{rep.pk}", instance=rep)
            if form.is_valid():
                team_services.rep_update(actor=request.user, rep_id=rep.pk, **form.cleaned_data)
                messages.success(request, gettext("Saved."))
                return redirect("handoff:team")
            messages.warning(request, " ".join(e for errs in form.errors.values() for e in errs))
        elif action == "absence":
            absence_form = AbsenceForm(request.POST, prefix="absence")
            if absence_form.is_valid():
                team_services.absence_add(
                    actor=request.user,
                    user_id=absence_form.cleaned_data["user"].pk,
                    day=absence_form.cleaned_data["day"],
                )
                messages.success(request, gettext("Absence recorded."))
                return redirect("handoff:team")
        elif action == "absence-delete" and request.POST.get("absence_id", "").isdigit():
            team_services.absence_remove(
                actor=request.user, absence_id=int(request.POST["absence_id"])
            )
            return redirect("handoff:team")
    today = timezone.localdate()
    reps = list(selectors.reps())
    context = {
        "reps": [(rep, RepForm(prefix=f"rep{rep.pk}", instance=rep)) for rep in reps],
        "rules": list(
            AssignmentRule.objects.select_related("assignee").order_by("pool", "order", "id")
        ),
        "rule_form": rule_form,
        "absence_form": absence_form,
        "absences": list(
            Absence.objects.filter(day__gte=today).select_related("user").order_by("day")
        ),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "handoff/team.html", context, status=status)
