"""Node inventories: node name -> hostname, id, role, labels, public and internal addresses.

The same table comes from a YAML file (``--inventory FILE``), from the Docker API
(``--resolve docker``) or from this host (``--resolve local``). A file looks like::

    nodes:
      n1:
        hostname: n1            # optional, defaults to the node's name
        id: ww4dygwjs23u        # optional: the swarm node ID
        role: manager           # optional: manager or worker
        public:  {ipv4: 203.0.113.11}
        service: {ipv4: 10.176.0.11, ipv6: "fd00::11"}
        labels:  {name: n1}

``render_yaml`` writes that format, so a node table read from a swarm can be committed and
used in CI without a Docker engine.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from compose_net import source, yamltree
from compose_net.errors import ComposeNetError
from compose_net.harden import Binds

SIDES = ("public", "service")
#: keys written without quotes: they read back as the same string in YAML 1.1 and 1.2
_PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


@dataclass(frozen=True)
class Node:
    """One node as the resolvers see it."""

    name: str
    hostname: str | None = None
    id: str | None = None
    role: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    public_ipv4: str | None = None
    public_ipv6: str | None = None
    service_ipv4: str | None = None
    service_ipv6: str | None = None
    #: where the service address came from ("inventory FILE", "advertised address", "label ...")
    source: str = ""
    #: why the node has no usable service address, when it has none
    problem: str | None = None

    @property
    def host(self) -> str:
        return self.hostname or self.name

    @property
    def has_service(self) -> bool:
        return bool(self.service_ipv4 or self.service_ipv6)

    def binds(self) -> Binds:
        """The addresses a port on this node is bound to; ComposeNetError when it has none."""
        if self.problem or not self.has_service:
            raise ComposeNetError(
                self.problem or f"node {self.name!r} has no internal (service) address"
            )
        return Binds(self.service_ipv4, self.service_ipv6)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "hostname": self.host,
            "id": self.id,
            "role": self.role,
            "public": {"ipv4": self.public_ipv4, "ipv6": self.public_ipv6},
            "service": {"ipv4": self.service_ipv4, "ipv6": self.service_ipv6},
            "labels": dict(self.labels),
            "source": self.source,
        }
        if self.problem:
            data["problem"] = self.problem
        return data


@dataclass(frozen=True)
class Inventory:
    """The node table, in a stable order, and where it came from."""

    nodes: tuple[Node, ...]
    origin: str = ""

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for node in self.nodes:
            if node.name in seen:
                raise ComposeNetError(
                    f"node {node.name!r} appears twice in {self.origin or 'the inventory'}"
                )
            seen.add(node.name)

    def names(self) -> list[str]:
        return [node.name for node in self.nodes]

    def get(self, name: str) -> Node | None:
        for node in self.nodes:
            if node.name == name:
                return node
        return None

    def find(self, ref: str) -> Node:
        """The node called ``ref``: by name, else by hostname, else by ID."""
        for matches in (
            [n for n in self.nodes if n.name == ref],
            [n for n in self.nodes if n.hostname is not None and n.hostname == ref],
            [n for n in self.nodes if n.id is not None and n.id == ref],
        ):
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                names = ", ".join(n.name for n in matches)
                raise ComposeNetError(f"{ref!r} names several nodes: {names}")
        known = ", ".join(self.names()) or "none"
        raise ComposeNetError(
            f"there is no node {ref!r} in {self.origin or 'the inventory'} (nodes: {known})"
        )


# --------------------------------------------------------------------------- reading


def _fail(message: str, path: str, root: Any, where: tuple[str | int, ...]) -> ComposeNetError:
    node = yamltree.locate(root, where) if root is not None else None
    if node is None:
        return ComposeNetError(message, path=path)
    pos = yamltree.position(node)
    return ComposeNetError(message, path=path, line=pos.line, column=pos.column)


def _validate(data: Any, path: str, root: Any) -> None:
    """schemas/inventory.schema.json: the first violation, with its line and column."""
    from compose_net import schema

    violations = schema.validate(data, target="inventory")
    if violations:
        first = violations[0]
        label = schema.format_path(first.path)
        raise _fail(
            f"invalid inventory: {label + ': ' if label else ''}{first.message}",
            path,
            root,
            tuple(first.path),
        )


def _address(value: str, family: int, path: str, root: Any, where: tuple[str | int, ...]) -> str:
    """The address normalised (the schema has checked its family); not one no node can own."""
    addr = ipaddress.ip_address(value)
    if addr.is_unspecified or addr.is_loopback or addr.is_multicast:
        dotted = ".".join(map(str, where))
        raise _fail(
            f"invalid inventory: {dotted}: {addr} cannot be a node's address", path, root, where
        )
    return str(addr)


def from_data(data: Any, path: str = "<inventory>", root: Any = None) -> Inventory:
    """Build an Inventory from plain data (a parsed file), validated against the schema."""
    _validate(data, path, root)
    nodes: list[Node] = []
    for name, spec in data["nodes"].items():
        spec = spec or {}
        addrs: dict[str, str | None] = {}
        for side in SIDES:
            block = spec.get(side) or {}
            for fam in ("ipv4", "ipv6"):
                value = block.get(fam)
                addrs[f"{side}_{fam}"] = (
                    None
                    if value is None
                    else _address(
                        value, 4 if fam == "ipv4" else 6, path, root, ("nodes", name, side, fam)
                    )
                )
        labels = spec.get("labels") or {}
        node = Node(
            name=name,
            hostname=spec.get("hostname"),
            id=spec.get("id"),
            role=spec.get("role"),
            labels={str(k): _label_text(v) for k, v in labels.items()},
            source=f"inventory {path}",
            **addrs,
        )
        if not node.has_service:
            node = dataclasses.replace(
                node,
                problem=f"node {name!r} has no service address in "
                f"{path}; add nodes.{name}.service.ipv4 (or ipv6)",
            )
        nodes.append(node)
    return Inventory(tuple(nodes), path)


def _label_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load(path: str) -> Inventory:
    """Read and check an inventory file."""
    src = source.read(path)
    root = yamltree.compose(src.text, path)
    return from_data(yamltree.to_plain(root, path=path), path, root)


# --------------------------------------------------------------------------- writing


def _q(value: str) -> str:
    return json.dumps(value)


def _key(value: str) -> str:
    plain = _PLAIN_KEY.match(value) and value.lower() not in _YAML_WORDS
    return value if plain else _q(value)


def render_yaml(inventory: Inventory, header: Iterable[str] = ()) -> str:
    """The inventory as a YAML file ``load`` reads back to the same table."""
    lines = [f"# {line}" for line in header]
    lines.append("nodes:")
    for node in inventory.nodes:
        lines.append(f"  {_key(node.name)}:")
        if node.hostname is not None:
            lines.append(f"    hostname: {_q(node.hostname)}")
        if node.id is not None:
            lines.append(f"    id: {_q(node.id)}")
        if node.role is not None:
            lines.append(f"    role: {node.role}")
        for side in SIDES:
            pairs = [(fam, getattr(node, f"{side}_{fam}")) for fam in ("ipv4", "ipv6")]
            pairs = [(fam, value) for fam, value in pairs if value]
            if pairs:
                lines.append(f"    {side}:")
                lines += [f"      {fam}: {_q(value)}" for fam, value in pairs]
        if node.problem:
            lines.append(f"    # no service address: {node.problem}")
        if node.labels:
            lines.append("    labels:")
            lines += [f"      {_q(k)}: {_q(v)}" for k, v in sorted(node.labels.items())]
    return "\n".join(lines) + "\n"
