"""The unpublish and internal-network strategies: remove publications from a ports
list, and put the service on an attachable overlay network that the stack defines."""

from __future__ import annotations

from compose_net import rewrite, yamltree
from compose_net.document import PortEntry, Service
from compose_net.rewrite import Edit, refuse
from compose_net.swarm.decide import StackDecision, numbers
from compose_net.swarm.stackplan import (
    DELETE,
    Context,
    PlainPath,
    owned_pair,
    ports_node,
    service_mapping,
)
from compose_net.yamltree import Node, SequenceNode


def unpublish(ctx: Context, service: Service, gone: list[StackDecision]) -> None:
    """Remove the entries of ``gone`` from the service's ports list (the key when none is left)."""
    text, path = ctx.text, ctx.path
    seq = ports_node(service)
    ctx.single(seq, f"the ports list of services.{service.name}")
    for d in gone:
        ctx.single(d.entry.node, d.label)
    indexes = {d.entry.index for d in gone}
    kept = [item for i, item in enumerate(seq.value) if i not in indexes]
    where: PlainPath = ("services", service.name, "ports")
    if kept:
        if seq.flow_style:
            ctx.plan.edits += rewrite.delete_flow_items(text, seq, sorted(indexes), path)
        else:
            ctx.plan.edits += [
                rewrite.delete_block_item(text, seq, d.entry.node, path) for d in gone
            ]
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
    node = service_mapping(service)
    index = owned_pair(node, "ports")
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
        or not rewrite.starts_line(text, key.start_mark.index)
    ):
        if node.flow_style and len(node.value) > 1:
            ctx.plan.edits.append(rewrite.delete_key(text, node, index, path))
            ctx.plan.changes.append((where, DELETE))
            return
        # The service would be left empty, or the key shares its line: leave an empty list.
        ctx.plan.edits.append(_empty_list(text, key, seq, path))
        ctx.plan.changes.append((where, []))
        return
    if seq.flow_style:
        ctx.plan.edits.append(rewrite.delete_key(text, node, index, path))
    else:
        ctx.plan.edits += [rewrite.delete_block_item(text, seq, item, path) for item in seq.value]
        ctx.plan.edits.append(rewrite.delete_key_line(text, key, path))
    ctx.plan.changes.append((where, DELETE))


def _empty_list(text: str, key: Node, seq: SequenceNode, path: str) -> Edit:
    start = rewrite.key_end(text, key)
    end = rewrite.value_end(text, seq)
    if "#" in text[start:end]:
        raise refuse(
            "comments inside this ports list would be lost; remove the entries by hand", path, seq
        )
    return Edit(start, end, " []")


def join_network(ctx: Context, service: Service, network: str) -> None:
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
            rewrite.insert_key(
                text,
                service_mapping(service),
                rewrite.block_lines({"networks": value}, ctx.step),
                f"networks: {rewrite.flow_text(value)}",
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
                rewrite.append_item(
                    text, nets, rewrite.scalar_text(network), rewrite.scalar_text(network), path
                )
            )
            ctx.plan.changes.append((where, [*current, network]))
        return
    if yamltree.is_mapping(nets) and nets.value:
        if network not in current:
            rendered = f"{rewrite.scalar_text(network)}: {{}}"
            ctx.plan.edits.append(rewrite.insert_key(text, nets, [rendered], rendered, path))
            ctx.plan.changes.append((where, {**current, network: {}}))
        return
    raise refuse(
        f"services.{service.name}.networks is empty; name the service's networks or remove the key",
        path,
        nets,
    )


def define_network(ctx: Context, network: str) -> None:
    """Make sure the top-level ``networks:`` defines ``network`` as an attachable overlay."""
    text, path, root = ctx.text, ctx.path, ctx.doc.root
    spec = {"driver": "overlay", "attachable": True}
    top = yamltree.get(root, "networks")
    if top is None:
        ctx.single(root, "the document")
        if root.flow_style:
            raise refuse("the document is a flow mapping; add the networks by hand", path, root)
        lines = rewrite.block_lines({"networks": {network: spec}}, ctx.step)
        ctx.plan.edits.append(rewrite.insert_key(text, root, lines, "", path))
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
        block = rewrite.block_lines({network: spec}, ctx.step)
        flow = f"{rewrite.scalar_text(network)}: {rewrite.flow_text(spec)}"
        ctx.plan.edits.append(rewrite.insert_key(text, top, block, flow, path))
        ctx.plan.changes.append((("networks", network), spec))
        return
    ctx.single(existing, f"networks.{network}")
    defined = current[network]
    if defined is None and yamltree.is_scalar(existing):
        index = next(i for i, (_, v) in enumerate(top.value) if v is existing)
        colon = rewrite.key_end(text, top.value[index][0])
        if existing.start_mark.index != existing.end_mark.index or not rewrite.rest_is_blank(
            text, colon
        ):
            raise refuse(f"networks.{network} is not a mapping", path, existing)
        ctx.plan.edits.append(Edit(colon, colon, " " + rewrite.flow_text(spec)))
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
        rewrite.insert_key(text, existing, ["attachable: true"], "attachable: true", path)
    )
    ctx.plan.changes.append((("networks", network), {**defined, "attachable": True}))


def networks_of(service: Service) -> list[str]:
    nets = service.plain("networks")
    if isinstance(nets, dict):
        return [str(n) for n in nets]
    if isinstance(nets, list):
        return [str(n) for n in nets]
    return ["default"]


def reach(service: Service, entry: PortEntry) -> str:
    _, target = numbers(entry)
    target = target or "PORT"
    return f"{service.name}:{target} (each task at tasks.{service.name}:{target})"
