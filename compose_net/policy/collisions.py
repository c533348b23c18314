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

import functools
import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Optional, Union

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
    #: the port as Compose prints it, as sorted items: a container publishing an equal port
    #: twice publishes it once
    same: tuple[tuple[str, object], ...] = ()
    #: the variables that filled the port and the address, as a message names them
    #: (``${PORT}``; "" when the file writes them): their values are never printed
    port_from: str = field(default="", compare=False)
    address_from: str = field(default="", compare=False)

    def shown_port(self) -> str:
        return self.port_from or str(self.port)

    def where(self) -> str:
        if self.address is None:
            return "on every interface"
        return f"on {self.address_from or self.address}"


#: the profiles of a service that has none (one object for all of them)
NO_PROFILES: frozenset[str] = frozenset()

Same = tuple[tuple[str, object], ...]


@functools.lru_cache(maxsize=1 << 16)
def _one(same: Same) -> Same:
    return same


@functools.lru_cache(maxsize=1 << 16)
def _pair(item: tuple[str, object]) -> tuple[str, object]:
    return item


def shared(same: Same) -> Same:
    """One object for equal :attr:`Use.same` values: a big file repeats them many times,
    and every port it publishes is kept in several ledgers."""
    try:
        return _one(tuple(_pair(item) for item in same))
    except TypeError:  # a value that cannot be hashed: kept as it is
        return same


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


def meet(a: Use, b: Use) -> bool:
    """Do two uses take the same host port at the same time (one service's port written
    twice included)?"""
    return (
        a.project == b.project
        and a.port == b.port
        and a.protocol == b.protocol
        and same_node(a.node, b.node)
        and overlaps(a.address, b.address)
        and together(a.profiles, b.profiles)
    )


def clashes(a: Use, b: Use) -> bool:
    return meet(a, b) and not merged(a, b)


def candidate_ports(port: int) -> Iterator[int]:
    """Where a colliding port may go, nearest first: below it (6379 -> 6378), then above."""
    yield from range(port - 1, 0, -1)
    yield from range(port + 1, MAX_PORT + 1)


Key = tuple[str, int, str]


class Pending:
    """Host ports asked for later in a run, by the index of what asks: what a move must
    not take either. What has been settled is dropped (:meth:`drop`)."""

    def __init__(self) -> None:
        self._by_port: dict[Key, dict[int, list[Use]]] = {}
        self._keys: dict[int, list[Key]] = {}

    def put(self, index: int, uses: Iterable[Use]) -> None:
        keys = self._keys.setdefault(index, [])
        for use in uses:
            key = (use.project, use.port, use.protocol)
            self._by_port.setdefault(key, {}).setdefault(index, []).append(use)
            keys.append(key)

    def drop(self, index: int) -> None:
        for key in self._keys.pop(index, ()):
            at = self._by_port.get(key)
            if at is not None:
                at.pop(index, None)
                if not at:
                    del self._by_port[key]

    def clashes(self, use: Use) -> bool:
        at = self._by_port.get((use.project, use.port, use.protocol))
        return at is not None and any(clashes(use, u) for uses in at.values() for u in uses)


#: what decides whether a use clashes, apart from its port and its service's own ports
Shape = tuple[str, str, Optional[frozenset[str]], Optional[str], frozenset[str]]


def _shape(use: Use) -> Shape:
    return (use.project, use.protocol, use.node, use.address, use.profiles)


class _Taken:
    """For one shape of an entry's uses: the host ports found taken by other services'
    uses, which stay taken (a ledger only grows), so later searches skip them."""

    __slots__ = ("down", "sole", "up")

    def __init__(self) -> None:
        #: port -> the next port to try below / above it, for a taken port (path-compressed)
        self.down: dict[int, int] = {}
        self.up: dict[int, int] = {}
        #: service -> taken ports that only its own uses take (it may share them: not skipped)
        self.sole: dict[str, set[int]] = {}

    def mark(self, port: int, services: set[str]) -> None:
        self.down[port] = port - 1
        self.up[port] = port + 1
        if len(services) == 1:
            self.sole.setdefault(next(iter(services)), set()).add(port)

    @staticmethod
    def next(links: dict[int, int], port: int) -> int:
        """The first port from ``port`` on (in the links' direction) not known taken."""
        root = port
        while root in links:
            root = links[root]
        while port != root:
            after = links[port]
            links[port] = root
            port = after
        return root


#: what an address is, for the ledger's index: None (every interface), ("any", 4 | 6) for
#: 0.0.0.0 / ::, or its canonical text (an address, or a variable as written)
_Key = Union[None, str, tuple[str, int]]


def _address_key(address: str | None) -> _Key:
    if address is None:
        return None
    parsed = parse_ip(address)
    if parsed is None:
        return address
    parsed = unmapped(parsed)
    return ("any", parsed.version) if parsed.is_unspecified else str(parsed)


#: a bucket of more uses than this is indexed; a smaller one is scanned (most hold one)
_INDEX_FROM = 16


class _Index:
    """What keeps the uses of a bucket apart: address, profiles and node; and which ports
    one service wrote twice. ``clashes`` decides; the index only leaves out uses that cannot
    clash, so that one address (or profile, or node) per tenant is no scan of every tenant
    for each new one."""

    __slots__ = ("by_address", "by_node", "by_profile", "merged", "uses")

    def __init__(self, uses: list[Use]) -> None:
        self.uses = uses
        self.by_address: dict[_Key, list[int]] = {}
        #: profile -> uses with it; "" -> uses without profiles (they run with every profile)
        self.by_profile: dict[str, list[int]] = {}
        #: node address -> uses on a node with it; "" -> uses on an unknown node
        self.by_node: dict[str, list[int]] = {}
        #: (service, address, node, profiles) with the unicity key, and with the port as
        #: printed: Compose merges a later equal port into the first, so only the first counts
        self.merged: set[tuple[object, ...]] = set()
        for index, use in enumerate(uses):
            self.merged.update(self._names(use))
            self._put(index, use)

    @staticmethod
    def _names(use: Use) -> set[tuple[object, ...]]:
        where = (use.service, _address_key(use.address), use.node, use.profiles)
        names: set[tuple[object, ...]] = {(*where, use.merge_key)}
        if use.same:
            names.add((*where, use.same))
        return names

    def _put(self, index: int, use: Use) -> None:
        self.by_address.setdefault(_address_key(use.address), []).append(index)
        for profile in use.profiles or ("",):
            self.by_profile.setdefault(profile, []).append(index)
        for node in use.node if use.node is not None else ("",):
            self.by_node.setdefault(node, []).append(index)

    def add(self, use: Use) -> None:
        names = self._names(use)
        if not names.isdisjoint(self.merged):
            return  # one port written twice: the first stands for both
        self.merged.update(names)
        self._put(len(self.uses), use)
        self.uses.append(use)

    def candidates(self, use: Use) -> Iterable[Use]:
        """The earlier uses that may clash with ``use``, in declaration order."""
        options: list[list[list[int]]] = []
        key = _address_key(use.address)
        if isinstance(key, str):  # 0.0.0.0 / :: and every interface overlap whole families
            lists = [self.by_address.get(None, []), self.by_address.get(key, [])]
            parsed = parse_ip(key)
            if parsed is not None:
                lists.append(self.by_address.get(("any", parsed.version), []))
            options.append(lists)
        if use.profiles:
            lists = [self.by_profile.get("", [])]
            lists.extend(self.by_profile.get(p, []) for p in use.profiles)
            options.append(lists)
        if use.node is not None:
            lists = [self.by_node.get("", [])]
            lists.extend(self.by_node.get(n, []) for n in use.node)
            options.append(lists)
        if not options:
            return self.uses
        narrowest = min(options, key=lambda lists: sum(map(len, lists)))
        return self._in_order(narrowest)

    def _in_order(self, lists: list[list[int]]) -> Iterator[Use]:
        """The uses of ``lists`` (each in declaration order) in declaration order, each once:
        merged lazily, as the first clash usually ends the search."""
        last = -1
        for i in heapq.merge(*lists):
            if i != last:
                last = i
                yield self.uses[i]


class _Bucket:
    """The uses of one project, port and protocol, in declaration order; past
    ``_INDEX_FROM`` of them, indexed (:class:`_Index`)."""

    __slots__ = ("index", "uses")

    def __init__(self) -> None:
        self.uses: list[Use] = []
        self.index: _Index | None = None

    def candidates(self, use: Use) -> Iterable[Use]:
        return self.uses if self.index is None else self.index.candidates(use)

    def add(self, use: Use) -> None:
        if self.index is not None:
            self.index.add(use)
            return
        self.uses.append(use)
        if len(self.uses) > _INDEX_FROM:
            self.index = _Index(self.uses)


@dataclass
class Ledger:
    """The host ports taken so far, in declaration order; the first comer keeps its port."""

    _by_port: dict[Key, _Bucket] = field(default_factory=dict)
    #: what :meth:`free_port` found taken, by the shape of the uses that looked
    _taken: dict[tuple[Shape, ...], _Taken] = field(default_factory=dict, repr=False)

    def holder(self, use: Use) -> Use | None:
        """The earlier use ``use`` clashes with, if any."""
        bucket = self._by_port.get((use.project, use.port, use.protocol))
        if bucket is None:
            return None
        for earlier in bucket.candidates(use):
            if clashes(use, earlier):
                return earlier
        return None

    def add(self, use: Use) -> None:
        key = (use.project, use.port, use.protocol)
        bucket = self._by_port.get(key)
        if bucket is None:
            bucket = self._by_port[key] = _Bucket()
        bucket.add(use)

    def take(self, use: Use) -> Use | None:
        """Record ``use``; the earlier use it clashes with, if any."""
        found = self.holder(use)
        self.add(use)
        return found

    def free_port(self, uses: Iterable[Use], pending: Pending | None = None) -> int | None:
        """The nearest host port (:func:`candidate_ports`) to which every one of ``uses``
        (one entry's) can move without clashing with what is taken or with ``pending``
        (ports asked for later)."""
        group = list(uses)
        if not group:
            return None
        service = group[0].service
        taken = self._taken.setdefault(tuple(_shape(u) for u in group), _Taken())
        if service in taken.sole or any(u.service != service for u in group):
            # ports its own uses hold may be free for it: try every port
            for port in candidate_ports(group[0].port):
                if self._fits(group, port, pending, None):
                    return port
            return None
        start = group[0].port
        for links, step, end in ((taken.down, -1, 0), (taken.up, 1, MAX_PORT + 1)):
            port = taken.next(links, start + step)
            while port != end:
                if self._fits(group, port, pending, taken):
                    return port
                port = taken.next(links, port + step)
        return None

    def _fits(
        self, group: Sequence[Use], port: int, pending: Pending | None, taken: _Taken | None
    ) -> bool:
        """Whether ``group`` can move to ``port``; a port other services' uses take is
        marked in ``taken``."""
        moved = [replace(u, port=port) for u in group]
        services: set[str] = set()
        fits = True
        for m in moved:
            bucket = self._by_port.get((m.project, port, m.protocol))
            for earlier in bucket.uses if bucket is not None else ():
                if meet(m, earlier):
                    services.add(earlier.service)
                    if not merged(m, earlier):
                        fits = False
        if taken is not None and services:
            taken.mark(port, services)
        if not fits:
            return False
        return pending is None or not any(pending.clashes(m) for m in moved)
