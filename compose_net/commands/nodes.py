"""``compose-net nodes``: the node table the resolvers see, as text, JSON or an inventory file."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from compose_net import report
from compose_net.errors import ComposeNetError
from compose_net.report import EXIT_OK
from compose_net.resolvers import inventory as inventories
from compose_net.resolvers.inventory import Inventory

if TYPE_CHECKING:
    from compose_net.commands import other_options


def table(inv: Inventory) -> str:
    rows = [("NAME", "ID", "ROLE", "SERVICE", "PUBLIC", "LABELS")]
    for n in inv.nodes:
        rows.append(
            (
                n.name,
                (n.id or "-")[:12],
                n.role or "-",
                ",".join(a for a in (n.service_ipv4, n.service_ipv6) if a) or "-",
                ",".join(a for a in (n.public_ipv4, n.public_ipv6) if a) or "-",
                ",".join(f"{k}={v}" for k, v in sorted(n.labels.items())) or "-",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n" for r in rows)


def run(inv: Inventory, *, fmt: str = "text") -> int:
    for node in inv.nodes:
        if node.problem:
            report.warn(f"node {node.name}", node.problem)
    if fmt == "json":
        data = {"origin": inv.origin, "nodes": [n.as_json() for n in inv.nodes]}
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif fmt == "yaml":
        sys.stdout.write(
            inventories.render_yaml(
                inv, header=(f"compose-net node inventory, read from {inv.origin}",)
            )
        )
    else:
        sys.stdout.write(table(inv))
    return EXIT_OK


def main(opts: other_options.Nodes) -> int:
    """The command line's ``nodes``: the table from an inventory or a resolver (without
    either: the configuration's)."""
    from compose_net import resolvers, unit

    source_of = opts.node_source
    resolve, inventory = source_of.resolve, source_of.inventory
    if inventory is None and resolve is None:  # no file: the working folder's configuration
        _, _, resolve, inventory = resolvers.configured_source(unit.configuration_at("."))
    if inventory is None and resolve is None:
        raise ComposeNetError(
            "give --inventory FILE or --resolve local|docker, or set inventory or resolve in "
            ".compose-net.yaml"
        )
    inv = resolvers.node_table(
        resolve,
        inventory=inventory,
        interface=source_of.interface,
        cidr=source_of.cidr,
        docker_image=source_of.docker_image,
    )
    return run(inv, fmt=opts.fmt)
