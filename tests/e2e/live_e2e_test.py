"""End to end on a node that looks like a cloud host: audit, probe, harden, redeploy, prove.

The node is a network namespace with a public interface (203.0.113.10/24, towards the "internet"
namespace) and an internal one (10.176.226.219/16, towards "servicenet"), running its own
dockerd. The busybox image is imported locally and the files are deployed with the real compose
binary. Probes run inside the peer namespaces; nothing is sent anywhere else.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from harness import (
    BUSYBOX_IMAGE,
    Lab,
    Namespace,
    Node,
    busybox_image,
    run,
    tcp_probe,
    wait_for_echo,
)

pytestmark = [pytest.mark.docker, pytest.mark.netns, pytest.mark.compose, pytest.mark.slow]

PUBLIC_IP = "203.0.113.10"
INTERNAL_IP = "10.176.226.219"
PROJECT = "e2e"
PAYLOAD = b"compose-net e2e\n"

#: Each service answers as an echo server on every container port it publishes over TCP.
_ECHO = 'for p in 7000 7001 7002; do nc -ll -p $$p -e /bin/cat & done; wait'

ORIGINAL = f"""\
services:
  short:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "{_ECHO}"]
    ports:
      - "7101:7000"             # short
      - "7102-7103:7001-7002"   # range
      - "7105:7005/udp"         # udp
      - "0.0.0.0::7000"         # ip::port, the engine picks the host port
      - "127.0.0.1:7106:7000"   # loopback, left alone
  long:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "{_ECHO}"]
    ports:
      - target: 7000            # long syntax
        published: 7104
        protocol: tcp
"""

HOST_NETWORK = f"""\
services:
  hostnet:
    image: {BUSYBOX_IMAGE}
    network_mode: host
    command: ["nc", "-ll", "-p", "7200", "-e", "/bin/cat"]
"""

def cli(
    *args: str, namespace: Namespace | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real compose-net CLI, inside ``namespace`` when given."""
    argv = [sys.executable, "-m", "compose_net", *args]
    if namespace is not None:
        argv = namespace.nsenter(*argv)
    return run(argv, timeout=120, check=False, env=env)


@pytest.fixture
def node(make_lab: Callable[..., Lab]) -> Node:
    lab = make_lab()
    node = lab.add_node("node", public_ip=PUBLIC_IP, internal_ip=INTERNAL_IP)
    node.start_dockerd()
    busybox_image(node.docker_host)
    return node


@pytest.fixture
def deploy(node: Node, tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """deploy(folder, text): write compose.yaml there and bring the project up on the node."""
    deployed: list[Path] = []

    def up(folder: str, text: str) -> Path:
        path = tmp_path / folder / "compose.yaml"
        path.parent.mkdir(exist_ok=True)
        if not path.exists():
            path.write_text(text)
        # --timeout 0: a busybox shell as PID 1 ignores SIGTERM; do not wait for it when the
        # containers of an earlier file are replaced.
        node.engine.compose("-f", str(path), "-p", PROJECT, "up", "-d", "--remove-orphans",
                            "--timeout", "0")
        deployed.append(path)
        return path

    yield up
    for path in reversed(deployed):
        node.engine.compose("-f", str(path), "-p", PROJECT, "down", "--timeout", "0",
                            check=False)


def audit(node: Node, *args: str, env: Mapping[str, str] | None = None) -> tuple[int, Any]:
    proc = cli("audit", "--format", "json", *args, env=env or node.engine.env())
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def binding_rows(report: Mapping[str, Any]) -> dict[tuple[str, str, int | None, int, str], str]:
    """IPv4 and loopback bindings of the project as rows -> verdict (the picked port as None)."""
    rows: dict[tuple[str, str, int | None, int, str], str] = {}
    for c in report["containers"]:
        if c["project"] != PROJECT:
            continue
        for b in c["bindings"]:
            if ":" in b["host_ip"]:
                # IPv6 twins exist only where the engine has IPv6; each must match its IPv4 one.
                assert b["host_ip"] == "::", b
                assert b["verdict"] == "all-interfaces", b
                continue
            port = b["host_port"] if 7100 < b["host_port"] < 7200 else None
            rows[(c["service"], b["host_ip"], port, b["container_port"], b["protocol"])] = (
                b["verdict"]
            )
    return rows


def probe_rows(report: Mapping[str, Any]) -> dict[tuple[int | None, str], str]:
    """Probe results as (port, protocol) -> result; ports the engine picked become None."""
    out: dict[tuple[int | None, str], str] = {}
    for r in report["results"]:
        port = r["port"] if r["port"] is None or 7100 < r["port"] < 7200 else None
        out[(port, r["protocol"])] = r["result"]
    return out


def test_original_file_is_open_from_the_internet(node: Node, deploy: Callable[..., Path]) -> None:
    lab = node.lab
    path = deploy("original", ORIGINAL)
    assert wait_for_echo(lab.internet, PUBLIC_IP, 7101, PAYLOAD) == PAYLOAD

    code, report = audit(node, "--project", PROJECT)
    assert code == 1
    assert binding_rows(report) == {
        ("long", "0.0.0.0", 7104, 7000, "tcp"): "all-interfaces",
        ("short", "0.0.0.0", 7101, 7000, "tcp"): "all-interfaces",
        ("short", "0.0.0.0", 7102, 7001, "tcp"): "all-interfaces",
        ("short", "0.0.0.0", 7103, 7002, "tcp"): "all-interfaces",
        ("short", "0.0.0.0", 7105, 7005, "udp"): "all-interfaces",
        ("short", "0.0.0.0", None, 7000, "tcp"): "all-interfaces",
        ("short", "127.0.0.1", 7106, 7000, "tcp"): "loopback",
    }
    assert report["summary"]["exposed"] == len(report["findings"]) >= 6

    files = cli("probe", PUBLIC_IP, str(path), "--format", "json", "--timeout", "2",
                namespace=lab.internet)
    assert files.returncode == 1, files.stderr
    assert probe_rows(json.loads(files.stdout)) == {
        (7101, "tcp"): "open",
        (7102, "tcp"): "open",
        (7103, "tcp"): "open",
        (7104, "tcp"): "open",
        (7105, "udp"): "not-provable",
        (7106, "tcp"): "refused",
        (None, "tcp"): "not-provable",
    }

    running = cli("probe", PUBLIC_IP, "--from-docker", "--format", "json", "--timeout", "2",
                  namespace=lab.internet, env=node.engine.env())
    assert running.returncode == 1, running.stderr
    assert probe_rows(json.loads(running.stdout)) == {
        (7101, "tcp"): "open",
        (7102, "tcp"): "open",
        (7103, "tcp"): "open",
        (7104, "tcp"): "open",
        (7105, "udp"): "not-provable",
        (7106, "tcp"): "refused",
        (None, "tcp"): "open",  # the port the engine picked for 0.0.0.0::7000
    }


HARDEN_WAYS = [
    pytest.param(("--bind", INTERNAL_IP), (), id="bind"),
    pytest.param(("--resolve", "docker", "--docker-image", BUSYBOX_IMAGE),
                 ("--resolve", "docker", "--docker-image", BUSYBOX_IMAGE), id="resolve-docker"),
]


@pytest.mark.parametrize(("harden_args", "audit_args"), HARDEN_WAYS)
def test_hardened_file_answers_only_inside(
    node: Node, deploy: Callable[..., Path], harden_args: tuple[str, ...],
    audit_args: tuple[str, ...],
) -> None:
    lab = node.lab
    original = deploy("original", ORIGINAL)
    hardened = original.parent.parent / "hardened" / "compose.yaml"
    hardened.parent.mkdir()
    hardened.write_text(ORIGINAL)
    done = cli("harden", "--no-config", "-q", str(hardened), *harden_args, env=node.engine.env())
    assert done.returncode == 0, done.stderr
    assert hardened.read_text() != ORIGINAL
    deploy("hardened", "")

    code, report = audit(node, "--project", PROJECT, *audit_args)
    assert code == 0, report["findings"]
    assert binding_rows(report) == {
        ("long", INTERNAL_IP, 7104, 7000, "tcp"): "internal",
        ("short", INTERNAL_IP, 7101, 7000, "tcp"): "internal",
        ("short", INTERNAL_IP, 7102, 7001, "tcp"): "internal",
        ("short", INTERNAL_IP, 7103, 7002, "tcp"): "internal",
        ("short", INTERNAL_IP, 7105, 7005, "udp"): "internal",
        ("short", INTERNAL_IP, None, 7000, "tcp"): "internal",
        ("short", "127.0.0.1", 7106, 7000, "tcp"): "loopback",
    }
    assert report["findings"] == []

    # From the internet every TCP port is refused, by the file and by what really runs.
    for args in ((str(hardened),), ("--from-docker",)):
        proc = cli("probe", PUBLIC_IP, *args, "--format", "json", "--timeout", "2",
                   namespace=lab.internet, env=node.engine.env())
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        results = probe_rows(json.loads(proc.stdout))
        assert results[(7105, "udp")] == "not-provable"
        tcp = {k: v for k, v in results.items() if k[1] == "tcp" and k[0] is not None}
        assert tcp == {(p, "tcp"): "refused" for p in (7101, 7102, 7103, 7104, 7106)}
        expected_picked = "not-provable" if args != ("--from-docker",) else "refused"
        assert results[(None, "tcp")] == expected_picked

    # From the internal network every TCP binding answers: a real echo round trip.
    internal_ports = sorted(
        b["host_port"] for c in report["containers"] for b in c["bindings"]
        if b["host_ip"] == INTERNAL_IP and b["protocol"] == "tcp"
    )
    assert len(internal_ports) == 5
    for port in internal_ports:
        assert wait_for_echo(lab.servicenet, INTERNAL_IP, port, PAYLOAD) == PAYLOAD, port
    assert tcp_probe(lab.servicenet, INTERNAL_IP, 7106) == "refused"
    inside = cli("probe", INTERNAL_IP, "--from-docker", "--format", "json",
                 namespace=lab.servicenet, env=node.engine.env())
    assert inside.returncode == 1
    assert json.loads(inside.stdout)["summary"]["open"] == 5

    # The hardened file matches what runs; the original one has drifted from it.
    code, same = audit(node, "--project", PROJECT, "--file", str(hardened))
    assert (code, same["drift"]) == (0, [])
    # Without --project, the containers are the ones compose labelled with the file's path.
    code, same = audit(node, "--file", str(hardened))
    assert (code, same["drift"]) == (0, [])
    code, drifted = audit(node, "--project", PROJECT, "--file", str(original))
    assert code == 1
    kinds = sorted({(d["kind"], d["subject"]) for d in drifted["drift"]})
    assert kinds == [("missing", "service long"), ("missing", "service short"),
                     ("undeclared", f"container {PROJECT}-long-1"),
                     ("undeclared", f"container {PROJECT}-short-1")]
    missing = [d for d in drifted["drift"] if d["kind"] == "missing"]
    assert all(d["location"].startswith(f"{original}:") for d in missing)


def test_host_network_is_flagged(node: Node, deploy: Callable[..., Path]) -> None:
    lab = node.lab
    path = deploy("hostnet", HOST_NETWORK)
    assert wait_for_echo(lab.internet, PUBLIC_IP, 7200, PAYLOAD) == PAYLOAD

    check = cli("check", "--no-config", "--format", "json", str(path))
    assert check.returncode == 1, check.stderr
    found = [(f["name"], f["service"], f["line"]) for f in json.loads(check.stdout)["findings"]]
    assert found == [("host-network", "hostnet", 4)]

    code, report = audit(node, "--project", PROJECT)
    assert code == 1
    (container,) = [c for c in report["containers"] if c["project"] == PROJECT]
    assert (container["service"], container["verdict"], container["bindings"]) == (
        "hostnet", "host-network", [])
    assert [f["kind"] for f in report["findings"]] == ["host-network"]

    proc = cli("probe", PUBLIC_IP, "--from-docker", "--format", "json",
               namespace=lab.internet, env=node.engine.env())
    assert proc.returncode == 0
    assert probe_rows(json.loads(proc.stdout)) == {(None, "tcp"): "not-provable"}


@pytest.mark.parametrize(
    "how",
    [
        pytest.param("DOCKER_CONTEXT", id="docker-context-variable"),
        pytest.param("current-context", id="docker-context-use"),
    ],
)
def test_audit_follows_docker_contexts(
    node: Node, deploy: Callable[..., Path], tmp_path: Path, how: str
) -> None:
    deploy("original", ORIGINAL)
    config = tmp_path / "docker-config"
    config.mkdir()  # no config.json: `docker context use` writes one, DOCKER_CONTEXT needs none
    env = {k: v for k, v in node.engine.env().items() if k != "DOCKER_HOST"}
    env["DOCKER_CONFIG"] = str(config)
    run(["docker", "context", "create", "labnode", "--docker", f"host={node.docker_host}"],
        env=env)
    if how == "DOCKER_CONTEXT":
        env["DOCKER_CONTEXT"] = "labnode"
    else:
        run(["docker", "context", "use", "labnode"], env=env)
    code, report = audit(node, "--project", PROJECT, env=env)
    assert code == 1
    assert report["engine"]["host"] == node.docker_host
    assert report["engine"]["name"] == "node"
    assert {c["service"] for c in report["containers"]} == {"short", "long"}


def test_swarm_services_and_their_tasks(node: Node) -> None:
    node.docker("swarm", "init", "--advertise-addr", INTERNAL_IP)
    echo = ["nc", "-ll", "-p", "7000", "-e", "/bin/cat"]
    node.docker("service", "create", "--detach", "--no-resolve-image", "--name", "mesh",
                "--label", f"com.docker.stack.namespace={PROJECT}",
                "--container-label", f"com.docker.stack.namespace={PROJECT}",
                "--publish", "published=7301,target=7000", BUSYBOX_IMAGE, *echo)
    node.docker("service", "create", "--detach", "--no-resolve-image", "--name", "hostmode",
                "--label", f"com.docker.stack.namespace={PROJECT}",
                "--container-label", f"com.docker.stack.namespace={PROJECT}",
                "--publish", "mode=host,published=7302,target=7000", BUSYBOX_IMAGE, *echo)
    assert wait_for_echo(node.lab.internet, PUBLIC_IP, 7302, PAYLOAD, timeout=60) == PAYLOAD

    code, report = audit(node, "--project", PROJECT)
    assert code == 1
    assert report["engine"]["swarm"] == "manager"
    services = {s["name"]: [(p["binding"], p["verdict"]) for p in s["ports"]]
                for s in report["services"]}
    assert services == {
        "hostmode": [("*:7302->7000/tcp (host)", "per-node")],
        "mesh": [("*:7301->7000/tcp (ingress)", "all-interfaces")],
    }
    # The host-mode task runs here: its container shows where the node really bound it.
    tasks = {c["service"]: c for c in report["containers"]}
    assert [(b["host_ip"], b["host_port"], b["verdict"]) for b in tasks["hostmode"]["bindings"]
            if ":" not in b["host_ip"]] == [("0.0.0.0", 7302, "all-interfaces")]
    kinds = sorted((f["kind"], f["subject"]) for f in report["findings"])
    assert ("exposed", "service mesh") in kinds
    assert ("per-node", "service hostmode") in kinds
    assert ("exposed", "container " + tasks["hostmode"]["name"]) in kinds
