"""Swarm stacks hardened by each strategy, deployed on a real three-node swarm.

Three dockerds, each in its own network namespace with a public (203.0.113.0/24) and an
internal (10.176.0.0/16) interface, form a swarm over the internal network (tests/harness).
The probes run from the "internet" namespace (public addresses) and the "servicenet"
namespace (internal addresses), and from containers on the stack's overlay networks.

This kernel has no IPVS, so neither the ingress routing mesh nor service VIPs work here:
the stacks publish in host mode (which works) and clients reach services by task
(``tasks.<service>``). One swarm serves the whole module; the host-mode test sets two of
its nodes up again with the commands ``compose-net node-setup`` prints, so it comes last.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from harness import (
    BUSYBOX_IMAGE,
    Lab,
    Node,
    Swarm,
    build_swarm,
    netns_unavailable_reason,
    require,
    tcp_probe,
    wait_for_echo,
    wait_until,
)

from compose_net import yamltree

pytestmark = [pytest.mark.docker, pytest.mark.netns, pytest.mark.slow]

PORT = 16379
PAYLOAD = b"compose-net swarm check\n"

#: The unhardened stack: a global echo service published in host mode on every node, and a
#: client service (no ports) on the stack's default overlay network.
STACK = f"""\
services:
  echo:
    image: {BUSYBOX_IMAGE}
    command: ["nc", "-ll", "-p", "6379", "-e", "/bin/cat"]
    stop_grace_period: 1s
    ports:
      - target: 6379
        published: {PORT}
        mode: host
    deploy:
      mode: global
  client:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    deploy:
      placement:
        constraints: [node.labels.name == n1]
"""


@pytest.fixture(scope="module")
def swarm() -> Iterator[Swarm]:
    reason = netns_unavailable_reason()
    require(reason is None, reason or "")
    with Lab() as lab:
        yield build_swarm(lab)


def cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def harden(tmp_path: Path, strategy: str | None) -> Path:
    """The stack file, hardened with ``strategy`` (None: as it is); it must pass stack config."""
    path = tmp_path / "stack.yml"
    path.write_text(STACK)
    if strategy is not None:
        proc = cli(
            "harden", "--no-config", "--target", "stack", "--stack-strategy", strategy, str(path)
        )
        assert proc.returncode == 0, proc.stderr
        assert path.read_text() != STACK
    config = subprocess.run(
        ["docker", "stack", "config", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "DOCKER_HOST": "unix:///nonexistent"},
    )
    assert config.returncode == 0, config.stderr
    return path


def deploy(swarm: Swarm, path: Path, name: str) -> None:
    swarm.docker("stack", "deploy", "--resolve-image", "never", "-c", str(path), name)


def remove(swarm: Swarm, name: str) -> None:
    """Remove a stack and wait until no node runs any of its containers."""
    swarm.docker("stack", "rm", name)

    def gone() -> bool:
        return all(
            not node.docker(
                "ps", "-aq", "--filter", f"label=com.docker.stack.namespace={name}"
            ).stdout.strip()
            for node in swarm.nodes.values()
        )

    wait_until(gone, timeout=60, interval=0.3, what=f"stack {name} removed")


def running_nodes(swarm: Swarm, service: str) -> set[str]:
    out = swarm.docker(
        "service",
        "ps",
        service,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Node}} {{.CurrentState}}",
    ).stdout
    return {line.split()[0] for line in out.splitlines() if " Running " in f" {line} "}


def wait_running(swarm: Swarm, service: str, nodes: set[str]) -> None:
    wait_until(
        lambda: running_nodes(swarm, service) == nodes,
        timeout=90,
        interval=0.3,
        what=f"{service} running on {sorted(nodes)}",
    )


def listeners(node: Node, port: int) -> list[str]:
    """Local addresses listening on TCP ``port`` in the node's namespace."""
    out = node.run("ss", "-Hltn").stdout
    return sorted(
        f.rsplit(":", 1)[0]
        for f in (line.split()[3] for line in out.splitlines())
        if f.rsplit(":", 1)[1] == str(port)
    )


def container_of(node: Node, service: str) -> str:
    cid = node.docker("ps", "-q", "--filter", f"label=com.docker.swarm.service.name={service}")
    return cid.stdout.split()[0]


def overlay_echo(node: Node, argv: list[str]) -> bytes:
    """Run an echo exchange with ``tasks.echo`` through ``argv`` (docker exec/run ...)."""
    script = f"printf '{PAYLOAD.decode().strip()}\\n' | nc -w 2 tasks.echo 6379"
    out = node.docker(*argv, "sh", "-c", script, check=False)
    return out.stdout.encode()


def public_answers(swarm: Swarm) -> dict[str, str]:
    return {
        name: tcp_probe(swarm.lab.internet, node.public_ip, PORT)
        for name, node in swarm.nodes.items()
    }


# --------------------------------------------------------------------------- positive control


def test_unhardened_host_mode_stack_answers_on_every_public_address(
    swarm: Swarm, tmp_path: Path
) -> None:
    path = harden(tmp_path, None)
    deploy(swarm, path, "plain")
    try:
        wait_running(swarm, "plain_echo", {"n1", "n2", "n3"})
        for name, node in swarm.nodes.items():
            reply = wait_for_echo(swarm.lab.internet, node.public_ip, PORT, PAYLOAD, timeout=60)
            assert reply == PAYLOAD, name
            assert listeners(node, PORT) == ["0.0.0.0", "[::]"], name
    finally:
        remove(swarm, "plain")


# --------------------------------------------------------------------------- overlay strategies


@pytest.mark.parametrize(
    ("strategy", "client"),
    [
        pytest.param("unpublish", "stack service", id="unpublish"),
        pytest.param("internal-network", "docker run on a worker", id="internal-network"),
    ],
)
def test_overlay_strategies_leave_nothing_public(
    swarm: Swarm, tmp_path: Path, strategy: str, client: str
) -> None:
    path = harden(tmp_path, strategy)
    name = strategy.replace("-", "")
    deploy(swarm, path, name)
    try:
        wait_running(swarm, f"{name}_echo", {"n1", "n2", "n3"})
        wait_running(swarm, f"{name}_client", {"n1"})
        if client == "stack service":
            n1 = swarm.nodes["n1"]
            argv = ["exec", container_of(n1, f"{name}_client")]
            worker = n1
        else:
            worker = swarm.nodes["n2"]
            argv = ["run", "--rm", "--network", f"{name}_internal", BUSYBOX_IMAGE]
        reply = wait_until(
            lambda: overlay_echo(worker, argv) or None,
            timeout=60,
            interval=0.5,
            what=f"tasks.echo answering through {client}",
        )
        assert reply == PAYLOAD
        assert public_answers(swarm) == {"n1": "refused", "n2": "refused", "n3": "refused"}
        for node in swarm.nodes.values():
            assert tcp_probe(swarm.lab.servicenet, node.internal_ip, PORT) == "refused"
            assert listeners(node, PORT) == []
    finally:
        remove(swarm, name)


# --------------------------------------------------------------------------- host-mode


def setup_node(swarm: Swarm, name: str) -> dict[str, Any]:
    """Set a member node up again with what `compose-net node-setup` prints for it."""
    proc = cli(
        "node-setup",
        "--resolve",
        "docker",
        "--node",
        name,
        "--format",
        "json",
        env=swarm.manager.engine.env(),
    )
    assert proc.returncode == 0, proc.stderr
    setup: dict[str, Any] = json.loads(proc.stdout)
    node, manager = swarm.nodes[name], swarm.manager
    old_id = next(m.id for m in swarm.members() if m.hostname == name)
    node.docker("swarm", "leave")
    node.docker("network", "rm", "docker_gwbridge")
    for argv in setup["before_join"]:
        assert argv[0] == "docker"
        node.docker(*argv[1:])
    token = manager.docker("swarm", "join-token", "-q", "worker").stdout.strip()
    node.docker(
        "swarm",
        "join",
        "--token",
        token,
        "--advertise-addr",
        node.internal_ip,
        f"{manager.internal_ip}:2377",
    )
    manager.docker("node", "rm", "--force", old_id)
    new_id = node.docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
    manager.docker("node", "update", "--label-add", f"name={name}", new_id)
    for argv in setup["on_manager_after_join"]:
        assert argv[0] == "docker"
        manager.docker(*argv[1:])
    return setup


@pytest.fixture(scope="module")
def internal_nodes(swarm: Swarm) -> dict[str, dict[str, Any]]:
    """n2 and n3 set up by node-setup (n1 is left as it was)."""
    setups = {name: setup_node(swarm, name) for name in ("n2", "n3")}
    swarm.wait_ready()
    return setups


def test_host_mode_binds_the_internal_address_on_set_up_nodes(
    swarm: Swarm, internal_nodes: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    for name, setup in internal_nodes.items():
        node = swarm.nodes[name]
        assert setup["internal_ipv4"] == node.internal_ip
        check = setup["check"]
        assert node.docker(*check[1:]).stdout.strip() == node.internal_ip
    path = harden(tmp_path, "host-mode")
    hardened = yamltree.to_plain(yamltree.compose(path.read_text(), str(path)))
    assert hardened["services"]["echo"]["ports"] == [
        {"target": 6379, "published": PORT, "mode": "host"}
    ]
    deploy(swarm, path, "hostmode")
    try:
        # The constraint keeps the global service off n1, whose bridge binds every address.
        wait_running(swarm, "hostmode_echo", {"n2", "n3"})
        for name in ("n2", "n3"):
            node = swarm.nodes[name]
            reply = wait_for_echo(swarm.lab.servicenet, node.internal_ip, PORT, PAYLOAD, timeout=60)
            assert reply == PAYLOAD, name
            # IPv4 only, and only the internal address.
            assert listeners(node, PORT) == [node.internal_ip], name
        assert public_answers(swarm) == {"n1": "refused", "n2": "refused", "n3": "refused"}
        assert tcp_probe(swarm.lab.servicenet, swarm.nodes["n1"].internal_ip, PORT) == "refused"
    finally:
        remove(swarm, "hostmode")
