"""Login throttling (django-axes, accounts.lockout) on the portal's login and the admin's.

The limits are the defaults (docs/configuration.md): 5 failures for a username from
one address, 30 from one address on any usernames, 15 minutes' cool-off.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"


def _post(client: Client, username: str, password: str, *, url: str = LOGIN, address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def _is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_default_limits_are_five_per_account_and_address_thirty_per_address():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 30
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    # After everything that authenticates; only the busy-database answer comes later.
    assert settings.MIDDLEWARE[-2:] == [
        "axes.middleware.AxesMiddleware",
        "config.middleware.DatabaseBusyMiddleware",
    ]


def test_after_fifty_wrong_passwords_the_right_one_is_refused(client, marketing_user):
    statuses = [_post(client, "mkt", f"wrong-{n}").status_code for n in range(50)]
    # Four wrong answers are the login form again; the fifth locks the login.
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}
    response = _post(client, "mkt", "pw-mkt")
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert not _is_logged_in(client)
    assert client.get("/").status_code == 302


def test_the_admin_login_is_locked_out_too(client, django_user_model):
    django_user_model.objects.create_user(
        username="staff", password="pw-staff", is_staff=True, is_superuser=True
    )
    statuses = [_post(client, "staff", f"wrong-{n}", url=ADMIN_LOGIN).status_code for n in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    response = _post(client, "staff", "pw-staff", url=ADMIN_LOGIN)
    assert response.status_code == 429
    assert "locked-out" in response.content.decode()  # the site's page, not axes' plain text
    assert not _is_logged_in(client)
    assert client.get("/admin/").status_code == 302


def test_the_lockout_page_speaks_japanese_and_english(client, marketing_user):
    for n in range(5):
        _post(client, "mkt", f"wrong-{n}")
    ja = _post(client, "mkt", "pw-mkt").content.decode()
    assert "ログインに失敗した回数が多すぎます" in ja
    assert "15 分後" in ja
    en = client.post(
        LOGIN, {"username": "mkt", "password": "pw-mkt"},
        REMOTE_ADDR="10.0.0.1", HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()  # fmt: skip
    assert "Too many failed logins" in en
    assert "Try again in 15 minutes" in en
    assert "“mkt”" in en


def test_a_locked_account_still_logs_in_from_another_address(client, marketing_user):
    for n in range(5):
        _post(client, "mkt", f"wrong-{n}", address="10.0.0.1")
    assert _post(client, "mkt", "pw-mkt", address="10.0.0.1").status_code == 429
    response = _post(client, "mkt", "pw-mkt", address="10.0.0.2")
    assert response.status_code == 302
    assert _is_logged_in(client)


def test_another_account_still_logs_in_from_a_locked_pairs_address(
    client, marketing_user, sales_user
):
    for n in range(5):
        _post(client, "mkt", f"wrong-{n}")
    assert _post(client, "fs", "pw-fs").status_code == 302


def test_an_address_trying_many_accounts_is_locked_for_every_account(
    client, settings, marketing_user, sales_user
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for name in ("a", "b", "c"):  # one wrong password each: no pair reaches its limit
        assert _post(client, name, "guess", address="10.0.0.9").status_code in {200, 429}
    assert _post(client, "fs", "pw-fs", address="10.0.0.9").status_code == 429
    assert _post(client, "fs", "pw-fs", address="10.0.0.8").status_code == 302


def test_a_successful_login_clears_its_own_failures(client, marketing_user):
    for n in range(4):
        _post(client, "mkt", f"wrong-{n}")
    assert _post(client, "mkt", "pw-mkt").status_code == 302
    client.post("/accounts/logout/")
    statuses = [_post(client, "mkt", f"again-{n}").status_code for n in range(4)]
    assert statuses == [200] * 4


def test_the_lock_ends_when_the_cool_off_has_passed(client, marketing_user):
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        for n in range(6):
            _post(client, "mkt", f"wrong-{n}")
        clock.shift(dt.timedelta(minutes=14))
        assert _post(client, "mkt", "pw-mkt").status_code == 429  # and the wait starts again
        clock.shift(dt.timedelta(minutes=15, seconds=1))
        assert _post(client, "mkt", "pw-mkt").status_code == 302


def test_axes_reset_unlocks_a_login(client, marketing_user):
    for n in range(5):
        _post(client, "mkt", f"wrong-{n}")
    call_command("axes_reset_username", "mkt", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _post(client, "mkt", "pw-mkt").status_code == 302


def test_an_administrator_sees_and_deletes_the_attempts_in_the_admin(client, django_user_model):
    for n in range(5):
        _post(client, "mkt", f"wrong-{n}")
    attempt = AccessAttempt.objects.get(username="mkt")
    root = django_user_model.objects.create_user(
        username="root", password="pw-root", is_staff=True, is_superuser=True
    )
    admin = Client()
    admin.force_login(root)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "10.0.0.1" in listing.content.decode()
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()


def test_behind_a_proxy_the_forwarded_address_is_counted(client, settings, marketing_user):
    settings.PROXY_COUNT = 1
    for n in range(5):
        client.post(
            LOGIN, {"username": "mkt", "password": f"wrong-{n}"},
            REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7",
        )  # fmt: skip
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"
    other = client.post(
        LOGIN, {"username": "mkt", "password": "pw-mkt"},
        REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5",
    )  # fmt: skip
    assert other.status_code == 302
