"""The whole fleet at once: node engines in the inventory, and ``audit --nodes``.

The engines here are stand-ins on unix sockets (tests/harness/fakeengine.py) that answer the
calls a real engine answers, in its shapes; tests/e2e/fleet_e2e_test.py runs the same
commands against real dockerds (a three-node swarm, TLS).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from harness import Lab, Namespace, tcp_probe, wait_until
from harness.fakeengine import FakeEngine, FakeFleet, container, service

from compose_net.cli import main
from compose_net.errors import ComposeNetError
from compose_net.live import fleet
from compose_net.resolvers import docker, inventory
from compose_net.resolvers.inventory import Engine, Inventory, Node


def write(tmp_path: Path, text: str, name: str = "nodes.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def node_yaml(body: str) -> str:
    return "nodes:\n  n1:\n    service: {ipv4: 10.0.0.1}\n" + body


# --------------------------------------------------------------------------- inventory fields


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("", None, id="none"),
        pytest.param(
            "    engine: tcp://10.0.0.1:2375\n",
            {"host": "tcp://10.0.0.1:2375", "describe": "tcp://10.0.0.1:2375"},
            id="tcp",
        ),
        pytest.param(
            "    engine: unix:///run/n1.sock\n",
            {"host": "unix:///run/n1.sock", "describe": "unix:///run/n1.sock"},
            id="unix",
        ),
        pytest.param(
            "    engine: tcp://10.0.0.1:2376\n    tls: {ca: ca.pem, cert: c.pem, key: k.pem}\n",
            {"tls_ca": "ca.pem", "tls_cert": "c.pem", "tls_key": "k.pem", "tls": True},
            id="tls-files",
        ),
        pytest.param(
            "    engine: tcp://10.0.0.1:2376\n    tls-verify: true\n    cert-path: certs/n1\n",
            {"tls_verify": True, "cert_path": "certs/n1", "tls": True},
            id="tls-verify-cert-path",
        ),
        pytest.param(
            "    context: prod-n1\n", {"context": "prod-n1", "describe": "context prod-n1"},
            id="context",
        ),
        pytest.param(
            "    env-file: n1/docker.env\n",
            {"env_file": "n1/docker.env", "describe": "env-file n1/docker.env", "tls": False},
            id="env-file",
        ),
    ],
)
def test_engine_fields(tmp_path: Path, body: str, expected: dict[str, Any] | None) -> None:
    node = inventory.load(str(write(tmp_path, node_yaml(body)))).nodes[0]
    if expected is None:
        assert node.engine is None
        return
    assert node.engine is not None
    for key, value in expected.items():
        got = node.engine.describe() if key == "describe" else getattr(node.engine, key)
        assert got == value, key
    assert node.engine.base == str(tmp_path)
    assert node.as_json()["engine"] == node.engine.describe()


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        pytest.param(
            "    engine: 10.0.0.1:2376\n", (4, 13), "nodes.n1.engine: expected an engine address",
            id="engine-without-scheme",
        ),
        pytest.param(
            "    engine: tcp://10.0.0.1:2376\n    context: x\n", (5, 14),
            "nodes.n1: give one of engine, context and env-file, not engine and context",
            id="engine-and-context",
        ),
        pytest.param(
            "    context: x\n    env-file: d.env\n", (5, 15),
            "not context and env-file", id="context-and-env-file",
        ),
        pytest.param(
            "    tls-verify: true\n", (4, 17),
            "nodes.n1.tls-verify: TLS settings go with engine", id="tls-without-engine",
        ),
        pytest.param(
            "    context: x\n    cert-path: c\n", (5, 16),
            "nodes.n1.cert-path: TLS settings go with engine", id="cert-path-with-context",
        ),
        pytest.param(
            "    engine: unix:///run/d.sock\n    tls: {ca: ca.pem}\n", (5, 10),
            "nodes.n1.tls: TLS needs a tcp:// or https:// engine", id="tls-on-unix",
        ),
        pytest.param(
            "    engine: tcp://h:2376\n    tls: {cert: c.pem}\n", (5, 10),
            "nodes.n1.tls: key is missing", id="cert-without-key",
        ),
        pytest.param(
            "    engine: tcp://h:2376\n    tls: {ca: a}\n    cert-path: c\n", (6, 16),
            "give tls or cert-path, not both", id="tls-and-cert-path",
        ),
        pytest.param(
            "    engine: tcp://h:2376\n    tls: {ca: a, cafile: b}\n", (5, 26),
            "nodes.n1.tls.cafile: unknown key", id="unknown-tls-key",
        ),
        pytest.param(
            "    context: ''\n", (4, 14), "nodes.n1.context", id="empty-context",
        ),
        pytest.param(
            "    tls-verify: yes please\n", (4, 17), "nodes.n1.tls-verify: must be a boolean",
            id="tls-verify-not-boolean",
        ),
    ],
)
def test_engine_fields_refused(
    tmp_path: Path, body: str, where: tuple[int, int], message: str
) -> None:
    path = write(tmp_path, node_yaml(body))
    with pytest.raises(ComposeNetError) as info:
        inventory.load(str(path))
    assert message in info.value.message
    assert (info.value.path, info.value.line, info.value.column) == (str(path), *where)


def test_engines_round_trip_through_render_yaml(tmp_path: Path) -> None:
    text = node_yaml(
        "    engine: tcp://10.0.0.1:2376\n    tls: {ca: ca.pem, cert: c.pem, key: k.pem, "
        "verify: false}\n"
        "  n2:\n    service: {ipv4: 10.0.0.2}\n    engine: tcp://10.0.0.2:2376\n"
        "    tls-verify: true\n    cert-path: certs/n2\n"
        "  n3:\n    service: {ipv4: 10.0.0.3}\n    context: n3\n"
        "  n4:\n    service: {ipv4: 10.0.0.4}\n    env-file: n4.env\n"
        "  n5:\n    service: {ipv4: 10.0.0.5}\n"
    )
    first = inventory.load(str(write(tmp_path, text)))
    rendered = inventory.render_yaml(first)
    assert rendered.endswith(f"    # {inventory.ENGINE_HINT}\n")
    again = inventory.load(str(write(tmp_path, rendered, "again.yaml")))
    assert [replace(n.engine, origin=None) if n.engine else None for n in again.nodes] == [
        replace(n.engine, origin=None) if n.engine else None for n in first.nodes
    ]
    assert again.nodes[0].engine is not None and again.nodes[0].engine.tls_verify_ca is False


def test_nodes_format_yaml_writes_the_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, node_yaml("    context: prod\n"))
    assert main(["nodes", "--inventory", str(path), "--format", "yaml"]) == 0
    out = capsys.readouterr().out
    assert '    context: "prod"\n' in out
    assert inventory.load(str(write(tmp_path, out, "out.yaml"))).nodes[0].engine == Engine(
        context="prod", base=str(tmp_path), origin=str(tmp_path / "out.yaml")
    )


@pytest.mark.parametrize(
    ("environ", "table", "expected"),
    [
        pytest.param(
            {"DOCKER_HOST": "tcp://10.0.0.9:2376", "DOCKER_TLS_VERIFY": "1",
             "DOCKER_CERT_PATH": "/certs"},
            Inventory((Node("n1", id="ID1"), Node("n2", id="ID2"))),
            {"n1": Engine(host="tcp://10.0.0.9:2376", tls_verify=True, cert_path="/certs"),
             "n2": None},
            id="swarm-manager-by-id",
        ),
        pytest.param(
            {"DOCKER_CONTEXT": "prod"},
            Inventory((Node("solo"),)),
            {"solo": Engine(context="prod")},
            id="plain-engine-context",
        ),
        pytest.param(
            {},
            Inventory((Node("solo"),)),
            {"solo": Engine(host="unix:///var/run/docker.sock")},
            id="default-socket",
        ),
    ],
)
def test_the_engine_a_table_was_read_through_is_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environ: dict[str, str], table: Inventory,
    expected: dict[str, Engine | None],
) -> None:
    for name in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    out = docker.with_engine(table, "ID1", docker.current_engine())
    assert {n.name: n.engine for n in out.nodes} == expected


# --------------------------------------------------------------------------- engine targets


def make_context(config: Path, name: str, host: str, tls: bool = False) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps(
        {"Name": name, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}
    ))
    if tls:
        folder = config / "contexts" / "tls" / digest / "docker"
        folder.mkdir(parents=True)
        for pem in ("ca", "cert", "key"):
            (folder / f"{pem}.pem").write_text("x")


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    folder = tmp_path / "certs" / "n1"
    folder.mkdir(parents=True)
    for pem in ("ca", "cert", "key"):
        (folder / f"{pem}.pem").write_text("x")
    return folder


def target_of(tmp_path: Path, body: str) -> docker.Target:
    node = inventory.load(str(write(tmp_path, node_yaml(body)))).nodes[0]
    assert node.engine is not None
    return docker.engine_target(node.engine, node.name)


@pytest.mark.parametrize(
    ("body", "files", "expected"),
    [
        pytest.param("    engine: tcp://10.0.0.1:2375\n", {}, ("tcp://10.0.0.1:2375",), id="tcp"),
        pytest.param(
            "    engine: tcp://10.0.0.1:2376\n"
            "    tls: {ca: certs/n1/ca.pem, cert: certs/n1/cert.pem, key: certs/n1/key.pem}\n",
            {}, ("tcp://10.0.0.1:2376", True, True, "{c}/ca.pem", "{c}/cert.pem", "{c}/key.pem"),
            id="tls-files-verify",
        ),
        pytest.param(
            "    engine: tcp://10.0.0.1:2376\n"
            "    tls: {cert: certs/n1/cert.pem, key: certs/n1/key.pem}\n",
            {}, ("tcp://10.0.0.1:2376", True, False, None, "{c}/cert.pem", "{c}/key.pem"),
            id="tls-files-no-ca",
        ),
        pytest.param(
            "    engine: tcp://10.0.0.1:2376\n    tls-verify: true\n    cert-path: certs/n1\n",
            {}, ("tcp://10.0.0.1:2376", True, True, "{c}/ca.pem", "{c}/cert.pem", "{c}/key.pem"),
            id="tls-verify-cert-path",
        ),
        pytest.param(
            "    env-file: docker.env\n",
            {"docker.env": "# from the provider\nexport DOCKER_HOST=tcp://10.0.0.1:2376\n"
                           "export DOCKER_TLS_VERIFY=1\nexport DOCKER_CERT_PATH=certs/n1\n"},
            ("tcp://10.0.0.1:2376", True, True, "{c}/ca.pem", "{c}/cert.pem", "{c}/key.pem"),
            id="env-file-tls",
        ),
        pytest.param(
            "    env-file: docker.env\n",
            {"docker.env": 'export DOCKER_HOST="unix:///run/n1.sock"\n'},
            ("unix:///run/n1.sock",), id="env-file-plain-quoted",
        ),
        pytest.param(
            "    context: n1\n", {}, ("ssh://admin@n1",), id="context",
        ),
        pytest.param(
            "    context: tls1\n", {},
            ("tcp://n1:2376", True, True, "{x}/ca.pem", "{x}/cert.pem", "{x}/key.pem"),
            id="context-tls",
        ),
    ],
)
def test_engine_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, certs: Path, body: str,
    files: dict[str, str], expected: tuple[Any, ...],
) -> None:
    config = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    make_context(config, "n1", "ssh://admin@n1")
    make_context(config, "tls1", "tcp://n1:2376", tls=True)
    tls_dir = config / "contexts" / "tls" / hashlib.sha256(b"tls1").hexdigest() / "docker"
    for name, text in files.items():
        write(tmp_path, text, name)
    want = tuple(
        v.format(c=certs, x=tls_dir) if isinstance(v, str) and "{" in v else v for v in expected
    )
    assert target_of(tmp_path, body) == docker.Target(*want)


@pytest.mark.parametrize(
    ("body", "files", "where", "message"),
    [
        pytest.param(
            "    engine: tcp://h:2376\n    tls: {ca: ca.pem, cert: nope.pem, key: k.pem}\n",
            {"ca.pem": "x", "k.pem": "x"}, (5, 29), "nodes.n1.tls.cert: {t}/nope.pem: no such file",
            id="missing-cert-file",
        ),
        pytest.param(
            "    engine: tcp://h:2376\n    tls: {ca: certs}\n", {"certs/x": "x"}, (5, 15),
            "nodes.n1.tls.ca: {t}/certs: not a regular file", id="ca-is-a-folder",
        ),
        pytest.param(
            "    engine: tcp://h:2376\n    tls-verify: true\n    cert-path: gone\n", {},
            (6, 16), "nodes.n1.cert-path: {t}/gone: no such folder", id="missing-cert-path",
        ),
        pytest.param(
            "    engine: tcp://h:2376\n    tls-verify: true\n    cert-path: partial\n",
            {"partial/cert.pem": "x", "partial/key.pem": "x"},
            (6, 16), "nodes.n1.cert-path: {t}/partial/ca.pem: no such file (needed to verify",
            id="cert-path-without-ca",
        ),
        pytest.param(
            "    engine: tcp://h:2376\n    tls: {cert: c.pem, key: k.pem, verify: true}\n",
            {"c.pem": "x", "k.pem": "x"}, (5, 10),
            "nodes.n1.tls: verify needs ca", id="verify-without-ca",
        ),
        pytest.param(
            "    context: nowhere\n", {}, (4, 14),
            "nodes.n1.context: docker context 'nowhere' does not exist", id="unknown-context",
        ),
        pytest.param(
            "    env-file: gone.env\n", {}, (4, 15),
            "nodes.n1.env-file: {t}/gone.env: cannot read env file: ", id="missing-env-file",
        ),
        pytest.param(
            "    env-file: fifo.env\n", {"fifo.env": None}, (4, 15),
            "nodes.n1.env-file: {t}/fifo.env: cannot read env file: a FIFO", id="env-file-fifo",
        ),
        pytest.param(
            "    env-file: d.env\n", {"d.env": "export DOCKER_TLS_VERIFY=1\n"}, (4, 15),
            "nodes.n1.env-file: {t}/d.env sets no DOCKER_HOST", id="env-file-without-host",
        ),
        pytest.param(
            "    env-file: d.env\n", {"d.env": "export DOCKER_CONTEXT=nowhere\n"}, (4, 15),
            "nodes.n1.env-file: docker context 'nowhere' does not exist",
            id="env-file-unknown-context",
        ),
        pytest.param(
            "    env-file: d.env\n", {"d.env": "export DOCKER_HOST='tcp://h\n"}, (4, 15),
            "nodes.n1.env-file: {t}/d.env:1", id="env-file-unparsable",
        ),
    ],
)
def test_engine_target_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: str, files: dict[str, str | None],
    where: tuple[int, int], message: str,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            os.mkfifo(tmp_path / name)
        else:
            write(tmp_path, text, name)
    with pytest.raises(ComposeNetError) as info:
        target_of(tmp_path, body)
    assert message.format(t=tmp_path) in info.value.message
    assert (info.value.path, info.value.line, info.value.column) == (
        str(tmp_path / "nodes.yaml"), *where
    )


def test_a_bad_engine_entry_is_one_line_exit_2_before_any_connection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeFleet(tmp_path) as fakes:
        engine = FakeEngine("good")
        good = fakes.add(engine)
        path = write(tmp_path, node_yaml(
            f"    engine: {good}\n  n2:\n    service: {{ipv4: 10.0.0.2}}\n"
            "    engine: tcp://h:2376\n    tls: {ca: missing.pem}\n"
        ))
        assert main(["audit", "--nodes", "--inventory", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"compose-net: error: {path}:8:15: nodes.n2.tls.ca: {tmp_path}/missing.pem: no such file\n"
    )
    assert engine.requests == []


# --------------------------------------------------------------------------- bounded, timed


@pytest.mark.parametrize(
    ("delays", "jobs", "timeout", "expected"),
    [
        pytest.param([0.0, 0.0, 0.0], 2, 1.0, [None, None, None], id="all-answer"),
        pytest.param([0.0, 5.0, 0.0], 3, 0.3, [None, "no answer within 0.3 s", None],
                     id="one-hangs"),
        pytest.param([0.0, "boom", 0.0], 1, 1.0, [None, "boom", None], id="one-fails"),
        pytest.param([0.0, "crash", 0.0], 1, 1.0, [None, "RuntimeError: crash", None],
                     id="unexpected-error-stays-with-its-node"),
    ],
)
def test_run_bounded(
    delays: list[float | str], jobs: int, timeout: float, expected: list[str | None]
) -> None:
    def task(delay: float | str) -> Callable[[], str]:
        def run() -> str:
            if delay == "boom":
                raise ComposeNetError("boom")
            if delay == "crash":
                raise RuntimeError("crash")
            assert isinstance(delay, float)
            time.sleep(delay)
            return "ok"
        return run

    start = time.monotonic()
    results = fleet.run_bounded([task(d) for d in delays], jobs=jobs, timeout=timeout)
    assert time.monotonic() - start < timeout + 1
    assert [r.error for r in results] == expected
    assert [r.value for r in results] == ["ok" if e is None else None for e in expected]


def test_run_bounded_keeps_to_jobs_and_costs_the_slowest_not_the_sum() -> None:
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def task() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.2)
        with lock:
            running[0] -= 1

    start = time.monotonic()
    fleet.run_bounded([task] * 12, jobs=4, timeout=5)
    elapsed = time.monotonic() - start
    assert running[1] == 4
    assert 0.6 <= elapsed < 1.5  # three rounds of four, not twelve one after another


@pytest.mark.parametrize(
    ("jobs", "timeout", "message"),
    [
        pytest.param(0, 1.0, "--jobs must be at least 1", id="no-jobs"),
        pytest.param(1, 0.0, "--node-timeout must be more than 0", id="no-time"),
    ],
)
def test_run_bounded_refuses(jobs: int, timeout: float, message: str) -> None:
    with pytest.raises(ComposeNetError, match=message):
        fleet.run_bounded([], jobs=jobs, timeout=timeout)


# --------------------------------------------------------------------------- audit --nodes


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[FakeFleet]:
    with FakeFleet(tmp_path) as made:
        yield made


def audit_nodes(
    capsys: pytest.CaptureFixture[str], path: Path, *args: str
) -> tuple[int, dict[str, Any]]:
    code = main(["audit", "--nodes", "--inventory", str(path), "--format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else {}


MANAGER = FakeEngine(
    "m1",
    [container("web", ("0.0.0.0", 8080, 80), ("10.0.0.1", 5432, 5432))],
    [service("st_api", (9000, 9000, "ingress")), service("st_echo", (6379, 6379, "host"))],
    swarm="manager", node_id="M1",
)
WORKER = FakeEngine(
    "w1", [container("st_echo.1", ("10.0.0.2", 6379, 6379)),
           container("pub", ("203.0.113.2", 443, 443))],
    swarm="worker", node_id="W1",
)
CLEAN = FakeEngine("c1", [container("db", ("10.0.0.3", 5432, 5432), ("127.0.0.1", 22, 22))])


def inventory_of(tmp_path: Path, engines: dict[str, str]) -> Path:
    lines = ["nodes:"]
    for i, (name, engine) in enumerate(engines.items(), start=1):
        lines += [f"  {name}:", f"    public: {{ipv4: 203.0.113.{i}}}",
                  f"    service: {{ipv4: 10.0.0.{i}}}"]
        if engine:
            lines.append(f"    engine: '{engine}'")
    return write(tmp_path, "\n".join(lines) + "\n")


def test_audit_nodes_json(
    tmp_path: Path, fakes: FakeFleet, capsys: pytest.CaptureFixture[str]
) -> None:
    path = inventory_of(tmp_path, {
        "m1": fakes.add(MANAGER), "w1": fakes.add(WORKER), "gone": "unix:///nonexistent.sock",
        "bare": "",
    })
    code, data = audit_nodes(capsys, path)
    assert code == 1
    assert data["summary"] == {"nodes": 4, "reachable": 2, "unreachable": 2, "exposed": 4}
    nodes = {n["name"]: n for n in data["nodes"]}
    assert [n["name"] for n in data["nodes"]] == ["m1", "w1", "gone", "bare"]
    assert set(nodes["m1"]) >= {"name", "engine", "reachable", "error", "addresses",
                                "containers", "services", "findings"}
    assert nodes["m1"]["addresses"] == {"public": {"ipv4": "203.0.113.1", "ipv6": None},
                                        "service": {"ipv4": "10.0.0.1", "ipv6": None}}
    verdicts = {
        name: sorted(b["verdict"] for c in n["containers"] for b in c["bindings"])
        for name, n in nodes.items()
    }
    assert verdicts == {"m1": ["all-interfaces", "internal"], "w1": ["internal", "public"],
                        "gone": [], "bare": []}
    messages = {
        name: sorted((f["kind"], f["subject"]) for f in n["findings"])
        for name, n in nodes.items()
    }
    assert messages == {
        "m1": [("exposed", "container web"), ("exposed", "service st_api")],
        "w1": [("exposed", "container pub"), ("exposed", "service st_api")],
        "gone": [("unreachable", "node gone")],
        "bare": [("unreachable", "node bare")],
    }
    assert [s["name"] for s in nodes["m1"]["services"]] == ["st_api", "st_echo"]
    assert nodes["gone"]["reachable"] is False
    assert "No such file or directory" in nodes["gone"]["error"]
    assert "give engine, context or env-file" in nodes["bare"]["error"]
    assert all(f["node"] for f in data["findings"]) and len(data["findings"]) == 6


@pytest.mark.parametrize(
    ("engines", "code"),
    [
        pytest.param({"c1": CLEAN}, 0, id="clean"),
        pytest.param({"c1": CLEAN, "w1": WORKER}, 1, id="one-exposed"),
        pytest.param({"c1": CLEAN, "gone": None}, 1, id="one-unreachable"),
        pytest.param({"gone": None, "gone2": None}, 2, id="none-reachable"),
    ],
)
def test_audit_nodes_exit_codes(
    tmp_path: Path, fakes: FakeFleet, capsys: pytest.CaptureFixture[str],
    engines: dict[str, FakeEngine | None], code: int,
) -> None:
    path = inventory_of(tmp_path, {
        name: fakes.add(e) if e else f"unix://{tmp_path}/{name}.nothing"
        for name, e in engines.items()
    })
    got, data = audit_nodes(capsys, path)
    assert got == code
    assert data["summary"]["nodes"] == len(engines)
    if code == 2:
        assert capsys.readouterr().err == ""  # said once, by the first call above


def test_none_reachable_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = inventory_of(tmp_path, {"a": f"unix://{tmp_path}/a.sock"})
    assert main(["audit", "--nodes", "--inventory", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == "compose-net: error: no node could be audited (1 node unreachable)\n"
    assert "node a: unreachable" in captured.out


def test_a_silent_node_costs_the_timeout_not_more(
    tmp_path: Path, fakes: FakeFleet, capsys: pytest.CaptureFixture[str]
) -> None:
    path = inventory_of(tmp_path, {"c1": fakes.add(CLEAN), "mute": fakes.add_silent("mute")})
    start = time.monotonic()
    code, data = audit_nodes(capsys, path, "--node-timeout", "1")
    assert time.monotonic() - start < 2
    assert code == 1
    mute = data["nodes"][1]
    assert (mute["reachable"], mute["error"]) == (False, "no answer within 1 s")


def test_text_output_is_grouped_by_node(
    tmp_path: Path, fakes: FakeFleet, capsys: pytest.CaptureFixture[str]
) -> None:
    path = inventory_of(tmp_path, {"c1": fakes.add(CLEAN), "w1": fakes.add(WORKER),
                                   "gone": "unix:///nonexistent.sock"})
    assert main(["audit", "--nodes", "--inventory", str(path)]) == 1
    out = capsys.readouterr().out
    blocks = out.split("\n\n\n")
    assert out.index("node c1: engine ") < out.index("node w1: engine ") < out.index("node gone")
    assert "  db         -                10.0.0.3:5432->5432/tcp  internal" in out
    assert "  container pub: exposed: 203.0.113.2:443->443/tcp is bound to the public" in out
    assert "  node gone: unreachable: engine unix:///nonexistent.sock: " in out
    assert out.endswith("3 nodes: 2 reachable, 1 unreachable; 1 exposed\n")
    assert len(blocks) >= 1


def test_the_configuration_names_the_inventory(
    tmp_path: Path, fakes: FakeFleet, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "ops").mkdir()
    inventory_of(tmp_path / "ops", {"c1": fakes.add(CLEAN)})
    write(tmp_path, "inventory: ops/nodes.yaml\n", ".compose-net.yaml")
    (tmp_path / ".git").mkdir()  # the project root, where the search for a configuration ends
    (tmp_path / "deep").mkdir()
    monkeypatch.chdir(tmp_path / "deep")
    assert main(["audit", "--nodes", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["inventory"] == str(tmp_path / "ops" / "nodes.yaml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["audit", "--nodes"], "--nodes needs an inventory", id="no-inventory"),
        pytest.param(["audit", "--jobs", "3"], "--jobs and --node-timeout go with --nodes",
                     id="jobs-without-nodes"),
        pytest.param(["audit", "--nodes", "--inventory", "{inv}", "--file", "x.yml"],
                     "--file compares one engine", id="file-with-nodes"),
        pytest.param(["audit", "--nodes", "--inventory", "{empty}"], "has no nodes",
                     id="empty-inventory"),
    ],
)
def test_audit_nodes_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    args: list[str], message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    inv = inventory_of(tmp_path, {"c1": "unix:///x.sock"})
    empty = write(tmp_path, "nodes: {}\n", "empty.yaml")
    argv = [a.format(inv=inv, empty=empty) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("compose-net: error: ") and message in err and err.count("\n") == 1


# --------------------------------------------------------------------------- probe --nodes

LISTEN = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)\n"
    "while True:\n"
    "    c, _ = s.accept(); c.close()\n"
)


def probe_nodes_in(ns: Namespace, *args: str) -> tuple[int, dict[str, Any], str]:
    argv = ns.nsenter(sys.executable, "-m", "compose_net", "probe", "--nodes", *args,
                      "--format", "json", "--timeout", "1")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, json.loads(done.stdout) if done.stdout else {}, done.stderr


@pytest.mark.netns
def test_probe_nodes_knocks_on_each_nodes_public_addresses(
    make_lab: Callable[..., Lab], tmp_path: Path, fakes: FakeFleet
) -> None:
    """From the internet side: a's port answers, b's is refused, c cannot be read, d has no
    public address; only what the inventory names is connected to."""
    ns = make_lab().internet
    ns.ip("addr", "add", "203.0.113.2/24", "dev", "br0")
    ns.ip("addr", "add", "10.9.0.1/24", "dev", "br0")
    port = 17001
    ns.spawn(sys.executable, "-c", LISTEN, "203.0.113.1", str(port))
    ns.spawn(sys.executable, "-c", LISTEN, "10.9.0.1", str(port + 1))
    a = fakes.add(FakeEngine("a", [container("web", ("0.0.0.0", port, 80))]))
    b = fakes.add(FakeEngine("b", [container("web", ("0.0.0.0", port, 80))], swarm="worker"))
    m = fakes.add(FakeEngine("m", [], [service("st_api", (port + 1, 80, "ingress"))],
                             swarm="manager"))
    path = write(tmp_path, f"""nodes:
  a: {{engine: "{a}", public: {{ipv4: 203.0.113.1}}, service: {{ipv4: 10.9.0.9}}}}
  b: {{engine: "{b}", public: {{ipv4: 203.0.113.2}}, service: {{ipv4: 10.9.0.1}}}}
  c: {{engine: "unix://{tmp_path}/none.sock", public: {{ipv4: 203.0.113.3}}}}
  d: {{engine: "{m}", service: {{ipv4: 10.9.0.3}}}}
""")
    wait_until(lambda: tcp_probe(ns, "203.0.113.1", port) == "open", timeout=10,
               what="listener")
    code, data, err = probe_nodes_in(ns, "--inventory", str(path), "--internal")
    assert code == 1, err
    results = {
        n["name"]: sorted((r["address"], r["port"], r["result"]) for r in n["results"])
        for n in data["nodes"]
    }
    assert results == {
        "a": [("10.9.0.9", port, "filtered"), ("203.0.113.1", port, "open")],
        "b": [("10.9.0.1", port, "refused"), ("10.9.0.1", port + 1, "open"),
              ("203.0.113.2", port, "refused"), ("203.0.113.2", port + 1, "refused")],
        "c": [],
        "d": [("10.9.0.3", port + 1, "filtered")],
    }
    kinds = [(f["node"], f["kind"], f["failing"]) for f in data["findings"]]
    assert kinds == [("a", "open", True), ("c", "unreachable", True), ("d", "per-node", False)]
    message = data["findings"][0]["message"]
    assert message.startswith(f"203.0.113.1:{port}/tcp answers on the public")
    assert data["summary"]["open"] == 1 and data["summary"]["unreachable"] == 1


@pytest.mark.netns
def test_probe_nodes_with_files_needs_no_engine(
    make_lab: Callable[..., Lab], tmp_path: Path
) -> None:
    ns = make_lab().internet
    port = 17011
    compose = write(tmp_path, f'services:\n  web:\n    image: x\n    ports: ["{port}:80"]\n',
                    "compose.yaml")
    path = write(tmp_path, "nodes:\n  a: {public: {ipv4: 203.0.113.1}}\n")
    code, data, err = probe_nodes_in(ns, "--inventory", str(path), str(compose))
    assert code == 0, err
    assert [(r["address"], r["port"], r["result"]) for r in data["nodes"][0]["results"]] == [
        ("203.0.113.1", port, "refused")
    ]
    ns.spawn(sys.executable, "-c", LISTEN, "203.0.113.1", str(port))
    wait_until(lambda: tcp_probe(ns, "203.0.113.1", port) == "open", timeout=10, what="listener")
    code, data, err = probe_nodes_in(ns, "--inventory", str(path), str(compose))
    assert code == 1, err
    assert data["nodes"][0]["findings"][0]["kind"] == "open"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["probe"], "give the ADDRESS to probe, or --nodes", id="nothing"),
        pytest.param(["probe", "203.0.113.1", "--jobs", "2"], "go with --nodes", id="jobs"),
        pytest.param(["probe", "--nodes", "--from-docker"], "leave out --from-docker",
                     id="from-docker"),
        pytest.param(["probe", "--nodes"], "--nodes needs an inventory", id="no-inventory"),
    ],
)
def test_probe_nodes_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    args: list[str], message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("compose-net: error: ") and message in err and err.count("\n") == 1


def test_the_readme_example_inventory_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("# nodes.yaml (compose-net nodes")
    example = readme[start:readme.index("```", start)]
    table = inventory.load(str(write(tmp_path, example)))
    engines = {n.name: n.engine.describe() if n.engine else None for n in table.nodes}
    assert engines == {"n1": "tcp://10.176.0.11:2376", "n2": "tcp://10.176.0.12:2376",
                       "shop": "env-file shop/docker.env"}


def test_probe_nodes_in_process_text_and_json(tmp_path: Path, fakes: FakeFleet) -> None:
    """The same run as above on loopback (an inventory file refuses it, a table does not)."""
    from compose_net.commands import probe as command

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()
    a = fakes.add(FakeEngine("a", [container("web", ("0.0.0.0", port, 80))], swarm="worker"))
    m = fakes.add(FakeEngine("m", [], [service("st_api", (free, 80, "ingress"))],
                             swarm="manager"))
    table = Inventory((
        Node("a", public_ipv4="127.0.0.1", service_ipv4="127.0.0.2", engine=Engine(host=a)),
        Node("m", service_ipv4="127.0.0.3", engine=Engine(host=m)),
        Node("x", public_ipv4="127.0.0.1", engine=Engine(host=f"unix://{tmp_path}/x.sock")),
    ), "table")
    try:
        opts = command.NodeOptions(timeout=0.5, internal=True)
        probes = command.probe_nodes(opts, table)
    finally:
        listener.close()
    assert [(p.name, p.reachable) for p in probes] == [("a", True), ("m", True), ("x", False)]
    assert [(a, side, sorted((o.target.port, o.result) for o in r))
            for a, side, r in probes[0].results] == [
        ("127.0.0.1", "public", sorted([(free, "refused"), (port, "open")])),
        ("127.0.0.2", "service", sorted([(free, "refused"), (port, "refused")])),
    ]
    data = command.nodes_json(opts, "table", probes)
    assert data["summary"] == {"nodes": 3, "reachable": 2, "unreachable": 1, "open": 1,
                               "refused": 4, "filtered": 0, "not-provable": 0, "error": 0}
    assert [f["kind"] for f in data["findings"]] == ["open", "per-node", "unreachable"]
    text = command.nodes_text(probes)
    rows = [line.split() for line in text.splitlines() if line.startswith("  127.0.0.")]
    assert sorted(row[:5] for row in rows) == sorted([
        ["127.0.0.1", str(free), "tcp", "refused", "service"],
        ["127.0.0.1", str(port), "tcp", "open", "container"],
        ["127.0.0.2", "(internal)", str(free), "tcp", "refused"],
        ["127.0.0.2", "(internal)", str(port), "tcp", "refused"],
        ["127.0.0.3", "(internal)", str(free), "tcp", "refused"],
    ])
    assert f"  node a: open: 127.0.0.1:{port}/tcp answers on the public address" in text
    assert "  node m: per-node: the inventory names no public address: nothing probed" in text
    assert text.endswith("3 nodes: 1 open on a public address, 1 unreachable\n")


@pytest.mark.parametrize(
    ("plan", "calls"),
    [
        pytest.param([("127.0.0.1", [1, 2]), ("127.0.0.2", [1])], 3, id="two-addresses"),
        pytest.param([("127.0.0.1", [])], 0, id="nothing-to-probe"),
    ],
)
def test_probe_plan_reports_progress_over_every_address(
    plan: list[tuple[str, list[int]]], calls: int
) -> None:
    from compose_net.live import probe as live

    seen: list[tuple[int, int]] = []
    targets = [(address, [live.Target(p, "tcp", (f"port {p}",)) for p in ports])
               for address, ports in plan]
    outcomes = live.probe_plan(targets, timeout=0.5, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(n, calls) for n in range(1, calls + 1)]
    assert [[o.result for o in row] for row in outcomes] == [
        ["refused"] * len(ports) for _, ports in plan
    ]


@pytest.mark.parametrize(
    ("engine", "error"),
    [
        pytest.param(
            FakeEngine("odd", [{"Id": "x", "Ports": [{"IP": "not-an-ip", "PrivatePort": 80,
                                                      "PublicPort": 8080}]}]),
            "its answer cannot be read: the engine reported a binding to 'not-an-ip', "
            "which is not an IP",
            id="binding-not-an-ip",
        ),
        pytest.param(
            FakeEngine("odd", "oops"),  # type: ignore[arg-type]
            "its answer cannot be read: AttributeError: 'str' object has no attribute 'get'",
            id="containers-not-objects",
        ),
        pytest.param(
            FakeEngine("odd", [], [{"Spec": "x"}], swarm="manager"),
            "its answer cannot be read: AttributeError: 'str' object has no attribute 'get'",
            id="service-spec-not-an-object",
        ),
    ],
)
def test_an_odd_engine_is_that_nodes_problem(
    tmp_path: Path, fakes: FakeFleet, capsys: pytest.CaptureFixture[str], engine: FakeEngine,
    error: str,
) -> None:
    path = inventory_of(tmp_path, {"c1": fakes.add(CLEAN), "odd": fakes.add(engine)})
    code, data = audit_nodes(capsys, path)
    assert code == 1
    odd = data["nodes"][1]
    assert (odd["reachable"], odd["error"]) == (False, error)
    assert odd["findings"][0]["message"] == f"engine {engine_of(path, 'odd')}: {error}"
    assert data["nodes"][0]["reachable"] is True


def engine_of(path: Path, name: str) -> str:
    node = inventory.load(str(path)).find(name)
    assert node.engine is not None
    return node.engine.describe()


@pytest.mark.parametrize(
    ("args", "containers"),
    [
        pytest.param([], {"c1": ["db"], "p1": ["shop-web", "other-web"]}, id="every-container"),
        pytest.param(["--project", "shop"], {"c1": [], "p1": ["shop-web"]}, id="one-project"),
    ],
)
def test_audit_nodes_project(
    tmp_path: Path, fakes: FakeFleet, capsys: pytest.CaptureFixture[str], args: list[str],
    containers: dict[str, list[str]],
) -> None:
    projects = FakeEngine("p1", [
        container("shop-web", ("10.0.0.2", 80, 80), project="shop"),
        container("other-web", ("0.0.0.0", 81, 80), project="other"),
    ])
    path = inventory_of(tmp_path, {"c1": fakes.add(CLEAN), "p1": fakes.add(projects)})
    code, data = audit_nodes(capsys, path, *args)
    assert {n["name"]: sorted(c["name"] for c in n["containers"]) for n in data["nodes"]} == {
        k: sorted(v) for k, v in containers.items()
    }
    assert data["project"] == (args[1] if args else None)
    assert code == (0 if args else 1)
