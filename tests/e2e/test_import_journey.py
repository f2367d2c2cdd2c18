"""Marketing's import journey in headless Chromium: log in, CP932 CSV, dry run, import, a lead.

The page runs in Japanese. Labels are looked up in the catalogue the server
renders with (``ja``), so the journey locates by role and label and survives a
reworded translation; only the login page's ログイン is checked literally.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from leads.models import Company, Contact, ImportJob

# The role groups come from a data migration, and a transactional test that ran
# earlier in this worker flushed them: serialized_rollback puts them back.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LEADS_CSV = Path(__file__).resolve().parent.parent / "fixtures" / "leads_cp932.csv"


def ja(message: str) -> str:
    """What a Japanese browser reads for ``message`` (the msgid while untranslated)."""
    with translation.override("ja"):
        return translation.gettext(message)


def watch_console(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of every page the journey opens."""
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console: {msg.text} ({msg.location})") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


def stat(page: Page, label: str):
    """The figure on the dry-run / import card labelled ``label``."""
    card = page.locator(".stat-card").filter(has=page.get_by_text(ja(label), exact=True))
    return card.locator(".stat-value")


def test_marketing_imports_a_cp932_file_with_a_dry_run_then_opens_a_lead(
    page: Page, live_server, marketing_user
):
    errors = watch_console(page)
    assert ja("Log in") == "ログイン", "compile the catalogues first: make compilemessages"

    # The portal's front door sends an anonymous visitor to the Japanese login page.
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    page.get_by_label(ja("Username")).fill(marketing_user.username)
    page.get_by_label(ja("Password")).fill("pw-" + marketing_user.username)
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(live_server.url + "/")

    # Marketing reaches the import page through the navigation bar.
    nav = page.get_by_role("navigation", name=ja("Main navigation"))
    nav.get_by_role("link", name=ja("Import"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("Import CSV"))

    # Upload: nothing is written, the page previews the column mapping.
    page.get_by_label(ja("CSV file")).set_input_files(LEADS_CSV)
    expect(page.get_by_label(ja("Companies and contacts"))).to_be_checked()
    page.get_by_role("button", name=ja("Upload and preview")).click()
    job = ImportJob.objects.get()
    expect(page).to_have_url(re.compile(rf"/leads/imports/{job.id}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("leads_cp932.csv")
    status = page.locator("#job-status")
    expect(status).to_have_text(ja("Uploaded"))
    expect(page.get_by_text("CP932").first).to_be_visible()
    mapping = page.get_by_role("table").filter(has_text=ja("Imported as")).get_by_role("row")
    expect(mapping.filter(has_text="会社名").first).to_contain_text(ja("Company name"))
    expect(mapping.filter(has_text="メールアドレス")).to_contain_text(ja("E-mail"))
    expect(mapping.filter(has_text="備考")).to_contain_text(ja("Ignored"))
    expect(page.get_by_role("cell", name="株式会社サンプル商事")).to_be_visible()
    expect(page.get_by_role("button", name=ja("Import"), exact=True)).to_be_disabled()

    # Dry run: it reports what the import would do and writes nothing.
    page.get_by_role("button", name=ja("Dry run")).click()
    expect(status).to_have_text(ja("Checked (dry run)"))
    expect(
        page.get_by_role(
            "heading", name=ja("Dry run: what the import will do (nothing written yet)")
        )
    ).to_be_visible()
    expect(stat(page, "Companies created")).to_have_text("3")
    expect(stat(page, "Contacts created")).to_have_text("3")
    assert (Company.objects.count(), Contact.objects.count()) == (0, 0)

    # The import for real. Tasks run in-process here; with a worker, the page
    # polls its progress and reloads itself when the job is done.
    page.get_by_role("button", name=ja("Import"), exact=True).click()
    expect(status).to_have_text(ja("Imported"))
    expect(page.get_by_role("heading", name=ja("Imported"), exact=True)).to_be_visible()
    expect(stat(page, "Contacts created")).to_have_text("3")
    expect(page.get_by_role("button", name=ja("Import"), exact=True)).to_be_disabled()
    assert (Company.objects.count(), Contact.objects.count()) == (3, 3)

    # Open the lead whose row was half- and full-width: ｻﾝﾌﾟﾙ商事(株), ＨＡＮＡＫＯ．ＳＡＴＯ＠…
    nav.get_by_role("link", name=ja("Leads"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("Leads"))
    page.get_by_role("link", name="佐藤 花子").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("佐藤 花子")
    expect(
        page.get_by_role("main").get_by_role("link", name="株式会社サンプル商事").first
    ).to_be_visible()
    expect(page.get_by_text("hanako.sato@sample-shoji.co.jp").first).to_be_visible()

    assert errors == []
