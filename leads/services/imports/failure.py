"""Why an import failed, in one line, for the person who ran it.

An import writes in one transaction, so whatever broke it (a dropped database
connection, a statement the database refused, a bug) nothing was written. Every
entry point (``manage.py import_leads``, the import pages, the Celery job) says
that in one sentence in the reader's language, with the reason; the traceback
goes to the operators' log, not to the reader. A job stores the failure as a
code and parameters, so the page renders it in the language of whoever reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils.translation import gettext_lazy as _

FAILURE_MESSAGES = {
    "connection_lost": _(
        "The import failed and nothing was written: the connection to the database was lost "
        "(%(detail)s). Run it again once the database is reachable."
    ),
    "database_error": _(
        "The import failed and nothing was written: the database refused it (%(detail)s)."
    ),
    "unexpected": _("The import failed unexpectedly (%(error)s); nothing was written."),
}

# SQLSTATEs of a connection that is gone: class 08 (connection exception), and an
# administrator, a crash or a restart terminating the backend.
_GONE = {"57P01", "57P02", "57P03"}


@dataclass(frozen=True)
class ImportFailure:
    code: str  # a key of FAILURE_MESSAGES
    params: dict[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        """The sentence in the active language."""
        return failure_render(self.code, self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": self.params}


def failure_render(code: str, params: dict[str, Any], fallback: str = "") -> str:
    template = FAILURE_MESSAGES.get(code)
    if template is None:
        return fallback
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return fallback or str(template)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:200]


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
    if sqlstate.startswith("08") or sqlstate in _GONE:
        return True
    if isinstance(exc, OperationalError):
        # psycopg reports a server that vanished without a code; Django then
        # drops the connection when the rollback fails too.
        raw = connection.connection
        return raw is None or bool(getattr(raw, "closed", False))
    return False


def import_failure_of(exc: BaseException) -> ImportFailure:
    """The one-line failure to show for ``exc``, raised by an import."""
    if _connection_lost(exc):
        return ImportFailure("connection_lost", {"detail": _first_line(exc)})
    if isinstance(exc, DatabaseError):
        return ImportFailure("database_error", {"detail": _first_line(exc)})
    return ImportFailure("unexpected", {"error": type(exc).__name__})
