"""The handoff over the API, for dialers and CRMs (docs/api.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from accounts.roles import is_integration, is_sales
from handoff.api import serializers as s
from handoff.api.filters import QUEUE_STAGES_API, SLA_STATES_API, QueueApiFilter
from handoff.models import CLOSED_STAGES, Cycle
from handoff.permissions import (
    can_use_handoff_api,
    can_view_team_queue,
    can_work_cycle,
    is_cycle_field_owner,
)
from handoff.selectors import bant_of, sla_states
from handoff.services.calls import BantIncomplete, CallInput, call_log, cycle_promote
from handoff.services.lifecycle import TransitionConflict, TransitionRefused
from leads.api import schema as _schema  # noqa: F401  (registers the Bearer scheme)
from leads.api.parsers import JSONBodyParser
from leads.api.views import ApiPagination


class CanUseHandoff(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(can_use_handoff_api(request.user))


def _scope(user):
    base = Cycle.objects.select_related("contact", "company", "owner", "field_owner", "bant")
    if is_integration(user) or can_view_team_queue(user):
        return base
    if is_sales(user):
        return base.filter(field_owner=user)
    return base.filter(owner=user)


def item(cycle: Cycle, state) -> dict:
    bant = bant_of(cycle)
    return {
        "id": cycle.pk,
        "lead": cycle.contact_id or cycle.company_id,
        "lead_type": "contact" if cycle.contact_id else "account",
        "email": cycle.contact.email if cycle.contact_id else None,
        "company": cycle.company.name if cycle.company_id else None,
        "stage": cycle.stage,
        "owner": cycle.owner.username if cycle.owner_id else None,
        "field_owner": cycle.field_owner.username if cycle.field_owner_id else None,
        "mql_at": cycle.mql_at,
        "sla_due_at": state.due_at,
        "first_touch_at": cycle.first_touch_at,
        "sla_state": state.state,
        "score_at_mql": float(cycle.score_total) if cycle.score_total is not None else None,
        "bant": {i: bant.status_of(i) for i in bant.ITEMS},
    }


@extend_schema(
    tags=["handoff"],
    summary="The queue: open leads with their stage, owner, SLA and BANT",
    parameters=[
        OpenApiParameter("stage", enum=list(QUEUE_STAGES_API), description="Only this stage."),
        OpenApiParameter("owner", str, description="Only this owner's (username)."),
        OpenApiParameter("sla_state", enum=list(SLA_STATES_API), description="Only these."),
    ],
    responses={
        200: s.QueueItemSerializer(many=True),
        400: OpenApiResponse(description="A bad filter or page number."),
        404: OpenApiResponse(description="A page past the last one."),
    },
)
class QueueView(generics.GenericAPIView):
    permission_classes = [CanUseHandoff]
    pagination_class = ApiPagination
    serializer_class = s.QueueItemSerializer
    filter_backends: list = []

    def get(self, request):
        open_items = _scope(request.user).exclude(stage__in=sorted(CLOSED_STAGES))
        filters = QueueApiFilter(request.query_params, queryset=open_items, request=request)
        if not filters.is_valid():
            raise translate_validation(filters.errors)
        queryset = filters.qs
        page = self.paginate_queryset(queryset.order_by("-mql_at", "-id"))
        states = sla_states(page, now=timezone.now())
        return self.get_paginated_response([item(c, states[c.pk]) for c in page])


def _cycle_for(request, pk: int) -> Cycle:
    cycle = _scope(request.user).filter(pk=pk).first()
    if cycle is None:
        raise exceptions.NotFound()
    return cycle


def _conflict(exc) -> Response:
    return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)


@extend_schema(
    tags=["handoff"],
    summary="Log a call (a dialer's or a CRM's) with its BANT answers",
    request=s.CallInSerializer,
    responses={
        201: s.CallOutSerializer,
        400: OpenApiResponse(description='Field errors: {"bant.budget.status": ["…"]}.'),
        404: OpenApiResponse(description="No such queue item (or not yours)."),
        409: OpenApiResponse(description="The lead is past qualification."),
    },
)
class CallView(generics.GenericAPIView):
    permission_classes = [CanUseHandoff]
    parser_classes = [JSONBodyParser]
    serializer_class = s.CallInSerializer

    def post(self, request, pk: int):
        cycle = _cycle_for(request, pk)
        if is_cycle_field_owner(request.user, cycle) and not can_view_team_queue(request.user):
            raise exceptions.PermissionDenied()
        # Authorise before validating, as the page does: marketing reads the queue but
        # logs no calls, and gets 403 whatever it sends, not the body's field errors.
        # call_log checks again in its transaction.
        if not can_work_cycle(request.user, cycle):
            raise exceptions.PermissionDenied()
        body = s.CallInSerializer(data=request.data)
        if not body.is_valid():
            raise exceptions.ValidationError(_flatten(body.errors))
        data = body.validated_data
        bant = data.get("bant", {})
        budget, authority = bant.get("budget", {}), bant.get("authority", {})
        need, timeframe = bant.get("need", {}), bant.get("timeframe", {})
        month = timeframe.get("month")
        call_input = CallInput(
            outcome=data["outcome"],
            notes=data.get("notes", ""),
            next_action_at=data.get("next_action_at"),
            next_action_note=data.get("next_action_note", ""),
            budget_status=budget.get("status"),
            budget_range=budget.get("range"),
            budget_amount_man=budget.get("amount_man"),
            authority_status=authority.get("status"),
            authority_role=authority.get("role"),
            decision_maker_name=authority.get("name"),
            decision_maker_title=authority.get("title"),
            need_status=need.get("status"),
            pain_points=tuple(need["pain_points"]) if "pain_points" in need else None,
            need_notes=need.get("notes"),
            timeframe_status=timeframe.get("status"),
            timeframe_kind=timeframe.get("kind"),
            timeframe_month=month.replace(day=1) if month else None,
        )
        try:
            call = call_log(actor=request.user, cycle_id=cycle.pk, data=call_input)
        except (TransitionRefused, TransitionConflict) as exc:
            return _conflict(exc)
        except DjangoValidationError as exc:  # field errors, named by their API path
            raise exceptions.ValidationError(
                {_API_FIELD.get(k, k): v for k, v in exc.message_dict.items()}
            ) from None
        cycle.refresh_from_db()
        state = sla_states([cycle], now=timezone.now())[cycle.pk]
        out = {"id": call.pk, "at": call.at, "outcome": call.outcome, "item": item(cycle, state)}
        return Response(s.CallOutSerializer(out).data, status=status.HTTP_201_CREATED)


_API_FIELD = {
    "budget_status": "bant.budget.status", "budget_range": "bant.budget.range",
    "budget_amount_man": "bant.budget.amount_man", "authority_status": "bant.authority.status",
    "authority_role": "bant.authority.role", "need_status": "bant.need.status",
    "pain_points": "bant.need.pain_points", "timeframe_status": "bant.timeframe.status",
    "timeframe_kind": "bant.timeframe.kind", "timeframe_month": "bant.timeframe.month",
}  # fmt: skip


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = [str(v) for v in value]
    return flat


@extend_schema(
    tags=["handoff"],
    summary="Promote a qualified lead to SQL and hand it over to field sales",
    request=None,
    responses={
        200: s.QueueItemSerializer,
        404: OpenApiResponse(description="No such queue item (or not yours)."),
        409: s.PromoteRefusedSerializer,
    },
)
class PromoteView(generics.GenericAPIView):
    permission_classes = [CanUseHandoff]
    parser_classes = [JSONBodyParser]
    serializer_class = s.QueueItemSerializer

    def post(self, request, pk: int):
        cycle = _cycle_for(request, pk)
        try:
            promoted = cycle_promote(actor=request.user, cycle_id=cycle.pk)
        except BantIncomplete as exc:
            return Response(
                {"detail": " ".join(exc.messages), "missing": exc.missing, "needed": exc.needed},
                status=status.HTTP_409_CONFLICT,
            )
        except (TransitionRefused, TransitionConflict) as exc:
            return Response(
                {"detail": " ".join(exc.messages), "missing": [], "needed": 0},
                status=status.HTTP_409_CONFLICT,
            )
        state = sla_states([promoted], now=timezone.now())[promoted.pk]
        return Response(item(promoted, state))
