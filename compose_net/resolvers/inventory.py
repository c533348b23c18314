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
        engine: tcp://10.176.0.11:2376   # how audit/probe --nodes reach it (optional):
        tls-verify: true                 #   engine (tls: {ca, cert, key}, or tls-verify
        cert-path: certs/n1              #   and cert-path), context or env-file

``render_yaml`` writes that format, so a node table read from a swarm can be committed and
used in CI without a Docker engine.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from compose_net import source, yamltree
from compose_net.errors import ComposeNetError
from compose_net.policy.binds import Binds

SIDES = ("public", "service")
#: keys written without quotes: they read back as the same string in YAML 1.1 and 1.2
_PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
#: the comment a node without engine keys gets in a written inventory
ENGINE_HINT = "engine: tcp://ADDRESS:2376 | context: NAME | env-file: PATH (audit --nodes)"
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n"})


#: the inventory keys that say how to reach a node's engine, in the order they are written
ENGINE_KEYS = ("engine", "tls", "tls-verify", "cert-path", "context", "env-file")
#: at most one of these names the engine
_ENGINE_SOURCES = ("engine", "context", "env-file")


@dataclass(frozen=True)
class Engine:
    """How to reach a node's Docker engine, as its inventory entry says (values as written).

    Exactly one of ``host`` (``engine:``), ``context`` and ``env_file`` is set. Relative paths
    are relative to ``base``, the inventory's folder; ``spots`` holds the line and column of
    each key, so a problem found when the engine is used names the place in the file.
    """

    host: str | None = None
    context: str | None = None
    env_file: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    #: tls.verify as written (None: verify when a CA is given)
    tls_verify_ca: bool | None = None
    tls_verify: bool = False
    cert_path: str | None = None
    base: str = "."
    origin: str | None = None
    spots: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    def path(self, value: str) -> str:
        """A path of the inventory, resolved (``~`` expanded, relative to the inventory)."""
        return os.path.join(self.base, os.path.expanduser(value))

    @property
    def tls(self) -> bool:
        return bool(self.tls_ca or self.tls_cert or self.tls_key or self.tls_verify
                    or self.cert_path)

    def describe(self) -> str:
        """The engine in a few words: its address, ``context NAME`` or ``env-file PATH``."""
        if self.context is not None:
            return f"context {self.context}"
        if self.env_file is not None:
            return f"env-file {self.env_file}"
        return self.host or "?"

    def error(self, node: str, key: str, message: str) -> ComposeNetError:
        """A problem with ``nodes.NODE.KEY``, at its place in the inventory."""
        spot = self.spots.get(key) or self.spots.get(key.split(".")[0])
        return ComposeNetError(
            f"nodes.{node}.{key}: {message}",
            path=self.origin,
            line=spot[0] if spot else None,
            column=spot[1] if spot else None,
        )

    def as_yaml(self) -> list[str]:
        """The inventory lines of this engine (indented for a node entry)."""
        lines: list[str] = []
        if self.host is not None:
            lines.append(f"    engine: {_q(self.host)}")
        tls = [(k, v) for k, v in (("ca", self.tls_ca), ("cert", self.tls_cert),
                                   ("key", self.tls_key)) if v is not None]
        if tls or self.tls_verify_ca is not None:
            lines.append("    tls:")
            lines += [f"      {k}: {_q(v)}" for k, v in tls]
            if self.tls_verify_ca is not None:
                lines.append(f"      verify: {'true' if self.tls_verify_ca else 'false'}")
        if self.tls_verify:
            lines.append("    tls-verify: true")
        if self.cert_path is not None:
            lines.append(f"    cert-path: {_q(self.cert_path)}")
        if self.context is not None:
            lines.append(f"    context: {_q(self.context)}")
        if self.env_file is not None:
            lines.append(f"    env-file: {_q(self.env_file)}")
        return lines


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
    #: how to reach its Docker engine (audit and probe --nodes), when known
    engine: Engine | None = None

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
        if self.engine is not None:
            data["engine"] = self.engine.describe()
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


def _fail(
    message: str, path: str, root: yamltree.Node | None, where: tuple[str | int, ...]
) -> ComposeNetError:
    node = yamltree.locate(root, where) if root is not None else None
    if node is None:
        return ComposeNetError(message, path=path)
    pos = yamltree.position(node)
    return ComposeNetError(message, path=path, line=pos.line, column=pos.column)


def _validate(data: Any, path: str, root: yamltree.Node | None) -> None:
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


def _address(
    value: str, family: int, path: str, root: yamltree.Node | None, where: tuple[str | int, ...]
) -> str:
    """The address normalised (the schema has checked its family); not one no node can own."""
    addr = ipaddress.ip_address(value)
    if addr.is_unspecified or addr.is_loopback or addr.is_multicast:
        dotted = ".".join(map(str, where))
        raise _fail(
            f"invalid inventory: {dotted}: {addr} cannot be a node's address", path, root, where
        )
    return str(addr)


def from_data(
    data: Any, path: str = "<inventory>", root: yamltree.Node | None = None
) -> Inventory:
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
            engine=_engine(name, spec, path, root),
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


def _spot(root: yamltree.Node | None, where: tuple[str | int, ...]) -> tuple[int, int] | None:
    node = yamltree.locate(root, where) if root is not None else None
    if node is None:
        return None
    pos = yamltree.position(node)
    return (pos.line, pos.column)


def _engine(
    name: str, spec: Mapping[str, Any], path: str, root: yamltree.Node | None
) -> Engine | None:
    """The node's engine keys (the schema has checked their types), or None without any."""
    given = [k for k in ENGINE_KEYS if spec.get(k) is not None]
    if not given:
        return None
    sources = [k for k in _ENGINE_SOURCES if k in given]
    if len(sources) > 1:
        raise _fail(
            f"invalid inventory: nodes.{name}: give one of engine, context and env-file, "
            f"not {' and '.join(sources)}",
            path, root, ("nodes", name, sources[1]),
        )
    tls_keys = [k for k in ("tls", "tls-verify", "cert-path") if k in given]
    if tls_keys and sources != ["engine"]:
        raise _fail(
            f"invalid inventory: nodes.{name}.{tls_keys[0]}: TLS settings go with engine "
            "(a context or an env-file brings its own)",
            path, root, ("nodes", name, tls_keys[0]),
        )
    tls = spec.get("tls") or {}
    if tls and "cert-path" in given:
        raise _fail(
            f"invalid inventory: nodes.{name}.cert-path: give tls or cert-path, not both",
            path, root, ("nodes", name, "cert-path"),
        )
    if bool(tls.get("cert")) != bool(tls.get("key")):
        missing = "key" if tls.get("cert") else "cert"
        raise _fail(
            f"invalid inventory: nodes.{name}.tls: {missing} is missing (cert and key go together)",
            path, root, ("nodes", name, "tls"),
        )
    host = spec.get("engine")
    if tls_keys and not str(host).startswith(("tcp://", "https://")):
        raise _fail(
            f"invalid inventory: nodes.{name}.{tls_keys[0]}: TLS needs a tcp:// or https:// "
            f"engine, not {host}",
            path, root, ("nodes", name, tls_keys[0]),
        )
    spots: dict[str, tuple[int, int]] = {}
    for key in given:
        spot = _spot(root, ("nodes", name, key))
        if spot is not None:
            spots[key] = spot
    for key in ("ca", "cert", "key"):
        spot = _spot(root, ("nodes", name, "tls", key)) if key in tls else None
        if spot is not None:
            spots[f"tls.{key}"] = spot
    return Engine(
        host=host,
        context=spec.get("context"),
        env_file=spec.get("env-file"),
        tls_ca=tls.get("ca"),
        tls_cert=tls.get("cert"),
        tls_key=tls.get("key"),
        tls_verify_ca=tls.get("verify"),
        tls_verify=bool(spec.get("tls-verify")),
        cert_path=spec.get("cert-path"),
        base=os.path.dirname(os.path.abspath(path)) if not path.startswith("<") else ".",
        origin=None if path.startswith("<") else path,
        spots=spots,
    )


def _label_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load(path: str) -> Inventory:
    """Read and check an inventory file."""
    src = source.read(path)
    try:
        root = yamltree.compose(src.text, path)
    except yamltree.EmptyFile:
        raise ComposeNetError("empty inventory file: it names no node", path=path) from None
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
        if node.engine is not None:
            lines += node.engine.as_yaml()
        else:
            lines.append(f"    # {ENGINE_HINT}")
    return "\n".join(lines) + "\n"
