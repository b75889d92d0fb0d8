"""Who the client is: the peer's address, or, behind a configured reverse proxy, the address it forwarded.

`X-Forwarded-For` is whatever the client wrote, plus whatever each proxy appended. It is read only when the
request came from one of the configured proxies (`XINYONG_TRUSTED_PROXIES`), and then from its right end:
the first address that is not one of ours is the client. With no proxies configured the header is ignored,
so that nobody can pick their own address to slip past a throttle. The server itself never rewrites the
peer address (`xinyong serve` runs uvicorn without its proxy-headers middleware).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_SCOPE_KEY = "xinyong.client"


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks; raises ValueError naming the entry that is neither."""
    networks = []
    for entry in entries:
        text = entry.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"“{text}”不是 IP 地址或网段（如 10.0.0.1 或 10.0.0.0/24）") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def in_networks(text: str, networks: tuple[Network, ...]) -> bool:
    """Whether the address (as client_address gives it) is in one of the networks."""
    return _is_trusted(_address(text), networks)


def resolve(peer: str, forwarded_for: str | None, networks: tuple[Network, ...]) -> str:
    if not networks or not forwarded_for or not _is_trusted(_address(peer), networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # a hop we cannot read: trust nothing further left than our own proxy
        if not _is_trusted(address, networks):
            return str(address)
    return str(_address(hops[0])) if hops else peer  # every hop one of ours: the first to connect


def client_address(request: Any) -> str:
    """The client's address for throttles and the audit trail, worked out once per request."""
    scope = request.scope
    cached = scope.get(_SCOPE_KEY)
    if cached is None:
        peer = request.client.host if request.client else "unknown"
        networks = getattr(request.app.state, "trusted_proxies", ())
        cached = scope[_SCOPE_KEY] = resolve(peer, request.headers.get("x-forwarded-for"), networks)
    return str(cached)
