"""``compose-net node-setup``: the engine setup that keeps a node's host-mode ports internal."""

from __future__ import annotations

import json
import sys

from compose_net.errors import ComposeNetError
from compose_net.report import EXIT_OK
from compose_net.swarm import nodesetup


def run(
    *,
    node: str | None,
    inventory: str | None = None,
    resolve: str | None = None,
    interface: str | None = None,
    cidr: str | None = None,
    docker_image: str | None = None,
    fmt: str = "text",
) -> int:
    if (inventory is None) == (resolve is None):
        raise ComposeNetError(
            "give the node's addresses with --inventory FILE or --resolve local|docker"
        )
    from compose_net import resolvers

    table = resolvers.node_table(
        resolve, inventory=inventory, interface=interface, cidr=cidr, docker_image=docker_image
    )
    setup = nodesetup.for_node(table, node)
    if fmt == "json":
        json.dump(setup.as_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(nodesetup.render_text(setup))
    return EXIT_OK
