"""Handoff endpoints under /api/v1/ (docs/api.md)."""

from django.urls import path

from handoff.api import views

app_name = "handoff-api"

urlpatterns = [
    path("handoff/leads", views.QueueView.as_view(), name="queue"),
    path("handoff/leads/<int:pk>/calls", views.CallView.as_view(), name="calls"),
    path("handoff/leads/<int:pk>/promote", views.PromoteView.as_view(), name="promote"),
]
