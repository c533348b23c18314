"""``audit --nodes --watch --metrics-listen`` on a real three-node swarm (issue acceptance).

One lab for the module: three dockerds in their own network namespaces (tests/harness), the
watcher started once on the lab's inventory with JSON Lines and a metrics port, and the rows
below run against it in order: a container published on every interface of n2 appears and
goes, a port the configuration allows is not counted, ``--format openmetrics -o`` on the same
lab holds the bindings ``--format json`` lists, an engine behind TLS is followed (and one
whose client certificate its CA never signed is unreachable), and n3's engine stops and
comes back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from harness import (
    BUSYBOX_IMAGE,
    Lab,
    Swarm,
    build_swarm,
    busybox_image,
    free_port,
    make_certificates,
    netns_unavailable_reason,
    require,
)
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.docker, pytest.mark.netns, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NODE_TIMEOUT = 3.0
#: the configuration beside the inventory: a port meant to be public
CONFIG = "allow:\n  - {service: public-web, port: 6380, reason: the shop's front door}\n"


@dataclass
class Watch:
    """The running watcher: its JSON lines as they came (arrival time, data)."""

    proc: subprocess.Popen[str]
    port: int
    folder: Path
    inventory: Path
    lines: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def wait(self, match: Callable[[dict[str, Any]], bool], timeout: float,
             after: int = 0) -> tuple[float, dict[str, Any]]:
        """The first line (from index ``after``) that ``match``es, within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for when, data in self.lines[after:]:
                if match(data):
                    return when, data
            time.sleep(0.02)
        raise AssertionError(f"no such line within {timeout}s; lines: {self.lines[after:]}; "
                             f"stderr: {''.join(self.err)}")

    def scrape(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return {f.name: f for f in text_string_to_metric_families(r.read().decode())}


def cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "compose_net", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Swarm, Watch]]:
    reason = netns_unavailable_reason()
    require(reason is None, reason or "")
    folder = tmp_path_factory.mktemp("watch")
    with Lab() as made:
        swarm = build_swarm(made)
        inventory = folder / "nodes.yaml"
        inventory.write_text("nodes:\n" + "".join(
            f"  {name}:\n    engine: {node.docker_host}\n    public: {{ipv4: {node.public_ip}}}\n"
            f"    service: {{ipv4: {node.internal_ip}}}\n"
            for name, node in swarm.nodes.items()
        ))
        (folder / ".compose-net.yaml").write_text(CONFIG)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "compose_net", "audit", "--nodes", "--inventory",
             str(inventory), "--watch", "--format", "json", "--node-timeout", str(NODE_TIMEOUT),
             "--metrics-listen", f"127.0.0.1:{port}"],
            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        watch = Watch(proc, port, folder, inventory)

        def read_out() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                watch.lines.append((time.monotonic(), json.loads(line)))

        def read_err() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                watch.err.append(line)

        for reader in (read_out, read_err):
            threading.Thread(target=reader, daemon=True).start()
        deadline = time.monotonic() + 30
        while not any("watching 3 nodes" in e for e in watch.err):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(watch.err)
            time.sleep(0.05)
        try:
            yield swarm, watch
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=15)
            finally:
                if proc.poll() is None:
                    proc.kill()
            assert code == 0, "".join(watch.err)
            assert "Traceback" not in "".join(watch.err)


def bindings(scrape: dict[str, Any], node: str) -> list[tuple[str, str, str]]:
    return sorted((s.labels["container"], s.labels["address"], s.labels["port"])
                  for s in scrape["compose_net_exposed_binding"].samples
                  if s.labels["node"] == node)


def gauge(scrape: dict[str, Any], name: str, **labels: str) -> float | None:
    for s in scrape[name].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return float(s.value)
    return None


def test_a_container_exposed_on_n2_is_reported_within_2s_and_scraped(
    lab: tuple[Swarm, Watch],
) -> None:
    swarm, watch = lab
    n2 = swarm.nodes["n2"]
    after = len(watch.lines)
    n2.docker("run", "-d", "--name", "redis", "-p", "0.0.0.0:6379:6379", BUSYBOX_IMAGE,
              "sleep", "3600")
    started = time.monotonic()
    when, line = watch.wait(lambda d: d["change"] == "exposed" and d["port"] == 6379,
                            timeout=5, after=after)
    assert when - started <= 2.0
    assert (line["node"], line["container"], line["address"], line["verdict"]) == (
        "n2", "redis", "0.0.0.0", "all-interfaces"
    )
    assert "every interface" in line["message"]
    assert ("redis", "0.0.0.0", "6379") in bindings(watch.scrape(), "n2")

    after = len(watch.lines)
    n2.docker("rm", "-f", "redis")
    removed = time.monotonic()
    when, line = watch.wait(lambda d: d["change"] == "no longer exposed" and d["port"] == 6379,
                            timeout=5, after=after)
    assert when - removed <= 2.0 and line["node"] == "n2"
    assert bindings(watch.scrape(), "n2") == []


def test_a_port_the_configuration_allows_is_not_counted(lab: tuple[Swarm, Watch]) -> None:
    swarm, watch = lab
    n1 = swarm.nodes["n1"]
    after = len(watch.lines)
    n1.docker("run", "-d", "--name", "public-web", "-p", "0.0.0.0:6380:80", BUSYBOX_IMAGE,
              "sleep", "3600")
    n1.docker("run", "-d", "--name", "marker", "-p", "0.0.0.0:6381:80", BUSYBOX_IMAGE,
              "sleep", "3600")
    watch.wait(lambda d: d["container"] == "marker", timeout=5, after=after)
    assert [d["container"] for _, d in watch.lines[after:]] == ["marker"]
    scrape = watch.scrape()
    assert bindings(scrape, "n1") == [("marker", "0.0.0.0", "6381")]
    assert gauge(scrape, "compose_net_findings", node="n1", rule="allowed") == 1.0
    n1.docker("rm", "-f", "marker")
    watch.wait(lambda d: d["container"] == "marker" and d["change"] == "no longer exposed",
               timeout=5, after=after)


def test_openmetrics_file_holds_the_json_bindings_and_is_replaced_atomically(
    lab: tuple[Swarm, Watch],
) -> None:
    swarm, watch = lab
    swarm.nodes["n3"].docker("run", "-d", "--name", "web", "-p", "0.0.0.0:6382:80",
                             BUSYBOX_IMAGE, "sleep", "3600")
    prom = watch.folder / "fleet.prom"
    prom.write_text("stale\n")
    inode = prom.stat().st_ino
    base = ("audit", "--nodes", "--inventory", str(watch.inventory))
    proc = cli(watch.folder, *base, "--format", "openmetrics", "-o", str(prom))
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert prom.stat().st_ino != inode
    assert sorted(os.listdir(watch.folder)) == [".compose-net.yaml", "fleet.prom", "nodes.yaml"]
    families = {f.name: f for f in text_string_to_metric_families(prom.read_text())}
    from_metrics = {(s.labels["node"], s.labels["container"], s.labels["address"],
                     s.labels["port"]) for s in families["compose_net_exposed_binding"].samples}
    proc = cli(watch.folder, *base, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    from_json = {(n["name"], c["name"], b["host_ip"], str(b["host_port"]))
                 for n in data["nodes"] for c in n["containers"] for b in c["bindings"]
                 if b["exposed"]}
    allowed = ("n1", "public-web", "0.0.0.0", "6380")
    assert allowed in from_json and allowed not in from_metrics
    assert from_metrics == from_json - {allowed}
    assert ("n3", "web", "0.0.0.0", "6382") in from_metrics
    assert data["summary"]["exposed"] == len(from_metrics)


TLS_NODE = ("t1", "203.0.113.21", "10.176.0.21")


def test_an_engine_behind_tls_is_followed(lab: tuple[Swarm, Watch]) -> None:
    swarm, watch = lab
    name, public, internal = TLS_NODE
    t1 = swarm.lab.add_node(name, public, internal)
    certs = make_certificates(watch.folder / "certs", internal)
    t1.start_dockerd(extra_args=[
        "-H", f"tcp://{internal}:2376", "--tlsverify", "--tlscacert", str(certs / "ca.pem"),
        "--tlscert", str(certs / "server-cert.pem"), "--tlskey", str(certs / "server-key.pem"),
    ])
    busybox_image(t1.docker_host)
    t1.docker("run", "-d", "--name", "first", "-p", "6390:80", BUSYBOX_IMAGE, "sleep", "3600")
    inventory = watch.folder / "tls.yaml"
    inventory.write_text("nodes:\n" + "".join(
        f"  {node}:\n    engine: tcp://{internal}:2376\n"
        f"    tls: {{ca: {certs}/ca.pem, cert: {certs}/{who}-cert.pem, "
        f"key: {certs}/{who}-key.pem}}\n"
        f"    public: {{ipv4: {public}}}\n    service: {{ipv4: {internal}}}\n"
        for node, who in (("good", "client"), ("rogue", "rogue"))
    ))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        swarm.lab.servicenet.nsenter(
            sys.executable, "-m", "compose_net", "audit", "--nodes", "--inventory",
            str(inventory), "--watch", "--format", "json", "--node-timeout", "2",
        ),
        cwd=watch.folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    got: list[dict[str, Any]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            got.append(json.loads(line))

    def wait(want: set[tuple[str, str, str | None, int | None]]) -> None:
        deadline = time.monotonic() + 15
        while not want <= {(d["node"], d["change"], d.get("container"), d.get("port"))
                           for d in got}:
            assert time.monotonic() < deadline, got
            time.sleep(0.05)

    threading.Thread(target=read, daemon=True).start()
    try:
        wait({("good", "exposed", "first", 6390), ("rogue", "unreachable", None, None)})
        t1.docker("run", "-d", "--name", "second", "-p", "6391:80", BUSYBOX_IMAGE, "sleep",
                  "3600")
        wait({("good", "exposed", "second", 6391)})
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert {d["address"] for d in got if d["node"] == "good"} <= {"0.0.0.0", "::"}
    rogue = [d for d in got if d["node"] == "rogue"]
    assert len(rogue) == 1 and "certificate" in rogue[0]["message"].lower(), rogue
    t1.stop_dockerd()


def test_n3_stops_is_unreachable_and_is_audited_again_when_back(
    lab: tuple[Swarm, Watch],
) -> None:
    swarm, watch = lab
    n3 = swarm.nodes["n3"]
    n3.docker("run", "-d", "--name", "always", "--restart", "always", "-p", "0.0.0.0:6383:80",
              BUSYBOX_IMAGE, "sleep", "3600")
    watch.wait(lambda d: d["container"] == "always", timeout=5)
    after = len(watch.lines)
    n3.stop_dockerd()
    stopped = time.monotonic()
    when, line = watch.wait(lambda d: d["change"] == "unreachable", timeout=NODE_TIMEOUT + 5,
                            after=after)
    assert line["node"] == "n3" and when - stopped <= NODE_TIMEOUT + 0.5
    scrape = watch.scrape()
    assert gauge(scrape, "compose_net_node_reachable", node="n3") == 0.0
    assert gauge(scrape, "compose_net_node_reachable", node="n1") == 1.0
    assert bindings(scrape, "n3") == []

    after = len(watch.lines)
    n3.start_dockerd()
    watch.wait(lambda d: d["change"] == "reachable again" and d["node"] == "n3",
               timeout=NODE_TIMEOUT + 35, after=after)

    def back() -> list[tuple[str, str, str]]:
        return bindings(watch.scrape(), "n3")

    deadline = time.monotonic() + 30
    while ("always", "0.0.0.0", "6383") not in back() and time.monotonic() < deadline:
        time.sleep(0.2)
    scrape = watch.scrape()
    assert ("always", "0.0.0.0", "6383") in bindings(scrape, "n3")
    assert gauge(scrape, "compose_net_node_reachable", node="n3") == 1.0
    audited = gauge(scrape, "compose_net_last_audit_timestamp_seconds", node="n3")
    assert audited is not None and audited > time.time() - 60
