from django.urls import path

from feedback.views import reports, verdicts

app_name = "feedback"
urlpatterns = [
    path("cycles/<int:cycle_id>/verdict/", verdicts.cycle_verdict, name="cycle-verdict"),
    path("cycles/<int:cycle_id>/outcome/", verdicts.cycle_outcome, name="cycle-outcome"),
    path("reports/", reports.report_index, name="report-index"),
    path("reports/leads/", reports.report_leads, name="report-leads"),
    path("reports/<slug:slug>/csv/", reports.report_csv, name="report-csv"),
]
urlpatterns += [
    path(f"reports/{slug}/", reports.report_page, {"slug": slug}, name=f"report-{slug}")
    for slug in ("rejections", "acceptance", "funnel", "roi", "sla", "effect")
]
