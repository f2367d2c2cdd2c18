"""The navigation bar, by role: a link shows only where its page would let the user in.

A badge counts what waits for the user there (definition versions to approve).

Hiding a link is a courtesy, not a check; every view checks on the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.roles import Role, user_roles
from handoff.selectors import unread_count
from scoring.selectors import versions_awaiting


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    icon: str
    url_name: str
    active: bool = False
    badge: int = 0  # things waiting for the user there
    badge_label: str = ""


_NAV = [
    # (url name, label, icon, roles that see it; None = every role)
    ("home", _("Home"), "speedometer2", None),
    (
        "portal:queue",
        _("Queue"),
        "telephone",
        {Role.INSIDE_SALES, Role.SALES_MANAGER, Role.MARKETING, Role.ADMIN, Role.SALES},
    ),
    ("portal:lead-list", _("Leads"), "people", None),
    ("portal:company-list", _("Companies"), "building", None),
    ("scoring:version-list", _("Hot lead definition"), "sliders", None),
    (
        "feedback:report-index",
        _("Reports"),
        "bar-chart",
        {Role.SALES_MANAGER, Role.MARKETING, Role.INSIDE_SALES, Role.SALES, Role.ADMIN},
    ),
    ("leads:import-list", _("Import"), "upload", {Role.MARKETING, Role.ADMIN}),
    (
        "feedback:review-list",
        _("Reviews"),
        "graph-up-arrow",
        {Role.MARKETING, Role.SALES_MANAGER, Role.ADMIN},
    ),
    ("handoff:team", _("Team"), "diagram-3", {Role.SALES_MANAGER, Role.ADMIN}),
    ("accounts:token-list", _("API tokens"), "key", {Role.ADMIN}),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(user, "groups"):
        return {"nav_items": [], "user_roles": frozenset()}
    roles = user_roles(user)
    links = [
        (name, label, icon, reverse(name))
        for name, label, icon, allowed in _NAV
        if allowed is None or roles & {r.value for r in allowed}
    ]
    # The section is the link whose URL is the longest prefix of this page's
    # path (so /leads/companies/3/ is Companies, not Leads); home only on "/".
    path = request.path
    matching = [url for *_, url in links if path == url or (url != "/" and path.startswith(url))]
    current = max(matching, key=len, default=None)
    awaiting = len(versions_awaiting(actor=user))
    badges = {
        "scoring:version-list": (
            awaiting,
            ngettext(
                "%(n)s version awaits your approval", "%(n)s versions await your approval", awaiting
            )
            % {"n": awaiting},
        )
    }
    items = [
        NavItem(
            label=str(label),
            url=url,
            icon=icon,
            url_name=name,
            active=url == current,
            badge=badges.get(name, (0, ""))[0],
            badge_label=badges.get(name, (0, ""))[1],
        )
        for name, label, icon, url in links
    ]
    role_labels = [Role(r).label for r in Role.values if r in roles]
    unread = unread_count(actor=user)
    return {
        "nav_items": items,
        "nav_badges": sum(item.badge for item in items) + unread,
        "unread_notifications": unread,
        "user_roles": roles,
        "user_role_labels": role_labels,
    }
