"""A write that could not get its lock is a 503 with Retry-After, never a 500.

Two writers meet on one lock: SQLite's one write lock, or a row lock on
PostgreSQL. The second waits (``DB_LOCK_TIMEOUT``); if the lock is still held
then, the database gives up with an OperationalError that is no bug of the
request: sending it again later works. Likewise PostgreSQL's serialization
failures and deadlocks, where the database chose this transaction to undo. The
whole transaction was rolled back, so nothing of the request was stored.

API requests (and anything asking for JSON) get ``{"non_field_errors": [...]}``
like every API error; pages get a short text. Infrastructure: knows no app.
"""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# SQLite's messages for a lock it waited for in vain.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")
# PostgreSQL: lock_not_available (lock_timeout), serialization_failure, deadlock_detected.
_POSTGRES_BUSY = {"55P03", "40001", "40P01"}


def is_database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says a lock could not be had in time (so: try again later)."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__ or exc
    if getattr(cause, "sqlstate", None) in _POSTGRES_BUSY:
        return True
    message = str(cause).lower()
    return any(text in message for text in _SQLITE_BUSY)


class DatabaseBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_busy(exception):
            return None
        logger.warning("database busy on %s %s: %s", request.method, request.path, exception)
        message = _("The database is busy with another write; try again in a few seconds.")
        wants_json = request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")
        if wants_json:
            response = JsonResponse({"non_field_errors": [message]}, status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
