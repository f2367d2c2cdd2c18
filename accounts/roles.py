"""The five roles and the predicates over them.

Roles are Django groups (created by migration 0002) named by ``Role``; a person
may hold several. Predicates are ``rules`` predicates so that views, services
and DRF permission classes all ask the same question.
"""

from __future__ import annotations

import rules
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    INSIDE_SALES = "inside_sales", _("Inside sales")
    SALES = "sales", _("Sales")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    ADMIN = "admin", _("Administrator")


def _has_role(role: Role) -> rules.Predicate:
    @rules.predicate(name=f"has_role_{role.value}")
    def check(user) -> bool:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        return role.value in user_roles(user)

    return check


def user_roles(user) -> frozenset[str]:
    """The user's role names, cached on the instance for the request."""
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names.add(Role.ADMIN.value)
        cached = frozenset(names & set(Role.values))
        user._role_cache = cached
    return cached


is_marketing = _has_role(Role.MARKETING)
is_inside_sales = _has_role(Role.INSIDE_SALES)
is_sales = _has_role(Role.SALES)
is_sales_manager = _has_role(Role.SALES_MANAGER)
is_admin = _has_role(Role.ADMIN)
has_any_role = is_marketing | is_inside_sales | is_sales | is_sales_manager | is_admin


@rules.predicate
def is_integration(user) -> bool:
    """A request made with an integration's API token, not by a person."""
    from accounts.authentication import IntegrationUser

    return isinstance(user, IntegrationUser)
