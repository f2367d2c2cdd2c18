"""DRF permission classes over the leads predicates (leads.permissions).

Anonymous requests get 401 (the Bearer scheme is announced); an authenticated
person without the role gets 403.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from leads.permissions import can_ingest, can_read_api


class CanIngest(BasePermission):
    """Sending data in: an integration token, marketing or an administrator."""

    def has_permission(self, request, view) -> bool:
        return bool(can_ingest(request.user))


class CanReadOrIngest(BasePermission):
    """Reads for integrations and every role; writes as CanIngest."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return bool(can_read_api(request.user))
        return bool(can_ingest(request.user))
