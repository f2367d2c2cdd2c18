"""Which address the lockout and the API limits count (accounts.addresses)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.addresses import client_address


def _request(**meta):
    return RequestFactory().get("/", **meta)


def test_without_proxies_a_forged_forwarded_for_is_ignored(settings):
    settings.PROXY_COUNT = 0
    assert client_address(_request(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.9.9.9")) == (
        "192.0.2.1"
    )


@pytest.mark.parametrize(
    "proxies,forwarded,expected",
    [
        (1, "198.51.100.7", "198.51.100.7"),
        # The client wrote the left entry itself; the proxy appended the right one.
        (1, "10.9.9.9, 198.51.100.7", "198.51.100.7"),
        (2, "10.9.9.9, 198.51.100.7, 192.0.2.50", "198.51.100.7"),
        (2, "198.51.100.7", "198.51.100.7"),
    ],
)
def test_behind_proxies_the_nth_forwarded_entry_from_the_right(
    settings, proxies, forwarded, expected
):
    settings.PROXY_COUNT = proxies
    request = _request(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_behind_a_proxy_without_a_forwarded_for_the_peer_is_the_client(settings):
    settings.PROXY_COUNT = 1
    assert client_address(_request(REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"
