"""Host-port collisions: the one place that decides whether two published ports clash.

Two uses of a host port clash when all of these hold:

* they belong to the same Compose project (separate projects are never compared: each
  FILE argument is a project of its own);
* they can run at the same time: services whose ``profiles`` are both non-empty and share
  no profile are variants that never run together (``cpu`` and ``gpu``);
* they run on the same node (unknown placement counts as one host);
* they publish the same port and protocol on overlapping addresses: equal, either one
  every interface (no host IP: IPv4 and IPv6), or ``0.0.0.0`` / ``::`` and an address of
  that family;
* and they are not one port written twice: entries of one service that Compose merges
  into one (the same unicity key) are the same port, not a clash.

``check`` reports clashes (CN006) and ``harden --remap-conflicts`` moves the later port to
the nearest free one (6379 becomes 6378, as a second redis would); both ask this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from compose_net.policy.addresses import parse_ip, unmapped

MAX_PORT = 65535


@dataclass(frozen=True)
class Use:
    """One host port an entry publishes on one address of one node."""

    #: separate projects are never compared
    project: str
    #: the node's identity (its addresses); None: unknown, counts as the one host
    node: frozenset[str] | None
    #: the host IP, canonical when it is an address; None: every interface
    address: str | None
    port: int
    protocol: str
    service: str
    profiles: frozenset[str]
    #: Compose's unicity key of the entry: one service's equal keys are one port
    merge_key: object
    #: where it is written, for messages: ``services.web.ports[0] (file:line:column)``
    label: str = ""
    #: the caller's handle on the entry
    ref: object = field(default=None, compare=False, hash=False)
    #: the port as Compose prints it, as sorted items: a container publishing an equal port
    #: twice publishes it once
    same: tuple[tuple[str, object], ...] = ()

    def where(self) -> str:
        return "on every interface" if self.address is None else f"on {self.address}"


def canonical(address: str | None) -> str | None:
    """An address in canonical form (brackets dropped); "" and None mean every interface."""
    if not address:
        return None
    parsed = parse_ip(address)
    return address if parsed is None else str(unmapped(parsed))


def overlaps(a: str | None, b: str | None) -> bool:
    """Do two host addresses (None: every interface) share a listening address?"""
    if a is None or b is None or a == b:
        return True
    pa, pb = parse_ip(a), parse_ip(b)
    if pa is None or pb is None:
        return False  # a variable, filled in on the node: only equal texts are known to meet
    pa, pb = unmapped(pa), unmapped(pb)
    return pa.version == pb.version and (pa.is_unspecified or pb.is_unspecified or pa == pb)


def same_node(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    return a is None or b is None or bool(a & b)


def together(a: frozenset[str], b: frozenset[str]) -> bool:
    """Can services with these profiles run at the same time?"""
    return not (a and b and a.isdisjoint(b))


def merged(a: Use, b: Use) -> bool:
    """The same port of one service written twice: Compose keeps one."""
    return a.service == b.service and (
        a.merge_key == b.merge_key or (bool(a.same) and a.same == b.same)
    )


def clashes(a: Use, b: Use) -> bool:
    return (
        a.project == b.project
        and a.port == b.port
        and a.protocol == b.protocol
        and same_node(a.node, b.node)
        and overlaps(a.address, b.address)
        and together(a.profiles, b.profiles)
        and not merged(a, b)
    )


def candidate_ports(port: int) -> Iterator[int]:
    """Where a colliding port may go, nearest first: below it (6379 -> 6378), then above."""
    yield from range(port - 1, 0, -1)
    yield from range(port + 1, MAX_PORT + 1)


@dataclass
class Ledger:
    """The host ports taken so far, in declaration order; the first comer keeps its port."""

    _by_port: dict[tuple[str, int, str], list[Use]] = field(default_factory=dict)

    def holder(self, use: Use) -> Use | None:
        """The earlier use ``use`` clashes with, if any."""
        for earlier in self._by_port.get((use.project, use.port, use.protocol), ()):
            if clashes(use, earlier):
                return earlier
        return None

    def add(self, use: Use) -> None:
        self._by_port.setdefault((use.project, use.port, use.protocol), []).append(use)

    def take(self, use: Use) -> Use | None:
        """Record ``use``; the earlier use it clashes with, if any."""
        found = self.holder(use)
        self.add(use)
        return found

    def free_port(self, uses: Iterable[Use], also: Iterable[Use] = ()) -> int | None:
        """The nearest host port to which every one of ``uses`` (one entry's) can move
        without clashing with what is taken or with ``also`` (ports asked for later)."""
        group = list(uses)
        if not group:
            return None
        later = list(also)
        for port in candidate_ports(group[0].port):
            moved = [replace(u, port=port) for u in group]
            if any(self.holder(m) is not None for m in moved):
                continue
            if any(clashes(m, other) for m in moved for other in later):
                continue
            return port
        return None
