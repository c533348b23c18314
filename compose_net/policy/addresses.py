"""What an address means for exposure: every interface, public, internal or loopback."""

from __future__ import annotations

import functools
import ipaddress
from typing import Literal, Union

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
AddressClass = Literal["all-interfaces", "loopback", "private", "public"]

#: Networks that do not route on the internet: a node's "service" side.
INTERNAL_NETWORKS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
)


@functools.lru_cache(maxsize=1 << 16)
def parse_ip(text: str) -> Address | None:
    """Parse an address as Docker does (no zone, optional [brackets]); None if invalid.

    Kept for the texts met last: every layer asks about the same entries' addresses.
    """
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text or not text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def unmapped(addr: Address) -> Address:
    """The IPv4 address inside an IPv4-mapped IPv6 address, else ``addr``."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def classify(addr: Address, internal: tuple[Network, ...] = INTERNAL_NETWORKS) -> AddressClass:
    addr = unmapped(addr)
    if addr.is_unspecified:
        return "all-interfaces"
    if addr.is_loopback:
        return "loopback"
    if any(addr.version == net.version and addr in net for net in internal):
        return "private"
    return "public"


def classify_text(text: str | None) -> AddressClass | None:
    """Classify a host IP as written; None/empty mean every interface, None if invalid."""
    if not text:
        return "all-interfaces"
    addr = parse_ip(text)
    return None if addr is None else classify(addr)


def family(text: str) -> int | None:
    """4 or 6 for a valid address, else None."""
    addr = parse_ip(text)
    return None if addr is None else unmapped(addr).version


def parse_cidr(text: str, what: str = "--cidr") -> Network:
    """A network written as CIDR (host bits allowed), or a one-line error naming ``what``."""
    from compose_net.errors import ComposeNetError

    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ComposeNetError(f"{what} {text!r} is not a network (e.g. 10.176.0.0/16)") from None


def internal_networks(extra: tuple[str, ...] | list[str] = ()) -> tuple[Network, ...]:
    """The networks that count as internal: the private ranges and ``extra`` (the
    configuration's ``internal-networks``, e.g. a VPN's public-looking range)."""
    added = tuple(parse_cidr(text, "internal-networks") for text in extra)
    return INTERNAL_NETWORKS + tuple(n for n in added if n not in INTERNAL_NETWORKS)
