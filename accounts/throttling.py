"""The API's rate limits: bad tokens per address, writes per token (docs/api.md, "Limits").

Both count in the Django cache, which is Redis in production, so the limits hold
across every server process; on the embedded default (a local-memory cache) each
process counts for itself. They count in fixed windows (one cache key per window,
incremented atomically) rather than DRF's sliding history, which rewrites a list
of every request's time on each request: at a few thousand writes a minute that
is a list of thousands of floats through Redis per event. A fixed window lets a
client send up to twice the limit across a window's boundary; that is all.
"""

from __future__ import annotations

import math
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.addresses import client_address

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_RATE = re.compile(r"^(\d+)/(s|sec|second|m|min|minute|h|hour|d|day)$")
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"6000/min"`` → (6000, 60). Raises ValueError for anything else."""
    match = _RATE.match(rate.strip())
    if not match:
        raise ValueError(f"{rate!r} is not a rate such as 6000/min")
    return int(match[1]), _PERIODS[match[2][0]]


def _window(key: str, period: int) -> tuple[str, float]:
    """This window's cache key, and the seconds until the next window begins."""
    now = time.time()
    number = int(now // period)
    return f"rl:{key}:{number}", (number + 1) * period - now


def _count(key: str, ttl: float) -> int:
    """Add one to the window's counter and return it (atomic in Redis and locmem)."""
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=math.ceil(ttl) + 1):
            return 1
        return cache.incr(key)  # another process began the window a moment ago


class BadTokenLimit:
    """At most ``API_AUTH_FAILURES_PER_MINUTE`` refused tokens per client address.

    Past it, every bearer token from the address that this process has not
    verified in the last few seconds gets a 429 without being looked up, until the
    minute is over: the right token too, or guessing could go on and only the hits
    would tell. Tokens already verified by this process (accounts.authentication)
    are served from memory and never reach this check.
    """

    period = 60

    @staticmethod
    def _key(request) -> str:
        return f"badtoken:{client_address(request) or 'unknown'}"

    def check(self, request) -> None:
        """Raise Throttled when the address has used up its refusals this minute."""
        key, wait = _window(self._key(request), self.period)
        if (cache.get(key) or 0) >= settings.API_AUTH_FAILURES_PER_MINUTE:
            raise exceptions.Throttled(
                wait=wait,
                detail=_("Too many requests with an unknown or revoked token from this address."),
            )

    def record(self, request) -> None:
        key, wait = _window(self._key(request), self.period)
        _count(key, wait)


bad_tokens = BadTokenLimit()


class ApiWriteThrottle(BaseThrottle):
    """Writes (POST, PUT, PATCH, DELETE) per token, or per person on a session.

    The rate is ``DEFAULT_THROTTLE_RATES["api_write"]`` (``API_WRITE_RATE``), read
    at each request so that a changed setting applies at once. Reads are not
    limited; neither are requests refused before (401, 403), which DRF checks first.
    """

    scope = "api_write"

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        if request.method not in UNSAFE_METHODS:
            return True
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        user = request.user
        if not rate or not getattr(user, "is_authenticated", False):
            return True
        token = getattr(user, "token", None)
        who = f"token:{token.pk}" if token is not None else f"user:{user.pk}"
        limit, period = parse_rate(rate)
        key, wait = _window(f"{self.scope}:{who}", period)
        if _count(key, wait) > limit:
            self._wait = wait
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
