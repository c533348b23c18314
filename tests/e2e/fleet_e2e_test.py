"""``audit --nodes`` and ``probe --nodes`` on a real three-node swarm, and engines behind TLS.

Each node is a dockerd in its own network namespace (tests/harness), reached through its
unix socket; the inventory adds a fourth node whose socket does not exist. The probes run
from the lab's "internet" namespace, where only the public addresses are. A fifth engine
listens on its internal address with ``--tlsverify`` and certificates made here with
openssl; it is reached with ``tls:`` files, with a provider-style ``docker.env``, and with a
client certificate its CA never signed.

Two swarms: one as ``docker swarm init`` leaves it (the positive control), one whose nodes
were set up with what ``compose-net node-setup`` prints before they joined.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from harness import (
    BUSYBOX_IMAGE,
    SWARM_NODES,
    Lab,
    Namespace,
    Node,
    Swarm,
    build_swarm,
    busybox_image,
    make_certificates,
    netns_unavailable_reason,
    require,
    tcp_probe,
    wait_for_echo,
    wait_until,
)

pytestmark = [pytest.mark.docker, pytest.mark.netns, pytest.mark.slow]

PORT = 16479
PAYLOAD = b"compose-net fleet check\n"
NODE_TIMEOUT = 3.0

#: A global echo service published in host mode on every node.
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
"""

TLS_NODE = ("t1", "203.0.113.21", "10.176.0.21")
TLS_PORT = 2376
WEB_PORT = 18080


def cli(*args: str, ns: Namespace | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "compose_net", *args]
    return subprocess.run(
        ns.nsenter(*argv) if ns is not None else argv,
        capture_output=True, text=True, timeout=120, check=False,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.stdout, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def write_inventory(path: Path, nodes: Mapping[str, Node], *, dead: bool = False) -> Path:
    lines = ["nodes:"]
    for name, node in nodes.items():
        lines += [
            f"  {name}:",
            f"    engine: {node.docker_host}",
            f"    public: {{ipv4: {node.public_ip}}}",
            f"    service: {{ipv4: {node.internal_ip}}}",
        ]
    if dead:
        lines += [
            "  n4:",
            # a short path: under a deep pytest folder the socket name would pass
            # AF_UNIX's 108 bytes, and the error would say so instead of ENOENT
            "    engine: unix:///nonexistent/n4-is-not-there.sock",
            "    public: {ipv4: 203.0.113.14}",
            "    service: {ipv4: 10.176.0.14}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def deploy(swarm: Swarm, path: Path, name: str) -> None:
    swarm.docker("stack", "deploy", "--resolve-image", "never", "-c", str(path), name)

    def running() -> bool:
        out = swarm.docker(
            "service", "ps", f"{name}_echo", "--filter", "desired-state=running",
            "--format", "{{.Node}} {{.CurrentState}}",
        ).stdout
        return {line.split()[0] for line in out.splitlines() if " Running " in f" {line} "} == set(
            swarm.nodes
        )

    wait_until(running, timeout=90, interval=0.3, what=f"{name}_echo running on every node")


def bindings_of(node: dict[str, Any], port: int) -> list[tuple[str, str]]:
    return sorted(
        (b["host_ip"], b["verdict"])
        for c in node["containers"] for b in c["bindings"] if b["host_port"] == port
    )


# --------------------------------------------------------------------------- as swarm leaves it


@pytest.fixture(scope="module")
def plain() -> Iterator[tuple[Swarm, Node, Path]]:
    """The plain swarm, and a TLS engine t1 (with its certificates' folder) in the same lab."""
    reason = netns_unavailable_reason()
    require(reason is None, reason or "")
    with Lab() as lab:
        swarm = build_swarm(lab)
        name, public, internal = TLS_NODE
        t1 = lab.add_node(name, public, internal)
        certs = make_certificates(lab.dir / "certs", internal)
        t1.start_dockerd(extra_args=[
            "-H", f"tcp://{internal}:{TLS_PORT}", "--tlsverify",
            "--tlscacert", str(certs / "ca.pem"),
            "--tlscert", str(certs / "server-cert.pem"),
            "--tlskey", str(certs / "server-key.pem"),
        ])
        busybox_image(t1.docker_host)
        t1.docker("run", "-d", "--name", "web", "-p", f"{WEB_PORT}:80", BUSYBOX_IMAGE,
                  "sleep", "3600")
        yield swarm, t1, certs


def test_unprepared_nodes_are_exposed_and_answer_and_a_dead_node_is_reported(
    plain: tuple[Swarm, Node, Path], tmp_path: Path
) -> None:
    swarm = plain[0]
    stack = tmp_path / "stack.yml"
    stack.write_text(STACK)
    deploy(swarm, stack, "plain")
    for node in swarm.nodes.values():
        assert wait_for_echo(swarm.lab.internet, node.public_ip, PORT, PAYLOAD, timeout=60)
    inventory = write_inventory(tmp_path / "nodes.yaml", swarm.nodes, dead=True)

    started = time.monotonic()
    proc = cli("audit", "--nodes", "--inventory", str(inventory), "--format", "json",
               "--node-timeout", str(NODE_TIMEOUT))
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert elapsed < NODE_TIMEOUT + 1
    data = as_json(proc)
    nodes = {n["name"]: n for n in data["nodes"]}
    assert data["summary"] == {"nodes": 4, "reachable": 3, "unreachable": 1, "exposed": 6}
    for name in ("n1", "n2", "n3"):
        assert nodes[name]["reachable"] is True
        assert bindings_of(nodes[name], PORT) == [
            ("0.0.0.0", "all-interfaces"), ("::", "all-interfaces")
        ], name
        assert [f["kind"] for f in nodes[name]["findings"]] == ["exposed", "exposed"], name
    assert nodes["n1"]["swarm"] == "manager" and nodes["n2"]["swarm"] == "worker"
    assert [s["name"] for s in nodes["n1"]["services"]] == ["plain_echo"]
    assert nodes["n4"]["reachable"] is False
    assert "No such file or directory" in nodes["n4"]["error"]

    proc = cli("probe", "--nodes", "--inventory", str(inventory), "--format", "json",
               "--timeout", "1", ns=swarm.lab.internet)
    assert proc.returncode == 1, proc.stderr
    data = as_json(proc)
    opened = sorted((f["node"], f["kind"]) for f in data["findings"])
    assert opened == [("n1", "open"), ("n2", "open"), ("n3", "open"), ("n4", "unreachable")]
    for node in data["nodes"][:3]:
        name = node["name"]
        assert [(r["address"], r["port"], r["result"]) for r in node["results"]] == [
            (swarm.nodes[name].public_ip, PORT, "open")
        ]
    swarm.docker("stack", "rm", "plain")


def test_engines_behind_tls_by_files_and_by_docker_env(
    plain: tuple[Swarm, Node, Path], tmp_path: Path
) -> None:
    swarm, t1, certs = plain
    engine = f"tcp://{t1.internal_ip}:{TLS_PORT}"
    (tmp_path / "docker.env").write_text(
        "# handed out by the provider\n"
        f"export DOCKER_HOST={engine}\nexport DOCKER_TLS_VERIFY=1\n"
        f"export DOCKER_CERT_PATH={certs / 'client'}\n"
    )
    addresses = (f"    public: {{ipv4: {t1.public_ip}}}\n"
                 f"    service: {{ipv4: {t1.internal_ip}}}\n")
    inventory = tmp_path / "nodes.yaml"
    inventory.write_text(
        "nodes:\n"
        f"  by-files:\n    engine: {engine}\n"
        f"    tls: {{ca: {certs}/ca.pem, cert: {certs}/client-cert.pem, "
        f"key: {certs}/client-key.pem}}\n" + addresses +
        "  by-env-file:\n    env-file: docker.env\n" + addresses +
        f"  rogue-client:\n    engine: {engine}\n"
        f"    tls: {{ca: {certs}/ca.pem, cert: {certs}/rogue-cert.pem, "
        f"key: {certs}/rogue-key.pem}}\n" + addresses +
        f"  no-tls:\n    engine: {engine}\n" + addresses
    )
    proc = cli("audit", "--nodes", "--inventory", str(inventory), "--format", "json",
               "--node-timeout", str(NODE_TIMEOUT), ns=swarm.lab.servicenet)
    assert proc.returncode == 1, proc.stderr
    nodes = {n["name"]: n for n in as_json(proc)["nodes"]}
    for name in ("by-files", "by-env-file"):
        assert nodes[name]["reachable"] is True, nodes[name]["error"]
        assert bindings_of(nodes[name], WEB_PORT) == [
            ("0.0.0.0", "all-interfaces"), ("::", "all-interfaces")
        ]
    assert nodes["by-env-file"]["engine"] == "env-file docker.env"
    for name in ("rogue-client", "no-tls"):
        assert nodes[name]["reachable"] is False
        assert nodes[name]["error"]


# --------------------------------------------------------------------------- set up by node-setup


def build_set_up_swarm(lab: Lab, inventory: Path) -> Swarm:
    """Three nodes, each given what `compose-net node-setup` prints before it joins."""
    nodes = {name: lab.add_node(name, public, internal) for name, public, internal in SWARM_NODES}
    lab.start_dockerds(nodes.values())
    write_inventory(inventory, nodes)
    setups = {}
    for name, node in nodes.items():
        busybox_image(node.docker_host)
        proc = cli("node-setup", "--inventory", str(inventory), "--node", name, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        setups[name] = json.loads(proc.stdout)
        for argv in setups[name]["before_join"]:
            assert argv[0] == "docker"
            node.docker(*argv[1:])
    manager = nodes["n1"]
    manager.docker("swarm", "init", "--advertise-addr", manager.internal_ip)
    token = manager.docker("swarm", "join-token", "-q", "worker").stdout.strip()
    for name in ("n2", "n3"):
        nodes[name].docker("swarm", "join", "--token", token, "--advertise-addr",
                           nodes[name].internal_ip, f"{manager.internal_ip}:2377")
    swarm = Swarm(lab, nodes)
    swarm.wait_ready()
    for setup in setups.values():
        for argv in setup["on_manager_after_join"]:
            manager.docker(*argv[1:])
    return swarm


def test_after_harden_and_node_setup_nothing_is_exposed_anywhere(
    make_lab: Any, tmp_path: Path
) -> None:
    inventory = tmp_path / "nodes.yaml"
    swarm = build_set_up_swarm(make_lab(), inventory)
    stack = tmp_path / "stack.yml"
    stack.write_text(STACK)
    proc = cli("harden", "--no-config", "--target", "stack", "--stack-strategy", "host-mode",
               str(stack))
    assert proc.returncode == 0, proc.stderr
    deploy(swarm, stack, "hard")
    for node in swarm.nodes.values():
        reply = wait_for_echo(swarm.lab.servicenet, node.internal_ip, PORT, PAYLOAD, timeout=60)
        assert reply == PAYLOAD, node.name

    proc = cli("audit", "--nodes", "--inventory", str(inventory), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = as_json(proc)
    assert data["summary"] == {"nodes": 3, "reachable": 3, "unreachable": 0, "exposed": 0}
    for node in data["nodes"]:
        ip = swarm.nodes[node["name"]].internal_ip
        assert bindings_of(node, PORT) == [(ip, "internal")], node["name"]
        assert node["findings"] == []

    proc = cli("probe", "--nodes", "--inventory", str(inventory), "--format", "json",
               "--timeout", "1", ns=swarm.lab.internet)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = [(r["address"], r["port"], r["result"])
               for n in as_json(proc)["nodes"] for r in n["results"]]
    assert results == [(n.public_ip, PORT, "refused") for n in swarm.nodes.values()]
    for node in swarm.nodes.values():
        assert tcp_probe(swarm.lab.servicenet, node.internal_ip, PORT) == "open"
