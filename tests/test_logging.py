"""The server log: a refused request is one line, a server error keeps its traceback."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings

from config.log import OneLineClientErrors


def _record(status: int) -> logging.LogRecord:
    try:
        raise PermissionError("refused")
    except PermissionError:
        import sys

        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden: /x", None, sys.exc_info()
        )
    record.status_code = status
    return record


@pytest.mark.parametrize("status", [403, 404])
def test_a_client_error_is_logged_without_its_traceback(status):
    record = _record(status)
    assert OneLineClientErrors().filter(record)
    assert record.exc_info is None
    assert "Traceback" not in logging.Formatter().format(record)


def test_a_server_error_keeps_its_traceback():
    record = _record(500)
    OneLineClientErrors().filter(record)
    assert "Traceback" in logging.Formatter().format(record)


def test_the_console_handler_uses_the_filter():
    assert "one_line_client_errors" in settings.LOGGING["handlers"]["console"]["filters"]


@pytest.mark.django_db
def test_a_forbidden_page_logs_one_line(client, no_role_user, caplog):
    client.force_login(no_role_user)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/leads/").status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and getattr(records[0], "status_code", None) == 403
    handler_filter = OneLineClientErrors()
    handler_filter.filter(records[0])
    assert records[0].exc_info is None
