"""Node inventory files: what they mean, what is refused (with the line), and the round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compose_net.errors import ComposeNetError
from compose_net.resolvers import inventory
from compose_net.resolvers.inventory import Inventory, Node


def load(tmp_path: Path, text: str) -> Inventory:
    path = tmp_path / "nodes.yaml"
    path.write_text(text)
    return inventory.load(str(path))


def summary(node: Node) -> dict[str, Any]:
    data = node.as_json()
    del data["source"]
    return data


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(
            "nodes:\n  n1:\n    service: {ipv4: 10.176.0.11}\n",
            [
                {
                    "name": "n1",
                    "hostname": "n1",
                    "id": None,
                    "role": None,
                    "public": {"ipv4": None, "ipv6": None},
                    "service": {"ipv4": "10.176.0.11", "ipv6": None},
                    "labels": {},
                }
            ],
            id="minimal",
        ),
        pytest.param(
            "nodes:\n"
            "  web-1:\n"
            "    hostname: web-1.example.internal\n"
            "    id: ww4dygwjs23uz3mwvukjy2k5f\n"
            "    role: manager\n"
            "    public: {ipv4: 203.0.113.11, ipv6: '2001:db8::11'}\n"
            "    service:\n"
            "      ipv4: 10.176.0.11\n"
            "      ipv6: 'fd00:0::11'\n"
            "    labels: {name: web-1, ssd: true, rack: 7}\n",
            [
                {
                    "name": "web-1",
                    "hostname": "web-1.example.internal",
                    "id": "ww4dygwjs23uz3mwvukjy2k5f",
                    "role": "manager",
                    "public": {"ipv4": "203.0.113.11", "ipv6": "2001:db8::11"},
                    "service": {"ipv4": "10.176.0.11", "ipv6": "fd00::11"},
                    "labels": {"name": "web-1", "ssd": "true", "rack": "7"},
                }
            ],
            id="every-field-addresses-normalised",
        ),
        pytest.param(
            "nodes:\n  edge:\n    public: {ipv4: 203.0.113.9}\n",
            [
                {
                    "name": "edge",
                    "hostname": "edge",
                    "id": None,
                    "role": None,
                    "public": {"ipv4": "203.0.113.9", "ipv6": None},
                    "service": {"ipv4": None, "ipv6": None},
                    "labels": {},
                    "problem": "node 'edge' has no service address in {path}; "
                    "add nodes.edge.service.ipv4 (or ipv6)",
                }
            ],
            id="public-only-node-is-kept-with-its-problem",
        ),
        pytest.param(
            "x-team: infra\nnodes:\n"
            "  b: {service: {ipv4: 10.0.0.2}}\n  a: {service: {ipv4: 10.0.0.1}}\n",
            [
                {
                    "name": "b",
                    "hostname": "b",
                    "id": None,
                    "role": None,
                    "public": {"ipv4": None, "ipv6": None},
                    "service": {"ipv4": "10.0.0.2", "ipv6": None},
                    "labels": {},
                },
                {
                    "name": "a",
                    "hostname": "a",
                    "id": None,
                    "role": None,
                    "public": {"ipv4": None, "ipv6": None},
                    "service": {"ipv4": "10.0.0.1", "ipv6": None},
                    "labels": {},
                },
            ],
            id="file-order-kept-extensions-ignored",
        ),
    ),
)
def test_load(tmp_path: Path, text: str, expected: list[dict[str, Any]]) -> None:
    inv = load(tmp_path, text)
    path = str(tmp_path / "nodes.yaml")
    for item in expected:
        if "problem" in item:
            item["problem"] = item["problem"].format(path=path)
    assert [summary(n) for n in inv.nodes] == expected


@pytest.mark.parametrize(
    ("text", "where", "message"),
    (
        pytest.param("- n1\n", (1, 1), "invalid inventory: must be a mapping", id="not-a-mapping"),
        pytest.param(
            "hosts: {}\n", (1, 8), "invalid inventory: hosts: unknown key 'hosts'", id="no-nodes"
        ),
        pytest.param("nodes: {}\nextra: 1\n", (2, 8), "unknown key 'extra'", id="unknown-top-key"),
        pytest.param(
            "nodes:\n  n1:\n    adress: {ipv4: 10.0.0.1}\n",
            (3, 13),
            "nodes.n1.adress: unknown key 'adress'",
            id="unknown-node-key",
        ),
        pytest.param(
            "nodes:\n  n1:\n    service: {ipv4: 10.0.0.300}\n",
            (3, 21),
            "'10.0.0.300' is not an IPv4 address",
            id="bad-ipv4",
        ),
        pytest.param(
            "nodes:\n  n1:\n    service: {ipv4: 'fd00::1'}\n",
            (3, 21),
            "'fd00::1' is not an IPv4 address",
            id="ipv6-as-ipv4",
        ),
        pytest.param(
            "nodes:\n  n1:\n    service: {ipv6: 10.0.0.1}\n",
            (3, 21),
            "'10.0.0.1' is not an IPv6 address",
            id="ipv4-as-ipv6",
        ),
        pytest.param(
            "nodes:\n  n1:\n    service: {ipv4: 0.0.0.0}\n",
            (3, 21),
            "nodes.n1.service.ipv4: 0.0.0.0 cannot be a node's address",
            id="unspecified",
        ),
        pytest.param(
            "nodes:\n  n1:\n    public: {ipv6: '::1'}\n",
            (3, 20),
            "nodes.n1.public.ipv6: ::1 cannot be a node's address",
            id="loopback",
        ),
        pytest.param(
            "nodes:\n  n1:\n    service: {ip: 10.0.0.1}\n",
            (3, 19),
            "nodes.n1.service.ip: unknown key 'ip'",
            id="bad-family-key",
        ),
        pytest.param(
            "nodes:\n  n1:\n    role: leader\n",
            (3, 11),
            "nodes.n1.role: must be one of",
            id="bad-role",
        ),
        pytest.param(
            "nodes:\n  n1:\n    labels: [a, b]\n",
            (3, 13),
            "nodes.n1.labels: must be a mapping",
            id="labels-not-a-mapping",
        ),
        pytest.param(
            "nodes:\n  n1:\n    hostname: 12\n",
            (3, 15),
            "nodes.n1.hostname: must be a string",
            id="hostname-not-a-string",
        ),
        pytest.param(
            "nodes:\n  'bad name': {}\n",
            (2, 15),
            "a node name starts with a letter",
            id="bad-node-name",
        ),
        pytest.param(
            "nodes:\n  n1: [10.0.0.1]\n",
            (2, 7),
            "nodes.n1: must be a mapping",
            id="node-not-a-mapping",
        ),
    ),
)
def test_load_refuses(tmp_path: Path, text: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(ComposeNetError) as info:
        load(tmp_path, text)
    assert message in info.value.message
    assert (info.value.line, info.value.column) == where
    assert info.value.path == str(tmp_path / "nodes.yaml")


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ComposeNetError, match="duplicate"):
        load(
            tmp_path,
            "nodes:\n  n1: {service: {ipv4: 10.0.0.1}}\n  n1: {service: {ipv4: 10.0.0.2}}\n",
        )


ROUND_TRIP = (
    Node(
        "n1",
        hostname="n1",
        id="ww4dygwjs23uz3mwvukjy2k5f",
        role="manager",
        labels={"name": "n1", "compose-net.service-ipv4": "10.176.9.11", 'quote"d': "a: b"},
        public_ipv4="203.0.113.11",
        service_ipv4="10.176.9.11",
        service_ipv6="fd00::11",
    ),
    Node(
        "n2",
        hostname="host two",
        role="worker",
        public_ipv6="2001:db8::12",
        service_ipv4="10.176.0.12",
    ),
    Node(
        "007", public_ipv4="203.0.113.13", problem="its advertised address 203.0.113.13 is public"
    ),
)


def test_render_yaml_reads_back_to_the_same_table(tmp_path: Path) -> None:
    text = inventory.render_yaml(Inventory(ROUND_TRIP, "test"), header=("written by a test",))
    assert text.startswith("# written by a test\nnodes:\n")
    assert "# no service address: its advertised address 203.0.113.13 is public" in text
    back = load(tmp_path, text)
    path = str(tmp_path / "nodes.yaml")
    expected = [summary(n) for n in ROUND_TRIP[:2]] + [
        {
            **summary(ROUND_TRIP[2]),
            "problem": f"node '007' has no service address in {path}; "
            "add nodes.007.service.ipv4 (or ipv6)",
        }
    ]
    assert [summary(n) for n in back.nodes] == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    (
        pytest.param("n1", "n1", id="by-name"),
        pytest.param("host two", "n2", id="by-hostname"),
        pytest.param("ww4dygwjs23uz3mwvukjy2k5f", "n1", id="by-id"),
        pytest.param(
            "n4", "error:there is no node 'n4' in test (nodes: n1, n2, 007)", id="unknown"
        ),
    ),
)
def test_find(ref: str, expected: str) -> None:
    inv = Inventory(ROUND_TRIP, "test")
    if expected.startswith("error:"):
        with pytest.raises(ComposeNetError) as info:
            inv.find(ref)
        assert info.value.message == expected[len("error:") :]
    else:
        assert inv.find(ref).name == expected


def test_duplicate_node_names_are_refused() -> None:
    with pytest.raises(ComposeNetError, match="node 'a' appears twice"):
        Inventory((Node("a"), Node("a")))
