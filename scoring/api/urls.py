"""Scoring endpoints under /api/v1/ (docs/api.md)."""

from django.urls import path

from scoring.api import views

app_name = "scoring-api"

urlpatterns = [
    path("leads/<int:pk>/score", views.LeadScoreView.as_view(), name="lead-score"),
]
