"""Who may use the API: integrations and marketing/admin send; every role reads."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.roles import Role
from leads.models import Activity
from tests.factories import CompanyFactory, ContactFactory, IntentSignalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Many tests here make one user per role; hashing their passwords dominates otherwise."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


READS = ["/api/v1/companies", "/api/v1/contacts", "/api/v1/intent-signals"]
WRITES = [
    "/api/v1/events",
    "/api/v1/event",
    "/api/v1/companies",
    "/api/v1/companies/batch",
    "/api/v1/contacts",
    "/api/v1/contacts/batch",
    "/api/v1/intent-signals",
    "/api/v1/intent-signals/batch",
]


def _event_batch() -> dict:
    occurred = timezone.now().isoformat()
    return {
        "events": [
            {
                "source": "t",
                "external_id": "1",
                "kind": "page_view",
                "occurred_at": occurred,
                "contact": {"email": "a@example.co.jp"},
            }
        ]
    }


@pytest.fixture
def details():
    company = CompanyFactory()
    return [
        f"/api/v1/companies/{company.id}",
        f"/api/v1/contacts/{ContactFactory(company=company).id}",
        f"/api/v1/intent-signals/{IntentSignalFactory(company=company).id}",
    ]


@pytest.mark.parametrize("path", READS)
def test_anonymous_reads_are_401_and_announce_the_bearer_scheme(path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_anonymous_detail_reads_are_401(details):
    for path in details:
        assert APIClient().get(path).status_code == 401


@pytest.mark.parametrize("path", WRITES)
def test_anonymous_writes_are_401(path):
    assert APIClient().post(path, {}, format="json").status_code == 401
    assert not Activity.objects.exists()


@pytest.mark.parametrize("path", WRITES)
def test_an_unknown_token_is_401(path):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer lp_not-a-token")
    assert client.post(path, _event_batch(), format="json").status_code == 401


def test_a_revoked_token_is_401(api_client):
    ApiToken.objects.update(revoked_at=timezone.now())
    assert api_client.post("/api/v1/events", _event_batch(), format="json").status_code == 401
    assert api_client.get("/api/v1/companies").status_code == 401


def test_a_malformed_authorization_header_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert client.get("/api/v1/companies").status_code == 401


@pytest.mark.parametrize("path", READS)
def test_a_logged_in_person_without_a_role_cannot_read(client, no_role_user, path):
    client.force_login(no_role_user)
    assert client.get(path).status_code == 403


def test_a_logged_in_person_without_a_role_cannot_read_details(client, no_role_user, details):
    client.force_login(no_role_user)
    for path in details:
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", WRITES)
def test_a_logged_in_person_without_a_role_cannot_write(no_role_user, path):
    client = APIClient()
    client.force_authenticate(no_role_user)
    assert client.post(path, _event_batch(), format="json").status_code == 403
    assert not Activity.objects.exists()


@pytest.mark.parametrize("role", [Role.INSIDE_SALES, Role.SALES, Role.SALES_MANAGER])
@pytest.mark.parametrize("path", WRITES)
def test_sales_roles_read_but_cannot_send_data(role_users, role, path):
    client = APIClient()
    client.force_authenticate(role_users[role])
    assert client.post(path, _event_batch(), format="json").status_code == 403
    assert not Activity.objects.exists()


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", READS)
def test_every_role_reads(client, role_users, role, path):
    client.force_login(role_users[role])
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("role", [Role.MARKETING, Role.ADMIN])
def test_marketing_and_admin_may_send_events_with_their_session(role_users, role):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(role_users[role])
    secret = "a" * 32  # a session's POST carries the CSRF cookie's secret in a header
    client.cookies["csrftoken"] = secret
    response = client.post("/api/v1/events", _event_batch(), format="json", HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 200
    assert response.json()["created"] == 1


def test_a_session_post_without_a_csrf_token_is_refused(marketing_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(marketing_user)
    response = client.post("/api/v1/events", _event_batch(), format="json")
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_an_integration_token_reads_and_sends(api_client, details):
    assert api_client.post("/api/v1/events", _event_batch(), format="json").status_code == 200
    for path in [*READS, *details]:
        assert api_client.get(path).status_code == 200
