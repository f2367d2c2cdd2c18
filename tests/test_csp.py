"""The Content-Security-Policy header, and no inline script or style for it to refuse.

The browser-level check (no violation reported on the main pages, the API docs and
the admin) is tests/e2e/test_csp.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
INLINE_STYLE = re.compile(r"""\sstyle\s*=|<style\b""", re.I)
INLINE_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
# A <script> without src is inline code, unless it is a data block (json_script).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def _inline(html: str) -> list[str]:
    return [
        m.group(0)
        for rx in (INLINE_STYLE, INLINE_HANDLER, INLINE_SCRIPT)
        for m in rx.finditer(html)
    ]


def test_every_page_gets_a_strict_policy(client):
    policy = _policy(client.get("/accounts/login/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    for sources in policy.values():
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources


def test_api_answers_and_the_lockout_page_carry_it_too(client, api_client, marketing_user):
    assert "Content-Security-Policy" in api_client.get("/api/v1/companies")
    for n in range(5):
        client.post("/accounts/login/", {"username": "mkt", "password": f"wrong-{n}"})
    locked = client.post("/accounts/login/", {"username": "mkt", "password": "pw-mkt"})
    assert locked.status_code == 429
    assert _policy(locked)["script-src"] == ["'self'"]


def test_no_template_has_an_inline_script_style_or_handler():
    found = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        hits = _inline(path.read_text(encoding="utf-8"))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert found == {}


def test_no_form_widget_is_given_an_inline_style():
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for app in ("accounts", "leads", "scoring", "handoff", "feedback", "portal", "config")
        for path in sorted((ROOT / app).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"""["']style["']\s*:""", line)
    ]
    assert found == []


def test_the_pages_as_rendered_have_nothing_inline(client, marketing_user):
    from tests.scoring.test_definitions import _ensure_active

    version = _ensure_active()
    client.force_login(marketing_user)
    for path in ["/", "/leads/", "/scoring/", f"/scoring/versions/{version.pk}/", "/api/docs/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _inline(response.content.decode()) == [], path
    assert b"includeIndicatorStyles" in client.get("/").content  # htmx injects no <style>
