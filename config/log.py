"""Logging helpers: records meant for the operators' log only, client errors in one
line, and the shell's language.

Django logs a refused request (403, 404) on ``django.request`` with the
PermissionDenied traceback attached; a newcomer clicking around printed 166 of
them. ``OneLineClientErrors`` keeps the line and drops the traceback for 4xx
records; a 500 keeps its traceback.

A management command says what went wrong in one line on its user's console;
the traceback behind it is for the operators. Logged with
``extra=OPERATORS_ONLY``, a record skips the console handler and reaches the
log file (``LOG_FILE``) if one is configured; ``--traceback`` prints it too.
"""

from __future__ import annotations

import logging
import os

OPERATORS_ONLY = {"console": False}


class ConsoleFilter(logging.Filter):
    """Lets through every record except those logged with ``extra=OPERATORS_ONLY``."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "console", True)


class OneLineClientErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


def shell_language(known: list[str]) -> str | None:
    """The language the shell asks for (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), if known.

    ``ja_JP.UTF-8`` → ``ja``; the C locale or a language the portal does not
    speak → None (the caller keeps LANGUAGE_CODE).
    """
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for value in os.environ.get(name, "").split(":"):
            code = value.split(".")[0].split("@")[0].split("_")[0].lower()
            if code in known:
                return code
    return None
