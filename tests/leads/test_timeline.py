"""Timelines: newest first, by the viewer's day, repeats folded, a page at a time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import selectors
from tests.factories import ActivityFactory, ContactFactory, IntentSignalFactory

pytestmark = pytest.mark.django_db

JST = dt.timezone(dt.timedelta(hours=9))


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=JST)


def _view(contact, at, title="料金プラン", n=[0]):  # noqa: B006 (a counter for ids)
    n[0] += 1
    return ActivityFactory(
        contact=contact, kind="page_view", occurred_at=at, properties={"title": title},
        external_id=f"tl-{n[0]}",
    )  # fmt: skip


def _lines(page):
    return [(day.day.isoformat(), [(e.kind, e.count) for e in day.lines]) for day in page.days]


def test_repeated_page_views_fold_into_one_line_per_day(marketing_user):
    contact = ContactFactory()
    for minute in range(5):
        _view(contact, _at(3, 10, minute), title=f"ページ{minute}")
    ActivityFactory(contact=contact, kind="whitepaper_download", occurred_at=_at(3, 11))
    _view(contact, _at(2, 23, 30))  # 23:30 JST: still the 2nd in Tokyo
    with timezone.override("Asia/Tokyo"):
        page = selectors.contact_timeline(actor=marketing_user, contact=contact)
    assert _lines(page) == [
        ("2026-11-03", [("whitepaper_download", 1), ("page_view", 5)]),
        ("2026-11-02", [("page_view", 1)]),
    ]
    folded = page.days[0].lines[1]
    assert folded.first_at == _at(3, 10, 0) and folded.at == _at(3, 10, 4)
    assert folded.details == ("ページ4", "ページ3", "ページ2")  # a few, newest first
    assert page.older is None


def test_days_follow_the_viewers_time_zone(marketing_user):
    contact = ContactFactory()
    _view(contact, _at(2, 23, 30))
    with timezone.override("UTC"):
        page = selectors.contact_timeline(actor=marketing_user, contact=contact)
    assert page.days[0].day == dt.date(2026, 11, 2)
    with timezone.override("America/New_York"):
        page = selectors.contact_timeline(actor=marketing_user, contact=contact)
    assert page.days[0].day == dt.date(2026, 11, 2)
    with timezone.override("Pacific/Kiritimati"):  # UTC+14
        page = selectors.contact_timeline(actor=marketing_user, contact=contact)
    assert page.days[0].day == dt.date(2026, 11, 3)


def test_pages_cover_every_event_once_even_at_equal_times(marketing_user):
    contact = ContactFactory()
    same = _at(5, 9)
    views = [_view(contact, same) for _ in range(7)]
    signals = [
        IntentSignalFactory(company=contact.company, observed_at=same, external_id=f"s{n}")
        for n in range(3)
    ]
    views += [_view(contact, _at(4, 9, n)) for n in range(4)]
    seen, before, pages = 0, None, 0
    while True:
        page = selectors.contact_timeline(
            actor=marketing_user, contact=contact, before=before, limit=3
        )
        seen += page.events
        pages += 1
        if page.older is None:
            break
        before = page.older
    assert seen == len(views) + len(signals) and pages == 5


def test_a_lead_with_a_long_history_shows_one_page_and_a_link_to_older(client, sales_user):
    contact = ContactFactory()
    for n in range(selectors.TIMELINE_PAGE + 5):
        _view(contact, _at(20, 9) - dt.timedelta(hours=n))
    client.force_login(sales_user)
    response = client.get(reverse("portal:lead-detail", args=[contact.id]))
    page = response.context["timeline"]
    assert page.events == selectors.TIMELINE_PAGE
    older_url = response.context["older_url"]
    assert older_url.startswith(reverse("leads:contact-timeline", args=[contact.id]))
    more = client.get(older_url, HTTP_HX_REQUEST="true")
    assert more.status_code == 200 and "<html" not in more.content.decode()
    assert more.context["timeline"].events == 5 and more.context["older_url"] == ""


@pytest.mark.parametrize(
    "cursor", ["x", "1.2", "1.7.3", "99999999999999999999999.1.1", "1.1.-1", "1.1.9" * 9]
)
def test_a_broken_cursor_is_a_clear_400(client, sales_user, cursor):
    contact = ContactFactory()
    client.force_login(sales_user)
    url = reverse("leads:contact-timeline", args=[contact.id])
    response = client.get(url, {"before": cursor}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_the_company_timeline_names_the_contact(client, sales_user):
    contact = ContactFactory(name="田中 一郎")
    _view(contact, _at(3, 10))
    client.force_login(sales_user)
    html = client.get(reverse("portal:company-detail", args=[contact.company_id])).content.decode()
    assert "田中 一郎" in html


def test_timeline_pages_need_a_role(client, no_role_user):
    contact = ContactFactory()
    client.force_login(no_role_user)
    url = reverse("leads:contact-timeline", args=[contact.id])
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302
    company_url = reverse("leads:company-timeline", args=[contact.company_id])
    assert client.get(company_url).status_code == 302
