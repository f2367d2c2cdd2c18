"""/api/schema/ and /api/docs/ are behind login unless API_DOCS_PUBLIC opens them."""

from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/"
DOCS = "/api/docs/"
OPENAPI = "application/vnd.oai.openapi+json"


def test_closed_by_default():
    assert settings.API_DOCS_PUBLIC is False


def test_an_anonymous_schema_request_gets_401(client):
    response = client.get(SCHEMA, HTTP_ACCEPT=OPENAPI)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_unknown_token_gets_401(client):
    response = client.get(SCHEMA, HTTP_ACCEPT=OPENAPI, HTTP_AUTHORIZATION="Bearer lp_nope")
    assert response.status_code == 401


def test_an_integration_token_fetches_the_schema(client, api_token):
    response = client.get(SCHEMA, HTTP_ACCEPT=OPENAPI, HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code == 200
    assert "/api/v1/events" in response.json()["paths"]


def test_a_signed_in_person_fetches_the_schema(client, sales_user):
    client.force_login(sales_user)
    assert client.get(SCHEMA, HTTP_ACCEPT=OPENAPI).status_code == 200


def test_an_anonymous_visitor_to_the_docs_goes_to_the_login_page(client):
    response = client.get(DOCS)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/docs/"
    # The docs page's own settings script too.
    assert client.get(DOCS + "?script=").status_code == 302


def test_a_signed_in_person_gets_the_docs_and_their_script(client, sales_user):
    client.force_login(sales_user)
    page = client.get(DOCS)
    assert page.status_code == 200
    assert b"swagger-ui" in page.content
    script = client.get(DOCS + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"/api/schema/" in script.content


def test_api_docs_public_opens_both(client, settings):
    settings.API_DOCS_PUBLIC = True
    assert client.get(SCHEMA, HTTP_ACCEPT=OPENAPI).status_code == 200
    assert client.get(DOCS).status_code == 200
