"""The leads and companies pages. Thin: parse, call a selector, render."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django_filters import FilterSet

from accounts.decorators import role_required
from leads import selectors
from leads.permissions import can_export_leads, can_import_leads, can_view_leads
from scoring.explain import lead_score_explain

PAGE_SIZE = 25


def _page(request, queryset):
    paginator = Paginator(queryset, PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def _querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _render_filtered_list(
    request, filterset: FilterSet, *, template: str, fragment: str, **extra: Any
) -> HttpResponse:
    """One page of ``filterset``'s rows: the whole page, or for htmx only its rows fragment."""
    context = {
        "filter": filterset,
        "page": _page(request, filterset.qs),  # an invalid filter form yields no rows
        "query": _querystring_without_page(request),
        "can_import": can_import_leads(request.user),
        "is_filtered": any(v for k, v in request.GET.items() if k != "page"),
        **extra,
    }
    return render(request, fragment if request.htmx else template, context)


@role_required(can_view_leads)
def lead_list(request):
    contact_filter = selectors.contact_filter_for(actor=request.user, params=request.GET)
    return _render_filtered_list(
        request,
        contact_filter,
        template="leads/lead_list.html",
        fragment="leads/_lead_rows.html",
        can_export=can_export_leads(request.user),
    )


@role_required(can_view_leads)
def lead_detail(request, contact_id: int):
    contact = selectors.contact_get_for(actor=request.user, contact_id=contact_id)
    summary = selectors.activity_summary(contact=contact)
    context = {
        "contact": contact,
        "company": contact.company,
        "timeline": selectors.contact_timeline(actor=request.user, contact=contact),
        "chart": {"labels": [s.label for s in summary], "counts": [s.count for s in summary]},
        "explanation": lead_score_explain(contact_id=contact.id),
    }
    return render(request, "leads/lead_detail.html", context)


@role_required(can_view_leads)
def company_list(request):
    company_filter = selectors.company_filter_for(actor=request.user, params=request.GET)
    return _render_filtered_list(
        request,
        company_filter,
        template="leads/company_list.html",
        fragment="leads/_company_rows.html",
    )


@role_required(can_view_leads)
def company_detail(request, company_id: int):
    company = selectors.company_get_for(actor=request.user, company_id=company_id)
    summary = selectors.activity_summary(company=company)
    context = {
        "company": company,
        "contacts": list(company.contacts.order_by("-last_activity_at", "id")[:50]),
        "timeline": selectors.company_timeline(actor=request.user, company=company),
        "intent": list(company.intent_signals.all()[:20]),
        "chart": {"labels": [s.label for s in summary], "counts": [s.count for s in summary]},
    }
    return render(request, "leads/company_detail.html", context)
