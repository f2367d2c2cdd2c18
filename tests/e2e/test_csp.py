"""The Content-Security-Policy in a real browser: main pages report no violation.

Chromium reports each refused inline script or style (a style="" attribute too)
as a ``securitypolicyviolation`` event and a console error; an init script records
the events on every page before the page's own scripts run.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from scoring.models import LeadScore
from tests.e2e.test_import_journey import ja, watch_console
from tests.factories import ActivityFactory, ContactFactory
from tests.scoring.test_definitions import _ensure_active

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def _log_in(page: Page, live_server, username: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(ja("Username")).fill(username)
    page.get_by_label(ja("Password")).fill(password)
    page.get_by_role("button", name=ja("Log in")).click()
    expect(page).to_have_url(live_server.url + "/")


def test_main_pages_the_api_docs_and_the_admin_break_no_policy(
    page: Page, live_server, django_user_model
):
    errors = watch_console(page)
    page.add_init_script(RECORD_VIOLATIONS)
    version = _ensure_active()
    contact = ContactFactory(name="熱い 太郎")
    ActivityFactory(contact=contact, kind="demo_request", occurred_at=timezone.now())
    LeadScore.objects.create(
        contact=contact, version=version, total=80, fit=20, engagement=60, band="hot",
        scored_at=timezone.now(),
    )  # fmt: skip
    django_user_model.objects.create_superuser(username="root", password="pw-root-Secret1")
    _log_in(page, live_server, "root", "pw-root-Secret1")

    pages = ["/", "/leads/", f"/leads/{contact.id}/", f"/leads/companies/{contact.company_id}/",
             "/scoring/", f"/scoring/versions/{version.id}/", "/handoff/", "/admin/",
             "/admin/accounts/user/", "/admin/axes/accessattempt/"]  # fmt: skip
    for path in pages:
        response = page.goto(live_server.url + path)
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        assert _violations(page) == [], path
        if path == f"/leads/{contact.id}/":
            # The score bar's widths come from data-width, set by static/js/portal.js.
            hot = page.locator(".band-scale-bar .band-hot")
            assert hot.evaluate("el => el.style.width").endswith("%")
            assert hot.bounding_box()["width"] > 0

    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".opblock")  # drawn by Swagger UI's scripts, loaded from static/
    page.locator(".opblock-summary").first.click()
    page.wait_for_timeout(200)
    assert _violations(page) == []
    assert errors == []
