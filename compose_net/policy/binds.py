"""The node addresses ports are bound to: one place for both ``check`` and ``harden``.

:class:`Binds` is what ``harden`` writes for a service (``--bind``, ``--bind-var``, or a
node resolver's answer); :data:`NodeAddresses` is what ``check`` expects a service's
private host IPs to be (``--inventory``/``--resolve``). A service's *node key* is the set
of its node's addresses: two services can only collide on a host port when their keys meet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compose_net import interpolate
from compose_net.errors import ComposeNetError
from compose_net.policy import addresses

if TYPE_CHECKING:
    from compose_net.document import Service


@dataclass(frozen=True)
class Binds:
    """The internal address(es) a service's ports are bound to."""

    ipv4: str | None = None
    ipv6: str | None = None
    var: str | None = None

    def __post_init__(self) -> None:
        if not (self.ipv4 or self.ipv6 or self.var):
            raise ComposeNetError("nothing to bind to: give --bind IP or --bind-var NAME")

    @classmethod
    def parse(cls, binds: Sequence[str], var: str | None = None) -> Binds:
        ipv4 = ipv6 = None
        for text in binds:
            addr = addresses.parse_ip(text)
            if addr is None:
                raise ComposeNetError(f"--bind {text!r} is not an IP address")
            kind = addresses.classify(addr)
            if kind == "all-interfaces":
                raise ComposeNetError(
                    f"--bind {text}: that is every interface, the very thing to avoid"
                )
            if addr.version == 4:
                if ipv4:
                    raise ComposeNetError("give at most one IPv4 and one IPv6 --bind address")
                ipv4 = str(addr)
            else:
                if ipv6:
                    raise ComposeNetError("give at most one IPv4 and one IPv6 --bind address")
                ipv6 = str(addr)
        if var is not None and (ipv4 or ipv6):
            raise ComposeNetError("--bind and --bind-var cannot be combined")
        if var is not None and not interpolate.parse("$" + var) == (
            interpolate.Var(var, "", (), "$" + var),
        ):
            raise ComposeNetError(f"--bind-var {var!r} is not a valid variable name")
        return cls(ipv4, ipv6, var)

    def var_text(self) -> str:
        assert self.var is not None
        name = self.var
        return f"${{{name}:?set {name} to the internal address of this node}}"

    def for_family(self, family: int | None) -> list[str]:
        """Addresses to write for an entry of ``family`` (None: both families)."""
        if self.var:
            return [self.var_text()]
        if family == 4:
            return [self.ipv4 or str(self.ipv6)]
        if family == 6:
            return [self.ipv6 or str(self.ipv4)]
        return [ip for ip in (self.ipv4, self.ipv6) if ip]


#: How a command finds a service's addresses (``--bind``, an inventory, a resolver).
BindsFor = Callable[["Service"], Binds]

#: service name -> the internal addresses of its node(s); key ``"*"``: every other service.
NodeAddresses = Mapping[str, AbstractSet[str]]
DEFAULT_KEY = "*"


def expected(node_addresses: NodeAddresses, service: str) -> AbstractSet[str] | None:
    """The addresses ``service``'s node has, when known."""
    found = node_addresses.get(service)
    return found if found is not None else node_addresses.get(DEFAULT_KEY)


def node_key(binds: Binds | None) -> frozenset[str] | None:
    """The identity of the node a service runs on: its addresses (None: unknown, one host)."""
    if binds is None:
        return None
    return frozenset(x for x in (binds.ipv4, binds.ipv6, binds.var) if x)
