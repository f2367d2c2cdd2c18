"""Login throttling with django-axes: two limits and the page a locked-out person sees.

Axes records every failed login (the portal's and the Django admin's, since both
authenticate through ``AxesStandaloneBackend``) as a row per username, address and
browser in ``axes_accessattempt``, in the database, so every server process sees
the same counts. A login is refused, even with the right password, while either

* the username *and* address have ``AXES_FAILURE_LIMIT`` failures (someone
  guessing one person's password; other addresses, the person's own included,
  are not affected), or
* the address alone has ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures, on any
  usernames (someone trying one password on many accounts),

counted over the last ``AXES_COOLOFF_TIME`` since each row's latest failure. A
refused attempt counts as a failure too, so the lock lasts a cool-off from the
last try. A successful login clears its own username and address's failures,
not the address's failures on other usernames: one good account must not wipe
out the traces of an attack on the others from the same address.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a second, higher limit for an address alone.

    Needs ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]``:
    axes then hands over the attempts of the pair first and of the address second.
    """

    def get_failures(self, request, credentials=None) -> int:
        pair, address = self.get_user_attempts(request, credentials)
        failures = _failures(pair)
        # Axes locks when this reaches AXES_FAILURE_LIMIT, its one limit; an address
        # over its own limit is reported as at the pair's limit.
        if _failures(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures

    def reset_user_attempts(self, request, credentials=None) -> int:
        pair, _address = self.filter_user_attempts(request, credentials)
        count, _ = pair.delete()
        return count


def lockout_response(request, original_response=None, credentials=None):
    """The page for a refused login (portal or admin): 429 with Retry-After."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds())
    response = render(
        request,
        "accounts/locked_out.html",
        {
            "username": get_client_username(request, credentials) or "",
            "minutes": max(1, seconds // 60),
        },
        status=429,
    )
    # Every refused attempt restarts the cool-off, so this is exact from now.
    response["Retry-After"] = str(seconds)
    return response
