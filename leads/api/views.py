"""REST API v1 (docs/api.md). Views parse, call one service, and render.

Every 4xx body is JSON with field-level errors keyed by field path; batch
endpoints answer 200 with per-item results whenever the body itself was
well-formed, even if some items were rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
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
_PAST_THE_END = OpenApiResponse(description="A page past the last one.")


class ApiPagination(PageNumberPagination):
    """``?page=N&page_size=M``: a page that is not a whole number from 1 is a 400 naming it
    (DRF would answer 404, or silently use the default size); a page past the end is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def _positive(self, request, name: str) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        if raw.isascii() and raw.isdigit():
            number = int(raw) if len(raw) <= 18 else 10**18  # far past the end either way
            if number >= 1:
                return number
        raise exceptions.ValidationError({name: [_("Give a whole number from 1.")]})

    def get_page_size(self, request):
        size = self._positive(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) in self.last_page_strings:
            return paginator.num_pages
        return self._positive(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page: {self.page_size} by default, "
                    f"at most {self.max_page_size} (a larger size gives {self.max_page_size})."
                )
        return parameters


class _ApiView(APIView):
    parser_classes = [JSONBodyParser]


def _invalid(errors: dict[str, list[str]]) -> exceptions.ValidationError:
    return exceptions.ValidationError(errors)


class IdentityConflict(exceptions.APIException):
    """A valid item that would take a domain or 法人番号 another company holds: 409."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


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


# --- Companies, contacts and intent signals -----------------------------------
# The three resources have one shape: a list that also takes one item (POST:
# 201 when it was created, 200 when it already existed), a detail view, and a
# batch endpoint. The bases below hold that shape; each resource states its
# serializers, filter, queryset and how to call its service, and a _*_schema
# decorator attaches its OpenAPI texts. The view classes have no docstrings:
# drf-spectacular would publish them as the operations' descriptions.


class _ResourceListView(_ApiView, generics.ListAPIView):
    # GET: a filtered page of ``queryset``. POST: one item, through ``save_one``.
    permission_classes = [CanReadOrIngest]
    pagination_class = ApiPagination
    in_serializer_class: type[Serializer]

    def save_one(self, item) -> tuple[dict[str, Any], bool]:
        """Store one validated item: (lookup of its row in ``queryset``, whether it is new).

        Raises exceptions.ValidationError if the service rejects the item.
        """
        raise NotImplementedError

    def post(self, request):
        item = _validate_one(request.data, self.in_serializer_class)
        lookup, is_created = self.save_one(item)
        instance = self.get_queryset().get(**lookup)
        code = status.HTTP_201_CREATED if is_created else status.HTTP_200_OK
        return Response(self.serializer_class(instance).data, status=code)


class _ResourceDetailView(_ApiView, generics.RetrieveAPIView):
    permission_classes = [CanReadOrIngest]


class _ResourceBatchView(_ApiView):
    # POST ``{batch_key: [...]}``: each item is validated on its own, the valid ones saved.
    permission_classes = [CanIngest]
    batch_key: str
    in_serializer_class: type[Serializer]

    def save_batch(
        self, *, size: int, inputs: list, positions: list[int], errors: dict[int, dict]
    ) -> dict:
        """Store the valid ``inputs`` (at request ``positions``) and return the response body.

        ``errors`` holds the validation errors by position; the service's
        rejections are added to it.
        """
        raise NotImplementedError

    def post(self, request):
        items = batch_items(request.data, key=self.batch_key, max_items=MAX_BATCH)
        inputs, positions, errors = _validate_each(items, self.in_serializer_class)
        return Response(
            self.save_batch(size=len(items), inputs=inputs, positions=positions, errors=errors)
        )


def _list_schema(
    *,
    tag: str,
    summary: str,
    create_id: str,
    create_summary: str,
    created: str,
    existed: str,
    create_description: str | None = None,
    conflict: str | None = None,
):
    def decorate(view: type[_ResourceListView]) -> type[_ResourceListView]:
        out = view.serializer_class
        conflicts = (
            {409: OpenApiResponse(_ERRORS.response, description=conflict)} if conflict else {}
        )
        return extend_schema_view(
            get=extend_schema(
                summary=summary,
                tags=[tag],
                responses={200: out(many=True), 400: _ERRORS, 404: _PAST_THE_END, **_DENIED},
            ),
            post=extend_schema(
                operation_id=create_id,
                summary=create_summary,
                description=create_description,
                request=view.in_serializer_class,
                responses={
                    201: OpenApiResponse(out, description=created),
                    200: OpenApiResponse(out, description=existed),
                    400: _ERRORS,
                    **conflicts,
                    **_DENIED,
                },
                tags=[tag],
            ),
        )(view)

    return decorate


def _detail_schema(*, tag: str, summary: str, missing: str):
    def decorate(view: type[_ResourceDetailView]) -> type[_ResourceDetailView]:
        return extend_schema_view(
            get=extend_schema(
                summary=summary,
                tags=[tag],
                responses={
                    200: view.serializer_class,
                    404: OpenApiResponse(description=missing),
                    **_DENIED,
                },
            )
        )(view)

    return decorate


def _batch_schema(
    *, tag: str, operation_id: str, summary: str, request: type[Serializer], response
):
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            request=request,
            responses={200: response, 400: _ERRORS, **_DENIED},
            tags=[tag],
        )
    )


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


# --- Companies --------------------------------------------------------------


@_list_schema(
    tag="companies",
    summary="List companies",
    create_id="companies_upsert",
    create_summary="Create or update one company",
    create_description="Found by corporate_number, then domain, then name (created if none "
    "matches); every given field is then set. A blank or null field is left alone.",
    created="Created.",
    existed="Updated.",
    conflict="The company found would take a domain or corporate number another company "
    'holds: {"domain": ["Another company (id 7) already has this value."]}.',
)
class CompanyListView(_ResourceListView):
    serializer_class = s.CompanyOutSerializer
    in_serializer_class = s.CompanyInSerializer
    filterset_class = CompanyApiFilter
    queryset = Company.objects.order_by("id")

    def save_one(self, item):
        result = companies_upsert(companies=[item]).items[0]
        if result.outcome == CompanyOutcome.REJECTED:
            # The body is valid; the database's state refuses it (docs/api.md).
            raise IdentityConflict(dict(result.errors))
        return {"pk": result.company_id}, result.outcome == CompanyOutcome.CREATED


@_detail_schema(tag="companies", summary="One company", missing="No such company.")
class CompanyDetailView(_ResourceDetailView):
    serializer_class = s.CompanyOutSerializer
    queryset = Company.objects.all()


@_batch_schema(
    tag="companies",
    operation_id="companies_batch_upsert",
    summary="Create or update companies in a batch (1-1000)",
    request=s.CompanyBatchSerializer,
    response=s.UpsertBatchResultSerializer,
)
class CompanyBatchView(_ResourceBatchView):
    batch_key = "companies"
    in_serializer_class = s.CompanyInSerializer

    def save_batch(self, *, size, inputs, positions, errors):
        done: dict[int, tuple[str, int | None]] = {}
        if inputs:
            result = companies_upsert(companies=inputs)
            for index, item in zip(positions, result.items, strict=True):
                if item.outcome == CompanyOutcome.REJECTED:
                    errors[index] = dict(item.errors)
                else:
                    done[index] = (item.outcome.value, item.company_id)
        return _upsert_results(size, errors, done)


# --- Contacts ---------------------------------------------------------------


def _contact_outcomes(inputs, positions, result) -> dict[int, tuple[str, int | None]]:
    done, seen = {}, set()
    for index, contact in zip(positions, inputs, strict=True):
        is_new = contact.email in result.created and contact.email not in seen
        seen.add(contact.email)
        done[index] = ("created" if is_new else "updated", result.ids.get(contact.email))
    return done


@_list_schema(
    tag="contacts",
    summary="List contacts",
    create_id="contacts_upsert",
    create_summary="Create or update one contact (by e-mail)",
    created="Created.",
    existed="Updated.",
)
class ContactListView(_ResourceListView):
    serializer_class = s.ContactOutSerializer
    in_serializer_class = s.ContactInSerializer
    filterset_class = ContactApiFilter
    queryset = Contact.objects.select_related("company").order_by("id")

    def save_one(self, item):
        result = contacts_upsert(contacts=[item], overwrite=True)
        return {"pk": result.ids[item.email]}, item.email in result.created


@_detail_schema(tag="contacts", summary="One contact", missing="No such contact.")
class ContactDetailView(_ResourceDetailView):
    serializer_class = s.ContactOutSerializer
    queryset = Contact.objects.select_related("company")


@_batch_schema(
    tag="contacts",
    operation_id="contacts_batch_upsert",
    summary="Create or update contacts in a batch (1-1000)",
    request=s.ContactBatchSerializer,
    response=s.UpsertBatchResultSerializer,
)
class ContactBatchView(_ResourceBatchView):
    batch_key = "contacts"
    in_serializer_class = s.ContactInSerializer

    def save_batch(self, *, size, inputs, positions, errors):
        done = {}
        if inputs:
            result = contacts_upsert(contacts=inputs, overwrite=True)
            done = _contact_outcomes(inputs, positions, result)
        return _upsert_results(size, errors, done)


# --- Intent signals ---------------------------------------------------------


@_list_schema(
    tag="intent-signals",
    summary="List intent signals",
    create_id="intent_signals_create",
    create_summary="Record one intent signal",
    create_description="Idempotent on (provider, external_id). The company is created if new.",
    created="Stored.",
    existed="Already stored: unchanged.",
)
class IntentListView(_ResourceListView):
    serializer_class = s.IntentOutSerializer
    in_serializer_class = s.IntentInSerializer
    filterset_class = IntentApiFilter
    queryset = IntentSignal.objects.order_by("id")

    def save_one(self, item):
        each = intent_signals_record_each(signals=[item])
        lookup = {"provider": item.provider, "external_id": item.external_id}
        return lookup, each.is_created[0]


@_detail_schema(tag="intent-signals", summary="One intent signal", missing="No such signal.")
class IntentDetailView(_ResourceDetailView):
    serializer_class = s.IntentOutSerializer
    queryset = IntentSignal.objects.all()


@_batch_schema(
    tag="intent-signals",
    operation_id="intent_signals_batch_create",
    summary="Record intent signals in a batch (1-1000)",
    request=s.IntentBatchSerializer,
    response=s.IntentBatchResultSerializer,
)
class IntentBatchView(_ResourceBatchView):
    batch_key = "intent_signals"
    in_serializer_class = s.IntentInSerializer

    def save_batch(self, *, size, inputs, positions, errors):
        created_at: dict[int, bool] = {}
        if inputs:
            each = intent_signals_record_each(signals=inputs)
            created_at = dict(zip(positions, each.is_created, strict=True))
        results = [
            {"index": i, "status": "rejected", "errors": errors[i]}
            if i in errors
            else {"index": i, "status": "created" if created_at[i] else "duplicate", "errors": {}}
            for i in range(size)
        ]
        statuses = [r["status"] for r in results]
        return {
            "created": statuses.count("created"),
            "duplicates": statuses.count("duplicate"),
            "rejected": statuses.count("rejected"),
            "results": results,
        }
