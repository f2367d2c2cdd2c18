"""Feedback endpoints under /api/v1/ (docs/api.md)."""

from django.urls import path

from feedback.api import views

app_name = "feedback-api"

urlpatterns = [
    path("outcomes", views.OutcomeView.as_view(), name="outcomes"),
]
