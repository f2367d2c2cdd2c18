"""Shared fixtures: one user per role, an API client with a token, service guards."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from accounts.roles import Role
from accounts.services import api_token_create
from tests.worker_fixtures import celery_worker_process, live_celery_worker  # noqa: F401

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _needs(item, service: str) -> bool:
    # A real Celery worker needs both: Redis to reach it, PostgreSQL to share rows with it.
    return bool(item.get_closest_marker(service) or item.get_closest_marker("worker"))


def pytest_collection_modifyitems(config, items):
    """Tests that need Postgres or Redis skip locally when absent, and fail in CI."""
    for item in items:
        if REQUIRE_SERVICES:
            continue  # the autouse fixture below fails them instead
        if _needs(item, "postgres") and not settings.IS_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://…"))
        if _needs(item, "redis") and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL=redis://…"))


@pytest.fixture(autouse=True)
def _services_present(request):
    """In CI a service test must fail loudly when its service is missing."""
    if _needs(request.node, "postgres") and not settings.IS_POSTGRES:
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL=postgres://…")
    if _needs(request.node, "redis") and not settings.REDIS_URL:
        pytest.fail("this test needs Redis: set REDIS_URL=redis://…")


@pytest.fixture(autouse=True)
def _home_figures_recounted(settings):
    """Home recounts on every visit here; tests/portal/test_home_figures.py tests the cache."""
    settings.HOME_FIGURES_SECONDS = 0


def _make_user(django_user_model, username: str, *roles: Role):
    user = django_user_model.objects.create_user(
        username=username, password="pw-" + username, email=f"{username}@portal.test"
    )
    for role in roles:
        # get_or_create: a transactional test's flush removed the migration's groups.
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


@pytest.fixture
def marketing_user(db, django_user_model):
    return _make_user(django_user_model, "mkt", Role.MARKETING)


@pytest.fixture
def inside_sales_user(db, django_user_model):
    return _make_user(django_user_model, "is", Role.INSIDE_SALES)


@pytest.fixture
def sales_user(db, django_user_model):
    return _make_user(django_user_model, "fs", Role.SALES)


@pytest.fixture
def manager_user(db, django_user_model):
    return _make_user(django_user_model, "mgr", Role.SALES_MANAGER)


@pytest.fixture
def admin_user(db, django_user_model):
    return _make_user(django_user_model, "adm", Role.ADMIN)


@pytest.fixture
def no_role_user(db, django_user_model):
    return _make_user(django_user_model, "nobody")


@pytest.fixture
def role_users(marketing_user, inside_sales_user, sales_user, manager_user, admin_user):
    return {
        Role.MARKETING: marketing_user,
        Role.INSIDE_SALES: inside_sales_user,
        Role.SALES: sales_user,
        Role.SALES_MANAGER: manager_user,
        Role.ADMIN: admin_user,
    }


@pytest.fixture
def migration_data(db) -> None:
    """The rows the data migrations make (the role groups, the active definition, handoff's
    and feedback's defaults), for a transactional test: an earlier one on this worker may
    have flushed them. Each data migration is idempotent (get_or_create)."""
    import importlib

    from django.apps import apps

    from tests.scoring.test_definitions import _ensure_active

    _ensure_active()
    for module, function in (
        ("accounts.migrations.0002_role_groups", "create_groups"),
        ("handoff.migrations.0002_defaults", "forwards"),
        ("feedback.migrations.0002_defaults", "forwards"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def api_token(db) -> str:
    return api_token_create(name="test-integration", actor=None).secret


@pytest.fixture
def api_client(api_token):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    return client


@pytest.fixture(autouse=True)
def _rate_limits_per_test(settings):
    """Each test counts its own rate limits (accounts.throttling) from zero.

    They live in the cache, which is shared by every test of a process (locmem)
    or, with REDIS_URL, by both xdist processes: without this, the refused tokens
    of one test would count against the next one's. A key prefix of its own is
    enough; clearing the cache would flush the Redis database Celery uses too.
    """
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture(autouse=True, scope="session")
def _celery_eager_by_default():
    """Tasks run in-process in tests, even when REDIS_URL is set (CI).

    The tests that exercise a real worker (tests/test_worker.py) turn this off
    for themselves with the ``live_celery_worker`` fixture.
    """
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    # A test sees a sent task's effect when the sending call returns (the embedded
    # background thread has its own test, tests/test_background.py).
    settings.EMBEDDED_BACKGROUND_TASKS = False
    yield
