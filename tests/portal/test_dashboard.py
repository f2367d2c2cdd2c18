"""The dashboard's figures, and the error pages every role can land on."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from leads import selectors
from leads.models import Activity
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, IntentSignalFactory

pytestmark = pytest.mark.django_db

# 20 November 2025: New York left summer time on 2 November, inside the 30-day window.
NOW = dt.datetime(2025, 11, 20, 15, 30, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(days=30)
ONE = dt.timedelta(microseconds=1)


def _truncated_per_row(*, since: dt.datetime, tz) -> list[tuple[str, int]]:
    """What the dashboard computed before: every row truncated to its local date."""
    rows = (
        Activity.objects.filter(occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    return [(r["day"].isoformat(), r["n"]) for r in rows]


def _edge_instants(tz) -> list[dt.datetime]:
    """Instants either side of every local midnight, the window's start, and later than today."""
    instants = [SINCE - ONE, SINCE, NOW, NOW + dt.timedelta(days=3), NOW + dt.timedelta(days=40)]
    day = SINCE.astimezone(tz).date()
    while day <= NOW.astimezone(tz).date() + dt.timedelta(days=2):
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(dt.UTC)
        instants += [midnight - ONE, midnight, midnight + ONE]
        day += dt.timedelta(days=1)
    rng = random.Random(20251120)
    window = int((NOW - SINCE).total_seconds())
    instants += [SINCE + dt.timedelta(seconds=rng.randrange(window)) for _ in range(40)]
    return instants


@pytest.fixture
def fixed_now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York", "UTC"])
def test_activity_by_day_matches_truncating_every_row(fixed_now, marketing_user, zone):
    tz = ZoneInfo(zone)
    contact = ContactFactory()
    kinds = Activity.Kind.values
    for i, at in enumerate(_edge_instants(tz)):
        ActivityFactory(contact=contact, occurred_at=at, kind=kinds[i % len(kinds)])
    # The repeated hour when New York leaves summer time: one local time, two instants.
    for at in ("2025-11-02T05:30:00+00:00", "2025-11-02T06:30:00+00:00"):
        ActivityFactory(contact=contact, occurred_at=dt.datetime.fromisoformat(at))

    with timezone.override(tz):
        figures = selectors.dashboard_figures(actor=marketing_user)
        expected = _truncated_per_row(since=SINCE, tz=tz)

    assert figures.activity_by_day == expected
    assert figures.activities_30d == Activity.objects.filter(occurred_at__gte=SINCE).count()


def test_dashboard_counts(fixed_now, marketing_user):
    with_contacts = CompanyFactory()
    ContactFactory.create_batch(2, company=with_contacts)
    CompanyFactory.create_batch(3)  # known from intent or anonymous visits only
    for topic, n in [("CRM", 3), ("ERP", 2), ("SFA", 2), ("MA", 1)]:
        IntentSignalFactory.create_batch(n, company=with_contacts, topic=topic)
    IntentSignalFactory(company=with_contacts, topic="old", observed_at=SINCE - ONE)

    figures = selectors.dashboard_figures(actor=marketing_user)

    assert figures.companies == 4
    assert figures.contacts == 2
    assert figures.companies_without_contacts == 3
    assert figures.intent_30d == 8
    # Most signals first; a tie is broken by the topic's name, so the order never flickers.
    assert figures.top_intent_topics == [("CRM", 3), ("ERP", 2), ("SFA", 2), ("MA", 1)]


def test_dashboard_queries_do_not_grow_with_the_data(
    fixed_now, marketing_user, django_assert_max_num_queries
):
    ActivityFactory.create_batch(30, contact=ContactFactory())
    with django_assert_max_num_queries(7):
        selectors.dashboard_figures(actor=marketing_user)


def test_dashboard_fills_days_without_activity_with_zero(fixed_now, client, marketing_user):
    contact = ContactFactory()
    ActivityFactory(contact=contact, occurred_at=NOW - dt.timedelta(days=10))
    ActivityFactory(contact=contact, occurred_at=NOW - dt.timedelta(days=2))
    client.force_login(marketing_user)

    chart = client.get(reverse("home")).context["chart"]

    days = [dt.date.fromisoformat(d) for d in chart["days"]]
    assert days == [days[0] + dt.timedelta(days=n) for n in range(len(days))]
    assert days[-1] == timezone.localdate(NOW)
    assert sum(chart["counts"]) == 2
    assert chart["counts"].count(0) == len(days) - 2


def test_dashboard_says_where_activity_comes_from_when_there_is_none(client, sales_user):
    CompanyFactory()
    client.force_login(sales_user)

    response = client.get(reverse("home"), headers={"accept-language": "en"})

    assert b'id="daily-chart"' not in response.content
    assert "No activity in the last 30 days" in response.content.decode()


@pytest.mark.parametrize("name", ["leads:import-list", "portal:lead-export", "accounts:token-list"])
def test_forbidden_page_keeps_the_portal_layout_and_a_way_home(client, sales_user, name):
    client.force_login(sales_user)

    response = client.get(reverse(name), headers={"accept-language": "en"})

    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert 'aria-label="Main navigation"' in html
    assert f'href="{reverse("home")}"' in html


def test_missing_lead_shows_the_portal_404_page(client, sales_user):
    client.force_login(sales_user)

    response = client.get(reverse("portal:lead-detail", args=[999_999]))

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert f'href="{reverse("home")}"' in response.content.decode()


def test_unknown_address_shows_the_404_page_to_an_anonymous_visitor(client):
    response = client.get("/no-such-page/", headers={"accept-language": "en"})

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert 'aria-label="Main navigation"' not in response.content.decode()


def test_the_chart_marks_today_as_a_partial_day(fixed_now, client, marketing_user):
    ActivityFactory(contact=ContactFactory(), occurred_at=NOW - dt.timedelta(hours=1))
    client.force_login(marketing_user)
    chart = client.get(reverse("home")).context["chart"]
    assert chart["days"][chart["today_index"]] == timezone.localdate(NOW).isoformat()
    assert chart["today_index"] == len(chart["days"]) - 1 and chart["so_far"]


def _awaiting(marketing_user):
    from scoring.models import DefinitionVersion
    from scoring.services.definitions import draft_create, draft_submit

    draft = draft_create(
        actor=marketing_user, based_on=DefinitionVersion.objects.get(status="active")
    )
    draft.change_note = "しきい値の見直し"
    draft.save()
    return draft_submit(actor=marketing_user, version=draft)


def test_home_and_navigation_tell_the_approvers_a_version_awaits_them(
    client, marketing_user, manager_user, sales_user
):
    CompanyFactory()
    version = _awaiting(marketing_user)
    for user in (marketing_user, manager_user):
        client.force_login(user)
        html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'data-testid="awaiting-notice"' in html
        assert f"v{version.number}" in html and "awaits your approval" in html
        assert 'data-testid="nav-badge"' in html
    client.force_login(sales_user)  # field sales does not approve
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="awaiting-notice"' not in html and 'data-testid="nav-badge"' not in html


def test_the_notice_goes_once_the_users_department_has_decided(
    client, marketing_user, manager_user
):
    from scoring.services.definitions import version_decide

    CompanyFactory()
    version = _awaiting(marketing_user)
    version_decide(
        actor=marketing_user, version=version, department="marketing", approve=True, comment="ok"
    )
    client.force_login(marketing_user)
    assert 'data-testid="awaiting-notice"' not in client.get(reverse("home")).content.decode()
    client.force_login(manager_user)
    assert 'data-testid="awaiting-notice"' in client.get(reverse("home")).content.decode()


def test_new_mqls_count_the_moments_leads_became_hot(client, manager_user):
    from scoring.models import DefinitionVersion, MqlEvent

    version = DefinitionVersion.objects.get(status="active")
    now = timezone.now()
    for days in (1, 6, 8, 40):
        MqlEvent.objects.create(
            contact=ContactFactory(), version=version, total=70,
            became_hot_at=now - dt.timedelta(days=days),
        )  # fmt: skip
    client.force_login(manager_user)
    assert client.get(reverse("home")).context["bands"].new_mqls_7d == 2
