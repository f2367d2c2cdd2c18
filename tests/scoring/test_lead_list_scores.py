"""The leads list shows each lead's score and band, filters by band and sorts by score."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from scoring.models import DefinitionVersion, LeadScore
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(db):
    version = DefinitionVersion.objects.get(status="active")
    now = timezone.now()
    leads = {}
    for name, total, band in (
        ("熱い 太郎", 75, "hot"),
        ("温い 次郎", 40, "warm"),
        ("冷たい 三郎", 5, "cold"),
    ):
        contact = ContactFactory(name=name)
        LeadScore.objects.create(
            contact=contact, version=version, total=total, fit=10, engagement=total - 10,
            band=band, scored_at=now,
        )  # fmt: skip
        leads[band] = contact
    leads["unscored"] = ContactFactory(name="未採点 四郎")
    return leads


def _names(client, **params) -> list[str]:
    response = client.get(reverse("leads:lead-list"), params)
    assert response.status_code == 200
    return [c.name for c in response.context["page"].object_list]


def test_filter_by_band(client, sales_user, scored):
    client.force_login(sales_user)
    assert _names(client, band="hot") == ["熱い 太郎"]
    assert _names(client, band="cold") == ["冷たい 三郎"]


def test_sort_by_score_puts_unscored_leads_last(client, sales_user, scored):
    client.force_login(sales_user)
    assert _names(client, sort="-score") == ["熱い 太郎", "温い 次郎", "冷たい 三郎", "未採点 四郎"]
    assert _names(client, sort="score") == ["冷たい 三郎", "温い 次郎", "熱い 太郎", "未採点 四郎"]


def test_the_list_shows_score_and_band(client, sales_user, scored):
    client.force_login(sales_user)
    html = client.get(reverse("leads:lead-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "75.0" in html
    assert "band-hot" in html


def test_the_dashboard_counts_leads_by_band(client, manager_user, scored):
    client.force_login(manager_user)
    bands = client.get("/").context["bands"]
    assert (bands.hot, bands.warm, bands.cold, bands.unscored) == (1, 1, 1, 1)
