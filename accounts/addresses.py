"""The client's address, as the login lockout and the API's rate limits count it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address of whoever sent the request.

    Without proxies (``PROXY_COUNT=0``) that is the socket's peer, REMOTE_ADDR;
    X-Forwarded-For is ignored, because anyone can send it and a forged one would
    give an attacker a fresh address, and so fresh limits, with every request.
    Behind N reverse proxies that each append the address they received from,
    the client is the N-th entry from the right of X-Forwarded-For: entries
    further left were written by the client itself. None when there is none
    (a request made in-process without REMOTE_ADDR).
    """
    proxies = settings.PROXY_COUNT
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
        if entries:
            return entries[-min(proxies, len(entries))]
    return request.META.get("REMOTE_ADDR") or None
