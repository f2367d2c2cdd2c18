"""The leads and companies pages: leads' rows and facts beside scoring's scores. Thin.

Each app renders its own parts: leads the contact, company and timeline fragments,
scoring the score panel, the score cell and the contacts' roll-up.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django_filters import FilterSet

from accounts.decorators import role_required
from feedback.panels import verdict_panel
from handoff.views import workspace_context
from leads import selectors
from leads.permissions import can_export_leads, can_import_leads, can_view_leads
from leads.views.timeline import timeline_context
from portal import lists
from portal.figures import home_figures_if_counted
from portal.pagination import DeferredJoinPaginator
from scoring import panels

PAGE_SIZE = 25


def _page(request, queryset, *, known_count: int | None = None):
    paginator = DeferredJoinPaginator(queryset, PAGE_SIZE)
    if known_count is not None:
        paginator.count = known_count  # counted already (Home's figures)
    return paginator.get_page(request.GET.get("page"))


def _narrows(request, filterset: FilterSet) -> bool:
    """Whether the list shows fewer rows than all: a filter given, or an invalid form."""
    return (filterset.is_bound and not filterset.is_valid()) or any(
        v for k, v in request.GET.items() if k not in ("page", "sort")
    )


def _querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _render_filtered_list(
    request, filterset: FilterSet, *, template: str, fragment: str, **extra: Any
) -> HttpResponse:
    """One page of ``filterset``'s rows: the whole page, or for htmx only its rows fragment."""
    total = extra.pop("total", None)  # every row's count, when the list is not narrowed
    known = total() if total is not None and not _narrows(request, filterset) else None
    # An invalid filter form yields no rows.
    page = _page(request, lists.rows_of(filterset), known_count=known)
    with_rows = extra.pop("with_rows", None)
    context = {
        "filter": filterset,
        "page": page,
        "rows": with_rows(list(page.object_list)) if with_rows else None,
        "query": _querystring_without_page(request),
        "can_import": can_import_leads(request.user),
        "is_filtered": any(v for k, v in request.GET.items() if k != "page"),
        "score_thresholds": panels.list_thresholds(),
        **extra,
    }
    return render(request, fragment if request.htmx else template, context)


@role_required(can_view_leads)
def lead_list(request):
    return _render_filtered_list(
        request,
        lists.lead_filter_for(actor=request.user, params=request.GET),
        template="portal/lead_list.html",
        fragment="portal/_lead_rows.html",
        can_export=can_export_leads(request.user),
        # Every lead, as Home last counted them (a minute old at most while people use
        # Home): COUNT(*) of 200,000 leads is most of the first page's time.
        total=lambda: (f := home_figures_if_counted()) and f.leads.contacts,
    )


@role_required(can_view_leads)
def lead_detail(request, contact_id: int):
    contact = selectors.contact_get_for(actor=request.user, contact_id=contact_id)
    summary = selectors.activity_summary(contact=contact)
    timeline = selectors.contact_timeline(actor=request.user, contact=contact)
    context = {
        "contact": contact,
        "company": contact.company,
        "chart": {"labels": [s.label for s in summary], "counts": [s.count for s in summary]},
        "panel": panels.lead_score_panel(contact_id=contact.id),
        **(workspace := workspace_context(request, contact=contact)),
        "verdict": verdict_panel(user=request.user, cycle=workspace["cycle"]),
        **timeline_context(timeline, url=reverse("leads:contact-timeline", args=[contact.pk])),
    }
    return render(request, "portal/lead_detail.html", context)


@role_required(can_view_leads)
def company_list(request):
    return _render_filtered_list(
        request,
        lists.company_filter_for(actor=request.user, params=request.GET),
        template="portal/company_list.html",
        fragment="portal/_company_rows.html",
        with_rows=lists.company_rows,
    )


@role_required(can_view_leads)
def company_detail(request, company_id: int):
    company = selectors.company_get_for(actor=request.user, company_id=company_id)
    summary = selectors.activity_summary(company=company)
    timeline = selectors.company_timeline(actor=request.user, company=company)
    context = {
        "company": company,
        "contacts": lists.company_contacts(company=company),
        "chart": {"labels": [s.label for s in summary], "counts": [s.count for s in summary]},
        "panel": panels.account_score_panel(company_id=company.id),
        **(workspace := workspace_context(request, company=company)),
        "verdict": verdict_panel(user=request.user, cycle=workspace["cycle"]),
        "rollup": panels.contacts_rollup(company_ids=[company.id])[company.id],
        "score_thresholds": panels.list_thresholds(),
        "show_contact": True,
        **timeline_context(timeline, url=reverse("leads:company-timeline", args=[company.pk])),
    }
    return render(request, "portal/company_detail.html", context)
