"""The older pages of a lead's or a company's timeline (htmx "show older")."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext

from accounts.decorators import role_required
from leads import selectors
from leads.permissions import can_view_leads


def timeline_context(page: selectors.TimelinePage, *, url: str, continues: str = "") -> dict:
    """What ``leads/_timeline.html`` needs: the page, and where its older part is.

    ``continues`` is the ISO date whose header the previous page already showed.
    """
    older_url = ""
    if page.older:
        last_day = page.days[-1].day.isoformat() if page.days else ""
        older_url = f"{url}?before={page.older}&day={last_day}"
    return {"timeline": page, "older_url": older_url, "continues": continues}


def _render(request, page_of, subject, url: str):
    try:
        page = page_of(actor=request.user, before=request.GET.get("before"), subject=subject)
    except selectors.BadCursor:
        return HttpResponseBadRequest(
            gettext("That link to older activity is not valid."),
            content_type="text/plain; charset=utf-8",
        )
    context = timeline_context(page, url=url, continues=request.GET.get("day", ""))
    context["show_contact"] = request.GET.get("show_contact") == "1"
    return render(request, "leads/_timeline.html", context)


@role_required(can_view_leads)
def contact_timeline(request, contact_id: int):
    contact = selectors.contact_get_for(actor=request.user, contact_id=contact_id)
    return _render(
        request,
        lambda subject, **kw: selectors.contact_timeline(contact=subject, **kw),
        contact,
        reverse("leads:contact-timeline", args=[contact.pk]),
    )


@role_required(can_view_leads)
def company_timeline(request, company_id: int):
    company = selectors.company_get_for(actor=request.user, company_id=company_id)
    return _render(
        request,
        lambda subject, **kw: selectors.company_timeline(company=subject, **kw),
        company,
        reverse("leads:company-timeline", args=[company.pk]),
    )
