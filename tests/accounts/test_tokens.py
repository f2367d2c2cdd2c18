"""API tokens: only administrators make and revoke them; the secret is stored hashed."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import ApiToken
from accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("accounts:token-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    "role", [Role.MARKETING, Role.INSIDE_SALES, Role.SALES, Role.SALES_MANAGER]
)
def test_non_admin_roles_cannot_see_or_make_tokens(client, role_users, role):
    client.force_login(role_users[role])
    assert client.get(reverse("accounts:token-list")).status_code == 403
    assert client.post(reverse("accounts:token-list"), {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_non_admin_cannot_revoke_a_token(client, marketing_user, api_token):
    token = ApiToken.objects.get()
    client.force_login(marketing_user)
    assert client.post(reverse("accounts:token-revoke", args=[token.id])).status_code == 403
    token.refresh_from_db()
    assert token.is_active


def test_admin_makes_a_token_shown_once_and_stored_hashed(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("accounts:token-list"), {"name": "Marketo 本番"})
    secret = response.context["issued"].secret
    assert secret in response.content.decode()
    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash_secret(secret)
    assert secret not in token.key_hash
    # The list page afterwards never shows the secret again.
    assert secret not in client.get(reverse("accounts:token-list")).content.decode()


def test_revoked_token_no_longer_authenticates(client, admin_user, api_client):
    assert api_client.get("/api/v1/companies").status_code == 200
    client.force_login(admin_user)
    client.post(reverse("accounts:token-revoke", args=[ApiToken.objects.get().id]))
    assert api_client.get("/api/v1/companies").status_code == 401


def test_unknown_token_is_401(client):
    response = client.get("/api/v1/companies", HTTP_AUTHORIZATION="Bearer lp_nope")
    assert response.status_code == 401


def test_create_api_token_command_prints_the_token_last(capsys):
    call_command("create_api_token", "hubspot")
    out = capsys.readouterr().out.strip().splitlines()
    secret = out[-1]
    assert ApiToken.objects.get(name="hubspot").key_hash == ApiToken.hash_secret(secret)
