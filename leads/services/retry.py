"""Run a write again when PostgreSQL chose it as a deadlock's (or serialisation's) loser.

Batches that share rows lock them in one order where they can (sorted keys, ids), but
several tables are involved (companies, contacts, activities, scoring's pending rows)
and a background drain works beside them; the database then rolls one transaction back
whole. Running it again is safe: each write here is one transaction and idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

RETRYABLE = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
ATTEMPTS = 3
T = TypeVar("T")


def retrying(write: Callable[[], T], *, what: str) -> T:
    """``write()``, again up to ``ATTEMPTS`` times after a deadlock or serialisation failure.

    Inside a caller's transaction the rollback is the caller's: one attempt, re-raised.
    """
    attempts = 1 if connection.in_atomic_block else ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except OperationalError as exc:
            code = getattr(exc.__cause__, "sqlstate", None)
            if code not in RETRYABLE or attempt == attempts:
                raise
            logger.warning("%s: %s, retrying (attempt %d)", what, code, attempt)
    raise AssertionError("unreachable")
