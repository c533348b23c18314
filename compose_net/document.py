"""The document locator: from a parsed Compose file to its services and port entries.

Every entry keeps the YAML node it came from, so findings know their line and
column and the rewriter knows exactly which characters to change. Entries are
reached the way Compose reaches them: through ``<<`` merges and aliases, so a
port defined once under an anchor is one node however many services use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, cast

from compose_net import bounds, yamltree
from compose_net.errors import ComposeNetError
from compose_net.ports import ShortSpec, port_count, split_short
from compose_net.source import Source
from compose_net.yamltree import MappingNode, Node, Position, ScalarNode

Syntax = Literal["short", "long"]


@dataclass(frozen=True)
class PortEntry:
    """One item of a service's ``ports:`` list, as written."""

    service: str
    index: int
    #: a scalar for the short syntax, a mapping for the long one
    node: ScalarNode | MappingNode
    syntax: Syntax
    #: short syntax: the entry's text (an integer entry as its decimal digits)
    text: str | None
    #: long syntax: key -> value node, merges applied
    fields: dict[str, Node]
    position: Position
    #: the ports list is shared through an alias or merge
    shared: bool

    @property
    def short(self) -> ShortSpec:
        assert self.text is not None
        return split_short(self.text)

    def field_value(self, key: str) -> object:
        node = self.fields.get(key)
        return None if node is None else yamltree.to_plain(node)

    @property
    def port_numbers(self) -> tuple[str | None, str | None]:
        """(published, target) as written, for matching ``allow`` entries."""
        if self.syntax == "short":
            spec = self.short
            return spec.host_port or None, spec.container.partition("/")[0]
        published = self.field_value("published")
        target = self.field_value("target")
        return (
            None if published is None else str(published),
            None if target is None else str(target),
        )

    @property
    def written_host_ip(self) -> str | None:
        """The host IP as written (None when absent), variables unresolved."""
        if self.syntax == "short":
            return self.short.host_ip
        value = self.field_value("host_ip")
        return None if value is None else str(value)


@dataclass
class Service:
    """One service of a document: its key, its mapping and its ``ports:`` list."""

    name: str
    key_node: Node
    node: Node
    ports_node: Node | None
    ports: list[PortEntry] = field(default_factory=list)

    def get(self, key: str) -> Node | None:
        return yamltree.get(self.node, key)

    def plain(self, key: str) -> object:
        node = self.get(key)
        return None if node is None else yamltree.to_plain(node)

    @property
    def position(self) -> Position:
        return yamltree.position(self.key_node)


@dataclass
class Document:
    """One parsed document of a file: its root mapping and its services."""

    source: Source
    root: MappingNode
    services: list[Service]
    #: the document's place in its file (``---`` separates documents), from 0
    index: int = 0
    #: services whose ``ports:`` null Compose's merge drops, keeping the ports an earlier
    #: file or document of the project, or the service's ``extends`` base, gives them
    #: (set by compose_net.project); a null nothing gives ports to is invalid, as in Compose
    kept_ports: set[str] = field(default_factory=set)

    @property
    def path(self) -> str:
        """Where the file was read (for reading and writing it, never for printing)."""
        return self.source.path

    @property
    def name(self) -> str:
        """How the file is shown in every message, finding and report
        (:attr:`compose_net.source.Source.name`)."""
        return self.source.name

    def null_ports_kept(self, line: int | None, column: int | None) -> bool:
        """Whether ``line``:``column`` is a ``ports:`` null the project's merge drops."""
        for service in self.services:
            node = service.ports_node
            if service.name not in self.kept_ports or node is None or not _null(node):
                continue
            if not yamltree.is_mapping(service.node):
                continue
            for key, key_node, value in yamltree.mapping_items(service.node):
                if key == "ports" and value is node:  # an empty value is shown at its key
                    marks = {yamltree.position(key_node), yamltree.position(node)}
                    if any((at.line, at.column) == (line, column) for at in marks):
                        return True
        return False

    def entries(self) -> Iterator[PortEntry]:
        for service in self.services:
            yield from service.ports


def _null(node: Node) -> bool:
    return yamltree.is_scalar(node) and node.tag == yamltree.TAG_PREFIX + "null"


def _error(message: str, path: str, node: Node) -> ComposeNetError:
    where = yamltree.position(node)
    return ComposeNetError(message, path=path, line=where.line, column=where.column)


def load(source: Source) -> Document:
    """Parse ``source`` (one YAML document) and locate its services and port entries."""
    return _document(source, yamltree.single(_roots(source), source.name), 0)


def load_all(source: Source) -> list[Document]:
    """Every YAML document of ``source``, in order; each must be a Compose mapping.

    Their nodes' offsets are offsets into the whole text, so each document's findings
    and edits point into the file as it is.
    """
    return [_document(source, root, index) for index, root in enumerate(_roots(source))]


def _roots(source: Source) -> list[Node]:
    """The roots of the YAML documents of ``source``: those its text was parsed into already
    (:class:`compose_net.source.Parsed`), else parsed now and kept with it."""
    kept = source.parsed
    if kept is not None:
        roots = kept.get(source.text)
        if roots is not None:
            return cast("list[Node]", list(roots))
    found = yamltree.compose_all(source.text, source.name)
    if kept is not None:
        kept.keep(source.text, found)
    return found


def _document(source: Source, root: Node, index: int) -> Document:
    path = source.name  # as shown: in errors only
    if not yamltree.is_mapping(root):
        raise _error("a compose file must be a mapping at the top level", path, root)
    services_node = yamltree.get(root, "services")
    services: list[Service] = []
    if services_node is None:
        if any(
            yamltree.is_mapping(value)
            and (yamltree.get(value, "image") or yamltree.get(value, "build"))
            for name, _, value in yamltree.mapping_items(root)
            if name not in ("version", "networks", "volumes", "configs", "secrets")
        ):
            raise _error(
                "legacy (v1) compose file without a 'services:' key; Compose v2 does not read it",
                path,
                root,
            )
        return Document(source, root, services, index)
    if yamltree.is_scalar(services_node) and services_node.tag.endswith(":null"):
        return Document(source, root, services, index)
    if not yamltree.is_mapping(services_node):
        raise _error("'services' must be a mapping", path, services_node)
    items = list(yamltree.mapping_items(services_node))
    uses: dict[int, int] = {}  # service node id -> how many services it is (an alias: several)
    for _, _, node in items:
        uses[id(node)] = uses.get(id(node), 0) + 1
    read: dict[int, PortEntry] = {}  # shared entry nodes read once (an anchored list)
    for name, key_node, node in items:
        if yamltree.is_scalar(node) and (node.tag.endswith(":null") or node.tag == "!reset"):
            services.append(Service(name, key_node, node, None))
            continue
        if not yamltree.is_mapping(node):
            raise _error(f"service {name!r} must be a mapping", path, node)
        services.append(_service(name, key_node, node, path, uses[id(node)] > 1, read))
    _bound_ports(services, path)
    return Document(source, root, services, index)


def _bound_ports(services: list[Service], path: str) -> None:
    """Refuse a file whose ports, ranges expanded, pass bounds.PORTS: every command that
    lists or compares them would pay for each one (``"1-65535:1-65535"`` is 65,535)."""
    limit = bounds.PORTS.value()
    ranges = bounds.RANGE_PORTS.value()
    total = added = 0
    for service in services:
        for entry in service.ports:
            count = port_count(entry.text) if entry.text is not None else 1
            total += count
            added += count - 1
            if total > limit or added > ranges:
                where = entry.position
                bound, message = bounds.PORTS, f"publishes more than {limit:,} ports"
                if total <= limit:
                    bound, message = bounds.RANGE_PORTS, RANGES_ADD.format(ranges)
                raise bound.error(
                    f"the file {message} once ranges are expanded",
                    path=path,
                    line=where.line,
                    column=where.column,
                )


#: what passing bounds.RANGE_PORTS means, in a message
RANGES_ADD = "has port ranges that add more than {:,} ports"


def _owns(mapping: MappingNode, key: str) -> bool:
    return any(
        yamltree.is_scalar(k) and k.value == key and k.tag != yamltree.MERGE_TAG
        for k, _ in mapping.value
    )


def _service(
    name: str,
    key_node: Node,
    node: MappingNode,
    path: str,
    aliased: bool,
    read: dict[int, PortEntry],
) -> Service:
    """One service (``aliased``: its mapping is also another service's, through an alias);
    ``read`` keeps the shared entries already read."""
    ports_node = yamltree.get(node, "ports")
    service = Service(name, key_node, node, ports_node)
    if ports_node is None:
        return service
    if ports_node.tag == "!reset":  # Compose drops the value, whatever it holds
        return service
    if _null(ports_node):
        return service
    if not yamltree.is_sequence(ports_node):
        raise _error(f"services.{name}.ports must be a list", path, ports_node)
    shared = aliased or not _owns(node, "ports") or ports_node.anchor is not None
    for index, item in enumerate(ports_node.value):
        known = read.get(id(item))
        if known is None:
            known = _entry(name, index, item, shared, path)
            if known.shared:
                read[id(item)] = known
        else:
            known = PortEntry(name, index, known.node, known.syntax, known.text, known.fields,
                              known.position, True)
        service.ports.append(known)
    return service


def _entry(service: str, index: int, node: Node, shared: bool, path: str) -> PortEntry:
    where = yamltree.position(node)
    shared = shared or node.anchor is not None
    if yamltree.is_scalar(node):
        value = yamltree.scalar_value(node)
        if isinstance(value, bool) or value is None or not isinstance(value, (int, str)):
            raise _error(
                f"services.{service}.ports[{index}]: "
                "a port must be a string, a number or a mapping",
                path,
                node,
            )
        return PortEntry(service, index, node, "short", str(value), {}, where, shared)
    if yamltree.is_mapping(node):
        fields = {key: value for key, _, value in yamltree.mapping_items(node)}
        return PortEntry(service, index, node, "long", None, fields, where, shared)
    raise _error(
        f"services.{service}.ports[{index}]: a port must be a string, a number or a mapping",
        path,
        node,
    )
