"""A manager's leads pages in headless Chromium: the export follows the filters changed in
place, a long timeline pages in place, and on a phone the score is on screen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from leads import selectors
from scoring.models import LeadScore
from tests.e2e.test_import_journey import ja, watch_console
from tests.factories import ActivityFactory, ContactFactory
from tests.scoring.test_definitions import _ensure_active

# serialized_rollback: see test_import_journey (a flush without it re-creates the content
# types under new ids, and the next serialized test cannot restore them).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _scored(name: str, total: float, fit: float, band: str):
    contact = ContactFactory(name=name)
    LeadScore.objects.create(
        contact=contact, version=_ensure_active(), total=total, fit=fit,
        engagement=total - fit, band=band, scored_at=timezone.now(),
    )  # fmt: skip
    return contact


def _log_in(page: Page, live_server, user) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(ja("Username")).fill(user.username)
    page.get_by_label(ja("Password")).fill("pw-" + user.username)
    page.get_by_role("button", name=ja("Log in")).click()
    expect(page).to_have_url(live_server.url + "/")


def test_the_export_takes_the_filters_as_they_are_at_the_click(
    page: Page, live_server, manager_user
):
    errors = watch_console(page)
    _scored("熱い 太郎", 80, 20, "hot")
    _scored("冷たい 花子", 5, 5, "cold")
    _log_in(page, live_server, manager_user)
    page.goto(live_server.url + "/leads/")
    expect(page.get_by_role("link", name="冷たい 花子")).to_be_visible()
    # Changed in place by htmx: the URL the page was loaded with knows nothing of it.
    page.get_by_label(ja("Band"), exact=True).select_option("hot")
    expect(page.get_by_role("link", name="冷たい 花子")).to_have_count(0)
    with page.expect_download() as download:
        page.locator("#export-link").click()
    body = download.value.path().read_bytes().decode("utf-8-sig")
    names = [row[0] for row in csv.reader(io.StringIO(body))][1:]
    assert names == ["熱い 太郎"]
    assert errors == []


def test_a_long_timeline_shows_older_activity_in_place(page: Page, live_server, sales_user):
    errors = watch_console(page)
    contact = ContactFactory(name="長い 履歴")
    start = timezone.now() - dt.timedelta(days=1)
    kinds = ["page_view", "whitepaper_download", "webinar_registration"]
    for n in range(selectors.TIMELINE_PAGE + 20):
        ActivityFactory(
            contact=contact, kind=kinds[n % 3], occurred_at=start - dt.timedelta(hours=n),
            external_id=f"long-{n}", properties={"title": f"資料{n}"},
        )  # fmt: skip
    _log_in(page, live_server, sales_user)
    page.goto(f"{live_server.url}/leads/{contact.id}/")
    more = page.get_by_role("button", name=ja("Show older activity"))
    expect(more).to_be_visible()
    before = page.locator(".timeline li").count()
    more.click()
    expect(page.get_by_text("資料119", exact=True)).to_be_visible()
    assert page.locator(".timeline li").count() > before
    expect(page.get_by_role("button", name=ja("Show older activity"))).to_have_count(0)
    assert errors == []


@pytest.mark.parametrize("path", ["/leads/", "/leads/{id}/"])
def test_on_a_phone_the_score_is_on_the_first_screen(page: Page, live_server, sales_user, path):
    lead = _scored("電話 一郎", 72.5, 20, "hot")
    page.set_viewport_size({"width": 390, "height": 844})
    _log_in(page, live_server, sales_user)
    page.goto(live_server.url + path.format(id=lead.id))
    score = page.locator(".score-total, [data-testid=score-total]").first
    expect(score).to_be_visible()
    box = score.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844 and box["x"] + box["width"] <= 390
    # No sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
