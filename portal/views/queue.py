"""The inside sales queue and field sales' handovers: handoff's rows beside scoring's scores.

Composed here (above all apps) so that the feedback app's accept / reject buttons can sit
in the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import render
from django.utils import timezone

from accounts.decorators import role_required
from feedback.panels import VerdictCell, verdict_cells
from handoff import selectors
from handoff.forms import ReassignForm
from handoff.models import Cycle, Pool
from handoff.permissions import (
    can_reassign,
    can_view_handovers,
    can_view_queue,
    can_view_team_queue,
)
from handoff.services.sla import SlaState
from handoff.views import BantChip, bant_chips
from portal.lists import rows_of
from portal.pagination import DeferredJoinPaginator

PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class QueueRow:
    cycle: Cycle
    sla: SlaState
    chips: list[BantChip]
    verdict: VerdictCell


def _tabs(user) -> list[str]:
    tabs = []
    if can_view_queue(user) and not can_view_team_queue(user):
        tabs.append("mine")
    if can_view_team_queue(user):
        tabs.append("team")
    if can_view_handovers(user):
        tabs.append("handovers")
    return tabs


def _can_open(user) -> bool:
    return bool(can_view_queue(user) or can_view_handovers(user))


@role_required(_can_open)
def queue(request):
    tabs = _tabs(request.user)
    tab = request.GET.get("tab") if request.GET.get("tab") in tabs else tabs[0]
    now = timezone.now()
    filterset = None
    if tab == "handovers":
        scope = selectors.handovers_for(actor=request.user)
        rows = scope
    else:
        filterset = selectors.queue_filter_for(
            actor=request.user, params=request.GET, team=tab == "team"
        )
        scope = filterset.queryset
        rows = selectors.with_priority(rows_of(filterset), now=now)
    is_filtered = any(v for k, v in request.GET.items() if k not in ("page", "tab"))
    overview = selectors.queue_overview(scope, now=now) if tab != "handovers" else None
    # The page's ids from the queue's narrow index first, then those rows with their
    # contact, company, owners and BANT: a deep page skips ids, not joined rows.
    paginator = DeferredJoinPaginator(rows, PAGE_SIZE)
    if overview is not None and not is_filtered:
        paginator.count = overview.total  # counted already, in the same pass
    page = paginator.get_page(request.GET.get("page"))
    states = selectors.sla_states(page.object_list, now=now)
    cells = verdict_cells(user=request.user, cycles=list(page.object_list))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "tab": tab,
        "tabs": tabs,
        "filter": filterset,
        "page": page,
        "rows": [
            QueueRow(c, states[c.pk], bant_chips(selectors.bant_of(c)), cells[c.pk]) for c in page
        ],
        "stage_counts": overview.stages if overview else [],
        "sla_counts": overview.sla if overview else {},
        "can_reassign": can_reassign(request.user),
        "reassign_form": ReassignForm(pool=Pool.FIELD if tab == "handovers" else Pool.INSIDE),
        "query": params.urlencode(),
        "is_filtered": is_filtered,
    }
    template = "portal/_queue_rows.html" if request.htmx else "portal/queue.html"
    return render(request, template, context)
