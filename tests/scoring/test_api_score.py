"""GET /api/v1/leads/{id}/score and the score on the lead page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from leads.models import Activity
from scoring.models import DefinitionVersion
from tests.factories import ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hot_lead():
    contact = ContactFactory(title="営業部長", company__employee_count=1200, company__industry="E")
    now = timezone.now()
    for n, (kind, days, url) in enumerate(
        [
            (Activity.Kind.DEMO_REQUEST, 1, "/demo"),
            (Activity.Kind.WHITEPAPER_DOWNLOAD, 3, "/wp/dx"),
            (Activity.Kind.PAGE_VIEW, 2, "/pricing"),
            (Activity.Kind.PAGE_VIEW, 5, "/pricing/plans"),
        ]
    ):
        ActivityFactory(
            contact=contact,
            kind=kind,
            occurred_at=now - dt.timedelta(days=days),
            external_id=f"hot-{n}",
            properties={"url": url},
        )
    return contact


def _url(contact_id: int) -> str:
    return reverse("scoring-api:lead-score", args=[contact_id])


def test_score_breakdown_adds_up_to_the_total(api_client, hot_lead):
    response = api_client.get(_url(hot_lead.id))
    assert response.status_code == 200
    body = response.json()
    assert body["band"] == "hot"
    assert body["version"] == 1
    assert round(sum(item["points"] for item in body["breakdown"]) * 100) == round(
        body["total"] * 100
    )
    assert round((body["fit"] + body["engagement"]) * 100) == round(body["total"] * 100)
    rules = {item["rule"] for item in body["breakdown"]}
    assert {"demo_or_pricing_request", "title_senior", "employees_1000", "pricing_page"} <= rules
    assert all({"rule", "points", "hits", "label"} <= item.keys() for item in body["breakdown"])


def test_every_role_reads_a_score(client, role_users, hot_lead):
    for user in role_users.values():
        client.force_login(user)
        assert client.get(_url(hot_lead.id)).status_code == 200


def test_anonymous_is_refused_with_401(hot_lead):
    assert APIClient().get(_url(hot_lead.id)).status_code == 401


def test_a_user_without_a_role_is_refused_with_403(client, no_role_user, hot_lead):
    client.force_login(no_role_user)
    assert client.get(_url(hot_lead.id)).status_code == 403


def test_unknown_lead_is_404(api_client):
    assert api_client.get(_url(987654)).status_code == 404


def test_without_an_active_definition_the_score_is_404(api_client, hot_lead):
    DefinitionVersion.objects.update(status=DefinitionVersion.Status.RETIRED)
    assert api_client.get(_url(hot_lead.id)).status_code == 404


def test_the_lead_page_explains_why_the_lead_is_hot(client, sales_user, hot_lead):
    client.force_login(sales_user)
    response = client.get(
        reverse("leads:lead-detail", args=[hot_lead.id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="score-card"' in html
    assert "デモ・見積依頼 / Demo or pricing request" in html
    assert "band-hot" in html
