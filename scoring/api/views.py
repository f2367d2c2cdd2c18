"""GET /api/v1/leads/{id}/score: a lead's score with every point explained."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.api import schema as _schema  # noqa: F401  (registers the Bearer scheme)
from leads.models import Contact
from scoring.api.serializers import LeadScoreSerializer
from scoring.explain import lead_score_explain
from scoring.panels import standing_sentence
from scoring.permissions import can_read_scores


class CanReadScores(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(can_read_scores(request.user))


class LeadScoreView(APIView):
    permission_classes = [CanReadScores]

    @extend_schema(
        tags=["scores"],
        operation_id="lead_score",
        summary="A lead's score under the active definition, with its breakdown by rule",
        responses={
            200: LeadScoreSerializer,
            404: OpenApiResponse(description="No such lead, or no active definition."),
        },
    )
    def get(self, request, pk: int):
        if not Contact.objects.filter(pk=pk).exists():
            raise Http404
        explanation = lead_score_explain(contact_id=pk)
        if explanation is None:
            raise Http404
        language = translation.get_language() or "ja"
        others = [code for code, _name in settings.LANGUAGES if code != language]
        body = explanation.as_dict(languages=(language, *others))
        body["summary"] = standing_sentence(
            explanation.standing, trigger_held=explanation.score.trigger_held
        )
        return Response(body)
