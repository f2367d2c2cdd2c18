"""/api/v1/ (docs/api.md). No trailing slashes: integrations post to exact paths."""

from django.urls import path

from leads.api import views

app_name = "api"

urlpatterns = [
    path("events", views.EventBatchView.as_view(), name="event-batch"),
    path("event", views.EventView.as_view(), name="event-create"),
    path("companies", views.CompanyListView.as_view(), name="company-list"),
    path("companies/batch", views.CompanyBatchView.as_view(), name="company-batch"),
    path("companies/<int:pk>", views.CompanyDetailView.as_view(), name="company-detail"),
    path("contacts", views.ContactListView.as_view(), name="contact-list"),
    path("contacts/batch", views.ContactBatchView.as_view(), name="contact-batch"),
    path("contacts/<int:pk>", views.ContactDetailView.as_view(), name="contact-detail"),
    path("intent-signals", views.IntentListView.as_view(), name="intent-list"),
    path("intent-signals/batch", views.IntentBatchView.as_view(), name="intent-batch"),
    path("intent-signals/<int:pk>", views.IntentDetailView.as_view(), name="intent-detail"),
]
