"""The API's one exception handler: every error is JSON with field-level detail.

Domain code raises django.core.exceptions.ValidationError / PermissionDenied;
DRF raises its own. Both become 4xx JSON here. A request body over the size
limit is a 400 too, never a 500.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _django_validation_detail(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=_django_validation_detail(exc))
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            {"non_field_errors": [_("The request body is too large.")]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    is_list = response is not None and isinstance(response.data, list)
    if is_list and isinstance(exc, exceptions.ValidationError):
        response.data = {"non_field_errors": response.data}
    return response


def schema_allow_empty_query_values(result, generator, request, public):
    """drf-spectacular hook: an empty query parameter (``?topic=``) is one left out.

    django-filter and the paginator ignore an empty value, so the schema says
    that every query parameter also takes "" (OpenAPI ``allowEmptyValue``).
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
    return result
