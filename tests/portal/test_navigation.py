"""The navigation marks the section a page belongs to, sub-pages included."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from portal.navigation import navigation

pytestmark = pytest.mark.django_db


def _active(user, path: str) -> list[str]:
    request = RequestFactory().get(path)
    request.user = user
    return [item.url_name for item in navigation(request)["nav_items"] if item.active]


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/", "home"),
        ("/leads/", "portal:lead-list"),
        ("/leads/42/", "portal:lead-list"),
        ("/leads/companies/", "portal:company-list"),
        ("/leads/companies/7/", "portal:company-list"),
        ("/scoring/versions/3/", "scoring:version-list"),
    ],
)
def test_one_section_is_active(marketing_user, path, section):
    assert _active(marketing_user, path) == [section]


def test_a_page_outside_every_section_marks_none(marketing_user):
    assert _active(marketing_user, "/api/docs/") == []
