"""The OpenAPI schema and its docs page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_is_served(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in [
        "/api/v1/events",
        "/api/v1/event",
        "/api/v1/companies",
        "/api/v1/companies/batch",
        "/api/v1/companies/{id}",
        "/api/v1/contacts",
        "/api/v1/contacts/batch",
        "/api/v1/contacts/{id}",
        "/api/v1/intent-signals",
        "/api/v1/intent-signals/batch",
        "/api/v1/intent-signals/{id}",
    ]:
        assert path in paths
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    batch = schema["components"]["schemas"]["EventBatchRequest"]["properties"]["events"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 1000)


def test_the_schema_documents_filters(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    names = {p["name"] for p in schema["paths"]["/api/v1/intent-signals"]["get"]["parameters"]}
    assert {"company", "topic", "observed_after", "observed_before", "page"} <= names


def test_the_api_docs_page_is_served(client, marketing_user):
    client.force_login(marketing_user)
    assert client.get("/api/docs/").status_code == 200
