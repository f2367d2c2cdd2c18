"""Outcomes from the CRM over the API (docs/api.md): idempotent on the CRM's deal id."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from feedback.api import serializers as s
from feedback.permissions import can_use_outcomes_api
from feedback.services.outcomes import LeadNotFound, outcome_record
from leads.api import schema as _schema  # noqa: F401  (registers the Bearer scheme)
from leads.api.parsers import JSONBodyParser


class CanRecordOutcomes(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(can_use_outcomes_api(request.user))


@extend_schema(
    tags=["feedback"],
    summary="Record a deal from the CRM: created, won or lost (idempotent on crm_id)",
    request=s.OutcomeInSerializer,
    responses={
        201: s.OutcomeOutSerializer,
        200: s.OutcomeOutSerializer,
        400: OpenApiResponse(description='Field errors: {"closed_on": ["…"]}.'),
        403: OpenApiResponse(description="The deal's lead is not yours to record."),
        404: OpenApiResponse(description='No such lead: {"email": ["…"]}.'),
    },
)
class OutcomeView(generics.GenericAPIView):
    permission_classes = [CanRecordOutcomes]
    parser_classes = [JSONBodyParser]
    serializer_class = s.OutcomeInSerializer

    def post(self, request):
        body = s.OutcomeInSerializer(data=request.data)
        if not body.is_valid():
            raise exceptions.ValidationError(body.errors)
        data = body.validated_data
        try:
            result = outcome_record(
                actor=request.user,
                crm_id=data["crm_id"],
                status=data["status"],
                amount=data.get("amount"),
                created_on=data.get("created_on"),
                closed_on=data.get("closed_on"),
                email=data.get("email") or "",
                contact_id=data.get("contact_id"),
                crm_lead_id=data.get("crm_lead_id") or "",
            )
        except LeadNotFound as exc:
            return Response(exc.message_dict, status=status.HTTP_404_NOT_FOUND)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            raise exceptions.ValidationError(detail) from None
        opp = result.opportunity
        out = {
            "id": opp.pk,
            "crm_id": opp.crm_id,
            "crm_lead_id": opp.crm_lead_id,
            "contact_id": opp.contact_id,
            "cycle_id": opp.cycle_id,
            "cycle_stage": result.cycle_stage,
            "status": opp.status,
            "amount": opp.amount,
            "created_on": opp.created_on,
            "closed_on": opp.closed_on,
            "created": result.created,
            "changed": result.changed,
        }
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(s.OutcomeOutSerializer(out).data, status=code)
