"""Per-node addresses from a real Docker swarm: `nodes --resolve docker`, harden, inventories.

Three dockerds, each in its own network namespace with a public (203.0.113.0/24) and an
internal (10.176.0.0/16) interface, form a swarm over the internal network (tests/harness).
A fourth node, n4, runs a plain engine that is in no swarm. compose-net talks to the engines
through their sockets, as the docker CLI would; the hardened files are read back with the real
compose binary. Nothing is sent to any address: these tests only read the engines' state.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import (
    BUSYBOX_IMAGE,
    Lab,
    Node,
    Swarm,
    build_swarm,
    busybox_image,
    netns_unavailable_reason,
    require,
)

from compose_net import schema, yamltree

pytestmark = [pytest.mark.docker, pytest.mark.netns, pytest.mark.compose, pytest.mark.slow]

INTERNAL = {"n1": "10.176.0.11", "n2": "10.176.0.12", "n3": "10.176.0.13"}
PUBLIC = {"n1": "203.0.113.11", "n2": "203.0.113.12", "n3": "203.0.113.13"}


@dataclass
class Cluster:
    swarm: Swarm
    plain: Node

    @property
    def manager(self) -> Node:
        return self.swarm.manager

    def node_id(self, name: str) -> str:
        return next(m.id for m in self.swarm.members() if m.hostname == name)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    reason = netns_unavailable_reason()
    require(reason is None, reason or "")
    with Lab() as lab:
        swarm = build_swarm(lab)
        plain = lab.add_node("n4", "203.0.113.14", "10.176.0.14")
        plain.start_dockerd()
        busybox_image(plain.docker_host)
        yield Cluster(swarm, plain)


def cli(
    *args: str, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def nodes_json(env: Mapping[str, str], *extra: str) -> list[dict[str, Any]]:
    proc = cli("nodes", "--resolve", "docker", "--format", "json", *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    nodes: list[dict[str, Any]] = json.loads(proc.stdout)["nodes"]
    return nodes


def compose_ports(compose_bin: str, path: Path) -> dict[str, list[tuple[str | None, str]]]:
    """What the real compose binary reads: service -> [(host_ip, published)]."""
    out = subprocess.run(
        [compose_bin, "-f", str(path), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    services = json.loads(out.stdout)["services"]
    return {
        name: [(p.get("host_ip"), p.get("published")) for p in svc.get("ports", [])]
        for name, svc in services.items()
    }


# --------------------------------------------------------------------------- the node table


def test_nodes_lists_the_internal_addresses(cluster: Cluster) -> None:
    nodes = nodes_json(cluster.manager.engine.env())
    members = {m.hostname: m for m in cluster.swarm.members()}
    assert [
        (n["name"], n["id"], n["role"], n["service"], n["public"], n["labels"], n["source"])
        for n in nodes
    ] == [
        (
            name,
            members[name].id,
            "manager" if name == "n1" else "worker",
            {"ipv4": INTERNAL[name], "ipv6": None},
            {"ipv4": None, "ipv6": None},
            {"name": name},
            "advertised address",
        )
        for name in ("n1", "n2", "n3")
    ]


def test_nodes_text_table(cluster: Cluster) -> None:
    proc = cli("nodes", "--resolve", "docker", env=cluster.manager.engine.env())
    assert proc.returncode == 0, proc.stderr
    ids = {name: cluster.node_id(name)[:12] for name in INTERNAL}
    assert proc.stdout.splitlines() == [
        "NAME  ID            ROLE     SERVICE      PUBLIC  LABELS",
        *(
            f"{n}    {ids[n]}  {'manager' if n == 'n1' else 'worker '}  {INTERNAL[n]}  -       "
            f"name={n}"
            for n in ("n1", "n2", "n3")
        ),
    ]


@pytest.mark.parametrize("how", ("current-context", "DOCKER_CONTEXT"))
def test_docker_context_is_honoured(cluster: Cluster, tmp_path: Path, how: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    subprocess.run(
        [
            "docker",
            "context",
            "create",
            "cn-swarm",
            "--docker",
            f"host={cluster.manager.docker_host}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    if how == "current-context":
        subprocess.run(
            ["docker", "context", "use", "cn-swarm"],
            env=env,
            capture_output=True,
            timeout=60,
            check=True,
        )
    else:
        env["DOCKER_CONTEXT"] = "cn-swarm"
    assert [n["service"]["ipv4"] for n in nodes_json(env)] == list(INTERNAL.values())


def test_missing_docker_context_is_one_error_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_CONFIG"] = str(tmp_path)
    env["DOCKER_CONTEXT"] = "nowhere"
    proc = cli("nodes", "--resolve", "docker", env=env)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "compose-net: error: docker context 'nowhere' does not exist\n"


# --------------------------------------------------------------------------- harden per node

PINNED = """\
services:
  web:
    image: nginx
    ports: ["8080:80"]
    deploy:
      placement:
        constraints: ["node.hostname == n1"]
  db:
    image: postgres
    ports: ["5432:5432"]
    deploy: {placement: {constraints: [node.labels.name == n2]}}
  cache:
    image: redis
    ports: ["6379:6379"]
    x-compose-net: {node: n3}
  worker:
    image: worker
    ports: ["9000:9000"]
    environment: ["constraint:node==n2"]
  byid:
    image: app
    ports: ["7000:7000"]
    deploy: {placement: {constraints: ["node.id == {n3_id}"]}}
  admin:
    image: app
    ports: ["9090:9090"]
    deploy: {placement: {constraints: [node.role == manager]}}
  cache2:
    image: redis
    ports: ["6379:6379"]
    x-compose-net: {node: n3}
"""
PINNED_PORTS = {
    "web": [(INTERNAL["n1"], "8080")],
    "db": [(INTERNAL["n2"], "5432")],
    "cache": [(INTERNAL["n3"], "6379")],
    "worker": [(INTERNAL["n2"], "9000")],
    "byid": [(INTERNAL["n3"], "7000")],
    "admin": [(INTERNAL["n1"], "9090")],
    "cache2": [(INTERNAL["n3"], "6378")],
}


def pinned_file(cluster: Cluster, tmp_path: Path) -> Path:
    path = tmp_path / "compose.yaml"
    path.write_text(PINNED.replace("{n3_id}", cluster.node_id("n3")))
    return path


def only_swarm_left(proc: subprocess.CompletedProcess[str]) -> bool:
    """harden --target compose on a file that places services with ``deploy.placement``
    (``--target auto`` takes it for a stack and unpublishes its ports instead): every port is
    bound, and what remains is the swarm-published warning (CN005) check gives such a file."""
    left = [line for line in proc.stderr.splitlines() if "; not fixed: " in line]
    return proc.returncode == 1 and bool(left) and all(": warning: CN005 " in x for x in left)


def test_each_service_is_bound_to_its_own_node(
    cluster: Cluster, tmp_path: Path, compose_bin: str
) -> None:
    path = pinned_file(cluster, tmp_path)
    proc = cli(
        "harden",
        "--no-config",
        "--target",
        "compose",
        "--resolve",
        "docker",
        "--remap-conflicts",
        str(path),
        env=cluster.manager.engine.env(),
    )
    assert only_swarm_left(proc), proc.stderr
    moved = "services.cache2.ports[0] publishes 6379/tcp on 10.176.0.13, which services.cache"
    assert moved in proc.stderr
    assert compose_ports(compose_bin, path) == PINNED_PORTS


def test_unpinned_service_is_an_error_naming_it(cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    text = "services:\n  api:\n    image: app\n    ports: ['80:80']\n"
    path.write_text(text)
    proc = cli(
        "harden", "--no-config", "--resolve", "docker", str(path), env=cluster.manager.engine.env()
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        f"compose-net: error: {path}:2:3: services.api: cannot tell which node it runs on "
        "(3 nodes: n1, n2, n3); "
        'pin it with deploy.placement.constraints ("node.hostname == NAME")'
    )
    assert path.read_text() == text


@pytest.mark.parametrize(
    ("label", "service", "error"),
    (
        pytest.param("10.176.1.12", {"ipv4": "10.176.1.12", "ipv6": None}, None, id="override"),
        pytest.param(
            "10.176.1",
            {"ipv4": INTERNAL["n2"], "ipv6": None},
            "label compose-net.service-ipv4='10.176.1' is not an IPv4 address",
            id="invalid-label-is-never-ignored",
        ),
    ),
)
def test_label_overrides_the_advertised_address(
    cluster: Cluster,
    tmp_path: Path,
    compose_bin: str,
    label: str,
    service: dict[str, str | None],
    error: str | None,
) -> None:
    n2 = cluster.node_id("n2")
    env = cluster.manager.engine.env()
    cluster.manager.docker("node", "update", "--label-add", f"compose-net.service-ipv4={label}", n2)
    try:
        nodes = {n["name"]: n for n in nodes_json(env)}
        assert nodes["n2"]["service"] == service
        assert nodes["n2"].get("problem") == error
        path = pinned_file(cluster, tmp_path)
        proc = cli(
            "harden", "--no-config", "--target", "compose", "--resolve", "docker",
            "--remap-conflicts", str(path), env=env,
        )
    finally:
        cluster.manager.docker("node", "update", "--label-rm", "compose-net.service-ipv4", n2)
    if error is None:
        assert only_swarm_left(proc), proc.stderr
        moved = {
            k: [(label, p) for _, p in v] if k in ("db", "worker") else v
            for k, v in PINNED_PORTS.items()
        }
        assert compose_ports(compose_bin, path) == moved
    else:
        assert proc.returncode == 2
        assert (
            f"services.db runs on node n2 (node.labels.name == n2), which has no internal "
            f"address to bind to: {error}" in proc.stderr
        )


# --------------------------------------------------------------------------- inventories


def test_exported_inventory_is_valid_and_lints_in_ci(cluster: Cluster, tmp_path: Path) -> None:
    env = cluster.manager.engine.env()
    proc = cli("nodes", "--resolve", "docker", "--format", "yaml", env=env)
    assert proc.returncode == 0, proc.stderr
    inventory = tmp_path / "nodes.yaml"
    inventory.write_text(proc.stdout)
    data = yamltree.to_plain(yamltree.compose(proc.stdout, str(inventory)))
    assert schema.validate(data, target="inventory") == []

    # The committed table is the table the engine gives, without an engine.
    offline = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    offline["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    from_file = cli("nodes", "--inventory", str(inventory), "--format", "json", env=offline)
    assert from_file.returncode == 0, from_file.stderr

    def strip(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in n.items() if k != "source"} for n in nodes]

    assert strip(json.loads(from_file.stdout)["nodes"]) == strip(nodes_json(env))

    # harden from the file gives the same text as harden from the engine
    (tmp_path / "live").mkdir()
    (tmp_path / "ci").mkdir()
    live = pinned_file(cluster, tmp_path / "live")
    committed = pinned_file(cluster, tmp_path / "ci")
    assert only_swarm_left(
        cli("harden", "--no-config", "--target", "compose", "--resolve", "docker",
            "--remap-conflicts", str(live), env=env)
    )
    assert only_swarm_left(
        cli(
            "harden",
            "--no-config",
            "--target",
            "compose",
            "--inventory",
            str(inventory),
            "--remap-conflicts",
            str(committed),
            env=offline,
        )
    )
    assert committed.read_text() == live.read_text()

    # check --inventory: a port bound to another node's address is flagged, its own is not
    clean = cli(
        "check",
        "--no-config",
        "--target",
        "compose",
        "--inventory",
        str(inventory),
        "--select",
        "CN007",
        str(committed),
        env=offline,
    )
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stderr
    wrong = committed.read_text().replace('"10.176.0.13:6379:6379"', '"10.176.0.11:6379:6379"')
    committed.write_text(wrong)
    flagged = cli(
        "check",
        "--no-config",
        "--target",
        "compose",
        "--inventory",
        str(inventory),
        "--select",
        "CN007",
        str(committed),
        env=offline,
    )
    assert flagged.returncode == 1
    assert flagged.stdout.splitlines() == [
        f'{committed}:14:13: error CN007 [*] services.cache.ports[0] "10.176.0.11:6379:6379" '
        "is bound to 10.176.0.11, which is not an address of the node that runs cache (10.176.0.13)"
    ]


# --------------------------------------------------------------------------- plain engines


@pytest.mark.parametrize(
    ("engine", "expected"),
    (
        pytest.param("n4", ("n4", None, None, "10.176.0.14", "203.0.113.14"), id="plain-engine"),
        pytest.param("n2", ("n2", "worker", "n2", INTERNAL["n2"], PUBLIC["n2"]), id="swarm-worker"),
    ),
)
def test_host_network_probe(
    cluster: Cluster,
    tmp_path: Path,
    compose_bin: str,
    engine: str,
    expected: tuple[str, str | None, str | None, str, str],
) -> None:
    node = cluster.plain if engine == "n4" else cluster.swarm.nodes[engine]
    env = node.engine.env()
    (found,) = nodes_json(env, "--docker-image", BUSYBOX_IMAGE)
    name, role, id_of, service, public = expected
    assert (
        found["name"],
        found["role"],
        found["id"],
        found["service"],
        found["public"],
        found["source"],
    ) == (
        name,
        role,
        cluster.node_id(id_of) if id_of else None,
        {"ipv4": service, "ipv6": None},
        {"ipv4": public, "ipv6": None},
        f"host probe ({BUSYBOX_IMAGE})",
    )
    assert node.docker("ps", "-aq").stdout == ""  # the probe container is gone

    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  api:\n    image: app\n    ports: ['8080:80']\n")
    proc = cli(
        "harden",
        "--no-config",
        "--resolve",
        "docker",
        "--docker-image",
        BUSYBOX_IMAGE,
        str(path),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert compose_ports(compose_bin, path) == {"api": [(service, "8080")]}


@pytest.mark.parametrize(
    ("extra", "code", "output"),
    (
        pytest.param(
            [],
            2,
            "compose-net: error: several internal (service) IPv4 addresses on "
            "the engine host 'n4' (the Docker engine at unix://",
            id="ambiguous",
        ),
        pytest.param(["--cidr", "10.177.0.0/16"], 0, '"ipv4": "10.177.0.14"', id="cidr"),
        pytest.param(
            ["--interface", "internal", "--cidr", "10.176.0.0/16"],
            0,
            '"ipv4": "10.176.0.14"',
            id="interface-and-cidr",
        ),
    ),
)
def test_probe_with_two_internal_addresses(
    cluster: Cluster, extra: list[str], code: int, output: str
) -> None:
    node = cluster.plain
    node.ip("addr", "add", "10.177.0.14/16", "dev", "internal")
    try:
        proc = cli(
            "nodes",
            "--resolve",
            "docker",
            "--docker-image",
            BUSYBOX_IMAGE,
            "--format",
            "json",
            *extra,
            env=node.engine.env(),
        )
    finally:
        node.ip("addr", "del", "10.177.0.14/16", "dev", "internal")
    assert proc.returncode == code
    assert output in (proc.stdout if code == 0 else proc.stderr)


# --------------------------------------------------------------------------- a public-only node


@pytest.fixture
def public_swarm(make_lab: Callable[..., Lab]) -> Swarm:
    """A swarm formed over the public network: the manager sees both nodes at public addresses.

    (A worker's address in the node list is where the manager sees it connect from, so a node
    is public-only when it reaches the managers over the public network.)
    """
    lab = make_lab()
    n1 = lab.add_node("n1", "203.0.113.21", "10.176.0.21")
    n2 = lab.add_node("n2", "203.0.113.22", "10.176.0.22")
    lab.start_dockerds([n1, n2])
    n1.docker("swarm", "init", "--advertise-addr", n1.public_ip)
    token = n1.docker("swarm", "join-token", "-q", "worker").stdout.strip()
    n2.docker(
        "swarm", "join", "--token", token, "--advertise-addr", n2.public_ip, f"{n1.public_ip}:2377"
    )
    swarm = Swarm(lab, {"n1": n1, "n2": n2})
    swarm.wait_ready()
    return swarm


def test_public_only_node_is_refused_until_labelled(
    public_swarm: Swarm, tmp_path: Path, compose_bin: str
) -> None:
    env = public_swarm.manager.engine.env()
    nodes = {n["name"]: n for n in nodes_json(env)}

    def hint(name: str, address: str) -> str:
        return (
            f"its advertised address {address} is public; give its internal address with "
            f"`docker node update --label-add compose-net.service-ipv4=ADDRESS {name}`"
        )

    assert [(n["name"], n["service"], n["public"], n["problem"]) for n in nodes.values()] == [
        (
            "n1",
            {"ipv4": None, "ipv6": None},
            {"ipv4": "203.0.113.21", "ipv6": None},
            hint("n1", "203.0.113.21"),
        ),
        (
            "n2",
            {"ipv4": None, "ipv6": None},
            {"ipv4": "203.0.113.22", "ipv6": None},
            hint("n2", "203.0.113.22"),
        ),
    ]
    listing = cli("nodes", "--resolve", "docker", env=env)
    assert listing.stderr == (
        f"node n1: warning: {hint('n1', '203.0.113.21')}\n"
        f"node n2: warning: {hint('n2', '203.0.113.22')}\n"
    )

    path = tmp_path / "compose.yaml"
    text = (
        "services:\n  api:\n    image: app\n    ports: ['8080:80']\n"
        "    deploy: {placement: {constraints: [node.hostname == n2]}}\n"
    )
    path.write_text(text)
    refused = cli("harden", "--no-config", "--target", "compose", "--resolve", "docker", str(path),
                   env=env)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"compose-net: error: {path}:2:3: services.api runs on node n2 (node.hostname == n2), "
        f"which has no internal address to bind to: {hint('n2', '203.0.113.22')}\n"
    )
    assert path.read_text() == text

    n2_id = next(m.id for m in public_swarm.members() if m.hostname == "n2")
    public_swarm.docker(
        "node", "update", "--label-add", "compose-net.service-ipv4=10.176.0.22", n2_id
    )
    labelled = {n["name"]: n for n in nodes_json(env)}
    assert (labelled["n2"]["service"], labelled["n2"]["public"], labelled["n2"]["source"]) == (
        {"ipv4": "10.176.0.22", "ipv6": None},
        {"ipv4": "203.0.113.22", "ipv6": None},
        "label compose-net.service-ipv4",
    )
    accepted = cli("harden", "--no-config", "--target", "compose", "--resolve", "docker", str(path),
                   env=env)
    assert only_swarm_left(accepted), accepted.stderr
    assert compose_ports(compose_bin, path) == {"api": [("10.176.0.22", "8080")]}


# --------------------------------------------------------------------------- TLS endpoints


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=60, check=True)


def make_certs(folder: Path, name: str) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, in ``folder/name``."""
    d = folder / name
    d.mkdir()
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        f"/CN={name}-ca",
        cwd=d,
    )
    for who in ("server", "client"):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{who}-key.pem",
            "-out",
            f"{who}.csr",
            "-subj",
            f"/CN={who}",
            cwd=d,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{who}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            f"{who}-cert.pem",
            "-days",
            "1",
            "-extfile",
            f"{who}.ext",
            cwd=d,
        )
    # the layout DOCKER_CERT_PATH expects
    (d / "cert.pem").write_bytes((d / "client-cert.pem").read_bytes())
    (d / "key.pem").write_bytes((d / "client-key.pem").read_bytes())
    return d


@pytest.fixture
def tls_engine(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """n4's engine behind a TLS endpoint on loopback that demands a client certificate."""
    import socket
    import ssl
    import threading

    require(shutil.which("openssl") is not None, "openssl is not installed")
    certs = make_certs(tmp_path, "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs / "ca.pem"))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(certs / "server-cert.pem", certs / "server-key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)  # so serve() sees stop
    port = listener.getsockname()[1]
    engine = cluster.plain.docker_host.removeprefix("unix://")
    stop = threading.Event()

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                client = context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                raw.close()
                continue
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(engine)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{port}", certs
    stop.set()
    listener.close()
    thread.join(timeout=10)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    return env


@pytest.mark.parametrize(
    ("how", "code"),
    (
        pytest.param("tls-verify", 0, id="DOCKER_TLS_VERIFY-and-DOCKER_CERT_PATH"),
        pytest.param("context", 0, id="context-with-tls-material"),
        pytest.param("wrong-ca", 2, id="server-not-trusted"),
        pytest.param("no-tls", 2, id="plain-http-to-a-tls-endpoint"),
    ),
)
def test_tls_endpoints(tls_engine: tuple[str, Path], tmp_path: Path, how: str, code: int) -> None:
    host, certs = tls_engine
    env = _clean_env(tmp_path)
    if how in ("tls-verify", "wrong-ca"):
        path = certs if how == "tls-verify" else make_certs(tmp_path, "other")
        env.update(DOCKER_HOST=host, DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(path))
    elif how == "context":
        subprocess.run(
            [
                "docker",
                "context",
                "create",
                "cn-tls",
                "--docker",
                f"host={host},ca={certs / 'ca.pem'},cert={certs / 'cert.pem'},"
                f"key={certs / 'key.pem'}",
            ],
            env=env,
            capture_output=True,
            timeout=60,
            check=True,
        )
        env["DOCKER_CONTEXT"] = "cn-tls"
    else:
        env["DOCKER_HOST"] = host
    proc = cli(
        "nodes", "--resolve", "docker", "--docker-image", BUSYBOX_IMAGE, "--format", "json", env=env
    )
    assert proc.returncode == code, proc.stderr
    if code == 0:
        assert [n["service"]["ipv4"] for n in json.loads(proc.stdout)["nodes"]] == ["10.176.0.14"]
    else:
        assert proc.stderr.startswith("compose-net: error: cannot reach the Docker engine")
        assert proc.stderr.count("\n") == 1
