"""This host's own addresses, classified: which one is the node's internal ("service") address.

``service`` addresses are internal (RFC 1918, 100.64.0.0/10, fc00::/7, and the networks of
the configuration's ``internal-networks``; a ``--cidr`` also names one); ``public`` ones are
every other unicast address. Loopback, link-local and the
addresses of container bridges (docker0, br-*, veth*, docker_gwbridge, cni*, flannel*) are
neither: a port bound to them is not reachable from other nodes the way the user means.

The interfaces are read with psutil, so run on a node (or in ``docker run --net=host``) this
reports that node's addresses. ``parse_ip_oneline`` reads the same facts from ``ip -o addr``
output, for hosts reached only through a container (see resolvers.docker).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Optional

from compose_net.errors import ComposeNetError
from compose_net.policy import addresses
from compose_net.policy.addresses import Network, parse_cidr

if TYPE_CHECKING:
    from compose_net.resolvers.inventory import Inventory, Node

Kind = Literal["public", "service"]
AddrClass = Literal["public", "service", "loopback", "link-local", "container", "other"]

KINDS: tuple[Kind, ...] = ("public", "service")
FAMILIES: Final = {"ipv4": 4, "ipv6": 6}

#: Internal networks: a node's "service" side.
SERVICE_NETWORKS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


def internal_networks(extra: Iterable[str] = ()) -> tuple[Network, ...]:
    """The internal ranges: the defaults and ``extra`` (CIDR texts, e.g. a VPN's range)."""
    added = tuple(parse_cidr(text, "internal-networks") for text in extra)
    return SERVICE_NETWORKS + tuple(n for n in added if n not in SERVICE_NETWORKS)


def configured_networks(folder: str = ".") -> tuple[Network, ...]:
    """The internal ranges and the ``internal-networks`` of the configuration of ``folder``
    (for what reads no file: ``addr``, ``nodes``)."""
    from compose_net import config

    return internal_networks(config.find(folder).internal_extra)


#: Interfaces that belong to container runtimes, not to the node's networks (shell patterns).
CONTAINER_INTERFACES = ("docker0", "docker_gwbridge", "br-*", "veth*", "cni*", "flannel*")

CLASS_NOTES: Final[Mapping[str, str]] = {
    "loopback": "loopback",
    "link-local": "link-local",
    "container": "container bridge",
    "other": "not unicast",
}


class AddrError(ComposeNetError):
    """No address, or several, where exactly one was needed."""


@dataclass(frozen=True)
class InterfaceAddress:
    """One address of one interface, and what it is for."""

    interface: str
    address: str
    prefixlen: int
    family: int
    klass: AddrClass

    def describe(self) -> str:
        return f"{self.address} ({self.interface}, {self.klass})"

    def as_json(self) -> dict[str, object]:
        return {
            "interface": self.interface,
            "address": self.address,
            "prefixlen": self.prefixlen,
            "family": f"ipv{self.family}",
            "class": self.klass,
        }


def is_container_interface(name: str) -> bool:
    base = name.split("@", 1)[0]
    return any(fnmatch.fnmatchcase(base, pattern) for pattern in CONTAINER_INTERFACES)


def classify(
    interface: str,
    addr: addresses.Address,
    internal: Sequence[Network] = SERVICE_NETWORKS,
) -> AddrClass:
    """The class of ``addr`` seen on ``interface``."""
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast or addr.is_unspecified:
        return "other"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return "other"
    if is_container_interface(interface):
        return "container"
    if any(addr.version == net.version and addr in net for net in internal):
        return "service"
    return "public"


def _prefixlen(netmask: str | None, family: int) -> int:
    width = 32 if family == 4 else 128
    mask = addresses.parse_ip(netmask) if netmask else None
    if mask is None or mask.version != family:
        return width
    bits = int(mask)
    ones = bin(bits).count("1")
    # a valid netmask is ones then zeros; anything else says nothing of the prefix
    return ones if bits == ((1 << width) - 1) ^ ((1 << (width - ones)) - 1) else width


def make(
    interface: str, address: str, prefixlen: int, internal: Sequence[Network] = SERVICE_NETWORKS
) -> InterfaceAddress | None:
    """An InterfaceAddress from raw text (a zone ``%eth0`` is dropped); None if not an IP."""
    addr = addresses.parse_ip(address.split("%", 1)[0])
    if addr is None:
        return None
    klass = classify(interface, addr, internal)
    return InterfaceAddress(interface, str(addr), prefixlen, addr.version, klass)


#: One address as psutil reports it: (socket family, address, netmask).
Raw = tuple[int, str, Optional[str]]


def from_psutil(
    table: Mapping[str, Iterable[Raw]],
    internal: Sequence[Network] = SERVICE_NETWORKS,
) -> list[InterfaceAddress]:
    """Classify ``psutil.net_if_addrs()`` data; link-layer entries are skipped."""
    out: list[InterfaceAddress] = []
    for interface, entries in table.items():
        for family, address, netmask in entries:
            if family == socket.AF_INET:
                version = 4
            elif family == socket.AF_INET6:
                version = 6
            else:
                continue
            item = make(interface, address, _prefixlen(netmask, version), internal)
            if item is not None:
                out.append(item)
    return _sorted(out)


def psutil_table() -> dict[str, list[Raw]]:
    """This host's (its network namespace's) interfaces and addresses, read by psutil."""
    import psutil

    return {
        name: [(int(a.family), str(a.address), a.netmask) for a in addrs]
        for name, addrs in psutil.net_if_addrs().items()
    }


def host_addresses(internal: Sequence[Network] = SERVICE_NETWORKS) -> list[InterfaceAddress]:
    """This host's addresses (its current network namespace), classified."""
    return from_psutil(psutil_table(), internal)


def parse_ip_oneline(
    text: str,
    internal: Sequence[Network] = SERVICE_NETWORKS,
) -> list[InterfaceAddress]:
    """Classify the output of ``ip -o addr`` (iproute2 or busybox)."""
    out: list[InterfaceAddress] = []
    for line in text.splitlines():
        fields = line.split()
        # "2: eth0    inet 10.0.0.5/24 brd ... scope global eth0\ ..."
        if len(fields) < 4 or not fields[0].endswith(":") or fields[2] not in ("inet", "inet6"):
            continue
        interface = fields[1].split("@", 1)[0]
        address, _, prefix = fields[3].partition("/")
        try:
            prefixlen = int(prefix) if prefix else (32 if fields[2] == "inet" else 128)
        except ValueError:
            continue
        item = make(interface, address, prefixlen, internal)
        if item is not None:
            out.append(item)
    return _sorted(out)


def _sorted(items: list[InterfaceAddress]) -> list[InterfaceAddress]:
    def key(item: InterfaceAddress) -> tuple[str, int, bytes]:
        return (item.interface, item.family, ipaddress.ip_address(item.address).packed)

    return sorted(items, key=key)


@dataclass(frozen=True)
class Choice:
    """How to narrow the addresses down: an interface name and/or a network."""

    interface: str | None = None
    cidr: Network | None = None

    @classmethod
    def parse(cls, interface: str | None, cidr: str | None) -> Choice:
        return cls(interface or None, parse_cidr(cidr) if cidr else None)

    def matches(self, item: InterfaceAddress) -> bool:
        if self.interface is not None and item.interface != self.interface:
            return False
        if self.cidr is not None:
            addr = ipaddress.ip_address(item.address)
            return addr.version == self.cidr.version and addr in self.cidr
        return True

    def __str__(self) -> str:
        parts = []
        if self.interface:
            parts.append(f"--interface {self.interface}")
        if self.cidr:
            parts.append(f"--cidr {self.cidr}")
        return " ".join(parts)


_WORD: Final = {"service": "internal (service)", "public": "public"}


def _filter(items: Sequence[InterfaceAddress], choice: Choice) -> list[InterfaceAddress]:
    return [item for item in items if choice.matches(item)]


def _of_kind(
    items: Sequence[InterfaceAddress], kind: Kind, family: int, choice: Choice
) -> list[InterfaceAddress]:
    """The ``kind`` addresses of ``family`` among ``items`` (already narrowed by ``choice``).

    A --cidr names the internal network: a global address inside it counts as ``service``.
    """
    accepted: tuple[str, ...] = (kind,)
    if kind == "service" and choice.cidr is not None:
        accepted = ("service", "public")
    return [i for i in items if i.klass in accepted and i.family == family]


def select(
    items: Sequence[InterfaceAddress],
    kind: Kind,
    family: int,
    choice: Choice = Choice(),
    where: str = "this host",
) -> str:
    """Exactly one ``kind`` address of ``family``, or AddrError saying why not and what to do."""
    narrowed = _filter(items, choice)
    found = _of_kind(narrowed, kind, family, choice)
    what = f"{_WORD[kind]} IPv{family} address"
    if len(found) == 1:
        return found[0].address
    chosen = f" matching {choice}" if str(choice) else ""
    if not found:
        seen = ", ".join(item.describe() for item in items) or "none"
        hint = (
            "; widen --interface/--cidr"
            if str(choice)
            else "; if an internal network is not in the default ranges, choose it with --cidr"
        )
        raise AddrError(f"no {what} on {where}{chosen} (addresses: {seen}){hint}")
    listed = ", ".join(f"{item.address} ({item.interface})" for item in found)
    raise AddrError(
        f"several {what}es on {where}{chosen}: {listed}; "
        "choose one with --interface NAME or --cidr CIDR"
    )


def select_families(
    items: Sequence[InterfaceAddress],
    kind: Kind,
    choice: Choice = Choice(),
    where: str = "this host",
) -> tuple[str | None, str | None]:
    """The ``kind`` address of each family: (ipv4, ipv6), either None when the family has none.

    Several addresses of one family are an error; none at all in both families too.
    """
    narrowed = _filter(items, choice)
    picked: list[str | None] = []
    for family in (4, 6):
        if _of_kind(narrowed, kind, family, choice):
            picked.append(select(items, kind, family, choice, where))
        else:
            picked.append(None)
    if picked[0] is None and picked[1] is None:
        select(items, kind, 4, choice, where)  # raises, with the addresses seen
    return picked[0], picked[1]


def unique(items: Sequence[InterfaceAddress], kind: Kind, family: int) -> str | None:
    """The one ``kind`` address of ``family``, or None when there is none or several."""
    found = [item.address for item in items if item.klass == kind and item.family == family]
    return found[0] if len(found) == 1 else None


def as_node(
    name: str,
    items: Sequence[InterfaceAddress],
    choice: Choice = Choice(),
    where: str = "this host",
    *,
    source: str = "",
    node_id: str | None = None,
    role: str | None = None,
) -> Node:
    """A node table entry from a host's addresses (AddrError when no internal address is clear)."""
    from compose_net.resolvers.inventory import Node

    ipv4, ipv6 = select_families(items, "service", choice, where)
    narrowed = _filter(items, choice)
    return Node(
        name=name,
        public_ipv4=unique(narrowed, "public", 4),
        public_ipv6=unique(narrowed, "public", 6),
        service_ipv4=ipv4,
        service_ipv6=ipv6,
        id=node_id,
        role=role,
        source=source,
    )


def host_inventory(
    choice: Choice = Choice(), internal: Sequence[Network] = SERVICE_NETWORKS
) -> Inventory:
    """This host as a one-node table, named after its hostname."""
    from compose_net.resolvers.inventory import Inventory

    name = socket.gethostname()
    node = as_node(name, host_addresses(internal), choice, source="this host (psutil)")
    return Inventory((node,), "this host")
