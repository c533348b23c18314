"""A three-node Docker swarm, one dockerd per node namespace, joined over the internal network."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .images import busybox_image
from .netns import Lab, LabError, Node
from .process import wait_until

SWARM_NODES: tuple[tuple[str, str, str], ...] = (
    ("n1", "203.0.113.11", "10.176.0.11"),
    ("n2", "203.0.113.12", "10.176.0.12"),
    ("n3", "203.0.113.13", "10.176.0.13"),
)
GWBRIDGE_SUBNET = "172.18.0.0/16"


@dataclass(frozen=True)
class SwarmNode:
    """One row of the manager's view of the swarm."""

    id: str
    hostname: str
    label_name: str | None
    addr: str
    state: str
    role: str


def create_gwbridge(node: Node, host_binding_ipv4: str | None = None,
                    subnet: str = GWBRIDGE_SUBNET) -> None:
    """Pre-create docker_gwbridge so host-mode ports bind to one address (default: internal IP).

    Must happen before the node inits or joins a swarm; libnetwork then reuses this network.
    """
    binding = host_binding_ipv4 or node.internal_ip
    node.docker(
        "network", "create", "--driver", "bridge", "--subnet", subnet,
        "-o", "com.docker.network.bridge.name=docker_gwbridge",
        "-o", "com.docker.network.bridge.enable_icc=false",
        "-o", "com.docker.network.bridge.enable_ip_masquerade=true",
        "-o", f"com.docker.network.bridge.host_binding_ipv4={binding}",
        "docker_gwbridge",
    )


class Swarm:
    """Three nodes n1 (manager) .. n3 (workers) of a Lab, labelled name=nN."""

    def __init__(self, lab: Lab, nodes: Mapping[str, Node]):
        self.lab = lab
        self.nodes = dict(nodes)

    @property
    def manager(self) -> Node:
        return self.nodes["n1"]

    def docker(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run `docker ARGS` on the manager."""
        return self.manager.docker(*args, **kwargs)

    def members(self) -> list[SwarmNode]:
        """The manager's view of every node (docker node inspect)."""
        ids = self.docker("node", "ls", "-q").stdout.split()
        if not ids:
            return []
        data = json.loads(self.docker("node", "inspect", *ids).stdout)
        return [
            SwarmNode(
                id=item["ID"],
                hostname=item["Description"]["Hostname"],
                label_name=(item["Spec"].get("Labels") or {}).get("name"),
                addr=item["Status"].get("Addr", ""),
                state=item["Status"]["State"],
                role=item["Spec"]["Role"],
            )
            for item in data
        ]

    def wait_ready(self, timeout: float = 60.0) -> list[SwarmNode]:
        """Wait until every node is 'ready' in the manager's view; return that view."""
        expected = len(self.nodes)

        def ready() -> list[SwarmNode] | None:
            members = self.members()
            if len(members) == expected and all(m.state == "ready" for m in members):
                return members
            return None

        return wait_until(ready, timeout=timeout, interval=0.2, what="all swarm nodes ready")


def build_swarm(
    lab: Lab,
    *,
    gwbridge_on: Iterable[str] = (),
    daemon_config: Mapping[str, Any] | None = None,
    with_busybox: bool = True,
    timeout: float = 60.0,
) -> Swarm:
    """Create n1..n3 in lab, start their dockerds, init on n1 and join n2, n3 as workers.

    gwbridge_on: nodes that get a docker_gwbridge bound to their internal IP before joining.
    with_busybox: import the busybox image into every node (tasks never pull).
    """
    gwbridge = set(gwbridge_on)
    unknown = gwbridge - {name for name, _, _ in SWARM_NODES}
    if unknown:
        raise ValueError(f"unknown nodes for gwbridge_on: {sorted(unknown)}")
    nodes = {name: lab.add_node(name, public, internal) for name, public, internal in SWARM_NODES}
    lab.start_dockerds(nodes.values(), daemon_config=daemon_config, timeout=timeout)

    def prepare(node: Node) -> None:
        if with_busybox:
            busybox_image(node.docker_host)
        if node.name in gwbridge:
            create_gwbridge(node)

    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        list(pool.map(prepare, nodes.values()))

    manager = nodes["n1"]
    manager.docker("swarm", "init", "--advertise-addr", manager.internal_ip)
    token = manager.docker("swarm", "join-token", "-q", "worker").stdout.strip()
    for name in ("n2", "n3"):
        node = nodes[name]
        node.docker("swarm", "join", "--token", token, "--advertise-addr", node.internal_ip,
                    f"{manager.internal_ip}:2377")
    swarm = Swarm(lab, nodes)
    for node in nodes.values():
        node_id = node.docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        if not node_id:
            raise LabError(f"{node.name} has no swarm node ID after joining")
        manager.docker("node", "update", "--label-add", f"name={node.name}", node_id)
    swarm.wait_ready(timeout)
    return swarm
