"""``compose-net node-setup``: the docker_gwbridge command for a node, from an inventory file."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from compose_net.cli import main

INVENTORY = """\
nodes:
  n1:
    service: {ipv4: 10.176.0.11}
  n2:
    hostname: worker-2.internal
    id: lq9kgl33jmxeorqv1mf6vtb21
    public: {ipv4: 203.0.113.12}
    service: {ipv4: 10.176.0.12, ipv6: "fd00::12"}
  v6:
    service: {ipv6: "fd00::16"}
  pub:
    public: {ipv4: 203.0.113.20}
"""

TEXT_N2 = """\
# Node n2: bind its host-mode stack ports to its internal address 10.176.0.12
# (inventory INVENTORY).
#
# Swarm publishes a host-mode port (mode: host) through the node's docker_gwbridge
# network. Created with com.docker.network.bridge.host_binding_ipv4=10.176.0.12,
# that bridge binds those ports to 10.176.0.12 only instead of every interface of the node.
# The binding is IPv4-only: the ports get no IPv6 listener at all.
# The node's internal IPv6 address fd00::12 cannot be used.

# 1. On worker-2.internal, BEFORE it joins the swarm (docker swarm init or join):
docker network create \\
    --driver bridge \\
    --opt com.docker.network.bridge.name=docker_gwbridge \\
    --opt com.docker.network.bridge.enable_icc=false \\
    --opt com.docker.network.bridge.enable_ip_masquerade=true \\
    --opt com.docker.network.bridge.host_binding_ipv4=10.176.0.12 \\
    docker_gwbridge

#    If worker-2.internal is already a swarm member, the bridge must be made again:
#    - on a manager: docker node update --availability drain worker-2.internal
#    - on a manager: if worker-2.internal is a manager: docker node demote worker-2.internal \
(never leave with the last manager)
#    - on worker-2.internal: docker swarm leave
#    - on worker-2.internal: docker network rm docker_gwbridge
#    - on worker-2.internal: the docker network create command above
#    - on worker-2.internal: docker swarm join --token TOKEN MANAGER:2377
#    - on a manager: docker node rm OLD-ID (the node's previous entry, now Down)
#    (TOKEN: `docker swarm join-token worker` on a manager)

# 2. On a manager, once worker-2.internal has joined: allow services hardened with
#    `compose-net harden --target stack --stack-strategy host-mode` to run on it
#    (they are pinned with the constraint node.labels.compose-net.host-binding == internal):
docker node update --label-add compose-net.host-binding=internal worker-2.internal

# Check on worker-2.internal (prints 10.176.0.12; empty means every address is bound):
docker network inspect --format '{{index .Options "com.docker.network.bridge.host_binding_ipv4"}}' \
docker_gwbridge
"""


@pytest.fixture
def inventory(tmp_path: Path) -> str:
    path = tmp_path / "nodes.yaml"
    path.write_text(INVENTORY)
    return str(path)


def test_text(inventory: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["node-setup", "--inventory", inventory, "--node", "n2"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (TEXT_N2.replace("INVENTORY", inventory), "")


@pytest.mark.parametrize(
    ("ref", "name", "hostname", "ip"),
    [
        pytest.param("n1", "n1", "n1", "10.176.0.11", id="by-name"),
        pytest.param(
            "worker-2.internal", "n2", "worker-2.internal", "10.176.0.12", id="by-hostname"
        ),
        pytest.param(
            "lq9kgl33jmxeorqv1mf6vtb21", "n2", "worker-2.internal", "10.176.0.12", id="by-id"
        ),
    ],
)
def test_json(
    inventory: str, capsys: pytest.CaptureFixture[str], ref: str, name: str, hostname: str, ip: str
) -> None:
    assert main(["node-setup", "--inventory", inventory, "--node", ref, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["before_join"] == [
        [
            "docker",
            "network",
            "create",
            "--driver",
            "bridge",
            "--opt",
            "com.docker.network.bridge.name=docker_gwbridge",
            "--opt",
            "com.docker.network.bridge.enable_icc=false",
            "--opt",
            "com.docker.network.bridge.enable_ip_masquerade=true",
            "--opt",
            f"com.docker.network.bridge.host_binding_ipv4={ip}",
            "docker_gwbridge",
        ]
    ]
    assert data["on_manager_after_join"] == [
        ["docker", "node", "update", "--label-add", "compose-net.host-binding=internal", hostname]
    ]
    assert (data["node"], data["hostname"], data["internal_ipv4"], data["ipv4_only"]) == (
        name,
        hostname,
        ip,
        True,
    )
    assert data["constraint"] == "node.labels.compose-net.host-binding == internal"
    assert shlex.join(data["check"]) == (
        "docker network inspect --format "
        "'{{index .Options \"com.docker.network.bridge.host_binding_ipv4\"}}' docker_gwbridge"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(
            ["--node", "v6"],
            "compose-net: error: node 'v6' has no internal IPv4 address to bind host-mode ports "
            "to: it has only the internal IPv6 address fd00::16, and the docker_gwbridge binding "
            "is IPv4-only",
            id="ipv6-only",
        ),
        pytest.param(
            ["--node", "pub"],
            "compose-net: error: node 'pub' has no internal IPv4 address to bind host-mode ports "
            "to: node 'pub' has no service address in INVENTORY; add nodes.pub.service.ipv4 "
            "(or ipv6)",
            id="public-only",
        ),
        pytest.param(
            ["--node", "n9"],
            "compose-net: error: there is no node 'n9' in INVENTORY (nodes: n1, n2, v6, pub)",
            id="unknown-node",
        ),
        pytest.param(
            [],
            "compose-net: error: name the node to set up with --node (nodes: n1, n2, v6, pub)",
            id="several-nodes-no-choice",
        ),
    ],
)
def test_errors(
    inventory: str, capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    assert main(["node-setup", "--inventory", inventory, *args]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", error.replace("INVENTORY", inventory) + "\n")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(
            ["--node", "n1"],
            "compose-net: error: give the node's addresses with --inventory FILE or "
            "--resolve local|docker",
            id="no-source",
        ),
        pytest.param(
            ["--node", "n1", "--inventory", "x.yaml", "--resolve", "docker"],
            "compose-net: error: give the node's addresses with --inventory FILE or "
            "--resolve local|docker",
            id="two-sources",
        ),
        pytest.param(
            ["--node", "n1", "--inventory", "x.yaml", "--docker-image", "busybox"],
            "compose-net: error: --docker-image is for --resolve docker",
            id="docker-image-without-docker",
        ),
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], error: str) -> None:
    assert main(["node-setup", *args]) == 2
    assert capsys.readouterr() == ("", error + "\n")


def test_single_node_table_needs_no_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("nodes:\n  solo:\n    service: {ipv4: 192.168.7.5}\n")
    assert main(["node-setup", "--inventory", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["internal_ipv4"] == "192.168.7.5"
