from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import lint, ports, run

RULE = "CN009"

INVALID_TEMPLATE = (
    "invalid interpolation format: ${ needs a variable name and a closing } (a literal $ is $$)"
)


@pytest.mark.parametrize(
    ("text", "env"),
    (
        pytest.param(
            ports('"127.0.0.1:8080:80"', '"[::1]:8443:443/tcp"', '"::1:6000:6000"'),
            {},
            id="ip-forms",
        ),
        pytest.param(
            ports('"127.0.0.1:9090-9091:8080-8081"', '"8000-9000:80"', '"3000-3005"'),
            {},
            id="ranges",
        ),
        pytest.param(
            ports('"6060:6060/udp"', '"38412:38412/sctp"', '"53:53/UDP"'), {}, id="protocols"
        ),
        pytest.param(
            ports("{target: 53, published: '5353', host_ip: 127.0.0.1, protocol: udp, mode: host}"),
            {},
            id="long-syntax",
        ),
        pytest.param(ports("{target: 80, published: 8000-8010}"), {}, id="long-published-range"),
        pytest.param(
            ports("{target: 80, x-note: hi, name: web, app_protocol: http}"),
            {},
            id="long-extra-keys",
        ),
        pytest.param(ports('"${IP:?set IP}:8080:80"'), {}, id="required-variable-unset-here"),
        pytest.param(
            ports("{target: 80, published: '${P:?set P}'}"), {}, id="long-required-variable"
        ),
        pytest.param(ports('"${PORT:-8080}:80"'), {}, id="default"),
    ),
)
def test_noop(tmp_path: Path, text: str, env: dict[str, str]) -> None:
    assert lint(tmp_path, text, rule=RULE, env=env) == []


@pytest.mark.parametrize(
    ("entry", "env", "problem"),
    (
        pytest.param('"99999:80"', {}, "invalid hostPort: 99999", id="host-port-too-big"),
        pytest.param(
            '"8080:0"', {}, "the port is missing a target (container) port", id="container-zero"
        ),
        pytest.param('"8080:80/icmp"', {}, "invalid proto: icmp", id="protocol"),
        pytest.param(
            '"127.0.0.1:3001"', {}, "invalid hostPort: 127.0.0.1", id="ip-without-host-port"
        ),
        pytest.param('"10.0.0.300:80:80"', {}, "invalid IP address: 10.0.0.300", id="bad-ip"),
        pytest.param(
            '"9000-9002:80-81"',
            {},
            "invalid ranges specified for container and host Ports: 80-81 and 9000-9002",
            id="range-lengths",
        ),
        pytest.param('"${PORT:-http}:80"', {}, "invalid hostPort: http", id="bad-default"),
        pytest.param(
            '"${IP}:80:80"',
            {"IP": "nonsense"},
            "the host IP from ${IP} is not an IP address",
            id="bad-value-from-env",
        ),
        pytest.param(
            '"${:80:80"', {}, INVALID_TEMPLATE, id="bad-template"
        ),
        pytest.param(
            "{target: 80, published: http}",
            {},
            "invalid published port: 'http' (expected a port, or a range like 8000-8010)",
            id="long-published",
        ),
        pytest.param(
            "{target: 80, protocol: icmp}",
            {},
            "invalid protocol: 'icmp' (expected tcp, udp or sctp)",
            id="long-protocol",
        ),
        pytest.param(
            "{target: 80, mode: global}",
            {},
            "invalid mode: 'global' (expected ingress or host)",
            id="long-mode",
        ),
        pytest.param(
            "{target: 70000}",
            {},
            "invalid target port: 70000 (expected 1-65535)",
            id="long-target-big",
        ),
        pytest.param(
            "{published: 80}", {}, "the port mapping is missing a target port", id="long-no-target"
        ),
        pytest.param(
            "{target: 80, hostip: 10.0.0.5}",
            {},
            "additional property 'hostip' is not allowed in a port mapping",
            id="long-unknown-key",
        ),
        pytest.param(
            "{target: 80, host_ip: ''}", {}, "invalid IP address: ", id="long-empty-host-ip"
        ),
    ),
)
def test_finding(tmp_path: Path, entry: str, env: dict[str, str], problem: str) -> None:
    result = run(tmp_path, {"compose.yaml": ports(entry)}, rule=RULE, env=env)
    assert [(f.line, f.column) for f in result.findings] == [(5, 9)]
    assert result.findings[0].message.endswith(f": {problem}"), result.findings[0].message


def test_message_has_the_entry(tmp_path: Path) -> None:
    result = run(tmp_path, {"compose.yaml": ports('"99999:80"')}, rule=RULE)
    assert [(f.message, f.severity) for f in result.findings] == [
        ('services.web.ports[0] "99999:80": invalid hostPort: 99999', "error"),
    ]
