"""Bearer-token authentication for integrations (DRF)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import ApiToken


class IntegrationUser:
    """Who a request is when it comes with an integration token, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None
    id = None
    username = ""

    def __init__(self, token: ApiToken):
        self.token = token
        self.username = f"token:{token.name}"
        self._role_cache: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return self.username

    @property
    def groups(self):  # roles.user_roles reads groups only when the cache is empty
        raise AttributeError("an integration has no groups")

    def has_perm(self, perm: str, obj=None) -> bool:
        import rules

        return rules.has_perm(perm, self, obj)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as: Authorization: Bearer <token>.")
            )
        try:
            secret = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The token has invalid characters.")) from None
        token = (
            ApiToken.objects.filter(key_hash=ApiToken.hash_secret(secret), revoked_at__isnull=True)
            .only("id", "name", "last_used_at")
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked token."))
        now = timezone.now()
        # Touch last_used_at at most once a minute: a write per request would
        # serialise high-rate ingestion on this one row.
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return IntegrationUser(token), token

    def authenticate_header(self, request) -> str:
        return self.keyword
