from django.urls import path

from leads.views import browse, exports, imports

app_name = "leads"
urlpatterns = [
    path("", browse.lead_list, name="lead-list"),
    path("<int:contact_id>/", browse.lead_detail, name="lead-detail"),
    path("companies/", browse.company_list, name="company-list"),
    path("companies/<int:company_id>/", browse.company_detail, name="company-detail"),
    path("export.csv", exports.lead_export, name="lead-export"),
    path("imports/", imports.import_list, name="import-list"),
    path("imports/<int:job_id>/", imports.import_detail, name="import-detail"),
    path("imports/<int:job_id>/progress/", imports.import_progress, name="import-progress"),
    path("imports/<int:job_id>/check/", imports.import_check, name="import-check"),
    path("imports/<int:job_id>/commit/", imports.import_commit, name="import-commit"),
]
