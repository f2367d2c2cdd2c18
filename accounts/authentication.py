"""Bearer-token authentication for integrations (DRF).

A verified token is remembered in this process for ``TOKEN_CACHE_SECONDS``
(keyed by the SHA-256 of its secret, as stored), so that an integration
sending thousands of requests does not pay a token query for each one.
Revoking a token with ``accounts.services.api_token_revoke`` forgets every
cached token in the process that revokes it at once; other processes (the
other gunicorn workers) keep accepting it for at most ``TOKEN_CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.throttling import bad_tokens

# How long another process may still accept a revoked token (docs/api.md).
TOKEN_CACHE_SECONDS = 10.0
# Touch last_used_at at most this often: a write per request would serialise
# high-rate ingestion on this one row.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_TOKEN_FIELDS = ("id", "name", "last_used_at")


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


@dataclass(slots=True)
class _Verified:
    """A token as read from the database while it was active."""

    token_id: int
    name: str
    last_used_at: datetime | None
    expires_at: float  # on the cache's clock

    def token(self) -> ApiToken:
        """A fresh instance for each request, like the ``.only()`` row it replaces."""
        return ApiToken.from_db(
            ApiToken.objects.db, _TOKEN_FIELDS, (self.token_id, self.name, self.last_used_at)
        )


class VerifiedTokens:
    """Active tokens by key hash, each kept for ``ttl`` seconds; shared by a process's threads.

    ``forget_all`` bumps a generation number, and a lookup that started
    before it stores nothing, so a row read just before a revocation cannot
    be cached after it.
    """

    def __init__(
        self, *, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, _Verified] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, key_hash: str) -> _Verified | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry.expires_at <= self.clock():
            return None
        return entry

    def put(self, key_hash: str, token: ApiToken, *, generation: int) -> None:
        entry = _Verified(token.pk, token.name, token.last_used_at, self.clock() + self.ttl)
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self.max_entries:
                now = self.clock()
                self._entries = {k: e for k, e in self._entries.items() if e.expires_at > now}
                if len(self._entries) >= self.max_entries:
                    self._entries = {}
            self._entries[key_hash] = entry

    def forget(self, key_hash: str) -> None:
        with self._lock:
            self._entries.pop(key_hash, None)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries = {}


verified_tokens = VerifiedTokens(ttl=TOKEN_CACHE_SECONDS)


def forget_verified_tokens() -> None:
    """Make this process look every token up again (after a revocation)."""
    verified_tokens.forget_all()


def _unknown_token() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(_("Unknown or revoked token."))


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``; every refused token counts against its address.

    An address past ``API_AUTH_FAILURES_PER_MINUTE`` refusals gets 429 for any
    token not already verified in this process (accounts.throttling.BadTokenLimit).
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        try:
            return self._authenticate(request, header)
        except exceptions.AuthenticationFailed:
            bad_tokens.record(request)
            raise

    def _authenticate(self, request, header: list[bytes]):
        if len(header) != 2:
            bad_tokens.check(request)
            raise exceptions.AuthenticationFailed(
                _("Send the header as: Authorization: Bearer <token>.")
            )
        try:
            secret = header[1].decode()
        except UnicodeDecodeError:
            bad_tokens.check(request)
            raise exceptions.AuthenticationFailed(_("The token has invalid characters.")) from None
        key_hash = ApiToken.hash_secret(secret)
        cached = verified_tokens.get(key_hash)
        if cached is None:
            # Before the lookup, so that an address past its limit learns nothing.
            bad_tokens.check(request)
            generation = verified_tokens.generation
            token = (
                ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True)
                .only(*_TOKEN_FIELDS)
                .first()
            )
            if token is None:  # unknown tokens are not cached: each costs its query
                raise _unknown_token()
            verified_tokens.put(key_hash, token, generation=generation)
            cached = verified_tokens.get(key_hash)
        else:
            token = cached.token()
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            # Only while still active: a token revoked by another process is
            # refused here, without waiting for its cache entry to expire.
            touched = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
                last_used_at=now
            )
            if not touched:
                verified_tokens.forget(key_hash)
                raise _unknown_token()
            token.last_used_at = now
            if cached is not None:
                cached.last_used_at = now
        return IntegrationUser(token), token

    def authenticate_header(self, request) -> str:
        return self.keyword
