from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from rule_cases import lint, ports, run

from compose_net.document import Document
from compose_net.engine import AddressesFor
from compose_net.policy.binds import DEFAULT_KEY

RULE = "CN007"


def nodes(table: Mapping[str, set[str]]) -> AddressesFor:
    def addresses_for(doc: Document) -> Mapping[str, frozenset[str]]:
        del doc
        return {name: frozenset(addrs) for name, addrs in table.items()}

    return addresses_for


WEB_ON_5 = nodes({"web": {"10.0.0.5", "fd00::5"}})


@pytest.mark.parametrize(
    ("text", "table"),
    (
        pytest.param(ports('"10.0.0.5:80:80"'), WEB_ON_5, id="its-own-address"),
        pytest.param(ports('"[fd00::5]:80:80"'), WEB_ON_5, id="its-own-ipv6"),
        pytest.param(ports('"127.0.0.1:80:80"'), WEB_ON_5, id="loopback-is-always-its-own"),
        pytest.param(
            ports('"80:80"', '"203.0.113.5:81:80"'),
            WEB_ON_5,
            id="wildcard-and-public-are-other-rules",
        ),
        pytest.param(ports('"${IP:?}:80:80"'), WEB_ON_5, id="variable-filled-in-on-the-node"),
        pytest.param(
            ports('"10.0.0.6:80:80"'), nodes({"db": {"10.0.0.5"}}), id="service-not-placed"
        ),
        pytest.param(ports('"10.0.0.6:80:80"'), None, id="no-inventory-no-rule"),
    ),
)
def test_noop(tmp_path: Path, text: str, table: AddressesFor | None) -> None:
    assert lint(tmp_path, text, rule=RULE, addresses_for=table) == []


@pytest.mark.parametrize(
    ("text", "table", "expected"),
    (
        pytest.param(
            ports('"10.0.0.6:80:80"'), WEB_ON_5, [(5, 9, "web")], id="another-nodes-address"
        ),
        pytest.param(
            ports('"10.0.0.5:80:80"', '"[fd00::6]:81:80"'), WEB_ON_5, [(6, 9, "web")], id="ipv6"
        ),
        pytest.param(
            ports("{target: 80, host_ip: 192.168.1.9}"), WEB_ON_5, [(5, 9, "web")], id="long-syntax"
        ),
        pytest.param(
            ports('"10.0.0.6:80:80"'),
            nodes({DEFAULT_KEY: {"10.0.0.5"}}),
            [(5, 9, "web")],
            id="default-entry",
        ),
    ),
)
def test_finding(
    tmp_path: Path, text: str, table: AddressesFor, expected: list[tuple[int, int, str]]
) -> None:
    assert lint(tmp_path, text, rule=RULE, addresses_for=table) == expected


def test_message(tmp_path: Path) -> None:
    result = run(
        tmp_path, {"compose.yaml": ports('"10.0.0.6:80:80"')}, rule=RULE, addresses_for=WEB_ON_5
    )
    assert [(f.message, f.hint) for f in result.findings] == [
        (
            'services.web.ports[0] "10.0.0.6:80:80" is bound to 10.0.0.6, which is not an '
            "address of the node that runs web (10.0.0.5, fd00::5)",
            "bind it to 10.0.0.5, or fill the address in per node with a variable "
            "(`compose-net harden --bind-var NAME`)",
        )
    ]


def test_silent_under_stack_target(tmp_path: Path) -> None:
    assert (
        lint(tmp_path, ports('"10.0.0.6:80:80"'), rule=RULE, addresses_for=WEB_ON_5, target="stack")
        == []
    )
