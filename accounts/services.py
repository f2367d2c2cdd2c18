from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.authentication import forget_verified_tokens
from accounts.models import ApiToken, User
from accounts.permissions import can_manage_api_tokens


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


@transaction.atomic
def api_token_create(*, name: str, actor: User | None) -> IssuedToken:
    """Make a token for an integration. ``actor=None`` is the operator's CLI.

    Raises PermissionDenied for a user who is not an administrator.
    """
    if actor is not None and not can_manage_api_tokens(actor):
        raise PermissionDenied
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, e.g. the tool that will use it.")})
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        name=name[:100],
        key_hash=ApiToken.hash_secret(secret),
        key_hint=secret[:10],
        created_by=actor,
    )
    return IssuedToken(token=token, secret=secret)


def api_token_revoke(*, token_id: int, actor: User) -> ApiToken:
    """Revoke a token: from now on it is refused (401).

    This process forgets its cached tokens at once, and again when the
    caller's transaction commits (a request that read the row in between may
    have cached it again); other processes refuse the token within
    ``accounts.authentication.TOKEN_CACHE_SECONDS``. Raises PermissionDenied
    for a user who is not an administrator.
    """
    if not can_manage_api_tokens(actor):
        raise PermissionDenied
    ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    forget_verified_tokens()
    transaction.on_commit(forget_verified_tokens)
    return ApiToken.objects.get(pk=token_id)
