from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import lint, ports, run

RULE = "CN002"


@pytest.mark.parametrize(
    "text",
    (
        pytest.param(
            ports('"10.1.2.3:80:80"', '"172.16.0.9:81:80"', '"192.168.1.2:82:80"'), id="rfc1918"
        ),
        pytest.param(ports('"100.64.0.1:80:80"'), id="shared-address-space"),
        pytest.param(ports('"169.254.1.1:80:80"', '"[fe80::1]:81:80"'), id="link-local"),
        pytest.param(ports('"[fd00::5]:80:80"'), id="ipv6-unique-local"),
        pytest.param(ports('"127.0.0.1:80:80"', '"[::1]:81:80"'), id="loopback"),
        pytest.param(ports('"80:80"', '"0.0.0.0:81:80"'), id="wildcard-is-CN001s"),
        pytest.param(ports('"${IP:-203.0.113.5}:80:80"'), id="variable-is-CN003s"),
        pytest.param(ports("{target: 80, host_ip: 10.0.0.5}"), id="long-private"),
    ),
)
def test_noop(tmp_path: Path, text: str) -> None:
    assert lint(tmp_path, text, rule=RULE) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(ports('"203.0.113.5:80:80"'), [(5, 9, "web")], id="ipv4"),
        pytest.param(
            ports('"127.0.0.1:80:80"', '"8.8.8.8:53:53/udp"'), [(6, 9, "web")], id="second-entry"
        ),
        pytest.param(ports('"[2001:db8::10]:80:80"'), [(5, 9, "web")], id="ipv6-bracketed"),
        pytest.param(ports('"2001:db8::10:80:80"'), [(5, 9, "web")], id="ipv6-bare"),
        pytest.param(ports('"::ffff:203.0.113.5:80:80"'), [(5, 9, "web")], id="ipv4-mapped"),
        pytest.param(
            "services:\n  web:\n    image: x\n    ports:\n"
            "      - target: 80\n        host_ip: 198.51.100.7\n",
            [(5, 9, "web")],
            id="long-block",
        ),
    ),
)
def test_finding(tmp_path: Path, text: str, expected: list[tuple[int, int, str]]) -> None:
    assert lint(tmp_path, text, rule=RULE) == expected


def test_message_and_exposure(tmp_path: Path) -> None:
    result = run(tmp_path, {"compose.yaml": ports('"203.0.113.5:80:80"')}, rule=RULE)
    assert [(f.message, f.exposure, f.severity) for f in result.findings] == [
        (
            'services.web.ports[0] "203.0.113.5:80:80" is bound to the public address 203.0.113.5',
            "public",
            "error",
        ),
    ]


def test_silent_under_stack_target(tmp_path: Path) -> None:
    assert lint(tmp_path, ports('"203.0.113.5:80:80"'), rule=RULE, target="stack") == []
