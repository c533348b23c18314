"""Which node a service lands on, read from the file the way the scheduler reads it.

Sources, all of which must agree: ``--node NAME`` for the whole file, the service's
``x-compose-net: {node: NAME}``, its ``deploy.placement.constraints`` (``node.hostname``,
``node.id``, ``node.role``, ``node.labels.K`` with ``==``/``!=``, matched as swarmkit does:
values case-insensitively, label names exactly) and classic Swarm's ``constraint:node==NAME``
environment entries. A constraint on anything else (``engine.labels``, ``node.platform``,
``node.ip``) cannot narrow the choice and is left out. A service that no source pins is on the
only node when there is one; otherwise, or when it matches several nodes with different
addresses, it is an error: compose-net never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compose_net import yamltree
from compose_net.document import Service
from compose_net.errors import ComposeNetError
from compose_net.interpolate import has_variables
from compose_net.resolvers.inventory import Inventory, Node
from compose_net.yamltree import Position

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_CLASSIC = re.compile(r"^constraint:node\s*(==|!=)\s*(.*)$", re.IGNORECASE)
LABEL_PREFIX = "node.labels."
HOW_TO_PIN = (
    'pin it with deploy.placement.constraints ("node.hostname == NAME"), '
    "`x-compose-net: {node: NAME}`, or --node NAME"
)


@dataclass(frozen=True)
class Constraint:
    key: str
    op: str
    value: str
    text: str
    origin: str
    position: Position | None = None

    def matches(self, node: Node) -> bool | None:
        """Does ``node`` satisfy it? None when the attribute is not known."""
        key = self.key.lower()
        actual: str | None
        if self.origin == "environment":
            names = [n for n in (node.name, node.host, node.id) if n]
            equal = any(n.lower() == self.value.lower() for n in names)
            return equal if self.op == "==" else not equal
        if key == "node.hostname":
            actual = node.host
        elif key == "node.id":
            actual = node.id
        elif key == "node.role":
            actual = node.role
        elif key.startswith(LABEL_PREFIX) and len(key) > len(LABEL_PREFIX):
            actual = node.labels.get(self.key[len(LABEL_PREFIX) :], "")
        else:
            return None
        if actual is None:
            return None
        equal = actual.lower() == self.value.lower()
        return equal if self.op == "==" else not equal

    def __str__(self) -> str:
        return self.text


def parse_constraint(
    text: str, origin: str = "deploy.placement.constraints", position: Position | None = None
) -> Constraint:
    """``key==value`` or ``key!=value``, as swarmkit parses it."""
    for op in ("==", "!="):
        if op in text:
            key, _, value = text.partition(op)
            key, value = key.strip(), value.strip()
            if not _KEY.match(key) or not value:
                break
            return Constraint(key, op, value, text.strip(), origin, position)
    line, column = (position.line, position.column) if position else (None, None)
    raise ComposeNetError(
        f"invalid placement constraint {text!r}: expected KEY==VALUE or KEY!=VALUE",
        line=line,
        column=column,
    )


def constraints(service: Service) -> list[Constraint]:
    """The service's placement constraints and classic ``constraint:node`` entries."""
    out: list[Constraint] = []
    found = _at(service, ("deploy", "placement", "constraints"))
    if found is not None and yamltree.is_sequence(found):
        for item in found.value:
            value = yamltree.to_plain(item)
            if not isinstance(value, str) or has_variables(value):
                continue
            out.append(parse_constraint(value, position=yamltree.position(item)))
    env = service.get("environment")
    if env is not None:
        for text, node in _environment(env):
            match = _CLASSIC.match(text)
            if match and match.group(2).strip():
                out.append(
                    Constraint(
                        "node",
                        match.group(1),
                        match.group(2).strip(),
                        text,
                        "environment",
                        yamltree.position(node),
                    )
                )
    return out


def _at(service: Service, path: tuple[str, ...]) -> yamltree.Node | None:
    """The node at ``path`` under the service (merges applied), or None."""
    current: yamltree.Node | None = service.node
    for key in path:
        current = yamltree.get(current, key) if yamltree.is_mapping(current) else None
        if current is None:
            return None
    return current


def _environment(env: yamltree.Node) -> list[tuple[str, yamltree.Node]]:
    out: list[tuple[str, yamltree.Node]] = []
    if yamltree.is_sequence(env):
        for item in env.value:
            value = yamltree.to_plain(item)
            if isinstance(value, str):
                out.append((value, item))
    elif yamltree.is_mapping(env):
        for name, key, value_node in yamltree.mapping_items(env):
            value = yamltree.to_plain(value_node)
            out.append((f"{name}={'' if value is None else value}", key))
    return out


def pinned_node(service: Service) -> tuple[str, Position] | None:
    """``x-compose-net: {node: NAME}`` of a service."""
    ext = service.get("x-compose-net")
    if ext is None or not yamltree.is_mapping(ext):
        return None
    node = yamltree.get(ext, "node")
    if node is None:
        return None
    value = yamltree.to_plain(node)
    where = yamltree.position(node)
    if not isinstance(value, str) or not value:
        raise ComposeNetError(
            f"services.{service.name}.x-compose-net.node must be a node name",
            line=where.line,
            column=where.column,
        )
    return value, where


@dataclass(frozen=True)
class Placement:
    node: Node
    #: why this node, for messages: "--node n1", "node.hostname == n2", "the only node"
    how: str


def _error(service: Service, message: str, where: Position | None = None) -> ComposeNetError:
    pos = where or service.position
    return ComposeNetError(message, line=pos.line, column=pos.column)


def _addresses(node: Node) -> str:
    shown = ", ".join(a for a in (node.service_ipv4, node.service_ipv6) if a)
    return f"{node.name} ({shown or 'no service address'})"


def place(service: Service, inventory: Inventory, node: str | None = None) -> Placement:
    """The node ``service`` runs on; ComposeNetError naming the service and the fixes."""
    label = f"services.{service.name}"
    candidates = list(inventory.nodes)
    reasons: list[str] = []
    where: Position | None = None
    pinned = pinned_node(service)
    if pinned is not None:
        ref, where = pinned
        try:
            target = inventory.find(ref)
        except ComposeNetError as e:
            raise _error(service, f"{label}.x-compose-net.node: {e.message}", where) from None
        candidates = [target]
        reasons.append(f"x-compose-net node {ref}")
    for constraint in constraints(service):
        verdicts = [(n, constraint.matches(n)) for n in candidates]
        if all(v is None for _, v in verdicts):
            continue
        candidates = [n for n, v in verdicts if v is not False]
        reasons.append(str(constraint))
        where = where or constraint.position
    how = "; ".join(reasons)
    if node is not None:
        try:
            chosen = inventory.find(node)
        except ComposeNetError as e:
            raise _error(service, f"--node: {e.message}") from None
        if reasons and chosen not in candidates:
            raise _error(
                service,
                f"{label} is placed by {how}, which does not include node "
                f"{chosen.name!r} given with --node",
                where,
            )
        return Placement(chosen, f"--node {node}")
    if not candidates:
        raise _error(
            service,
            f"{label}: no node matches its placement ({how}); nodes: "
            f"{', '.join(inventory.names()) or 'none'}",
            where,
        )
    if not reasons:
        if len(candidates) == 1:
            return Placement(candidates[0], "the only node")
        names = ", ".join(inventory.names())
        raise _error(
            service,
            f"{label}: cannot tell which node it runs on "
            f"({len(candidates)} nodes: {names}); {HOW_TO_PIN}",
        )
    first = candidates[0]
    key = (first.service_ipv4, first.service_ipv6)
    if any((n.service_ipv4, n.service_ipv6) != key for n in candidates[1:]):
        listed = ", ".join(_addresses(n) for n in candidates)
        raise _error(
            service,
            f"{label}: its placement ({how}) matches several nodes with "
            f"different addresses: {listed}; {HOW_TO_PIN}",
            where,
        )
    return Placement(first, how)
