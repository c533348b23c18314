"""``compose-net node-setup``: the engine setup that keeps a node's host-mode ports internal."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from compose_net.errors import ComposeNetError
from compose_net.report import EXIT_OK
from compose_net.swarm import nodesetup

if TYPE_CHECKING:
    from compose_net.commands import other_options


def main(opts: other_options.NodeSetup) -> int:
    """The command line's ``node-setup``: the setup of ``--node`` from an inventory or a
    resolver."""
    source_of = opts.node_source
    if (source_of.inventory is None) == (source_of.resolve is None):
        raise ComposeNetError(
            "give the node's addresses with --inventory FILE or --resolve local|docker"
        )
    from compose_net import resolvers

    table = resolvers.node_table(
        source_of.resolve,
        inventory=source_of.inventory,
        interface=source_of.interface,
        cidr=source_of.cidr,
        docker_image=source_of.docker_image,
    )
    setup = nodesetup.for_node(table, source_of.node)
    if opts.fmt == "json":
        json.dump(setup.as_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(nodesetup.render_text(setup))
    return EXIT_OK
