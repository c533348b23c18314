"""The test harness itself, against a real dockerd, real namespaces and the real compose binary."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import (
    BUSYBOX_IMAGE,
    Engine,
    Lab,
    Swarm,
    busybox_image,
    clean_leftovers,
    in_ci,
    leftovers,
    netns_unavailable_reason,
    require,
    tcp_probe,
    wait_for_echo,
    wait_until,
)
from harness.docker import is_elf
from harness.netns import NETNS_DIR, cgroup_dirs, cgroup_mounts, ip
from harness.process import pid_alive

ECHO_SERVER = ["nc", "-ll", "-p", "7000", "-e", "/bin/cat"]
PAYLOAD = b"harness round trip\n"


@pytest.mark.parametrize(
    ("ci", "expected"),
    (
        pytest.param("", pytest.skip.Exception, id="outside-ci-skips"),
        pytest.param("true", pytest.fail.Exception, id="in-ci-fails"),
        pytest.param("1", pytest.fail.Exception, id="any-value-is-ci"),
    ),
)
def test_require_missing_prerequisite(
    monkeypatch: pytest.MonkeyPatch, ci: str, expected: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    assert in_ci() is bool(ci)
    with pytest.raises(expected, match="no engine here"):
        require(False, "no engine here")


def test_require_met_prerequisite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require(True, "never raised")


def test_root_namespace_probes_only_loopback() -> None:
    with pytest.raises(ValueError, match="only loopback"):
        tcp_probe(None, "203.0.113.1", 80)


@pytest.mark.compose
def test_compose_binary_is_the_real_one(compose_bin: str) -> None:
    assert is_elf(compose_bin)
    version = subprocess.run(
        [compose_bin, "version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert version.returncode == 0
    assert "Docker Compose version v2." in version.stdout
    # The console-script wrapper exits 0 whatever happens; the binary must not.
    bad = subprocess.run(
        [compose_bin, "no-such-command"], capture_output=True, text=True, timeout=60, check=False
    )
    assert bad.returncode != 0


@pytest.mark.docker
def test_busybox_import_is_idempotent(docker_engine: Engine, busybox: str) -> None:
    assert busybox == BUSYBOX_IMAGE
    first = docker_engine.docker("image", "inspect", "--format", "{{.Id}}", busybox).stdout
    assert busybox_image(docker_engine.host) == busybox
    second = docker_engine.docker("image", "inspect", "--format", "{{.Id}}", busybox).stdout
    assert first == second
    out = docker_engine.docker("run", "--rm", busybox, "sh", "-c", "echo hi from $(uname -s)")
    assert out.stdout.strip() == "hi from Linux"


@pytest.mark.docker
def test_echo_container_published_on_loopback(docker_engine: Engine, busybox: str) -> None:
    cid = docker_engine.docker("run", "-d", "-p", "127.0.0.1::7000", busybox, *ECHO_SERVER)
    cid_text = cid.stdout.strip()
    try:
        bindings = docker_engine.docker("port", cid_text, "7000/tcp").stdout.split()
        assert bindings and all(b.startswith("127.0.0.1:") for b in bindings), bindings
        port = int(bindings[0].rsplit(":", 1)[1])
        assert wait_for_echo(None, "127.0.0.1", port, PAYLOAD) == PAYLOAD
        assert tcp_probe(None, "127.0.0.1", port) == "open"
    finally:
        docker_engine.docker("rm", "-f", cid_text)
    assert tcp_probe(None, "127.0.0.1", port) == "refused"


@pytest.mark.docker
@pytest.mark.netns
def test_node_dockerd_answers_and_teardown_is_complete(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    node = lab.add_node("node")
    addrs = node.run("ip", "-br", "-4", "addr").stdout
    assert "203.0.113.10/24" in addrs
    assert "10.176.226.219/16" in addrs
    node.start_dockerd()
    info = json.loads(node.docker("info", "--format", "{{json .}}").stdout)
    assert info["Name"] == "node"
    assert Path(info["DockerRootDir"]).is_relative_to(lab.dir)
    assert info["Driver"] == "vfs"
    node.docker("run", "-d", busybox_image(node.docker_host), *ECHO_SERVER)
    assert cgroup_dirs(node.cgroup), "containers should run under the node's cgroup parent"
    daemon = node.daemon
    assert daemon is not None
    pids = lab.pids()
    assert daemon.pid in pids

    lab.close()
    assert leftovers(lab.prefix) == []
    assert not [pid for pid in pids if pid_alive(pid)]


@pytest.mark.docker
@pytest.mark.netns
def test_published_port_reachability_from_peers(make_lab: Callable[..., Lab]) -> None:
    lab = make_lab()
    node = lab.add_node("node")
    node.start_dockerd()
    image = busybox_image(node.docker_host)
    node.docker("run", "-d", "-p", "7001:7000", image, *ECHO_SERVER)
    node.docker("run", "-d", "-p", f"{node.internal_ip}:7002:7000", image, *ECHO_SERVER)

    # Published on all interfaces: the internet reaches it on the public address.
    assert wait_for_echo(lab.internet, node.public_ip, 7001, PAYLOAD) == PAYLOAD
    # Published on the internal address only: refused from the internet ...
    assert tcp_probe(lab.internet, node.public_ip, 7002) == "refused"
    # ... but servicenet reaches it on the internal address.
    assert wait_for_echo(lab.servicenet, node.internal_ip, 7002, PAYLOAD) == PAYLOAD
    # Nothing listens on a port that was never published.
    assert tcp_probe(lab.internet, node.public_ip, 7003) == "refused"
    # An address nobody holds gets no answer.
    assert tcp_probe(lab.internet, "203.0.113.99", 7001, timeout=1.0) == "timeout"


@pytest.mark.netns
def test_clean_leftovers_removes_state_of_dead_runs() -> None:
    reason = netns_unavailable_reason()
    require(reason is None, reason or "")
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert not pid_alive(gone.pid)
    prefix = f"cn{gone.pid}-"
    netns = f"{prefix}1-stale"
    tmp_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}1-"))
    ip("netns", "add", netns)
    cgroup = cgroup_mounts()[0] / f"{prefix}1-node" / "child"
    cgroup.mkdir(parents=True)
    sleeper = subprocess.Popen(
        ["nsenter", f"--net={NETNS_DIR / netns}", "--", "sleep", "300"],
        start_new_session=True,
    )
    try:
        netns_inode = (NETNS_DIR / netns).stat().st_ino
        wait_until(
            lambda: os.stat(f"/proc/{sleeper.pid}/ns/net").st_ino == netns_inode,
            timeout=10,
            what="sleeper inside the stale namespace",
        )
        assert prefix in clean_leftovers(force=True)
        sleeper.wait(timeout=10)
        assert sleeper.returncode == -9
        assert leftovers(prefix) == []
        assert not tmp_dir.exists()
        assert not cgroup.parent.exists()
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
        if (NETNS_DIR / netns).exists():
            ip("netns", "del", netns)
        for leftover in (cgroup, cgroup.parent):
            if leftover.exists():
                leftover.rmdir()


@pytest.mark.docker
@pytest.mark.netns
@pytest.mark.slow
def test_three_node_swarm_forms_on_internal_addresses(make_swarm: Callable[..., Swarm]) -> None:
    swarm = make_swarm()
    members = {m.hostname: m for m in swarm.members()}
    assert sorted(members) == ["n1", "n2", "n3"]
    for name, member in members.items():
        node = swarm.nodes[name]
        assert member.state == "ready"
        assert member.label_name == name
        assert member.addr == node.internal_ip
        assert ipaddress.IPv4Address(member.addr) in swarm.lab.internal_net
    assert members["n1"].role == "manager"
    assert members["n2"].role == members["n3"].role == "worker"
    # The control plane listens inside the manager's namespace only.
    assert tcp_probe(swarm.lab.servicenet, swarm.manager.internal_ip, 2377) == "open"


@pytest.mark.docker
@pytest.mark.netns
@pytest.mark.slow
def test_pre_created_gwbridge_keeps_host_mode_ports_internal(
    make_swarm: Callable[..., Swarm],
) -> None:
    swarm = make_swarm(gwbridge_on=("n3",))
    opts = json.loads(
        swarm.nodes["n3"].docker("network", "inspect", "--format", "{{json .Options}}",
                                 "docker_gwbridge").stdout
    )
    assert opts["com.docker.network.bridge.host_binding_ipv4"] == "10.176.0.13"
    swarm.docker("network", "create", "--driver", "overlay", "backend")
    swarm.docker(
        "service", "create", "--detach", "--no-resolve-image", "--name", "echo",
        "--mode", "global", "--network", "backend",
        "--publish", "mode=host,target=7000,published=7100",
        BUSYBOX_IMAGE, *ECHO_SERVER,
    )
    lab = swarm.lab
    for node in swarm.nodes.values():
        reply = wait_for_echo(lab.servicenet, node.internal_ip, 7100, PAYLOAD, timeout=60)
        assert reply == PAYLOAD, node.name
    assert wait_for_echo(lab.internet, swarm.nodes["n1"].public_ip, 7100, PAYLOAD) == PAYLOAD
    assert wait_for_echo(lab.internet, swarm.nodes["n2"].public_ip, 7100, PAYLOAD) == PAYLOAD
    assert tcp_probe(lab.internet, swarm.nodes["n3"].public_ip, 7100) == "refused"

