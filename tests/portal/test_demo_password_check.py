"""The deploy check for users still holding the demo password (portal.checks)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from portal import checks as demo_checks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # The check hashes with whatever hasher each stored password names.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _deploy_messages(id_: str):
    return [m for m in run_checks(include_deployment_checks=True) if m.id == id_]


def _user(django_user_model, username: str, password: str | None, **fields):
    user = django_user_model.objects.create_user(username=username, password=password, **fields)
    if password is None:
        assert not user.has_usable_password()
    return user


def test_a_seeded_demo_admin_fails_the_deploy_check(django_user_model):
    shared = make_password("demo")  # as seed_demo stores it: one hash for all
    for name in ("admin", "marketing", "sales"):
        django_user_model.objects.create(username=name, password=shared)
    (error,) = _deploy_messages("portal.E001")
    assert error.is_serious()
    assert "admin, marketing, sales" in error.msg
    with pytest.raises(SystemCheckError, match=r"portal\.E001"):
        call_command("check", "--deploy")


def test_any_active_user_with_the_password_demo_is_named(django_user_model):
    _user(django_user_model, "yamada", "demo")
    _user(django_user_model, "suzuki", "a-real-passphrase-0192")
    (error,) = _deploy_messages("portal.E001")
    assert "yamada" in error.msg and "suzuki" not in error.msg


def test_inactive_users_and_unusable_passwords_pass(django_user_model):
    _user(django_user_model, "admin", "demo", is_active=False)
    _user(django_user_model, "sso-only", None)
    _user(django_user_model, "marketing", "a-real-passphrase-0192")
    assert _deploy_messages("portal.E001") == []


def test_the_check_runs_only_for_deployment(django_user_model):
    _user(django_user_model, "admin", "demo")
    assert [m for m in run_checks() if m.id == "portal.E001"] == []


def test_one_shared_hash_costs_one_hash(django_user_model, monkeypatch):
    shared = make_password("demo")
    for name in demo_checks.DEMO_USERNAMES:
        django_user_model.objects.create(username=name, password=shared)
    calls = []
    real = demo_checks.check_password
    monkeypatch.setattr(
        demo_checks,
        "check_password",
        lambda pw, encoded: calls.append(encoded) or real(pw, encoded),
    )
    (error,) = _deploy_messages("portal.E001")
    assert len(calls) == 1
    assert all(name in error.msg for name in demo_checks.DEMO_USERNAMES)


def test_past_the_limit_demo_names_and_superusers_are_checked_first(django_user_model, monkeypatch):
    monkeypatch.setattr(demo_checks, "HASH_LIMIT", 2)
    for n in range(4):
        _user(django_user_model, f"person{n}", "demo")
    _user(django_user_model, "root", "demo", is_superuser=True)
    _user(django_user_model, "admin", "demo")
    (error,) = _deploy_messages("portal.E001")
    assert error.msg.endswith("admin, root.")
    (info,) = _deploy_messages("portal.I001")
    assert "Checked 2 of 6" in info.msg
    assert not info.is_serious()
