# Which address a request really comes from: the TCP peer, or what a configured reverse proxy says it forwarded.
"""The source address of a request (S6).

The per-source limits and the rejection log need the sender's address. Behind a reverse proxy the
TCP peer is the proxy, and the sender is in ``X-Forwarded-For``; but anyone can write that header,
so it is believed only when the peer is one of ``SYNCSTORE_TRUSTED_PROXIES`` (IPs or CIDRs; empty
by default, so no forwarded header is believed, not even from loopback). The server itself never
rewrites the client (`webhook_receiver.server` turns uvicorn's proxy headers off); this does.

The sender is found from the right: the peer appends the address it received from, so the list is
walked right to left past every trusted proxy, and the first address that is not a trusted proxy
is the sender (what the client wrote itself, further left, is never used). If every hop is
trusted, the leftmost is taken; a malformed entry stops the walk at the last trusted hop.
Other headers (``Forwarded``, ``X-Real-IP``) are never believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final

from starlette.types import Scope

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_FORWARDED_FOR: Final = b"x-forwarded-for"


def _address(text: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The configured proxies, and the source address of a request given them."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks: tuple[IpNetwork, ...] = tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in self.networks)

    def source(self, peer: str, forwarded_for: Iterable[str]) -> str:
        """The sender's address, given the TCP `peer` and the X-Forwarded-For header values (in order)."""
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        sender = peer
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return sender
            sender = str(address)
            if not self.trusts(sender):
                return sender
        return sender

    def resolve(self, scope: Scope) -> Scope:
        """`scope` with `client` set to the sender (the same scope when nothing changes)."""
        client = scope.get("client")
        if not self.networks or not client or not self.trusts(str(client[0])):
            return scope
        values = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == _FORWARDED_FOR]
        if not values:
            return scope
        sender = self.source(str(client[0]), values)
        return scope if sender == client[0] else {**scope, "client": (sender, client[1])}
