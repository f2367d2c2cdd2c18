from django.urls import path

from leads.views import imports, timeline

app_name = "leads"
urlpatterns = [
    path("<int:contact_id>/timeline/", timeline.contact_timeline, name="contact-timeline"),
    path(
        "companies/<int:company_id>/timeline/", timeline.company_timeline, name="company-timeline"
    ),
    path("imports/", imports.import_list, name="import-list"),
    path("imports/<int:job_id>/", imports.import_detail, name="import-detail"),
    path("imports/<int:job_id>/progress/", imports.import_progress, name="import-progress"),
    path("imports/<int:job_id>/check/", imports.import_check, name="import-check"),
    path("imports/<int:job_id>/commit/", imports.import_commit, name="import-commit"),
]
