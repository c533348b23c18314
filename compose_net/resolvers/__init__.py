"""Where a service's ports should be bound: one address for all, or per node.

A resolver is a ``BindsFor`` (service -> Binds) that may also say which node a service
runs on (``node_of``), so port collisions are only counted between services on one node.

* ``static(binds)``: ``--bind IP`` / ``--bind-var NAME``, every service alike;
* ``NodeResolver(inventory)``: per node, the node found by ``placement.place``, from an
  inventory file, the Docker API (``resolvers.docker``) or this host (``resolvers.local``).

``from_options`` builds one from the command-line options ``harden`` and ``check`` share;
``expected_addresses`` tells a linter which addresses each service's ports should use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compose_net import paths
from compose_net.document import Document, Service
from compose_net.errors import ComposeNetError
from compose_net.policy.binds import Binds, BindsFor, NodeAddresses
from compose_net.resolvers.inventory import Inventory
from compose_net.resolvers.placement import Placement, place

if TYPE_CHECKING:
    from compose_net.config import Config

DEFAULT_DOCKER_IMAGE = "busybox"
RESOLVE_CHOICES = ("local", "docker")


def static(binds: Binds) -> BindsFor:
    """Every service gets the same addresses."""

    def binds_for(service: Service) -> Binds:
        del service
        return binds

    return binds_for


class NodeResolver:
    """Binds per service: the internal address(es) of the node it is placed on."""

    def __init__(self, inventory: Inventory, node: str | None = None) -> None:
        self.inventory = inventory
        self.node = node
        if node is not None:
            inventory.find(node)  # an unknown --node is an error before any file is read
        #: id(service node) -> (that node, kept alive so the id is not reused; its placement)
        self._placements: dict[int, tuple[object, Placement]] = {}

    def place(self, service: Service) -> Placement:
        cached = self._placements.get(id(service.node))
        if cached is not None and cached[0] is service.node:
            return cached[1]
        placement = place(service, self.inventory, self.node)
        self._placements[id(service.node)] = (service.node, placement)
        return placement

    def node_of(self, service: Service) -> str | None:
        return self.place(service).node.name

    def __call__(self, service: Service) -> Binds:
        placement = self.place(service)
        try:
            return placement.node.binds()
        except ComposeNetError as e:
            pos = service.position
            raise ComposeNetError(
                f"services.{service.name} runs on node {placement.node.name} ({placement.how}), "
                f"which has no internal address to bind to: {e.message}",
                line=pos.line,
                column=pos.column,
            ) from None


@dataclass(frozen=True)
class Expected:
    """What a service's ports should be bound to, or why that cannot be told."""

    service: str
    binds: Binds | None
    node: str | None = None
    error: ComposeNetError | None = None


def expected_addresses(doc: Document, resolver: BindsFor) -> dict[str, Expected]:
    """For each service that publishes ports: its node and addresses, or the error saying why not.

    A service bound anywhere else than its ``Expected.binds`` (IPv4/IPv6, or the
    ``${VAR}`` of --bind-var) is bound to an address that is not its node's.
    """
    out: dict[str, Expected] = {}
    node_of = getattr(resolver, "node_of", None)
    for service in doc.services:
        if not service.ports:
            continue
        try:
            node = node_of(service) if node_of is not None else None
            out[service.name] = Expected(service.name, resolver(service), node)
        except ComposeNetError as e:
            out[service.name] = Expected(service.name, None, None, e.with_path(doc.name))
    return out


def node_addresses_for(resolver: BindsFor) -> Callable[[Document], NodeAddresses]:
    """Each document's services -> the addresses of the nodes the resolver places them on."""

    def addresses_for(doc: Document) -> NodeAddresses:
        out: dict[str, frozenset[str]] = {}
        for name, expected in expected_addresses(doc, resolver).items():
            if expected.binds is not None:
                out[name] = frozenset(ip for ip in (expected.binds.ipv4, expected.binds.ipv6) if ip)
        return out

    return addresses_for


def from_options(
    *,
    binds: Sequence[str] = (),
    bind_var: str | None = None,
    resolve: str | None = None,
    inventory: str | None = None,
    node: str | None = None,
    interface: str | None = None,
    cidr: str | None = None,
    docker_image: str | None = None,
    internal: Sequence[str] | None = None,
    config: Config | None = None,
) -> BindsFor:
    """The resolver the options ask for; exactly one source of addresses must be given.

    ``internal``: CIDRs that count as internal besides the private ranges (None: the
    ``internal-networks`` of the configuration of the current folder).
    ``config``: the addresses are written into files (``harden``). When no option names a
    source, the configuration's ``bind``, ``bind-var``, ``resolve`` or ``inventory`` does;
    with none at all, the error lists the ways to give one. ``--resolve local`` on a host
    whose only internal address is IPv6 warns that IPv4 clients lose the ports.
    """
    configured = config is not None and not (binds or bind_var or resolve or inventory)
    if config is not None and configured:
        binds, bind_var, resolve, inventory = configured_source(config)
        if not (binds or bind_var or resolve or inventory):
            raise ComposeNetError(nothing_to_bind(internal))
    sources = [
        name
        for name, given in (
            ("--bind/--bind-var", bool(binds) or bind_var is not None),
            ("--resolve", resolve is not None),
            ("--inventory", inventory is not None),
        )
        if given
    ]
    if len(sources) > 1:
        raise ComposeNetError(
            f"{' and '.join(sources)} cannot be combined: give one source of addresses"
        )
    if (interface or cidr) and resolve is None:
        raise ComposeNetError(
            "--interface and --cidr choose among a host's addresses: "
            "use them with --resolve local or --resolve docker"
        )
    if docker_image is not None and resolve != "docker":
        raise ComposeNetError("--docker-image is for --resolve docker")
    if node is not None and not (resolve or inventory):
        raise ComposeNetError(
            "--node names a node of an inventory: use it with --inventory or --resolve"
        )
    if inventory is not None:
        from compose_net.resolvers import inventory as inventories

        return NodeResolver(inventories.load(inventory), node)
    if resolve is not None:
        table = node_table(
            resolve, interface=interface, cidr=cidr, docker_image=docker_image, internal=internal
        )
        if config is not None and resolve == "local":
            _warn_ipv6_only(table)
        return NodeResolver(table, node)
    try:
        parsed = Binds.parse(binds, bind_var)
        _refuse_public_binds(parsed, internal)
    except ComposeNetError as e:  # say where a configured address came from
        if configured and config is not None and config.path is not None:
            raise e.with_path(config.path) from None
        raise
    return static(parsed)


def configured_source(config: Config) -> tuple[tuple[str, ...], str | None, str | None, str | None]:
    """(binds, bind_var, resolve, inventory) from the configuration; the inventory's path is
    relative to the configuration file. Two sources at once are an error naming the file."""
    if len(config.sources) > 1:
        raise ComposeNetError(
            f"{' and '.join(config.sources)} cannot be combined: give one source of addresses",
            path=config.path,
        )
    inventory = config.inventory
    if inventory is not None and config.path is not None:
        # inside the configuration's project, so that a repository cannot make compose-net
        # read (and quote) another file; --inventory names one anywhere
        inventory = paths.named_by(
            inventory, "", config.path, "inventory", "name it with --inventory"
        )
    return config.bind, config.bind_var, config.resolve, inventory


def nothing_to_bind(internal: Sequence[str] | None = None) -> str:
    """The ways to choose an address, and the one ``addr service`` picks on this host."""
    ways = (
        "nothing to bind to: give --bind IP, --bind-var NAME, --resolve local|docker or "
        "--inventory FILE, or set bind, bind-var, resolve or inventory in .compose-net.yaml "
        "(or [tool.compose-net] in pyproject.toml)"
    )
    from compose_net.resolvers import local

    try:
        networks = (
            local.configured_networks() if internal is None else local.internal_networks(internal)
        )
        ipv4, ipv6 = local.select_families(local.host_addresses(networks), "service")
    except ComposeNetError:
        return ways + "; this host has no single internal address (see `compose-net addr`)"
    picked = " and ".join(ip for ip in (ipv4, ipv6) if ip)
    return ways + f"; on this host `compose-net addr service` picks {picked} (--resolve local)"


def _warn_ipv6_only(table: Inventory) -> None:
    """--resolve local binding to an IPv6 address only: IPv4 clients can no longer connect."""
    from compose_net import report

    for node in table.nodes:
        if node.service_ipv6 and not node.service_ipv4:
            report.warn(
                "compose-net",
                f"this host's only internal address is IPv6 ({node.service_ipv6}): "
                "every port is bound to it, so IPv4 clients will no longer reach them "
                "(to keep them, --bind an internal IPv4 address as well)",
            )


def _refuse_public_binds(binds: Binds, internal: Sequence[str] | None) -> None:
    """Binding to a public address would publish the port where it must not be."""
    from compose_net.policy import addresses
    from compose_net.resolvers import local

    if internal is None:
        networks = local.configured_networks()
    else:
        networks = local.internal_networks(internal)
    for ip in (binds.ipv4, binds.ipv6):
        addr = addresses.parse_ip(ip) if ip else None
        if addr is not None and addresses.classify(addr, networks) == "public":
            raise ComposeNetError(
                f"--bind {ip} is a public address: bind to the node's internal address "
                "(if that network is internal here, add it to internal-networks in "
                ".compose-net.yaml)"
            )


def node_table(
    resolve: str | None = None,
    *,
    inventory: str | None = None,
    interface: str | None = None,
    cidr: str | None = None,
    docker_image: str | None = None,
    internal: Sequence[str] | None = None,
) -> Inventory:
    """The node table from an inventory file, the Docker API or this host.

    ``internal`` as for ``from_options``: it decides which host addresses are internal.
    """
    if inventory is not None:
        if resolve is not None:
            raise ComposeNetError("--inventory and --resolve cannot be combined")
        from compose_net.resolvers import inventory as inventories

        return inventories.load(inventory)
    from compose_net.resolvers import local

    networks = (
        local.configured_networks() if internal is None else local.internal_networks(internal)
    )
    if resolve == "local":
        return local.host_inventory(local.Choice.parse(interface, cidr), networks)
    if resolve == "docker":
        from compose_net.resolvers import docker

        return docker.node_table(
            image=docker_image or DEFAULT_DOCKER_IMAGE,
            choice_interface=interface,
            choice_cidr=cidr,
            internal=networks,
        )
    raise ComposeNetError(f"--resolve {resolve!r}: expected one of {', '.join(RESOLVE_CHOICES)}")
