"""Feedback's loop in headless Chromium (issue 12): a field rep rejects a handover with a
reason, the manager finds it in the rejection Pareto and drills down to the lead, runs the
threshold review over a judged period and sends its proposal for approval, and marketing
opens the proposed draft, pending approval with the review's note.

Run in Japanese (the team's language) and in English (the ``django_language`` cookie):
the English run also shows the proposed draft written in its requester's language.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from accounts.roles import Role
from feedback.models import ThresholdReview, Verdict
from handoff.models import Bant, Cycle, Pool, Stage
from handoff.services.priority import cycles_refresh_priority
from tests.e2e.test_handoff_journey import _rep
from tests.e2e.test_import_journey import watch_console
from tests.e2e.test_lead_pages_journey import _log_in
from tests.factories import ContactFactory
from tests.feedback.test_review_service import DAY, _judged_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
REASON = {"ja": "時期が合わない", "en": "Timing"}  # feedback's seeded reason "timing"


def _user(django_user_model, username: str, role: Role):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    user.last_name = username
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


def _log_in_as(page: Page, live_server, user, lang: str) -> None:
    """A fresh session for ``user``, reading ``lang`` (the switcher's cookie)."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    if lang == "ja":
        _log_in(page, live_server, user)
        return
    with translation.override(lang):
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label(translation.gettext("Username")).fill(user.username)
        page.get_by_label(translation.gettext("Password")).fill("pw-" + user.username)
        page.get_by_role("button", name=translation.gettext("Log in")).click()
    expect(page).to_have_url(live_server.url + "/")


def _shot(page: Page, name: str, lang: str) -> None:
    page.screenshot(path=f"build/screens/e2e-feedback-{name}-{lang}.png", full_page=True)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_rejection_reaches_the_pareto_and_the_review_proposes_a_draft(
    page: Page, live_server, django_user_model, lang, migration_data
):
    def t(message: str) -> str:
        with translation.override(lang):
            return translation.gettext(message)

    errors = watch_console(page)
    # Charts drawn at once: a screenshot never catches a bar halfway up its animation.
    page.emulate_media(reduced_motion="reduce")
    inside = _rep(django_user_model, "is-fb", Role.INSIDE_SALES, Pool.INSIDE)
    field = _rep(django_user_model, "fs-fb", Role.SALES, Pool.FIELD)
    manager = _user(django_user_model, "mgr-fb", Role.SALES_MANAGER)
    marketing = _user(django_user_model, "mkt-fb", Role.MARKETING)
    # 600 judged MQLs on DAY with their rule hits at MQL time: enough for a proposal.
    active = _judged_world(600)
    now = timezone.now()
    contact = ContactFactory(name="却下 三郎")
    cycle = Cycle.objects.create(
        contact=contact, company_id=contact.company_id, stage=Stage.HANDED_OVER,
        mql_at=now - dt.timedelta(days=2), sql_at=now - dt.timedelta(days=1),
        version=active, score_total=75, score_band="hot", owner=inside, field_owner=field,
        first_touch_due_at=now - dt.timedelta(days=2), qualify_due_at=now + dt.timedelta(days=5),
    )  # fmt: skip
    Bant.objects.create(cycle=cycle)
    cycles_refresh_priority(cycle_ids=[cycle.pk])

    # 1. The field rep opens the handover and rejects it with a reason.
    _log_in_as(page, live_server, field, lang)
    page.goto(live_server.url + "/handoff/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My handovers"))
    page.locator("#queue-rows").get_by_role("link", name="却下 三郎").click()
    panel = page.locator("#verdict-panel")
    panel.get_by_label(t("Reason (required to reject)")).select_option(label=REASON[lang])
    panel.get_by_label(t("Note (optional)")).fill("来期の予算で再検討")
    panel.get_by_role("button", name=t("Reject"), exact=True).click()
    expect(page.locator("#verdict-panel [data-testid=verdicts]")).to_contain_text(REASON[lang])
    # The handoff panel beside it follows: the cycle went back to nurture.
    expect(page.locator("#handoff-panel")).to_contain_text(t("Recycled to nurture"))
    verdict = Verdict.objects.get(cycle=cycle)
    assert (verdict.kind, verdict.decision, verdict.reason.code) == ("sql", "rejected", "timing")
    _shot(page, "verdict", lang)

    # 2. The manager finds the reason in the Pareto and drills down to the lead.
    _log_in_as(page, live_server, manager, lang)
    page.goto(live_server.url + "/feedback/reports/rejections/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Rejection reasons"))
    table = page.locator(".report-table")
    expect(table).to_contain_text(REASON[lang])
    expect(page.locator("#report-chart")).to_be_visible()
    _shot(page, "pareto", lang)
    page.set_viewport_size(PHONE)
    page.reload()  # laid out at the phone's width from the start, the chart too
    expect(page.locator("#report-chart")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(page, "pareto-phone", lang)
    page.set_viewport_size(DESKTOP)
    page.reload()
    table.get_by_role("link", name=REASON[lang], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Leads behind the figure"))
    rows = page.get_by_test_id("drill-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("却下 三郎")
    expect(rows.first).to_contain_text(REASON[lang])
    _shot(page, "drill", lang)

    # 3. The manager runs a review of DAY and sends its proposal for approval.
    page.goto(live_server.url + "/feedback/reviews/")
    page.get_by_role("link", name=t("Run a review")).first.click()
    page.get_by_label(t("From")).fill(DAY.isoformat())
    page.get_by_label(t("Until")).fill(DAY.isoformat())
    page.get_by_role("button", name=t("Run the review")).click()
    # The tests run sent tasks inline: the review is done when its page opens.
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Threshold review"))
    review = ThresholdReview.objects.get()
    assert (review.status, review.outcome, review.language) == ("done", "proposed", lang), (
        review.error
    )
    draft = review.proposed_version
    expect(page.get_by_role("link", name=re.compile(rf"^v{draft.number} "))).to_be_visible()
    _shot(page, "review", lang)
    page.get_by_role("button", name=t("Send for approval")).click()
    expect(page.get_by_role("main")).to_contain_text(
        t("Awaiting marketing's and a sales manager's approval.")
    )
    draft.refresh_from_db()
    assert draft.status == "awaiting"

    # 4. Marketing opens the proposed draft: awaiting approval, with the review's note.
    _log_in_as(page, live_server, marketing, lang)
    page.goto(live_server.url + "/scoring/")
    page.get_by_role("link", name=draft.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"v{draft.number} {draft.title}")
    expect(page.locator("#version-status")).to_have_text(t("Awaiting approval"))
    note = page.locator(".alert").filter(has_text=t("Proposal"))
    expect(note).to_contain_text(f"#{review.pk}")
    evidence = f"/feedback/reviews/{review.pk}/"
    expect(note.get_by_role("link", name=evidence)).to_have_attribute("href", evidence)
    _shot(page, "draft", lang)
    assert errors == []
