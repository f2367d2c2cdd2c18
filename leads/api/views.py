"""REST API v1 (docs/api.md). Views parse, call one service, and render.

Every 4xx body is JSON with field-level errors keyed by field path; batch
endpoints answer 200 with per-item results whenever the body itself was
well-formed, even if some items were rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from leads.api import schema as _schema  # noqa: F401  (registers the Bearer scheme)
from leads.api import serializers as s
from leads.api.filters import CompanyApiFilter, ContactApiFilter, IntentApiFilter
from leads.api.parsers import JSONBodyParser
from leads.api.permissions import CanIngest, CanReadOrIngest
from leads.api.validation import batch_items, event_batch_from_json, event_from_json
from leads.models import Company, Contact, IntentSignal
from leads.services.contacts import contacts_upsert
from leads.services.ingest import CompanyOutcome, companies_upsert, events_ingest
from leads.services.intent import intent_signals_record_each

MAX_BATCH = settings.EVENTS_MAX_BATCH

_ERRORS = OpenApiResponse(
    response={
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
    description='Field errors: {"field.path": ["message", ...]}; '
    '"non_field_errors" for the body as a whole.',
)
_DENIED = {
    401: OpenApiResponse(description="No or an unknown token / session."),
    403: OpenApiResponse(description="Authenticated, but without the role."),
}


class ApiPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class _ApiView(APIView):
    parser_classes = [JSONBodyParser]


def _invalid(errors: dict[str, list[str]]) -> exceptions.ValidationError:
    return exceptions.ValidationError(errors)


def _validate_each(
    items: Sequence, serializer_class: type[Serializer]
) -> tuple[list, list[int], dict[int, dict[str, list[str]]]]:
    """Validate batch items one by one: (valid inputs, their positions, errors by position)."""
    inputs, positions, errors = [], [], {}
    for index, item in enumerate(items):
        serializer = serializer_class(data=item)
        if serializer.is_valid():
            inputs.append(serializer.validated_data)
            positions.append(index)
        else:
            errors[index] = s.flatten_errors(serializer.errors)
    return inputs, positions, errors


def _validate_one(data, serializer_class: type[Serializer]):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise _invalid(s.flatten_errors(serializer.errors))
    return serializer.validated_data


# --- Events ---------------------------------------------------------------


class EventBatchView(_ApiView):
    permission_classes = [CanIngest]

    @extend_schema(
        operation_id="events_batch_create",
        summary="Send a batch of activity events (1-1000)",
        description=(
            "Each event is accepted or rejected on its own; the answer is 200 with "
            "per-item results whenever the body is a well-formed batch. Replaying "
            "events is safe: (source, external_id) is the idempotency key."
        ),
        request=s.EventBatchSerializer,
        responses={200: s.EventBatchResultSerializer, 400: _ERRORS, **_DENIED},
        tags=["events"],
    )
    def post(self, request):
        batch = event_batch_from_json(request.data, now=timezone.now(), max_items=MAX_BATCH)
        outcomes = {}
        created = duplicates = 0
        if batch.events:
            result = events_ingest(events=batch.events)
            outcomes = dict(zip(batch.indexes, result.outcomes, strict=True))
            created, duplicates = result.created, result.duplicates
        results = [
            {"index": i, "status": "rejected", "errors": batch.errors[i]}
            if i in batch.errors
            else {"index": i, "status": outcomes[i], "errors": {}}  # a StrEnum is a str
            for i in range(batch.size)
        ]
        return Response(
            {
                "created": created,
                "duplicates": duplicates,
                "rejected": len(batch.errors),
                "results": results,
            }
        )


class EventView(_ApiView):
    permission_classes = [CanIngest]

    @extend_schema(
        operation_id="event_create",
        summary="Send one activity event",
        request=s.EventSerializer,
        responses={
            201: OpenApiResponse(s.EventStatusSerializer, description="Stored."),
            200: OpenApiResponse(
                s.EventStatusSerializer, description="Already stored (a replay): nothing changed."
            ),
            400: _ERRORS,
            **_DENIED,
        },
        tags=["events"],
    )
    def post(self, request):
        event, errors = event_from_json(request.data, now=timezone.now())
        if errors:
            raise _invalid(errors)
        outcome = events_ingest(events=[event]).outcomes[0]
        code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
        return Response({"status": outcome.value}, status=code)


# --- Companies --------------------------------------------------------------


class CompanyListView(_ApiView, generics.ListAPIView):
    permission_classes = [CanReadOrIngest]
    serializer_class = s.CompanyOutSerializer
    filterset_class = CompanyApiFilter
    pagination_class = ApiPagination
    queryset = Company.objects.order_by("id")

    @extend_schema(
        summary="List companies",
        tags=["companies"],
        responses={200: s.CompanyOutSerializer(many=True), 400: _ERRORS, **_DENIED},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="companies_upsert",
        summary="Create or update one company",
        description="Found by corporate_number, then domain, then name (created if none "
        "matches); every given field is then set. A blank or null field is left alone.",
        request=s.CompanyInSerializer,
        responses={
            201: OpenApiResponse(s.CompanyOutSerializer, description="Created."),
            200: OpenApiResponse(s.CompanyOutSerializer, description="Updated."),
            400: _ERRORS,
            **_DENIED,
        },
        tags=["companies"],
    )
    def post(self, request):
        company_input = _validate_one(request.data, s.CompanyInSerializer)
        item = companies_upsert(companies=[company_input]).items[0]
        if item.outcome == CompanyOutcome.REJECTED:
            raise _invalid(dict(item.errors))
        company = Company.objects.get(pk=item.company_id)
        code = (
            status.HTTP_201_CREATED
            if item.outcome == CompanyOutcome.CREATED
            else status.HTTP_200_OK
        )
        return Response(s.CompanyOutSerializer(company).data, status=code)


class CompanyDetailView(_ApiView, generics.RetrieveAPIView):
    permission_classes = [CanReadOrIngest]
    serializer_class = s.CompanyOutSerializer
    queryset = Company.objects.all()

    @extend_schema(
        summary="One company",
        tags=["companies"],
        responses={
            200: s.CompanyOutSerializer,
            404: OpenApiResponse(description="No such company."),
            **_DENIED,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _upsert_results(
    size: int,
    errors: dict[int, dict[str, list[str]]],
    done: dict[int, tuple[str, int | None]],
) -> dict:
    results = [
        {"index": i, "status": "rejected", "id": None, "errors": errors[i]}
        if i in errors
        else {"index": i, "status": done[i][0], "id": done[i][1], "errors": {}}
        for i in range(size)
    ]
    statuses = [r["status"] for r in results]
    return {
        "created": statuses.count("created"),
        "updated": statuses.count("updated"),
        "rejected": statuses.count("rejected"),
        "results": results,
    }


class CompanyBatchView(_ApiView):
    permission_classes = [CanIngest]

    @extend_schema(
        operation_id="companies_batch_upsert",
        summary="Create or update companies in a batch (1-1000)",
        request=s.CompanyBatchSerializer,
        responses={200: s.UpsertBatchResultSerializer, 400: _ERRORS, **_DENIED},
        tags=["companies"],
    )
    def post(self, request):
        items = batch_items(request.data, key="companies", max_items=MAX_BATCH)
        inputs, positions, errors = _validate_each(items, s.CompanyInSerializer)
        done: dict[int, tuple[str, int | None]] = {}
        if inputs:
            result = companies_upsert(companies=inputs)
            for index, item in zip(positions, result.items, strict=True):
                if item.outcome == CompanyOutcome.REJECTED:
                    errors[index] = dict(item.errors)
                else:
                    done[index] = (item.outcome.value, item.company_id)
        return Response(_upsert_results(len(items), errors, done))


# --- Contacts ---------------------------------------------------------------


def _contact_outcomes(inputs, positions, result) -> dict[int, tuple[str, int | None]]:
    done, seen = {}, set()
    for index, contact in zip(positions, inputs, strict=True):
        is_new = contact.email in result.created and contact.email not in seen
        seen.add(contact.email)
        done[index] = ("created" if is_new else "updated", result.ids.get(contact.email))
    return done


class ContactListView(_ApiView, generics.ListAPIView):
    permission_classes = [CanReadOrIngest]
    serializer_class = s.ContactOutSerializer
    filterset_class = ContactApiFilter
    pagination_class = ApiPagination
    queryset = Contact.objects.select_related("company").order_by("id")

    @extend_schema(
        summary="List contacts",
        tags=["contacts"],
        responses={200: s.ContactOutSerializer(many=True), 400: _ERRORS, **_DENIED},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="contacts_upsert",
        summary="Create or update one contact (by e-mail)",
        request=s.ContactInSerializer,
        responses={
            201: OpenApiResponse(s.ContactOutSerializer, description="Created."),
            200: OpenApiResponse(s.ContactOutSerializer, description="Updated."),
            400: _ERRORS,
            **_DENIED,
        },
        tags=["contacts"],
    )
    def post(self, request):
        contact_input = _validate_one(request.data, s.ContactInSerializer)
        result = contacts_upsert(contacts=[contact_input], overwrite=True)
        contact = Contact.objects.select_related("company").get(pk=result.ids[contact_input.email])
        code = (
            status.HTTP_201_CREATED if contact_input.email in result.created else status.HTTP_200_OK
        )
        return Response(s.ContactOutSerializer(contact).data, status=code)


class ContactDetailView(_ApiView, generics.RetrieveAPIView):
    permission_classes = [CanReadOrIngest]
    serializer_class = s.ContactOutSerializer
    queryset = Contact.objects.select_related("company")

    @extend_schema(
        summary="One contact",
        tags=["contacts"],
        responses={
            200: s.ContactOutSerializer,
            404: OpenApiResponse(description="No such contact."),
            **_DENIED,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ContactBatchView(_ApiView):
    permission_classes = [CanIngest]

    @extend_schema(
        operation_id="contacts_batch_upsert",
        summary="Create or update contacts in a batch (1-1000)",
        request=s.ContactBatchSerializer,
        responses={200: s.UpsertBatchResultSerializer, 400: _ERRORS, **_DENIED},
        tags=["contacts"],
    )
    def post(self, request):
        items = batch_items(request.data, key="contacts", max_items=MAX_BATCH)
        inputs, positions, errors = _validate_each(items, s.ContactInSerializer)
        done = {}
        if inputs:
            result = contacts_upsert(contacts=inputs, overwrite=True)
            done = _contact_outcomes(inputs, positions, result)
        return Response(_upsert_results(len(items), errors, done))


# --- Intent signals ---------------------------------------------------------


class IntentListView(_ApiView, generics.ListAPIView):
    permission_classes = [CanReadOrIngest]
    serializer_class = s.IntentOutSerializer
    filterset_class = IntentApiFilter
    pagination_class = ApiPagination
    queryset = IntentSignal.objects.order_by("id")

    @extend_schema(
        summary="List intent signals",
        tags=["intent-signals"],
        responses={200: s.IntentOutSerializer(many=True), 400: _ERRORS, **_DENIED},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="intent_signals_create",
        summary="Record one intent signal",
        description="Idempotent on (provider, external_id). The company is created if new.",
        request=s.IntentInSerializer,
        responses={
            201: OpenApiResponse(s.IntentOutSerializer, description="Stored."),
            200: OpenApiResponse(s.IntentOutSerializer, description="Already stored: unchanged."),
            400: _ERRORS,
            **_DENIED,
        },
        tags=["intent-signals"],
    )
    def post(self, request):
        signal_input = _validate_one(request.data, s.IntentInSerializer)
        each = intent_signals_record_each(signals=[signal_input])
        signal = IntentSignal.objects.get(
            provider=signal_input.provider, external_id=signal_input.external_id
        )
        code = status.HTTP_201_CREATED if each.is_created[0] else status.HTTP_200_OK
        return Response(s.IntentOutSerializer(signal).data, status=code)


class IntentDetailView(_ApiView, generics.RetrieveAPIView):
    permission_classes = [CanReadOrIngest]
    serializer_class = s.IntentOutSerializer
    queryset = IntentSignal.objects.all()

    @extend_schema(
        summary="One intent signal",
        tags=["intent-signals"],
        responses={
            200: s.IntentOutSerializer,
            404: OpenApiResponse(description="No such signal."),
            **_DENIED,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class IntentBatchView(_ApiView):
    permission_classes = [CanIngest]

    @extend_schema(
        operation_id="intent_signals_batch_create",
        summary="Record intent signals in a batch (1-1000)",
        request=s.IntentBatchSerializer,
        responses={200: s.IntentBatchResultSerializer, 400: _ERRORS, **_DENIED},
        tags=["intent-signals"],
    )
    def post(self, request):
        items = batch_items(request.data, key="intent_signals", max_items=MAX_BATCH)
        inputs, positions, errors = _validate_each(items, s.IntentInSerializer)
        created_at: dict[int, bool] = {}
        if inputs:
            each = intent_signals_record_each(signals=inputs)
            created_at = dict(zip(positions, each.is_created, strict=True))
        results = [
            {"index": i, "status": "rejected", "errors": errors[i]}
            if i in errors
            else {"index": i, "status": "created" if created_at[i] else "duplicate", "errors": {}}
            for i in range(len(items))
        ]
        statuses = [r["status"] for r in results]
        return Response(
            {
                "created": statuses.count("created"),
                "duplicates": statuses.count("duplicate"),
                "rejected": statuses.count("rejected"),
                "results": results,
            }
        )
