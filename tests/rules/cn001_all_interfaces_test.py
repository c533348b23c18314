from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import lint, ports, run

RULE = "CN001"


@pytest.mark.parametrize(
    "text",
    (
        pytest.param(ports('"10.176.226.219:6379:6379"'), id="private-address"),
        pytest.param(
            ports('"127.0.0.1:6379:6379"', '"[::1]:6380:6379"', '"::1:6381:6379"'), id="loopback"
        ),
        pytest.param(ports("{target: 80, published: 8080, host_ip: 10.0.0.5}"), id="long-private"),
        pytest.param(ports('"${BIND_IP:-127.0.0.1}:80:80"'), id="variable-with-safe-default"),
        pytest.param(ports('"${BIND_IP}:80:80"'), id="variable-is-CN003s"),
        pytest.param(ports('"203.0.113.5:80:80"'), id="public-is-CN002s"),
        pytest.param(ports('"99999:80"'), id="invalid-is-CN009s"),
        pytest.param(ports('"${DB:-127.0.0.1:5432}:5432"'), id="variable-holds-ip-and-port"),
        pytest.param("services:\n  web:\n    image: nginx\n    ports: []\n", id="empty-list"),
        pytest.param("services:\n  web:\n    image: nginx\n    expose: ['80']\n", id="expose-only"),
    ),
)
def test_noop(tmp_path: Path, text: str) -> None:
    assert lint(tmp_path, text, rule=RULE) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(ports('"8080:80"'), [(5, 9, "web")], id="host-container"),
        pytest.param(ports("8080:80"), [(5, 9, "web")], id="unquoted"),
        pytest.param(ports("80"), [(5, 9, "web")], id="container-only-int"),
        pytest.param(ports('"3000-3005"'), [(5, 9, "web")], id="container-range"),
        pytest.param(ports('"0.0.0.0:80:80"'), [(5, 9, "web")], id="ipv4-wildcard"),
        pytest.param(ports('"[::]:80:80"'), [(5, 9, "web")], id="ipv6-wildcard-bracketed"),
        pytest.param(ports('":::80:80"'), [(5, 9, "web")], id="ipv6-wildcard-bare"),
        pytest.param(ports('":80:80"'), [(5, 9, "web")], id="empty-ip"),
        pytest.param(ports('"::ffff:0.0.0.0:80:80"'), [(5, 9, "web")], id="mapped-wildcard"),
        pytest.param(ports('"${PORT:-8080}:80"'), [(5, 9, "web")], id="variable-host-port"),
        pytest.param(
            ports('"127.0.0.1:80:80"', '"9090:90/udp"'), [(6, 9, "web")], id="second-entry"
        ),
        pytest.param(
            ports("{target: 80, published: 8080}"), [(5, 9, "web")], id="long-flow-no-host-ip"
        ),
        pytest.param(
            "services:\n  web:\n    image: nginx\n    ports:\n"
            "      - target: 80\n        host_ip: 0.0.0.0\n",
            [(5, 9, "web")],
            id="long-block-wildcard",
        ),
        pytest.param(
            'services:\n  web:\n    image: nginx\n    ports: ["127.0.0.1:80:80", "81:81"]\n',
            [(4, 32, "web")],
            id="flow-sequence-column",
        ),
        pytest.param(
            "x-ports: &p\n  - '80:80'\nservices:\n  a:\n    image: x\n    ports: *p\n"
            "  b:\n    image: x\n    ports: *p\n",
            [(2, 5, "a"), (2, 5, "b")],
            id="anchor-shared-by-two-services",
        ),
        pytest.param(
            "x-base: &base\n  ports: ['80:80']\nservices:\n  a:\n    <<: *base\n    image: x\n",
            [(2, 11, "a")],
            id="merge-key",
        ),
        pytest.param(
            "services:\n  base:\n    image: x\n    ports: ['80:80']\n  child:\n    extends: base\n",
            [(4, 13, "base"), (4, 13, "child")],
            id="extends-same-file",
        ),
    ),
)
def test_finding(tmp_path: Path, text: str, expected: list[tuple[int, int, str]]) -> None:
    assert lint(tmp_path, text, rule=RULE) == expected


def test_silent_under_stack_target(tmp_path: Path) -> None:
    """Under swarm every port is swarm-published's (CN005); CN001 would say it twice."""
    assert lint(tmp_path, ports('"8080:80"'), rule=RULE, target="stack") == []


@pytest.mark.parametrize(
    ("entry", "message", "exposure"),
    (
        pytest.param(
            '"8080:80"',
            'services.web.ports[0] "8080:80" is published on all interfaces',
            "all-interfaces",
            id="no-ip",
        ),
        pytest.param(
            '"0.0.0.0:80:80"',
            'services.web.ports[0] "0.0.0.0:80:80" is published on all interfaces (0.0.0.0)',
            "all-interfaces",
            id="explicit-wildcard",
        ),
        pytest.param(
            '"3000"',
            'services.web.ports[0] "3000" publishes a random host port on all interfaces',
            "all-interfaces",
            id="random-port",
        ),
    ),
)
def test_message(tmp_path: Path, entry: str, message: str, exposure: str) -> None:
    result = run(tmp_path, {"compose.yaml": ports(entry)}, rule=RULE)
    assert [(f.message, f.exposure, f.severity, f.name) for f in result.findings] == [
        (message, exposure, "error", "all-interfaces"),
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    (
        pytest.param({}, [], id="default-binds-loopback"),
        pytest.param({"DB": "5432"}, [(5, 9, "web")], id="value-without-ip"),
    ),
)
def test_variable_holding_ip_and_port(
    tmp_path: Path, env: dict[str, str], expected: list[tuple[int, int, str]]
) -> None:
    """The environment decides: Compose reads "${DB:-127.0.0.1:5432}:5432" after interpolation."""
    assert lint(tmp_path, ports('"${DB:-127.0.0.1:5432}:5432"'), rule=RULE, env=env) == expected
