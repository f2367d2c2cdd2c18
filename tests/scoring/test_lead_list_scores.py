"""The leads list shows each lead's score and band, filters by band and sorts by score."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from scoring.models import DefinitionVersion, LeadScore
from tests.factories import CompanyFactory, ContactFactory

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
    response = client.get(reverse("portal:lead-list"), params)
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
    html = client.get(reverse("portal:lead-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">75<" in html
    assert "band-hot" in html


def test_the_dashboard_counts_leads_by_band(client, manager_user, scored):
    client.force_login(manager_user)
    bands = client.get("/").context["bands"]
    assert (bands.hot, bands.warm, bands.cold, bands.unscored) == (1, 1, 1, 1)


@pytest.fixture
def by_fit(db):
    """Three leads whose total, fit and engagement order differently."""
    version = DefinitionVersion.objects.get(status="active")
    rows = {}
    for name, total, fit in (
        ("高得点 低適合", 144, 0),
        ("中得点 高適合", 55, 40),
        ("低得点", 12, 8),
    ):
        contact = ContactFactory(name=name)
        band = "warm" if total >= 30 else "cold"
        LeadScore.objects.create(
            contact=contact, version=version, total=total, fit=fit, engagement=total - fit,
            band=band, scored_at=timezone.now(),
        )  # fmt: skip
        rows[name] = contact
    return rows


def test_sort_and_filter_by_fit_and_engagement(client, sales_user, by_fit):
    client.force_login(sales_user)
    assert _names(client, sort="-fit") == ["中得点 高適合", "低得点", "高得点 低適合"]
    assert _names(client, sort="-engagement") == ["高得点 低適合", "中得点 高適合", "低得点"]
    assert _names(client, min_fit="10") == ["中得点 高適合"]
    assert _names(client, min_engagement="5", min_score="50", sort="score") == [
        "中得点 高適合",
        "高得点 低適合",
    ]


def test_a_high_score_held_back_by_the_fit_floor_is_marked_in_the_list(client, sales_user, by_fit):
    client.force_login(sales_user)
    assert _names(client, held_back="true") == ["高得点 低適合"]
    html = client.get(
        reverse("portal:lead-list"), {"sort": "-score"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert html.count('class="held-back') == 1
    assert "fit of 0 is under the fit floor of 10" in html


def test_a_lead_made_hot_by_a_trigger_is_not_held_back(client, sales_user, by_fit):
    LeadScore.objects.filter(contact=by_fit["高得点 低適合"]).update(band="hot")
    client.force_login(sales_user)
    assert _names(client, held_back="true") == []


@pytest.mark.parametrize("value", ["1e400", "-99999999999", "abc", "NaN"])
def test_out_of_range_score_filters_show_no_rows_and_no_error(client, sales_user, by_fit, value):
    client.force_login(sales_user)
    response = client.get(reverse("portal:lead-list"), {"min_score": value})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []


def test_the_companies_list_shows_sorts_and_filters_by_account_score(client, sales_user):
    version = DefinitionVersion.objects.get(status="active")
    names = {}
    for name, total, band in (("株式会社アツイ", 70, "hot"), ("株式会社ヌルイ", 35, "warm")):
        company = CompanyFactory(name=name)
        LeadScore.objects.create(
            company=company, version=version, total=total, fit=20, engagement=total - 20,
            band=band, scored_at=timezone.now(),
        )  # fmt: skip
        names[band] = company
    CompanyFactory(name="株式会社ミサイテン")
    client.force_login(sales_user)
    url = reverse("portal:company-list")
    sorted_names = [r.company.name for r in client.get(url, {"sort": "-score"}).context["rows"]]
    assert sorted_names == ["株式会社アツイ", "株式会社ヌルイ", "株式会社ミサイテン"]
    hot = [r.company.name for r in client.get(url, {"band": "hot"}).context["rows"]]
    assert hot == ["株式会社アツイ"]
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">70<" in html and "band-warm" in html
