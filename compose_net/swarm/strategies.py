"""Harden a swarm stack file: every published port is public under ``docker stack deploy``.

Swarm ignores host IPs (a short-syntax IP is dropped, ``host_ip`` is rejected), so the
only ways to keep a port off public interfaces change how it is published:

* ``unpublish``: remove the publication; services on the service's overlay networks
  still reach it by name (``svc:port``) or task (``tasks.svc:port``);
* ``internal-network``: remove the publication and put the service on an attachable
  overlay network that internal clients join;
* ``host-mode``: publish in host mode (long syntax, ``mode: host``) and pin the service
  with a placement constraint to nodes labelled by ``compose-net node-setup``, whose
  ``docker_gwbridge`` binds host-mode ports to the node's internal IPv4 address.

Ports that are allowed to be public (allow list, ``# compose-net: allow``) are kept.
``plan`` computes minimal text edits and the model changes they must make;
``harden_stack_text`` applies and proves them (the new text parses, its model is the
original's plus exactly those changes, a second run changes nothing) before anything
may be written. Whatever a strategy cannot do with certainty is refused.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Literal

from compose_net import (
    bounds,
    document,
    fixes,
    interpolate,
    model,
    pragmas,
    proof,
    rewrite,
    stack,
    yamltree,
)
from compose_net.document import Document, PortEntry, Service
from compose_net.errors import ComposeNetError, SafetyError
from compose_net.policy import allowances
from compose_net.policy.allowances import Allow
from compose_net.ports import split_short
from compose_net.rewrite import Edit
from compose_net.source import Source
from compose_net.swarm import edits
from compose_net.swarm.edits import refuse
from compose_net.yamltree import MappingNode, Node, SequenceNode

Strategy = Literal["unpublish", "internal-network", "host-mode"]
STRATEGIES: tuple[Strategy, ...] = ("unpublish", "internal-network", "host-mode")
DEFAULT_NETWORK = "internal"

Action = Literal["unpublish", "host-mode", "allowed", "pinned", "kept"]
PlainPath = tuple[str, ...]

#: A model change: the value at a path (``DELETE``: the key goes away).
DELETE: Any = proof.DELETE


@dataclass(frozen=True)
class StackDecision:
    """What happens to one port entry under the chosen strategy."""

    entry: PortEntry
    action: Action
    note: str = ""

    @property
    def label(self) -> str:
        return f"services.{self.entry.service}.ports[{self.entry.index}]"


@dataclass(frozen=True)
class Message:
    """A note for the user about the plan, at an entry of the original file.

    ``kept`` notes are about ports that stay public: they are shown even when quiet.
    """

    line: int
    column: int
    text: str
    kept: bool = False


@dataclass
class StackPlan:
    path: str
    strategy: Strategy
    network: str
    decisions: list[StackDecision] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    #: (path in the plain model, new value or DELETE), applied in order for the proof
    changes: list[tuple[PlainPath, Any]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def changed(self) -> list[StackDecision]:
        return [d for d in self.decisions if d.action in ("unpublish", "host-mode")]


# --------------------------------------------------------------------------- helpers


def use_counts(root: Node, path: str) -> dict[int, int]:
    """How many times each node is reached from the root (aliases and merges count again)."""
    counts: dict[int, int] = {}
    budget = yamltree.MAX_EXPANDED_NODES
    todo = [root]
    while todo:
        node = todo.pop()
        budget -= 1
        if budget < 0:
            raise bounds.NODES.error(
                "aliases and merge keys expand the document to too many nodes", path=path
            )
        counts[id(node)] = counts.get(id(node), 0) + 1
        if yamltree.is_mapping(node):
            todo.extend(value for _, _, value in yamltree.mapping_items(node))
        elif yamltree.is_sequence(node):
            todo.extend(node.value)
    return counts


class _Context:
    def __init__(self, doc: Document, strategy: Strategy, network: str) -> None:
        self.doc = doc
        self.path = doc.path
        self.text = doc.source.text
        self.lines = self.text.split("\n")
        self.uses = use_counts(doc.root, doc.path)
        self.plain: dict[str, Any] = yamltree.to_plain(doc.root, path=doc.path)
        self.step = _indent_step(doc)
        self.plan = StackPlan(doc.path, strategy, network)

    def single(self, node: Node, what: str) -> None:
        """Refuse to edit a node that more than one place uses (anchor/alias, merge key)."""
        if self.uses.get(id(node), 0) > 1:
            raise refuse(
                f"{what} is shared through an anchor or a merge key; compose-net edits only text "
                "used in one place: write it out where it is used",
                self.path,
                node,
            )

    def message(self, entry: PortEntry, text: str, *, kept: bool = False) -> None:
        pos = entry.position
        self.plan.messages.append(Message(pos.line, pos.column, text, kept))


def _indent_step(doc: Document) -> int:
    """The document's indentation step, from its first service (2 when there is none)."""
    services = yamltree.get(doc.root, "services")
    if yamltree.is_mapping(services) and not services.flow_style and services.value:
        first_key = services.value[0][0]
        parent = next(k for k, v in doc.root.value if v is services)
        step = first_key.start_mark.column - parent.start_mark.column
        if step > 0:
            return int(step)
    return 2


def _owned_pair(mapping: MappingNode, key: str) -> int | None:
    """Index of ``key`` among a mapping's own pairs (not merged in), or None."""
    for i, (k, _) in enumerate(mapping.value):
        if yamltree.is_scalar(k) and k.tag != yamltree.MERGE_TAG and k.value == key:
            return i
    return None


def _ports_node(service: Service) -> SequenceNode:
    assert yamltree.is_sequence(service.ports_node), "a service with entries has a ports list"
    return service.ports_node


def _mapping(service: Service) -> MappingNode:
    assert yamltree.is_mapping(service.node), "a service with entries is a mapping"
    return service.node


def _numbers(entry: PortEntry) -> tuple[str | None, str | None]:
    """(published, target) as written, without the protocol."""
    if entry.syntax == "short":
        spec = entry.short
        return spec.host_port or None, spec.container.partition("/")[0]
    published, target = entry.field_value("published"), entry.field_value("target")
    return (None if published is None else str(published)), (
        None if target is None else str(target)
    )


def display(entry: PortEntry, text: str) -> str:
    """The entry as written (a scalar's own text), for messages."""
    node = entry.node
    if entry.syntax == "short" and edits.in_line(text, node):
        return str(text[node.start_mark.index : node.end_mark.index])
    if entry.syntax == "short":
        return rewrite.quote(str(entry.text), '"')
    return edits.flow_text({k: yamltree.to_plain(v) for k, v in entry.fields.items()})


def _networks_of(service: Service) -> list[str]:
    nets = service.plain("networks")
    if isinstance(nets, dict):
        return [str(n) for n in nets]
    if isinstance(nets, list):
        return [str(n) for n in nets]
    return ["default"]


def _reach(service: Service, entry: PortEntry) -> str:
    _, target = _numbers(entry)
    target = target or "PORT"
    return f"{service.name}:{target} (each task at tasks.{service.name}:{target})"


# --------------------------------------------------------------------------- decisions


def decide(
    entry: PortEntry,
    service: Service,
    strategy: Strategy,
    *,
    allows: Sequence[Allow],
    lines: list[str],
    path: str,
    only: AbstractSet[int] | None = None,
) -> StackDecision:
    """Whether an entry stays (allowed, already pinned host mode, not reported) or the
    strategy changes it. ``only``: the entries whose swarm-published finding counts (the
    fixes harden applies); None: every entry that is not allowed."""
    allowance = allowances.allowed(
        allows, pragmas.find(lines, entry.node), entry.service, _numbers(entry)
    )
    note = allowance.reason if allowance is not None else ""
    if note:
        if entry.syntax == "long" and "host_ip" in entry.fields:
            raise ComposeNetError(
                f"services.{entry.service}.ports[{entry.index}] is allowed to stay public but has "
                "host_ip, which docker stack deploy rejects: remove host_ip (swarm publishes the "
                "port on every node whatever it says)",
                path=path,
                line=entry.position.line,
                column=entry.position.column,
            )
        return StackDecision(entry, "allowed", note)
    if (
        strategy == "host-mode"
        and stack.publish_mode(entry) == "host"
        and "host_ip" not in entry.fields
        and stack.pinned_to_internal_binding(service)
    ):
        return StackDecision(entry, "pinned")
    if only is not None and id(entry.node) not in only:
        return StackDecision(entry, "kept")
    return StackDecision(entry, "host-mode" if strategy == "host-mode" else "unpublish")


# --------------------------------------------------------------------------- unpublish


def _unpublish(ctx: _Context, service: Service, gone: list[StackDecision]) -> None:
    """Remove the entries of ``gone`` from the service's ports list (the key when none is left)."""
    text, path = ctx.text, ctx.path
    seq = _ports_node(service)
    ctx.single(seq, f"the ports list of services.{service.name}")
    for d in gone:
        ctx.single(d.entry.node, d.label)
    indexes = {d.entry.index for d in gone}
    kept = [item for i, item in enumerate(seq.value) if i not in indexes]
    where: PlainPath = ("services", service.name, "ports")
    if kept:
        if seq.flow_style:
            ctx.plan.edits += edits.delete_flow_items(text, seq, sorted(indexes), path)
        else:
            ctx.plan.edits += [edits.delete_block_item(text, seq, d.entry.node, path) for d in gone]
        ctx.plan.changes.append(
            (
                where,
                [
                    ctx.plain["services"][service.name]["ports"][i]
                    for i in range(len(seq.value))
                    if i not in indexes
                ],
            )
        )
        return
    node = _mapping(service)
    index = _owned_pair(node, "ports")
    if index is None:
        raise refuse(
            f"the ports list of services.{service.name} comes from a merge key; write it "
            "out in the service",
            path,
            seq,
        )
    key = node.value[index][0]
    if (
        len(node.value) == 1
        or node.flow_style
        or not edits.starts_line(text, key.start_mark.index)
    ):
        if node.flow_style and len(node.value) > 1:
            ctx.plan.edits.append(edits.delete_key(text, node, index, path))
            ctx.plan.changes.append((where, DELETE))
            return
        # The service would be left empty, or the key shares its line: leave an empty list.
        ctx.plan.edits.append(_empty_list(text, key, seq, path))
        ctx.plan.changes.append((where, []))
        return
    if seq.flow_style:
        ctx.plan.edits.append(edits.delete_key(text, node, index, path))
    else:
        ctx.plan.edits += [edits.delete_block_item(text, seq, item, path) for item in seq.value]
        ctx.plan.edits.append(edits.delete_key_line(text, key, path))
    ctx.plan.changes.append((where, DELETE))


def _empty_list(text: str, key: Node, seq: SequenceNode, path: str) -> Edit:
    start = edits.key_end(text, key)
    end = edits.value_end(text, seq)
    if "#" in text[start:end]:
        raise refuse(
            "comments inside this ports list would be lost; remove the entries by hand", path, seq
        )
    return Edit(start, end, " []")


# --------------------------------------------------------------------------- internal-network


def _join_network(ctx: _Context, service: Service, network: str) -> None:
    """Put the service on ``network`` too (on ``default`` and it when it named none)."""
    text, path = ctx.text, ctx.path
    where: PlainPath = ("services", service.name, "networks")
    if service.get("network_mode") is not None:
        raise refuse(
            f"services.{service.name} sets network_mode, which cannot be combined with "
            "networks; use --stack-strategy unpublish or host-mode",
            path,
            service.key_node,
        )
    nets = service.get("networks")
    if nets is None:
        ctx.single(service.node, f"services.{service.name}")
        value = ["default", network]
        ctx.plan.edits.append(
            edits.insert_key(
                text,
                _mapping(service),
                edits.block_lines({"networks": value}, ctx.step),
                f"networks: {edits.flow_text(value)}",
                path,
            )
        )
        ctx.plan.changes.append((where, value))
        return
    ctx.single(nets, f"services.{service.name}.networks")
    current = ctx.plain["services"][service.name]["networks"]
    if yamltree.is_sequence(nets) and nets.value:
        if network not in current:
            ctx.plan.edits.append(
                edits.append_item(
                    text, nets, edits.scalar_text(network), edits.scalar_text(network), path
                )
            )
            ctx.plan.changes.append((where, [*current, network]))
        return
    if yamltree.is_mapping(nets) and nets.value:
        if network not in current:
            rendered = f"{edits.scalar_text(network)}: {{}}"
            ctx.plan.edits.append(edits.insert_key(text, nets, [rendered], rendered, path))
            ctx.plan.changes.append((where, {**current, network: {}}))
        return
    raise refuse(
        f"services.{service.name}.networks is empty; name the service's networks or remove the key",
        path,
        nets,
    )


def _define_network(ctx: _Context, network: str) -> None:
    """Make sure the top-level ``networks:`` defines ``network`` as an attachable overlay."""
    text, path, root = ctx.text, ctx.path, ctx.doc.root
    spec = {"driver": "overlay", "attachable": True}
    top = yamltree.get(root, "networks")
    if top is None:
        ctx.single(root, "the document")
        if root.flow_style:
            raise refuse("the document is a flow mapping; add the networks by hand", path, root)
        lines = edits.block_lines({"networks": {network: spec}}, ctx.step)
        ctx.plan.edits.append(edits.insert_key(text, root, lines, "", path))
        ctx.plan.changes.append((("networks",), {network: spec}))
        return
    if not (yamltree.is_mapping(top) and top.value):
        raise refuse(
            "the top-level networks key is empty; define the networks in it or remove it", path, top
        )
    ctx.single(top, "the top-level networks")
    existing = yamltree.get(top, network)
    current = ctx.plain["networks"]
    if existing is None:
        block = edits.block_lines({network: spec}, ctx.step)
        flow = f"{edits.scalar_text(network)}: {edits.flow_text(spec)}"
        ctx.plan.edits.append(edits.insert_key(text, top, block, flow, path))
        ctx.plan.changes.append((("networks", network), spec))
        return
    ctx.single(existing, f"networks.{network}")
    defined = current[network]
    if defined is None and yamltree.is_scalar(existing):
        index = next(i for i, (_, v) in enumerate(top.value) if v is existing)
        colon = edits.key_end(text, top.value[index][0])
        if existing.start_mark.index != existing.end_mark.index or not edits.rest_is_blank(
            text, colon
        ):
            raise refuse(f"networks.{network} is not a mapping", path, existing)
        ctx.plan.edits.append(Edit(colon, colon, " " + edits.flow_text(spec)))
        ctx.plan.changes.append((("networks", network), spec))
        return
    if not isinstance(defined, dict) or not yamltree.is_mapping(existing):
        raise refuse(f"networks.{network} is not a mapping", path, existing)
    if defined.get("external"):
        return  # made outside the stack: its owner decides (it must be an attachable overlay)
    driver = defined.get("driver", "overlay")
    if driver != "overlay":
        raise refuse(
            f"networks.{network} is a {driver!r} network, not an overlay; choose another "
            "network name with --stack-network",
            path,
            existing,
        )
    attachable = defined.get("attachable")
    if attachable is True:
        return
    if attachable is not None:
        raise refuse(
            f"networks.{network} says attachable: {attachable}; internal clients could not "
            "join it: choose another network name with --stack-network",
            path,
            existing,
        )
    if not existing.value:
        raise refuse(
            f"networks.{network} is an empty mapping; write attachable: true in it", path, existing
        )
    ctx.plan.edits.append(
        edits.insert_key(text, existing, ["attachable: true"], "attachable: true", path)
    )
    ctx.plan.changes.append((("networks", network), {**defined, "attachable": True}))


# --------------------------------------------------------------------------- host-mode


def _plain_or_quoted(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _require_format(ctx: _Context, needs: str) -> None:
    """Refuse when the file's ``version`` predates what the edit writes (file format 3.2)."""
    version = ctx.plain.get("version")
    if version is None:
        return
    text = repr(version) if isinstance(version, float) else str(version)
    if text in ("3.0", "3.1"):
        node = yamltree.get(ctx.doc.root, "version")
        assert node is not None  # the plain data has it
        raise refuse(
            f"version {text} is older than file format 3.2, which {needs} needs: raise the "
            "version to 3.2 or later, or remove it",
            ctx.path,
            node,
        )


def _empty_when_unset(text: str) -> bool:
    """A variable port that reads as empty when its variable is unset (and is not required)."""
    return interpolate.has_variables(text) and interpolate.default_of(text) == ""


def _range_of(text: str) -> bool:
    value = interpolate.default_of(text) if interpolate.has_variables(text) else text
    return bool(value) and "-" in str(value)


def _short_to_long(ctx: _Context, entry: PortEntry) -> dict[str, Any]:
    if fixes.variable_carries_structure(entry) is not None:
        raise refuse(
            f"a variable in {entry.text!r} holds part of the port structure; write the "
            "entry in long syntax by hand",
            ctx.path,
            entry.node,
        )
    spec = split_short(str(entry.text))
    container, _, proto = spec.container.partition("/")
    host_port = spec.host_port or ""
    if _range_of(container) or _range_of(host_port):
        raise refuse(
            f"{entry.text!r} is a port range, which swarm's long syntax cannot publish; "
            "write one entry per port, or use --stack-strategy unpublish",
            ctx.path,
            entry.node,
        )
    for part in (container, host_port):
        if _empty_when_unset(part):
            raise refuse(
                f"{part!r} in {entry.text!r} is empty when its variable is unset, which long "
                "syntax rejects (short syntax then picks a random port): give the variable a "
                "default, such as ${VAR:-8080}, or write the entry in long syntax by hand",
                ctx.path,
                entry.node,
            )
    long: dict[str, Any] = {"target": _plain_or_quoted(container)}
    if host_port:
        long["published"] = _plain_or_quoted(host_port)
    if proto and proto.lower() != "tcp":
        long["protocol"] = proto.lower()
    long["mode"] = "host"
    if spec.host_ip:
        ctx.message(
            entry,
            f"services.{entry.service}.ports[{entry.index}]: the host IP "
            f"{spec.host_ip} is dropped (swarm ignores it); the node's docker_gwbridge "
            "decides the address",
        )
    return long


def _to_host_mode(ctx: _Context, service: Service, d: StackDecision) -> Any:
    """Edit one entry to long syntax with mode: host and no host_ip; return its new plain value."""
    entry, text, path = d.entry, ctx.text, ctx.path
    seq = _ports_node(service)
    ctx.single(entry.node, d.label)
    if not edits.in_span(seq, entry.node):
        raise refuse(
            f"{d.label} is an alias; write it out to let compose-net convert it", path, entry.node
        )
    if yamltree.is_scalar(entry.node):  # the short syntax
        long = _short_to_long(ctx, entry)
        ctx.plan.edits.append(
            edits.replace_scalar_item(
                text,
                entry.node,
                edits.block_lines(long, ctx.step),
                edits.flow_text(long),
                bool(seq.flow_style),
                path,
            )
        )
        return long
    mapping = entry.node
    plain: dict[str, Any] = yamltree.to_plain(mapping)
    published = plain.get("published")
    if isinstance(published, str) and _range_of(published):
        raise refuse(
            f"{d.label} publishes the range {published!r}, which swarm's long syntax "
            "cannot; write one entry per port, or use --stack-strategy unpublish",
            path,
            entry.node,
        )
    ip_index = _owned_pair(mapping, "host_ip")
    mode_index = _owned_pair(mapping, "mode")
    if ("host_ip" in plain and ip_index is None) or ("mode" in plain and mode_index is None):
        raise refuse(
            f"{d.label} takes host_ip or mode from a merge key; write them out", path, entry.node
        )
    if "host_ip" in plain:
        ctx.message(
            entry,
            f"{d.label}: host_ip {plain['host_ip']} is removed (docker stack "
            "deploy rejects it); the node's docker_gwbridge decides the address",
        )
    new = {k: v for k, v in plain.items() if k != "host_ip"}
    new["mode"] = "host"
    if mode_index is not None:
        mode_node = mapping.value[mode_index][1]
        if plain["mode"] != "host":
            if not yamltree.is_scalar(mode_node) or interpolate.has_variables(str(plain["mode"])):
                raise refuse(f"{d.label} has a mode compose-net cannot read", path, mode_node)
            ctx.plan.edits.append(edits.replace_plain(text, mode_node, "host", path))
        if ip_index is not None:
            ctx.plan.edits.append(edits.delete_key(text, mapping, ip_index, path))
    elif ip_index is not None:
        key, value = mapping.value[ip_index]
        ctx.plan.edits.append(
            Edit(key.start_mark.index, edits.pair_end(text, key, value), "mode: host")
        )
    else:
        ctx.plan.edits.append(edits.insert_key(text, mapping, ["mode: host"], "mode: host", path))
    return new


def _pin(ctx: _Context, service: Service) -> None:
    """Add the node-setup placement constraint to the service."""
    text, path = ctx.text, ctx.path
    constraint = stack.HOST_BINDING_CONSTRAINT
    where: PlainPath = ("services", service.name, "deploy")
    deploy = service.get("deploy")
    if deploy is None:
        ctx.single(service.node, f"services.{service.name}")
        value: dict[str, Any] = {"placement": {"constraints": [constraint]}}
        ctx.plan.edits.append(
            edits.insert_key(
                text,
                _mapping(service),
                edits.block_lines({"deploy": value}, ctx.step),
                f"deploy: {edits.flow_text(value)}",
                path,
            )
        )
        ctx.plan.changes.append((where, value))
        return
    label = f"services.{service.name}.deploy"
    ctx.single(deploy, label)
    if not (yamltree.is_mapping(deploy) and deploy.value):
        raise refuse(f"{label} is not a mapping with keys", path, deploy)
    current: dict[str, Any] = copy.deepcopy(ctx.plain["services"][service.name]["deploy"])
    placement = yamltree.get(deploy, "placement")
    if placement is None:
        value = {"constraints": [constraint]}
        ctx.plan.edits.append(
            edits.insert_key(
                text,
                deploy,
                edits.block_lines({"placement": value}, ctx.step),
                f"placement: {edits.flow_text(value)}",
                path,
            )
        )
        current["placement"] = value
        ctx.plan.changes.append((where, current))
        return
    ctx.single(placement, f"{label}.placement")
    if not (yamltree.is_mapping(placement) and placement.value):
        raise refuse(f"{label}.placement is not a mapping with keys", path, placement)
    constraints = yamltree.get(placement, "constraints")
    if constraints is None:
        value_list = [constraint]
        ctx.plan.edits.append(
            edits.insert_key(
                text,
                placement,
                edits.block_lines({"constraints": value_list}, ctx.step),
                f"constraints: {edits.flow_text(value_list)}",
                path,
            )
        )
        current["placement"]["constraints"] = value_list
        ctx.plan.changes.append((where, current))
        return
    ctx.single(constraints, f"{label}.placement.constraints")
    if not yamltree.is_sequence(constraints):
        raise refuse(f"{label}.placement.constraints is not a list", path, constraints)
    rendered = edits.flow_text(constraint)
    ctx.plan.edits.append(edits.append_item(text, constraints, rendered, rendered, path))
    current["placement"]["constraints"] = [*current["placement"]["constraints"], constraint]
    ctx.plan.changes.append((where, current))


# --------------------------------------------------------------------------- plan


def plan(
    doc: Document,
    strategy: Strategy,
    *,
    allows: Sequence[Allow] = (),
    network: str = DEFAULT_NETWORK,
    only: AbstractSet[int] | None = None,
) -> StackPlan:
    """Decide every entry and compute the edits and model changes; nothing is applied here.

    ``only``: the ids of the entry nodes to change (the fixes of the swarm-published findings
    that count); None: every entry not allowed to stay public."""
    if strategy not in STRATEGIES:
        raise ComposeNetError(
            f"unknown stack strategy {strategy!r}: expected {', '.join(STRATEGIES)}"
        )
    ctx = _Context(doc, strategy, network)
    joined = False
    for service in doc.services:
        if not service.ports:
            continue
        decisions = [
            decide(e, service, strategy, allows=allows, lines=ctx.lines, path=doc.path, only=only)
            for e in service.ports
        ]
        ctx.plan.decisions += decisions
        changing = [d for d in decisions if d.action in ("unpublish", "host-mode")]
        for d in decisions:
            if d.action == "allowed":
                why = "" if d.entry.written_host_ip is None else "; swarm ignores its host IP"
                ctx.message(
                    d.entry,
                    f"{d.label} {display(d.entry, ctx.text)} stays published on every node: "
                    f"{d.note}{why}",
                    kept=True,
                )
        if not changing:
            continue
        if strategy == "host-mode":
            _host_mode(ctx, service, decisions)
            continue
        _unpublish(ctx, service, changing)
        if strategy == "internal-network":
            _join_network(ctx, service, network)
            joined = True
        for d in changing:
            if strategy == "internal-network":
                how = (
                    f"{service.name} joined the attachable overlay network {network}: reach it "
                    f"at {_reach(service, d.entry)} from services on that network or from "
                    f"containers run with --network <stack>_{network}"
                )
            else:
                nets = ", ".join(_networks_of(service))
                how = (
                    f"services on its overlay network ({nets}) reach it at "
                    f"{_reach(service, d.entry)}"
                )
            ctx.message(
                d.entry,
                f"{d.label} {display(d.entry, ctx.text)} is no longer published; " + how,
            )
    if joined:
        _require_format(ctx, "an attachable overlay network")
        _define_network(ctx, network)
    ctx.plan.edits = edits.merge_deletions(ctx.text, ctx.plan.edits)
    ctx.plan.messages.sort(key=lambda m: (m.line, m.column))
    return ctx.plan


def _host_mode(ctx: _Context, service: Service, decisions: list[StackDecision]) -> None:
    _require_format(ctx, "long-syntax ports (mode: host)")
    seq = _ports_node(service)
    ctx.single(seq, f"the ports list of services.{service.name}")
    values = list(ctx.plain["services"][service.name]["ports"])
    for d in decisions:
        if d.action != "host-mode":
            continue
        values[d.entry.index] = _to_host_mode(ctx, service, d)
        ctx.message(
            d.entry,
            f"{d.label} {display(d.entry, ctx.text)} is published in host mode, "
            f"only on nodes labelled {stack.HOST_BINDING_LABEL}={stack.HOST_BINDING_VALUE}"
            "; set each node up with `compose-net node-setup --node NAME` (its "
            "docker_gwbridge then binds the port to the node's internal IPv4 address "
            "only: the binding is IPv4-only)",
        )
    ctx.plan.changes.append((("services", service.name, "ports"), values))
    if not stack.pinned_to_internal_binding(service):
        _pin(ctx, service)


# --------------------------------------------------------------------------- proof


@dataclass(frozen=True)
class StackResult:
    plan: StackPlan
    text: str
    document: Document


def harden_stack_text(
    source: Source,
    strategy: Strategy,
    *,
    allows: Sequence[Allow] = (),
    network: str = DEFAULT_NETWORK,
) -> StackResult:
    """Plan, apply and prove; raises ComposeNetError/SafetyError, never returns a bad text."""
    doc = document.load(source)
    model.document_ports(doc, None)  # every entry must be one Compose accepts
    return prove(doc, plan(doc, strategy, allows=allows, network=network), allows=allows)


def prove(doc: Document, the_plan: StackPlan, *, allows: Sequence[Allow] = ()) -> StackResult:
    """Apply a plan's edits and prove the result before anyone may write it.

    The new text must parse, its model must equal the original's with exactly the
    plan's changes, and planning again must find nothing to do.
    """
    result = apply(doc, the_plan)
    if result.text != doc.source.text:
        again = plan(result.document, the_plan.strategy, allows=allows, network=the_plan.network)
        refuse_second_run(again, doc.path)
    return result


def apply(doc: Document, the_plan: StackPlan) -> StackResult:
    """Splice a plan's edits; the new text must parse and its model must equal the
    original's with exactly the plan's changes (:mod:`compose_net.proof`)."""
    if not the_plan.edits:
        return StackResult(the_plan, doc.source.text, doc)
    new_text, new_doc = proof.parse_edited(doc.source, the_plan.edits)
    proof.prove_changes(doc, new_doc, the_plan.changes, f"the {the_plan.strategy} strategy")
    return StackResult(the_plan, new_text, new_doc)


def refuse_second_run(again: StackPlan, path: str) -> None:
    """Planning again on the result must find nothing to do."""
    if again.edits:
        raise SafetyError(
            "a second run would change the file again; nothing was written", path=path
        )
