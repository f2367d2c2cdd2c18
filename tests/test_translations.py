"""The Japanese catalogue is complete, and the UI follows the browser's language.

Japanese is the portal's first language, so an untranslated or fuzzy message is a
bug: Django shows the English msgid (or, for a fuzzy entry, nothing from the .po)
to a Japanese team. Run `make messages` after adding strings, then translate them.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

JA_PO = Path(settings.BASE_DIR) / "locale" / "ja" / "LC_MESSAGES" / "django.po"

# %(name)s / %(n)d / %s and {name}: a translation must keep every one of them.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdfr]|%[sdfr]|\{\w*\}")


def _entries() -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(JA_PO)) if not entry.obsolete]


def _translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [text for _, text in sorted(entry.msgstr_plural.items())]
    return [entry.msgstr]


_GETTEXT = {"_", "gettext", "gettext_lazy", "pgettext", "ngettext"}


def test_no_message_is_marked_inside_an_f_string():
    """xgettext does not read inside f-strings: a message marked there is never extracted,
    so it shows in English on a Japanese page (it happened to a report's column)."""
    import ast

    found = []
    for app in ("accounts", "leads", "scoring", "handoff", "feedback", "portal", "config"):
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.JoinedStr):
                    for call in ast.walk(node):
                        if (
                            isinstance(call, ast.Call)
                            and isinstance(call.func, ast.Name)
                            and call.func.id in _GETTEXT
                        ):
                            found.append(f"{path.relative_to(settings.BASE_DIR)}:{call.lineno}")
    assert found == []


def test_japanese_catalogue_declares_one_plural_form():
    metadata = polib.pofile(str(JA_PO)).metadata
    assert metadata["Language"] == "ja"
    assert "charset=UTF-8" in metadata["Content-Type"]
    assert metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"


def test_every_japanese_message_is_translated():
    untranslated = [
        entry.msgid for entry in _entries() if not all(t.strip() for t in _translations(entry))
    ]
    assert untranslated == []


def test_no_japanese_message_is_fuzzy():
    assert [entry.msgid for entry in _entries() if "fuzzy" in entry.flags] == []


def test_japanese_messages_keep_their_placeholders():
    broken = []
    for entry in _entries():
        expected = set(PLACEHOLDER.findall(entry.msgid + " " + entry.msgid_plural))
        for text in _translations(entry):
            if set(PLACEHOLDER.findall(text)) != expected:
                broken.append(entry.msgid)
    assert broken == []


@pytest.mark.django_db
def test_login_page_is_japanese_for_a_japanese_browser(client):
    body = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "ログイン" in body
    assert "パスワード" in body
    assert "Log in" not in body


@pytest.mark.django_db
def test_login_page_is_english_for_an_english_browser(client):
    body = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Log in" in body
    assert "Password" in body
    assert "ログイン" not in body
