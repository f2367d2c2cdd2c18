"""The feedback reports: six pages on one filter bar, their drill-down and CSV (thin)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.decorators import role_required
from feedback.permissions import can_export_reports, can_view_rep_figures, can_view_reports
from feedback.selectors import reports as selectors
from leads import csvio

TITLES = {
    "rejections": _("Rejection reasons"),
    "acceptance": _("Acceptance and conversion"),
    "funnel": _("Funnel"),
    "roi": _("Campaign and content ROI"),
    "sla": _("SLA compliance"),
    "effect": _("Effect of each definition"),
}
BREAKDOWN_CHOICES = (
    ("week", _("Week")), ("band", _("Band")), ("bucket", _("Score")), ("rule", _("Rule")),
    ("source", _("Source")), ("campaign", _("Campaign")), ("content", _("Content")),
)  # fmt: skip


def _problems(exc: ValidationError) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in exc.message_dict.items()}


def _base_context(request, slug: str) -> dict:
    return {
        "slug": slug,
        "title": TITLES.get(slug, ""),
        "tabs": [(key, TITLES[key]) for key in selectors.REPORTS],
        "choices": selectors.report_filter_choices(actor=request.user),
        "show_rep": can_view_rep_figures(request.user),
        # Every field's value, so the template never looks up a missing key.
        "values": {
            key: request.GET.get(key, "")
            for key in ("start", "end", "team", "rep", "band", "source", "by")
        }
        | {"days": request.GET.get("days", "30")},
        "problems": {},
        "breakdowns": BREAKDOWN_CHOICES,
    }


@role_required(can_view_reports)
def report_index(request):
    return redirect("feedback:report-rejections")


@role_required(can_view_reports)
def report_page(request, slug: str):
    context = _base_context(request, slug)
    try:
        f = selectors.report_filter_parse(actor=request.user, params=request.GET)
    except ValidationError as exc:
        context["problems"] = _problems(exc)
        return render(request, "feedback/reports/report.html", context, status=400)
    report = selectors.report_build(actor=request.user, slug=slug, f=f, params=request.GET)
    query = request.GET.urlencode()
    context["values"] |= f.params()
    context |= {"report": report, "filter": f, "query": query}
    return render(request, "feedback/reports/report.html", context)


@role_required(can_view_reports)
def report_leads(request):
    slug = request.GET.get("report", "")
    context = _base_context(request, slug)
    try:
        f = selectors.report_filter_parse(actor=request.user, params=request.GET)
        drill = selectors.report_leads(actor=request.user, f=f, params=request.GET)
    except (ValidationError, ValueError) as exc:
        problems = _problems(exc) if isinstance(exc, ValidationError) else {"": str(exc)}
        context["problems"] = problems
        return render(request, "feedback/reports/leads.html", context, status=400)
    back = request.GET.copy()
    for key in ("report", "reason", "kind", "week", "month", "bucket", "rule", "campaign",
                "content", "touch", "reached", "owner", "sla", "version", "window"):  # fmt: skip
        back.pop(key, None)
    context |= {"drill": drill, "filter": f, "back_query": back.urlencode(), "title": TITLES[slug]}
    return render(request, "feedback/reports/leads.html", context)


@role_required(can_export_reports)
def report_csv(request, slug: str):
    if slug not in selectors.REPORTS:
        return HttpResponseBadRequest(gettext("No such report."), content_type="text/plain")
    try:
        f = selectors.report_filter_parse(actor=request.user, params=request.GET)
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {v}" for k, v in _problems(exc).items())
        return HttpResponseBadRequest(
            gettext("Nothing was exported: fix these filters first. %(problems)s")
            % {"problems": problems},
            content_type="text/plain; charset=utf-8",
        )
    report = selectors.report_build(actor=request.user, slug=slug, f=f, params=request.GET)
    rows = [[str(TITLES[slug]), f"{f.start.isoformat()} – {f.end.isoformat()}"], []]
    rows += selectors.report_csv_rows(report)
    # Every text cell goes through leads' OWASP formula escaper (csv_stream).
    response = StreamingHttpResponse(csvio.csv_stream(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="report-{slug}-{stamp}.csv"'
    return response
