"""The host-mode strategy: long-syntax entries with ``mode: host`` and no ``host_ip``,
and the placement constraint that pins the service to nodes ``compose-net node-setup``
prepared."""

from __future__ import annotations

import copy
from typing import Any

from compose_net import fixes, interpolate, rewrite, stack, yamltree
from compose_net.document import PortEntry, Service
from compose_net.ports import split_short
from compose_net.rewrite import Edit, refuse
from compose_net.swarm.decide import StackDecision
from compose_net.swarm.stackplan import (
    Context,
    PlainPath,
    display,
    owned_pair,
    ports_node,
    require_format,
    service_mapping,
)


def host_mode(ctx: Context, service: Service, decisions: list[StackDecision]) -> None:
    require_format(ctx, "long-syntax ports (mode: host)")
    seq = ports_node(service)
    ctx.single(seq, f"the ports list of services.{service.name}")
    values = list(ctx.plain["services"][service.name]["ports"])
    for d in decisions:
        if d.action != "host-mode":
            continue
        values[d.entry.index] = to_host_mode(ctx, service, d)
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
        pin(ctx, service)


def _plain_or_quoted(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _empty_when_unset(text: str) -> bool:
    """A variable port that reads as empty when its variable is unset (and is not required)."""
    return interpolate.has_variables(text) and interpolate.default_of(text) == ""


def _range_of(text: str) -> bool:
    value = interpolate.default_of(text) if interpolate.has_variables(text) else text
    return bool(value) and "-" in str(value)


def short_to_long(ctx: Context, entry: PortEntry) -> dict[str, Any]:
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


def to_host_mode(ctx: Context, service: Service, d: StackDecision) -> Any:
    """Edit one entry to long syntax with mode: host and no host_ip; return its new plain value."""
    entry, text, path = d.entry, ctx.text, ctx.path
    seq = ports_node(service)
    ctx.single(entry.node, d.label)
    if not rewrite.in_span(seq, entry.node):
        raise refuse(
            f"{d.label} is an alias; write it out to let compose-net convert it", path, entry.node
        )
    if yamltree.is_scalar(entry.node):  # the short syntax
        long = short_to_long(ctx, entry)
        ctx.plan.edits.append(
            rewrite.replace_scalar_item(
                text,
                entry.node,
                rewrite.block_lines(long, ctx.step),
                rewrite.flow_text(long),
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
    ip_index = owned_pair(mapping, "host_ip")
    mode_index = owned_pair(mapping, "mode")
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
            ctx.plan.edits.append(rewrite.replace_plain(text, mode_node, "host", path))
        if ip_index is not None:
            ctx.plan.edits.append(rewrite.delete_key(text, mapping, ip_index, path))
    elif ip_index is not None:
        key, value = mapping.value[ip_index]
        ctx.plan.edits.append(
            Edit(key.start_mark.index, rewrite.pair_end(text, key, value), "mode: host")
        )
    else:
        ctx.plan.edits.append(rewrite.insert_key(text, mapping, ["mode: host"], "mode: host", path))
    return new


def pin(ctx: Context, service: Service) -> None:
    """Add the node-setup placement constraint to the service."""
    text, path = ctx.text, ctx.path
    constraint = stack.HOST_BINDING_CONSTRAINT
    where: PlainPath = ("services", service.name, "deploy")
    deploy = service.get("deploy")
    if deploy is None:
        ctx.single(service.node, f"services.{service.name}")
        value: dict[str, Any] = {"placement": {"constraints": [constraint]}}
        ctx.plan.edits.append(
            rewrite.insert_key(
                text,
                service_mapping(service),
                rewrite.block_lines({"deploy": value}, ctx.step),
                f"deploy: {rewrite.flow_text(value)}",
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
            rewrite.insert_key(
                text,
                deploy,
                rewrite.block_lines({"placement": value}, ctx.step),
                f"placement: {rewrite.flow_text(value)}",
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
            rewrite.insert_key(
                text,
                placement,
                rewrite.block_lines({"constraints": value_list}, ctx.step),
                f"constraints: {rewrite.flow_text(value_list)}",
                path,
            )
        )
        current["placement"]["constraints"] = value_list
        ctx.plan.changes.append((where, current))
        return
    ctx.single(constraints, f"{label}.placement.constraints")
    if not yamltree.is_sequence(constraints):
        raise refuse(f"{label}.placement.constraints is not a list", path, constraints)
    rendered = rewrite.flow_text(constraint)
    ctx.plan.edits.append(rewrite.append_item(text, constraints, rendered, rendered, path))
    current["placement"]["constraints"] = [*current["placement"]["constraints"], constraint]
    ctx.plan.changes.append((where, current))
