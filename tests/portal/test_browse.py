"""The leads pages: who sees them, what they show, filters and empty states."""

import pytest
from django.urls import reverse

from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, IntentSignalFactory

pytestmark = pytest.mark.django_db

PAGES = ["home", "portal:lead-list", "portal:company-list"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitor_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", PAGES)
def test_user_without_a_role_is_forbidden(client, no_role_user, name):
    client.force_login(no_role_user)
    assert client.get(reverse(name)).status_code == 403


def test_user_without_a_role_cannot_open_a_lead(client, no_role_user):
    contact = ContactFactory()
    client.force_login(no_role_user)
    assert client.get(reverse("portal:lead-detail", args=[contact.id])).status_code == 403
    assert (
        client.get(reverse("portal:company-detail", args=[contact.company_id])).status_code == 403
    )


@pytest.mark.parametrize("name", PAGES)
def test_every_role_reads_the_leads_pages(client, role_users, name):
    for user in role_users.values():
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 200


def test_leads_list_filters_by_search_and_prefecture(client, marketing_user):
    osaka = CompanyFactory(name="株式会社ナニワ精工", prefecture="27")
    ContactFactory(company=osaka, name="大阪 花子")
    ContactFactory(name="東京 一郎")
    client.force_login(marketing_user)
    body = client.get(reverse("portal:lead-list"), {"prefecture": "27"}).content.decode()
    assert "大阪 花子" in body and "東京 一郎" not in body
    # Full-width search text and a legal-form variant still find the company.
    body = client.get(reverse("portal:lead-list"), {"q": "ﾅﾆﾜ精工(株)"}).content.decode()
    assert "大阪 花子" in body


def test_htmx_request_gets_only_the_rows_fragment(client, marketing_user):
    ContactFactory(name="断片 太郎")
    client.force_login(marketing_user)
    response = client.get(reverse("portal:lead-list"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "断片 太郎" in body
    assert "<html" not in body


def test_empty_leads_list_tells_marketing_to_import(client, marketing_user):
    client.force_login(marketing_user)
    body = client.get(reverse("portal:lead-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No leads yet" in body
    assert reverse("leads:import-list") in body


def test_empty_leads_list_does_not_offer_import_to_sales(client, sales_user):
    client.force_login(sales_user)
    body = client.get(reverse("portal:lead-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No leads yet" in body
    assert reverse("leads:import-list") not in body


def test_lead_page_shows_company_and_timeline(client, sales_user):
    contact = ContactFactory(name="佐藤 健太")
    ActivityFactory(
        contact=contact, kind="whitepaper_download", properties={"title": "DX推進ガイド"}
    )
    IntentSignalFactory(company=contact.company, topic="営業DX")
    client.force_login(sales_user)
    body = client.get(reverse("portal:lead-detail", args=[contact.id])).content.decode()
    assert "佐藤 健太" in body
    assert contact.company.name in body
    assert "DX推進ガイド" in body
    assert "営業DX" in body


def test_lead_page_queries_do_not_grow_with_activity(
    client, sales_user, django_assert_max_num_queries
):
    contact = ContactFactory()
    ActivityFactory.create_batch(40, contact=contact)
    client.force_login(sales_user)
    with django_assert_max_num_queries(18):
        client.get(reverse("portal:lead-detail", args=[contact.id]))


def test_company_without_contacts_has_a_page(client, inside_sales_user):
    company = CompanyFactory(name="株式会社インテント")
    IntentSignalFactory(company=company, topic="CRM")
    client.force_login(inside_sales_user)
    body = client.get(reverse("portal:company-detail", args=[company.id])).content.decode()
    assert "株式会社インテント" in body and "CRM" in body


def test_unknown_lead_is_404(client, marketing_user):
    client.force_login(marketing_user)
    assert client.get(reverse("portal:lead-detail", args=[999999])).status_code == 404


def test_times_show_in_the_users_time_zone(client, marketing_user):
    import datetime as dt

    contact = ContactFactory()
    ActivityFactory(contact=contact, occurred_at=dt.datetime(2026, 11, 1, 1, 30, tzinfo=dt.UTC))
    marketing_user.time_zone = "America/New_York"
    marketing_user.save()
    client.force_login(marketing_user)
    body = client.get(
        reverse("portal:lead-detail", args=[contact.id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'datetime="2026-10-31T21:30:00-04:00"' in body


def test_dashboard_counts(client, manager_user):
    ContactFactory.create_batch(3)
    CompanyFactory()
    client.force_login(manager_user)
    response = client.get(reverse("home"))
    assert response.context["figures"].contacts == 3
    assert response.context["figures"].companies_without_contacts == 1


def test_a_company_page_shows_its_account_score_and_its_contacts_rolled_up(client, sales_user):
    from django.utils import timezone

    from scoring.models import DefinitionVersion, LeadScore

    company = CompanyFactory(name="株式会社ロールアップ", employee_count=1200, industry="E")
    IntentSignalFactory(company=company, topic="CRM", strength=80)
    version = DefinitionVersion.objects.get(status="active")
    for total, band in ((75, "hot"), (40, "warm"), (5, "cold")):
        LeadScore.objects.create(
            contact=ContactFactory(company=company), version=version, total=total, fit=20,
            engagement=total - 20, band=band, scored_at=timezone.now(),
        )  # fmt: skip
    client.force_login(sales_user)
    response = client.get(
        reverse("portal:company-detail", args=[company.id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    panel, rollup = response.context["panel"], response.context["rollup"]
    assert panel.is_account and panel.fit == "25"  # 1,000+ employees and a target industry
    assert (rollup.contacts, rollup.hot, rollup.warm, rollup.cold, rollup.best) == (3, 1, 1, 1, 75)
    html = response.content.decode()
    assert "Account score" in html and "Best contact" in html


def test_the_lead_page_puts_the_score_before_the_contact_card_on_a_phone(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)
    html = client.get(reverse("portal:lead-detail", args=[contact.id])).content.decode()
    # The score's column comes first in the markup's order on small screens.
    assert html.index("order-2 order-lg-1") < html.index("order-1 order-lg-2")
    assert html.index("order-1 order-lg-2") < html.index('id="score-card"')
