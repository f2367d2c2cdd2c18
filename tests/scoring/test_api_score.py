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
        reverse("portal:lead-detail", args=[hot_lead.id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="score-card"' in html
    assert "Demo or pricing request" in html
    assert "デモ・見積依頼" not in html  # the viewer's language only
    assert "band-hot" in html
    assert "above the hot threshold of 60" in html


def test_rule_labels_follow_the_viewers_language(client, sales_user, hot_lead):
    client.force_login(sales_user)
    html = client.get(
        reverse("portal:lead-detail", args=[hot_lead.id]), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert "デモ・見積依頼" in html and "Demo or pricing request" not in html


@pytest.fixture
def engaged_misfit():
    """Active enough for "hot" (60) but with fit 0, under the starter's floor of 10."""
    contact = ContactFactory(title="担当", job_level="", company__employee_count=20)
    now = timezone.now()
    kinds = [Activity.Kind.DEMO_REQUEST, Activity.Kind.TRIAL_SIGNUP, Activity.Kind.CHAT]
    for n, kind in enumerate(kinds):
        ActivityFactory(
            contact=contact, kind=kind, occurred_at=now - dt.timedelta(hours=n + 1),
            external_id=f"misfit-{n}", properties={},
        )  # fmt: skip
    return contact


def test_a_warm_lead_past_the_hot_threshold_is_explained_by_its_fit(
    client, api_client, sales_user, engaged_misfit
):
    body = api_client.get(_url(engaged_misfit.id), HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["band"] == "warm" and body["total"] >= 60 and body["fit"] == 0
    assert body["standing"] == {
        "warm": 30.0,
        "hot": 60.0,
        "fit_floor": 10.0,
        "points_to_warm": None,
        "points_to_hot": None,
        "fit_short": 10.0,
        "held_by_fit_floor": True,
        "reasons": ["fit_below_floor"],
    }
    assert "fit floor of 10" in body["summary"]
    client.force_login(sales_user)
    html = client.get(
        reverse("portal:lead-detail", args=[engaged_misfit.id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Warm, not hot" in html and "under the fit floor of 10" in html


def test_the_api_names_negative_rules_and_the_gap_to_the_next_band(api_client):
    contact = ContactFactory(title="学生", job_level="")  # −50
    ActivityFactory(contact=contact, kind=Activity.Kind.WEBINAR_ATTENDANCE, properties={})
    body = api_client.get(_url(contact.id), HTTP_ACCEPT_LANGUAGE="ja").json()
    assert body["band"] == "cold"
    assert body["negative_rules"] == ["title_student"]
    assert body["standing"]["points_to_warm"] == pytest.approx(30 - body["total"])
    assert body["standing"]["reasons"][0] == "below_warm"
    student = next(c for c in body["breakdown"] if c["rule"] == "title_student")
    assert student["label"] == "学生" and student["labels"] == {"ja": "学生", "en": "Student"}


def test_tiny_contributions_are_grouped_and_points_add_up(client, sales_user):
    """No "+0.02" line: what is under a point reads "other small signals"."""
    contact = ContactFactory(title="部長")
    now = timezone.now()
    for n, days in enumerate((40, 45)):  # page views a month old: ~0.02 each after decay
        ActivityFactory(
            contact=contact, kind=Activity.Kind.PAGE_VIEW, properties={"url": "/blog"},
            occurred_at=now - dt.timedelta(days=days), external_id=f"old-{n}",
        )  # fmt: skip
    client.force_login(sales_user)
    response = client.get(
        reverse("portal:lead-detail", args=[contact.id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    panel = response.context["panel"]
    small = [line for line in panel.engagement_lines if not line.key]
    assert len(small) == 1 and small[0].label == "1 other small signal"
    html = response.content.decode()
    assert "+0.02" not in html and "before decay and cap" not in html


def test_the_live_explanation_is_the_engines_score(hot_lead, engaged_misfit):
    """The page's breakdown comes from SQL sums; it must be the pure engine's, rule by rule."""
    from scoring.engine import score, score_account
    from scoring.explain import account_score_explain, lead_score_explain
    from scoring.facts import facts_for_company, facts_for_contact
    from scoring.services.jobs import definition_of

    for contact in (hot_lead, engaged_misfit):
        explained = lead_score_explain(contact_id=contact.id)
        pure = score(definition_of(explained.version), facts_for_contact(contact.id), explained.at)
        assert (explained.score.total, explained.score.band) == (pure.total, pure.band)
        assert [(c.rule_key, c.points, c.hits) for c in explained.score.breakdown] == [
            (c.rule_key, c.points, c.hits) for c in pure.breakdown
        ]
    account = account_score_explain(company_id=hot_lead.company_id)
    pure = score_account(
        definition_of(account.version), facts_for_company(hot_lead.company_id), account.at
    )
    assert (account.score.total, account.score.fit) == (pure.total, pure.fit)


@pytest.fixture
def demo_trigger():
    """The starter definition with its demo-or-pricing rule made an MQL trigger."""
    version = DefinitionVersion.objects.get(status=DefinitionVersion.Status.ACTIVE)
    spec = dict(version.spec)
    spec["behaviour"] = [
        {**r, "trigger": True} if r["key"] == "demo_or_pricing_request" else r
        for r in spec["behaviour"]
    ]
    DefinitionVersion.objects.filter(pk=version.pk).update(spec=spec, updated_at=timezone.now())
    return version


def _demo_by(**contact):
    lead = ContactFactory(job_level="", company__employee_count=20, **contact)
    ActivityFactory(
        contact=lead, kind=Activity.Kind.DEMO_REQUEST, properties={}, external_id=f"demo-{lead.pk}"
    )
    return lead


def test_a_demo_request_trigger_makes_a_misfit_hot_and_says_why(
    client, api_client, sales_user, demo_trigger
):
    lead = _demo_by(title="担当")
    body = api_client.get(_url(lead.id), HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["band"] == "hot" and body["total"] < 60 and body["fit"] < 10
    assert body["triggered_by"] == ["demo_or_pricing_request"]
    assert body["standing"]["reasons"] == ["mql_trigger"]
    assert "MQL trigger matched" in body["summary"]
    demo = next(c for c in body["breakdown"] if c["rule"] == "demo_or_pricing_request")
    assert demo["is_trigger"] is True
    client.force_login(sales_user)
    html = client.get(
        reverse("portal:lead-detail", args=[lead.id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Hot at once" in html


def test_a_student_requesting_a_demo_is_held_by_the_negative_rule(api_client, demo_trigger):
    lead = _demo_by(title="学生")
    body = api_client.get(_url(lead.id), HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["band"] != "hot"
    assert body["triggered_by"] == [] and body["trigger_held"] is True
    assert "negative rule keeps the lead from being an MQL" in body["summary"]
