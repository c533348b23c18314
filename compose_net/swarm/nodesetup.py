"""The per-node engine setup that makes a stack's host-mode ports listen on the internal address.

Swarm passes no host IP to a task, so a host-mode port is bound by the bridge network
that carries it. For a task on an overlay network (every stack service) that is the
node's ``docker_gwbridge``, which libnetwork creates binding every address. Created
beforehand with ``com.docker.network.bridge.host_binding_ipv4=<internal IPv4>``, it binds
host-mode ports to that address only. It must exist before the node initialises or joins
the swarm (libnetwork then keeps it); a member node has to leave, remove the old bridge,
create the new one and join again. The option is IPv4-only: with it the engine makes no
IPv6 listener for those ports at all.

Daemon ``"ip"`` in daemon.json does not cover stack tasks (it applies to the default
``bridge`` only), and ``default-network-opts`` had no effect on a 20.10 engine, so neither
is offered here.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from compose_net import stack
from compose_net.errors import ComposeNetError
from compose_net.resolvers.inventory import Inventory

GWBRIDGE = "docker_gwbridge"
BINDING_OPTION = "com.docker.network.bridge.host_binding_ipv4"
#: The options libnetwork gives docker_gwbridge itself, kept so the bridge behaves the same.
GWBRIDGE_OPTIONS = (
    f"com.docker.network.bridge.name={GWBRIDGE}",
    "com.docker.network.bridge.enable_icc=false",
    "com.docker.network.bridge.enable_ip_masquerade=true",
)
LABEL = f"{stack.HOST_BINDING_LABEL}={stack.HOST_BINDING_VALUE}"


@dataclass(frozen=True)
class NodeSetup:
    """What to run for one node."""

    node: str
    #: how docker commands on a manager name the node (its hostname)
    hostname: str
    internal_ipv4: str
    source: str = ""
    internal_ipv6: str | None = None

    def create_command(self) -> list[str]:
        """On the node, before it joins: docker_gwbridge bound to the internal IPv4 address."""
        argv = ["docker", "network", "create", "--driver", "bridge"]
        for option in (*GWBRIDGE_OPTIONS, f"{BINDING_OPTION}={self.internal_ipv4}"):
            argv += ["--opt", option]
        return [*argv, GWBRIDGE]

    def label_command(self) -> list[str]:
        """On a manager, once the node has joined: let hardened host-mode services run there."""
        return ["docker", "node", "update", "--label-add", LABEL, self.hostname]

    def check_command(self) -> list[str]:
        """On the node: prints the bound address (empty when the bridge binds every address)."""
        template = "{{index .Options " + json.dumps(BINDING_OPTION) + "}}"
        return ["docker", "network", "inspect", "--format", template, GWBRIDGE]

    def rejoin_steps(self) -> list[tuple[str, str]]:
        """(where, what) for a node that is already a swarm member."""
        return [
            ("a manager", f"docker node update --availability drain {shlex.quote(self.hostname)}"),
            (
                "a manager",
                f"if {self.hostname} is a manager: docker node demote "
                f"{shlex.quote(self.hostname)} (never leave with the last manager)",
            ),
            (self.hostname, "docker swarm leave"),
            (self.hostname, f"docker network rm {GWBRIDGE}"),
            (self.hostname, "the docker network create command above"),
            (self.hostname, "docker swarm join --token TOKEN MANAGER:2377"),
            ("a manager", "docker node rm OLD-ID (the node's previous entry, now Down)"),
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "hostname": self.hostname,
            "internal_ipv4": self.internal_ipv4,
            "source": self.source,
            "ipv4_only": True,
            "label": LABEL,
            "constraint": stack.HOST_BINDING_CONSTRAINT,
            "before_join": [self.create_command()],
            "on_manager_after_join": [self.label_command()],
            "check": self.check_command(),
            "already_member": [{"on": on, "do": what} for on, what in self.rejoin_steps()],
        }


def for_node(inventory: Inventory, ref: str | None) -> NodeSetup:
    """The setup of the node ``ref`` names (may be omitted when the table has one node)."""
    if ref is None:
        if len(inventory.nodes) != 1:
            names = ", ".join(inventory.names()) or "none"
            raise ComposeNetError(f"name the node to set up with --node (nodes: {names})")
        node = inventory.nodes[0]
    else:
        node = inventory.find(ref)
    if not node.service_ipv4:
        why = (
            f"it has only the internal IPv6 address {node.service_ipv6}, and the "
            "docker_gwbridge binding is IPv4-only"
            if node.service_ipv6
            else node.problem or "it has no internal address"
        )
        raise ComposeNetError(
            f"node {node.name!r} has no internal IPv4 address to bind host-mode ports to: {why}"
        )
    return NodeSetup(node.name, node.host, node.service_ipv4, node.source, node.service_ipv6)


def _command_text(argv: list[str]) -> str:
    """A long command over several lines: each option and the last argument on its own line."""
    words = [shlex.quote(w) for w in argv]
    lines = [words[0]]
    for i, word in enumerate(words[1:], 1):
        if word.startswith("--") or i == len(words) - 1:
            lines.append(word)
        else:
            lines[-1] += " " + word
    return " \\\n    ".join(lines)


def render_text(setup: NodeSetup) -> str:
    """The setup as commented shell commands."""
    ip, host = setup.internal_ipv4, setup.hostname
    out = [
        f"# Node {setup.node}: bind its host-mode stack ports to its internal address {ip}",
        f"# ({setup.source or 'as given'}).",
        "#",
        f"# Swarm publishes a host-mode port (mode: host) through the node's {GWBRIDGE}",
        f"# network. Created with {BINDING_OPTION}={ip},",
        f"# that bridge binds those ports to {ip} only instead of every interface of the node.",
        "# The binding is IPv4-only: the ports get no IPv6 listener at all.",
    ]
    if setup.internal_ipv6:
        out.append(f"# The node's internal IPv6 address {setup.internal_ipv6} cannot be used.")
    out += [
        "",
        f"# 1. On {host}, BEFORE it joins the swarm (docker swarm init or join):",
        _command_text(setup.create_command()),
        "",
        f"#    If {host} is already a swarm member, the bridge must be made again:",
    ]
    out += [f"#    - on {on}: {what}" for on, what in setup.rejoin_steps()]
    out.append("#    (TOKEN: `docker swarm join-token worker` on a manager)")
    out += [
        "",
        f"# 2. On a manager, once {host} has joined: allow services hardened with",
        "#    `compose-net harden --target stack --stack-strategy host-mode` to run on it",
        f"#    (they are pinned with the constraint {stack.HOST_BINDING_CONSTRAINT}):",
        shlex.join(setup.label_command()),
        "",
        f"# Check on {host} (prints {ip}; empty means every address is bound):",
        shlex.join(setup.check_command()),
    ]
    return "\n".join(out) + "\n"
