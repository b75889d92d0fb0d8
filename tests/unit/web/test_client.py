"""Who the client is: X-Forwarded-For only from configured proxies, read from its right end."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from xinyong.config import Settings
from xinyong.web.client import client_address, parse_networks, resolve

PROXIES = parse_networks(["10.0.0.5", "10.1.0.0/24"])


@pytest.mark.parametrize(
    ("peer", "header", "networks", "expected"),
    [
        ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),  # no proxies configured: the header is ignored
        ("127.0.0.1", "1.2.3.4", (), "127.0.0.1"),  # not even from a local peer
        ("203.0.113.9", "1.2.3.4", PROXIES, "203.0.113.9"),  # a peer that is not our proxy
        ("10.0.0.5", "198.51.100.7", PROXIES, "198.51.100.7"),
        ("10.0.0.5", "1.2.3.4, 198.51.100.7", PROXIES, "198.51.100.7"),  # the client wrote the first one
        ("10.0.0.5", "198.51.100.7, 10.1.0.20", PROXIES, "198.51.100.7"),  # through two of our proxies
        ("10.0.0.5", "10.1.0.20, 10.0.0.5", PROXIES, "10.1.0.20"),  # only proxies: the leftmost
        ("10.0.0.5", "not-an-address", PROXIES, "10.0.0.5"),
        ("10.0.0.5", "", PROXIES, "10.0.0.5"),
        ("10.0.0.5", "[2001:db8::1]:443", PROXIES, "2001:db8::1"),
        ("10.0.0.5", "198.51.100.7:5000", PROXIES, "198.51.100.7"),
    ],
)
def test_resolve(peer, header, networks, expected):
    assert resolve(peer, header, networks) == expected


def test_a_throttle_cannot_be_dodged_with_a_header():
    addresses = set()
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        request = SimpleNamespace(scope={}, client=SimpleNamespace(host="127.0.0.1"),
                                  headers={"x-forwarded-for": forged},
                                  app=SimpleNamespace(state=SimpleNamespace(trusted_proxies=())))  # fmt: skip
        addresses.add(client_address(request))
    assert addresses == {"127.0.0.1"}


def test_a_proxy_setting_that_is_not_an_address_is_refused_with_its_name():
    with pytest.raises(ValueError, match="不是 IP 地址或网段"):
        Settings(trusted_proxies=("10.0.0.300",))
    assert Settings(trusted_proxies=("10.0.0.0/8", "::1")).trusted_proxies == ("10.0.0.0/8", "::1")
