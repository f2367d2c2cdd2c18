"""Logging filters: ordinary client errors in one line, real errors loud.

Django logs a refused request (403, 404) on ``django.request`` with the
PermissionDenied traceback attached; a newcomer clicking around printed 166 of
them. ``OneLineClientErrors`` keeps the line and drops the traceback for 4xx
records; a 500 keeps its traceback.
"""

from __future__ import annotations

import logging


class OneLineClientErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
