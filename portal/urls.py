from django.urls import path

from portal.views import exports, leads, queue

app_name = "portal"
urlpatterns = [
    path("leads/", leads.lead_list, name="lead-list"),
    path("leads/<int:contact_id>/", leads.lead_detail, name="lead-detail"),
    path("leads/companies/", leads.company_list, name="company-list"),
    path("leads/companies/<int:company_id>/", leads.company_detail, name="company-detail"),
    path("leads/export.csv", exports.lead_export, name="lead-export"),
    path("handoff/", queue.queue, name="queue"),
]
