"""The settings we rely on: a misspelt name fails silently, so each is pinned here."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _run_check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    dropped = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_celery_is_json_only_and_survives_worker_loss():
    assert settings.CELERY_TASK_SERIALIZER == "json"
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > settings.CELERY_TASK_TIME_LIMIT > settings.CELERY_TASK_SOFT_TIME_LIMIT


def test_the_celery_app_reads_the_django_settings():
    from config.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_japanese_first_and_times_stored_in_utc():
    assert settings.LANGUAGE_CODE == "ja"
    assert [code for code, _ in settings.LANGUAGES] == ["ja", "en"]
    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE


def test_api_docs_never_load_from_a_cdn():
    assert settings.SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] == "SIDECAR"


def test_a_misspelt_boolean_stops_startup():
    result = _run_check({"DEBUG": "ture"})
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_a_write_rate_that_is_not_a_rate_stops_startup():
    result = _run_check({"API_WRITE_RATE": "600 per minute"})
    assert result.returncode != 0
    assert "API_WRITE_RATE='600 per minute' is not a rate" in result.stderr


def test_production_without_a_secret_key_stops_startup():
    result = _run_check({"DEBUG": "false", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("soft,hard", [("600", "600"), ("900", "600")])
def test_soft_time_limit_must_be_below_the_hard_one(soft, hard):
    result = _run_check({"CELERY_TASK_SOFT_TIME_LIMIT": soft, "CELERY_TASK_TIME_LIMIT": hard})
    assert result.returncode != 0


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _run_check(
        {
            # An empty database of its own: a developer's seeded db.sqlite3 has demo
            # users, which fail the check (portal.checks, tests/portal/).
            "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
            "DEBUG": "false",
            "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
            "ALLOWED_HOSTS": "portal.example.jp",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stderr


def _database_settings(env_overrides: dict[str, str]) -> dict:
    dropped = {"DATABASE_URL", "REDIS_URL", "DB_LOCK_TIMEOUT"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'options': settings.DATABASES['default'].get('OPTIONS', {}), "
        "'timeout': settings.DB_LOCK_TIMEOUT}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_lock_timeout_is_sqlites_busy_timeout_and_postgres_lock_timeout():
    assert _database_settings({})["options"]["timeout"] == 20  # the embedded default
    assert _database_settings({"DB_LOCK_TIMEOUT": "3"})["options"]["timeout"] == 3
    postgres = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    assert "lock_timeout" not in str(_database_settings(postgres)["options"])  # it waits
    waiting = _database_settings({**postgres, "DB_LOCK_TIMEOUT": "5"})["options"]
    assert waiting["options"] == "-c lock_timeout=5000"


def test_the_database_busy_middleware_is_installed_last():
    assert settings.MIDDLEWARE[-1] == "config.middleware.DatabaseBusyMiddleware"
