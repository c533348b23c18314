"""``compose-net audit``: verdicts, findings and drift from the engine's own port data.

The API items below have the shape a real engine returns (``GET /containers/json`` and
``GET /services``); the end-to-end suite in tests/e2e runs the same code against real ones.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from compose_net.cli import main
from compose_net.commands import audit as command
from compose_net.errors import ComposeNetError
from compose_net.live import audit
from compose_net.live.bindings import (
    Binding,
    Container,
    Declared,
    NodeAddresses,
    container_from_summary,
    drift,
    exposure_findings,
    parse_published,
    ports_column,
    service_from_api,
    verdict,
)
from compose_net.live.declared import declared_ports

NODE = NodeAddresses.of(public=["192.168.1.50"], internal=["203.0.113.77"])


@pytest.mark.parametrize(
    ("host_ip", "node", "expected"),
    [
        pytest.param("", NodeAddresses(), "all-interfaces", id="empty"),
        pytest.param("0.0.0.0", NodeAddresses(), "all-interfaces", id="ipv4-any"),
        pytest.param("::", NodeAddresses(), "all-interfaces", id="ipv6-any"),
        pytest.param("::ffff:0.0.0.0", NodeAddresses(), "all-interfaces", id="mapped-any"),
        pytest.param("127.0.0.1", NodeAddresses(), "loopback", id="loopback"),
        pytest.param("127.0.0.53", NodeAddresses(), "loopback", id="loopback-range"),
        pytest.param("::1", NodeAddresses(), "loopback", id="ipv6-loopback"),
        pytest.param("10.176.226.219", NodeAddresses(), "internal", id="rfc1918"),
        pytest.param("100.64.0.7", NodeAddresses(), "internal", id="cgnat"),
        pytest.param("fd00::11", NodeAddresses(), "internal", id="ula"),
        pytest.param("::ffff:10.0.0.1", NodeAddresses(), "internal", id="mapped-private"),
        pytest.param("203.0.113.10", NodeAddresses(), "public", id="public-v4"),
        pytest.param("2001:db8::10", NodeAddresses(), "public", id="public-v6"),
        pytest.param("192.168.1.50", NODE, "public", id="known-public-beats-range"),
        pytest.param("203.0.113.77", NODE, "internal", id="known-internal-beats-range"),
        pytest.param("192.168.1.51", NODE, "internal", id="unknown-falls-back-to-range"),
    ],
)
def test_verdict(host_ip: str, node: NodeAddresses, expected: str) -> None:
    assert verdict(host_ip, node) == expected


def test_verdict_rejects_what_is_not_an_address() -> None:
    with pytest.raises(ComposeNetError, match="not an IP"):
        verdict("localhost")


# What the engine returned for `docker run -p 127.0.0.1:7100:7000 -p 7101-7102:7001-7002
# -p 7103:7003/udp --expose 7005 ...` (Docker 20.10), trimmed to the fields used.
PLAIN = {
    "Id": "897ecc293daef24e1388414a443fe6b99c1e1942590dc6d8f8055e4d8ac337db",
    "Names": ["/cnx"],
    "Ports": [
        {"IP": "127.0.0.1", "PrivatePort": 7000, "PublicPort": 7100, "Type": "tcp"},
        {"IP": "0.0.0.0", "PrivatePort": 7001, "PublicPort": 7101, "Type": "tcp"},
        {"IP": "::", "PrivatePort": 7001, "PublicPort": 7101, "Type": "tcp"},
        {"IP": "0.0.0.0", "PrivatePort": 7002, "PublicPort": 7102, "Type": "tcp"},
        {"IP": "::", "PrivatePort": 7002, "PublicPort": 7102, "Type": "tcp"},
        {"IP": "0.0.0.0", "PrivatePort": 7003, "PublicPort": 7103, "Type": "udp"},
        {"IP": "::", "PrivatePort": 7003, "PublicPort": 7103, "Type": "udp"},
        {"PrivatePort": 7005, "Type": "tcp"},
    ],
    "HostConfig": {"NetworkMode": "default"},
    "Labels": {},
    "State": "running",
}

COMPOSE = {
    "Id": "a1" * 32,
    "Names": ["/shop-db-1"],
    "Ports": [
        {"IP": "10.176.226.219", "PrivatePort": 5432, "PublicPort": 5432, "Type": "tcp"},
        {"IP": "203.0.113.10", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
    ],
    "HostConfig": {"NetworkMode": "shop_default"},
    "Labels": {
        "com.docker.compose.project": "shop",
        "com.docker.compose.service": "db",
        "com.docker.compose.project.config_files": "/srv/shop/compose.yaml,/srv/shop/o.yaml",
    },
}

HOST = {
    "Id": "b2" * 32,
    "Names": ["/monitor"],
    "Ports": [],
    "HostConfig": {"NetworkMode": "host"},
    "Labels": {"com.docker.stack.namespace": "ops", "com.docker.swarm.service.name": "ops_mon"},
}

OLD_ENGINE = {
    "Id": "c3" * 32,
    "Names": None,
    "Ports": [{"IP": "", "PrivatePort": 80, "PublicPort": 80, "Type": "tcp"},
              {"IP": "", "PrivatePort": 80, "PublicPort": 80, "Type": "tcp"}],
    "HostConfig": None,
    "Labels": None,
}


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        pytest.param(PLAIN, {
            "name": "cnx", "owner": "-", "network_mode": "default", "exposed": True,
            "ports": "7005/tcp, 0.0.0.0:7101-7102->7001-7002/tcp, 0.0.0.0:7103->7003/udp, "
                     "127.0.0.1:7100->7000/tcp, [::]:7101-7102->7001-7002/tcp, "
                     "[::]:7103->7003/udp",
            "verdicts": ["loopback"] + ["all-interfaces"] * 6,
        }, id="docker-run"),
        pytest.param(COMPOSE, {
            "name": "shop-db-1", "owner": "shop/db", "network_mode": "shop_default",
            "exposed": True,
            "ports": "10.176.226.219:5432->5432/tcp, 203.0.113.10:8080->80/tcp",
            "verdicts": ["internal", "public"],
        }, id="compose-labels"),
        pytest.param(HOST, {
            "name": "monitor", "owner": "ops/ops_mon", "network_mode": "host", "exposed": True,
            "ports": "", "verdicts": [],
        }, id="host-network"),
        pytest.param(OLD_ENGINE, {
            "name": "c3c3c3c3c3c3", "owner": "-", "network_mode": "default", "exposed": True,
            "ports": "0.0.0.0:80->80/tcp", "verdicts": ["all-interfaces"],
        }, id="sparse-fields-and-duplicates"),
    ],
)
def test_container_from_summary(summary: dict[str, Any], expected: dict[str, Any]) -> None:
    c = container_from_summary(summary)
    got = {
        "name": c.name, "owner": c.owner, "network_mode": c.network_mode, "exposed": c.exposed,
        "ports": c.ports_column(), "verdicts": [b.verdict for b in c.bindings],
    }
    assert got == expected


def _b(ip: str, host: int, container: int, proto: str = "tcp") -> Binding:
    return Binding(ip, host, container, proto, verdict(ip))


@pytest.mark.parametrize(
    ("bindings", "expected"),
    [
        pytest.param([], "", id="none"),
        pytest.param([_b("0.0.0.0", 80, 80), _b("0.0.0.0", 81, 81), _b("0.0.0.0", 82, 82)],
                     "0.0.0.0:80-82->80-82/tcp", id="run-collapses"),
        pytest.param([_b("0.0.0.0", 80, 80), _b("0.0.0.0", 82, 81)],
                     "0.0.0.0:80->80/tcp, 0.0.0.0:82->81/tcp", id="host-gap-splits"),
        pytest.param([_b("0.0.0.0", 80, 80), _b("0.0.0.0", 81, 81, "udp")],
                     "0.0.0.0:80->80/tcp, 0.0.0.0:81->81/udp", id="protocols-apart"),
        pytest.param([_b("10.0.0.2", 81, 81), _b("10.0.0.1", 80, 80)],
                     "10.0.0.1:80->80/tcp, 10.0.0.2:81->81/tcp", id="addresses-apart-sorted"),
        pytest.param([_b("::1", 80, 80), _b("127.0.0.1", 80, 80)],
                     "127.0.0.1:80->80/tcp, [::1]:80->80/tcp", id="ipv4-first"),
    ],
)
def test_ports_column(bindings: list[Binding], expected: str) -> None:
    assert ports_column(bindings) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {"ID": "svc1", "Spec": {"Name": "st_web", "Labels": {
                "com.docker.stack.namespace": "st"}},
             "Endpoint": {"Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080,
                                     "PublishMode": "ingress"}]}},
            ("st_web", "st", [("*:8080->80/tcp (ingress)", "all-interfaces", True)]),
            id="ingress"),
        pytest.param(
            {"ID": "svc2", "Spec": {"Name": "h"},
             "Endpoint": {"Ports": [{"Protocol": "udp", "TargetPort": 53, "PublishedPort": 53,
                                     "PublishMode": "host"}]}},
            ("h", None, [("*:53->53/udp (host)", "per-node", False)]), id="host-mode"),
        pytest.param(
            {"ID": "svc3", "Spec": {"Name": "pending", "EndpointSpec": {"Ports": [
                {"TargetPort": 80, "PublishMode": "host"}]}}},
            ("pending", None, [("*:*->80/tcp (host)", "per-node", False)]),
            id="spec-only-no-published"),
        pytest.param({"ID": "svc4", "Spec": {"Name": "quiet"}}, ("quiet", None, []),
                     id="no-ports"),
    ],
)
def test_service_from_api(data: dict[str, Any], expected: tuple[Any, ...]) -> None:
    s = service_from_api(data)
    assert (s.name, s.stack, [(p.display(), p.verdict, p.exposed) for p in s.ports]) == expected


@pytest.mark.parametrize(
    ("summaries", "services", "expected"),
    [
        pytest.param([PLAIN], [], [("exposed", "container cnx")] * 6, id="all-interfaces"),
        pytest.param([COMPOSE], [], [("exposed", "container shop-db-1")], id="public-only"),
        pytest.param([HOST], [], [("host-network", "container monitor")], id="host-network"),
        pytest.param(
            [], [{"ID": "s", "Spec": {"Name": "web"}, "Endpoint": {"Ports": [
                {"TargetPort": 80, "PublishedPort": 80, "PublishMode": "ingress"},
                {"TargetPort": 81, "PublishedPort": 81, "PublishMode": "host"}]}}],
            [("exposed", "service web"), ("per-node", "service web")], id="swarm"),
        pytest.param([{**PLAIN, "Ports": PLAIN["Ports"][:1]}], [], [], id="loopback-only"),
    ],
)
def test_exposure_findings(
    summaries: list[dict[str, Any]], services: list[dict[str, Any]],
    expected: list[tuple[str, str]],
) -> None:
    containers = [container_from_summary(s) for s in summaries]
    found = exposure_findings(containers, [service_from_api(s) for s in services])
    assert [(f.kind, f.subject) for f in found] == expected


#: a swarm stack's ingress port 8080 and another, 8443, of the same service
STACK_WEB = {"ID": "s", "Spec": {"Name": "st_web", "Labels": {
    "com.docker.stack.namespace": "st"}}, "Endpoint": {"Ports": [
        {"TargetPort": 80, "PublishedPort": 8080, "PublishMode": "ingress"},
        {"TargetPort": 443, "PublishedPort": 8443, "PublishMode": "ingress"}]}}


@pytest.mark.parametrize(
    ("allows", "expected"),
    [
        pytest.param([], [("exposed", True), ("exposed", True)], id="none"),
        pytest.param(["web:8080"], [("allowed", False), ("exposed", True)],
                     id="without-stack-prefix"),
        pytest.param(["st_web"], [("allowed", False), ("allowed", False)], id="whole-service"),
        pytest.param(["db"], [("exposed", True), ("exposed", True)], id="another-service"),
    ],
)
def test_ingress_ports_allowed_as_audit_watch_and_fleet_judge_them(
    allows: list[str], expected: list[tuple[str, bool]]
) -> None:
    """One allow decision for a swarm ingress port in audit, audit --nodes and --watch."""
    from compose_net.live import exposures, fleet
    from compose_net.policy.allowances import Allow

    parsed = [Allow.parse(a) for a in allows]
    service = service_from_api(STACK_WEB)
    found = exposure_findings([], [service], parsed)
    assert [(f.kind, f.failing) for f in found] == expected
    on_node = fleet._ingress_findings([service], "n1", parsed)
    assert [(f.kind, f.failing) for f in on_node] == expected
    rows, counts = exposures.node_rows("n1", [], [service], parsed)
    assert counts["allowed"] == sum(kind == "allowed" for kind, _ in expected)
    assert len(rows) == sum(kind == "exposed" for kind, _ in expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("8080", (8080, 8080), id="one"),
        pytest.param(8080, (8080, 8080), id="int"),
        pytest.param("8000-8010", (8000, 8010), id="range"),
        pytest.param("0", ComposeNetError, id="zero"),
        pytest.param("9-8", ComposeNetError, id="backwards"),
        pytest.param("70000", ComposeNetError, id="too-big"),
        pytest.param("80a", ComposeNetError, id="junk"),
    ],
)
def test_parse_published(value: object, expected: object) -> None:
    if expected is ComposeNetError:
        with pytest.raises(ComposeNetError):
            parse_published(value)
    else:
        assert parse_published(value) == expected


def _decl(service: str, host_ip: str | None, published: tuple[int, int] | None, target: int,
          line: int, protocol: str = "tcp") -> Declared:
    return Declared(service, host_ip, published, target, protocol, f"c.yaml:{line}:9")


def _running(service: str, *bindings: tuple[str, int, int, str]) -> Container:
    return Container(
        id="x" * 12, name=f"p-{service}-1", project="p", service=service, network_mode="bridge",
        bindings=tuple(Binding(ip, hp, cp, proto, verdict(ip)) for ip, hp, cp, proto in bindings),
    )


WEB_ANY = _decl("web", None, (8080, 8080), 80, 5)
WEB_V4 = ("0.0.0.0", 8080, 80, "tcp")
WEB_V6 = ("::", 8080, 80, "tcp")


@pytest.mark.parametrize(
    ("declared", "containers", "expected"),
    [
        pytest.param([WEB_ANY], [_running("web", WEB_V4, WEB_V6)], [], id="both-families-match"),
        pytest.param([WEB_ANY], [_running("web", WEB_V4)], [], id="ipv4-only-engine"),
        pytest.param([_decl("web", "10.0.0.5", (8080, 8080), 80, 5)],
                     [_running("web", ("10.0.0.5", 8080, 80, "tcp"))], [], id="bound-ip"),
        pytest.param([_decl("web", "10.0.0.5", (8080, 8080), 80, 5)],
                     [_running("web", WEB_V4, WEB_V6)],
                     [("undeclared", "container p-web-1", None),
                      ("undeclared", "container p-web-1", None),
                      ("missing", "service web", "c.yaml:5:9")], id="hardened-file-old-run"),
        pytest.param([WEB_ANY], [_running("web", ("10.0.0.5", 8080, 80, "tcp"))],
                     [("undeclared", "container p-web-1", None),
                      ("missing", "service web", "c.yaml:5:9")], id="old-file-hardened-run"),
        pytest.param([_decl("web", None, None, 80, 5)],
                     [_running("web", ("0.0.0.0", 32768, 80, "tcp"))], [], id="engine-picked"),
        pytest.param([_decl("web", None, (8000, 8009), 80, 5)],
                     [_running("web", ("0.0.0.0", 8004, 80, "tcp"))], [], id="host-range"),
        pytest.param([_decl("web", None, (8000, 8009), 80, 5)],
                     [_running("web", ("0.0.0.0", 8010, 80, "tcp"))],
                     [("undeclared", "container p-web-1", None),
                      ("missing", "service web", "c.yaml:5:9")], id="outside-range"),
        pytest.param([_decl("dns", None, (53, 53), 53, 5, "udp")],
                     [_running("dns", ("0.0.0.0", 53, 53, "tcp"))],
                     [("undeclared", "container p-dns-1", None),
                      ("missing", "service dns", "c.yaml:5:9")], id="protocol-differs"),
        pytest.param([WEB_ANY, _decl("db", "127.0.0.1", (5432, 5432), 5432, 9)],
                     [_running("web", WEB_V4)],
                     [("not-running", "service db", "c.yaml:9:9")], id="service-not-running"),
        pytest.param([WEB_ANY], [_running("web", WEB_V4), _running("extra", WEB_V4)],
                     [("undeclared", "container p-extra-1", None)], id="service-not-in-file"),
    ],
)
def test_drift(
    declared: list[Declared], containers: list[Container],
    expected: list[tuple[str, str, str | None]],
) -> None:
    found = drift("c.yaml", declared, containers)
    assert [(f.kind, f.subject, f.location) for f in found] == expected


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        pytest.param(['"8080:80"'], [("web", None, (8080, 8080), 80, "tcp", 5)], id="short"),
        pytest.param(['"10.0.0.5:8000-8001:80-81"'],
                     [("web", "10.0.0.5", (8000, 8000), 80, "tcp", 5),
                      ("web", "10.0.0.5", (8001, 8001), 81, "tcp", 5)], id="range-expands"),
        pytest.param(['"0.0.0.0::80"', '"53:53/udp"'],
                     [("web", "0.0.0.0", None, 80, "tcp", 5),
                      ("web", None, (53, 53), 53, "udp", 6)], id="ip-colon-colon-and-udp"),
        pytest.param(['{target: 80, published: "${PORT}", host_ip: "${IP}"}'],
                     [("web", "10.9.9.9", (9090, 9090), 80, "tcp", 5)], id="long-interpolated"),
    ],
)
def test_declared_ports(tmp_path: Path, ports: list[str], expected: list[tuple[Any, ...]]) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    image: x\n    ports:\n"
                    + "".join(f"      - {p}\n" for p in ports))
    (tmp_path / ".env").write_text("PORT=9090\nIP=10.9.9.9\n")
    got = declared_ports(str(path))
    assert [(d.service, d.host_ip, d.published, d.target, d.protocol,
             int(d.location.split(":")[1])) for d in got] == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"compose.yaml": "include: [db.yaml]\nservices:\n  web:\n    image: x\n"
                             "    ports: ['80:80']\n",
             "db.yaml": "services:\n  db:\n    image: x\n    ports: ['5432:5432']\n"},
            [("db", 5432, "db.yaml:4"), ("web", 80, "compose.yaml:5")],
            id="include",
        ),
        pytest.param(
            {"compose.yaml": "services:\n  web:\n    extends: {file: base.yaml, service: b}\n",
             "base.yaml": "services:\n  b:\n    image: x\n    ports: ['81:80']\n"},
            [("web", 81, "base.yaml:4")],
            id="extends",
        ),
    ],
)
def test_declared_ports_read_the_whole_project(
    tmp_path: Path, files: dict[str, str], expected: list[tuple[str, int, str]]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    got = declared_ports(str(tmp_path / "compose.yaml"))
    assert [
        (d.service, d.published[0] if d.published else None,
         os.path.basename(d.location.rsplit(":", 1)[0]))
        for d in got
    ] == expected


@pytest.mark.parametrize(
    ("networks", "expected"),
    [
        pytest.param((), "public", id="private-ranges-only"),
        pytest.param(("203.0.113.0/24",), "internal", id="internal-networks"),
    ],
)
def test_verdict_counts_the_configured_internal_networks(
    networks: tuple[str, ...], expected: str
) -> None:
    from compose_net.policy import addresses

    node = NodeAddresses(networks=addresses.internal_networks(list(networks)))
    assert verdict("203.0.113.5", node) == expected


def _state(*summaries: dict[str, Any]) -> audit.EngineState:
    return audit.EngineState("unix:///x.sock", "node", "inactive", summaries)


@pytest.mark.parametrize(
    ("state", "declared", "exposed", "drift_count", "failing"),
    [
        pytest.param(_state(), None, 0, 0, False, id="nothing-running"),
        pytest.param(_state(COMPOSE), None, 1, 0, True, id="exposed"),
        pytest.param(_state({**COMPOSE, "Ports": COMPOSE["Ports"][:1]}), None, 0, 0, False,
                     id="internal-only"),
        pytest.param(_state({**COMPOSE, "Ports": COMPOSE["Ports"][:1]}),
                     audit.DeclaredFile("/srv/shop/compose.yaml", [
                         _decl("db", "10.176.226.219", (5432, 5432), 5432, 3)]),
                     0, 0, False, id="matches-its-file"),
        pytest.param(_state({**COMPOSE, "Ports": COMPOSE["Ports"][:1]}),
                     audit.DeclaredFile("/srv/shop/compose.yaml", [
                         _decl("db", None, (5432, 5432), 5432, 3)]),
                     0, 2, True, id="drift-fails"),
        pytest.param(_state(COMPOSE),
                     audit.DeclaredFile("/elsewhere/compose.yaml", [WEB_ANY]),
                     1, 1, True, id="file-of-no-container"),
    ],
)
def test_assess_and_json(
    state: audit.EngineState, declared: audit.DeclaredFile | None, exposed: int,
    drift_count: int, failing: bool,
) -> None:
    result = audit.assess(state, declared=declared)
    assert result.failing is failing
    data = command.as_json(result, declared is not None)
    assert data["summary"]["exposed"] == exposed
    assert data["summary"]["drift"] == drift_count
    assert (data["drift"] is None) is (declared is None)
    json.dumps(data)  # plain data only
    text = command.as_text(result, declared is not None)
    assert text.splitlines()[0] == "engine unix:///x.sock (node, swarm inactive)"
    assert text.splitlines()[-1].endswith(f"{exposed or 'nothing'} exposed"
                                          + ("" if declared is None
                                             else f", {drift_count or 'no'} drift"))


def test_project_chooses_the_containers_compared() -> None:
    state = _state({**COMPOSE, "Ports": COMPOSE["Ports"][:1]})
    declared = audit.DeclaredFile("/other/compose.yaml",
                                  [_decl("db", "10.176.226.219", (5432, 5432), 5432, 3)])
    assert [f.kind for f in audit.assess(state, declared=declared).drift] == ["not-running"]
    assert audit.assess(state, declared=declared, project="shop").drift == []


@pytest.mark.parametrize(
    "docker_host",
    [
        pytest.param("unix://{tmp}/nothing.sock", id="no-socket"),
        pytest.param("tcp://127.0.0.1:9", id="refused"),
    ],
)
def test_unreachable_engine_is_one_line_exit_2(
    docker_host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host.format(tmp=tmp_path))
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    code = main(["audit"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1, err
    assert err.startswith("compose-net: error: ") and "Traceback" not in err


def test_a_bad_file_is_reported_before_the_engine_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  web:\n    image: x\n    ports:\n      - \"99999:80\"\n")
    code = main(["audit", "--file", str(bad)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip().startswith(f"compose-net: error: {bad}:5:9: ")


def test_text_report() -> None:
    result = audit.assess(_state(COMPOSE, HOST))
    assert command.as_text(result, False) == (
        "engine unix:///x.sock (node, swarm inactive)\n"
        "\n"
        "CONTAINER  PROJECT/SERVICE  BINDING                        VERDICT\n"
        "monitor    ops/ops_mon      (host network)                 host-network\n"
        "shop-db-1  shop/db          10.176.226.219:5432->5432/tcp  internal\n"
        "                            203.0.113.10:8080->80/tcp      public\n"
        "\n"
        "container monitor: host-network: uses the host's network (network_mode: host): every "
        "port it opens is on the node's interfaces, and the engine cannot list them\n"
        "container shop-db-1: exposed: 203.0.113.10:8080->80/tcp is bound to the public "
        "address 203.0.113.10\n"
        "\n"
        "2 containers, 2 bindings: 2 exposed\n"
    )
