"""Inside sales' day in headless Chromium: the queue, the top lead, a BANT call logged in
place, the promotion to SQL, and the field sales rep finding it under "my handovers".
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from handoff.models import Bant, Cycle, PainPoint, Pool, RepProfile, Stage
from tests.e2e.test_import_journey import ja, watch_console
from tests.e2e.test_lead_pages_journey import _log_in
from tests.factories import ContactFactory
from tests.scoring.test_definitions import _ensure_active

# serialized_rollback: see test_import_journey (a flush without it re-creates the content
# types under new ids, and the next serialized test cannot restore them).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _rep(django_user_model, username: str, role: Role, pool: str):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    user.last_name = username
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    RepProfile.objects.create(user=user, pool=pool)
    return user


def test_inside_sales_qualifies_the_top_lead_and_field_sales_finds_it(
    page: Page, live_server, django_user_model
):
    errors = watch_console(page)
    PainPoint.objects.get_or_create(
        code="mkt_sales_gap",
        defaults={"label_ja": "マーケと営業の連携不足", "label_en": "Not aligned"},
    )
    rep = _rep(django_user_model, "is-journey", Role.INSIDE_SALES, Pool.INSIDE)
    field = _rep(django_user_model, "fs-journey", Role.SALES, Pool.FIELD)
    version = _ensure_active()
    now = timezone.now()
    top = ContactFactory(name="至急 一郎")
    later = ContactFactory(name="後で 二郎")
    for contact, due in (
        (top, now - dt.timedelta(minutes=5)),
        (later, now + dt.timedelta(hours=5)),
    ):
        cycle = Cycle.objects.create(
            contact=contact, company_id=contact.company_id, mql_at=now - dt.timedelta(hours=3),
            version=version, score_total=75, score_band="hot", owner=rep,
            first_touch_due_at=due, qualify_due_at=now + dt.timedelta(days=5),
        )  # fmt: skip
        Bant.objects.create(cycle=cycle)

    _log_in(page, live_server, rep)
    page.get_by_role("link", name=ja("Queue"), exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("My queue"))
    rows = page.locator("#queue-rows tbody tr")
    expect(rows.first).to_contain_text("至急 一郎")  # breached first
    expect(rows.first).to_contain_text(ja("Breached"))
    page.screenshot(path="build/screens/e2e-queue-ja.png", full_page=True)

    rows.first.get_by_role("link", name="至急 一郎").click()
    panel = page.locator("#handoff-panel")
    expect(panel).to_contain_text(ja("Log a call"))
    form = panel.locator("form.call-form")
    form.get_by_label(ja("Outcome")).select_option("connected")
    for group in ("Budget", "Authority", "Need"):
        panel.get_by_role("radiogroup", name=ja(group)).get_by_text(
            ja("Confirmed"), exact=True
        ).click()
    form.get_by_label(ja("Budget range")).select_option("500_1000")
    form.get_by_label(ja("Their role in the decision")).select_option("decision_maker")
    form.get_by_label("マーケと営業の連携不足").check()
    form.get_by_label(ja("Notes"), exact=True).fill("決裁者と通話。来期導入を検討。")
    form.get_by_role("button", name=ja("Save the call")).click()  # htmx: the panel is swapped
    expect(panel.locator(".call-list")).to_contain_text("決裁者と通話")
    expect(page.locator("#handoff-panel .funnel-current")).to_have_text(ja("Working"))
    page.screenshot(path="build/screens/e2e-workspace-ja.png", full_page=True)

    page.locator("#handoff-panel").get_by_role(
        "button", name=ja("Promote to SQL and hand over")
    ).click()
    expect(page.locator(".alert-success")).to_contain_text("fs-journey")
    cycle = Cycle.objects.get(contact=top)
    assert (cycle.stage, cycle.field_owner) == (Stage.HANDED_OVER, field)

    page.context.clear_cookies()
    _log_in(page, live_server, field)
    page.goto(live_server.url + "/handoff/")
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("My handovers"))
    expect(page.locator("#queue-rows")).to_contain_text("至急 一郎")
    expect(page.locator("#queue-rows")).not_to_contain_text("後で 二郎")
    assert errors == []
