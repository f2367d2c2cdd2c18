from django.urls import path

from feedback.views import reports, reviews, verdicts

app_name = "feedback"
urlpatterns = [
    path("cycles/<int:cycle_id>/verdict/", verdicts.cycle_verdict, name="cycle-verdict"),
    path("cycles/<int:cycle_id>/outcome/", verdicts.cycle_outcome, name="cycle-outcome"),
    path("reviews/", reviews.review_list, name="review-list"),
    path("reviews/run/", reviews.review_run, name="review-run"),
    path("reviews/settings/", reviews.review_settings, name="review-settings"),
    path("reviews/schedule/", reviews.review_schedule, name="review-schedule"),
    path("reviews/<int:review_id>/", reviews.review_detail, name="review-detail"),
    path("reviews/<int:review_id>/progress/", reviews.review_progress, name="review-progress"),
    path("reviews/<int:review_id>/submit/", reviews.review_submit, name="review-submit"),
    path("reports/", reports.report_index, name="report-index"),
    path("reports/leads/", reports.report_leads, name="report-leads"),
    path("reports/<slug:slug>/csv/", reports.report_csv, name="report-csv"),
]
urlpatterns += [
    path(f"reports/{slug}/", reports.report_page, {"slug": slug}, name=f"report-{slug}")
    for slug in ("rejections", "acceptance", "funnel", "roi", "sla", "effect")
]
