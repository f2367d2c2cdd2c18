"""POST /api/v1/event stays cheap: a bounded number of queries, the token cached.

The single-event endpoint must take ≥ 300 events/s on two cores (make
bench-ingest); each query is a round trip and most of a request's database time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.settings import api_settings

from leads.api.parsers import JSONBodyParser


@pytest.mark.parametrize("value,expected", [("", "False"), ("true", "True")])
def test_connection_health_checks_are_off_unless_asked_for(value, expected):
    # Off, a request on a persistent connection saves a SELECT 1 round trip. A
    # misspelt key would silently mean off, so the "on" case pins the real one.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["CONN_HEALTH_CHECKS"] = value
    code = "from django.db import connection; print(connection.settings_dict['CONN_HEALTH_CHECKS'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_every_api_view_parses_json_with_the_size_limit_by_default():
    parsers = api_settings.DEFAULT_PARSER_CLASSES
    assert parsers == [JSONBodyParser]
