"""Swarm nodes (the JSON of the engine's GET /nodes) as node table entries."""

from __future__ import annotations

from typing import Any

import pytest

from compose_net.resolvers import docker

HINT4 = (
    "give its internal address with "
    "`docker node update --label-add compose-net.service-ipv4=ADDRESS {host}`"
)


def api_node(
    host: str,
    addr: str | None,
    *,
    role: str = "worker",
    labels: dict[str, str] | None = None,
    manager_addr: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ID": f"id-{host}",
        "Description": {"Hostname": host},
        "Spec": {"Role": role, "Labels": labels or {}},
        "Status": {"State": "ready", **({"Addr": addr} if addr is not None else {})},
    }
    if manager_addr is not None:
        data["ManagerStatus"] = {"Leader": True, "Addr": manager_addr}
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    (
        pytest.param(
            api_node("n2", "10.176.0.12"),
            ("10.176.0.12", None, None, None, "advertised address", None),
            id="internal",
        ),
        pytest.param(
            api_node("n1", "0.0.0.0", role="manager", manager_addr="10.176.0.11:2377"),
            ("10.176.0.11", None, None, None, "advertised address", None),
            id="manager-reads-0.0.0.0",
        ),
        pytest.param(
            api_node("n1", "0.0.0.0", role="manager", manager_addr="[fd00::11]:2377"),
            (None, "fd00::11", None, None, "advertised address", None),
            id="manager-ipv6",
        ),
        pytest.param(
            api_node("n3", "203.0.113.13"),
            (
                None,
                None,
                "203.0.113.13",
                None,
                "",
                "its advertised address 203.0.113.13 is public; " + HINT4.format(host="n3"),
            ),
            id="public-refused",
        ),
        pytest.param(
            api_node("n6", "2001:db8::6"),
            (
                None,
                None,
                None,
                "2001:db8::6",
                "",
                "its advertised address 2001:db8::6 is public; give its internal address "
                "with `docker node update --label-add compose-net.service-ipv6=ADDRESS n6`",
            ),
            id="public-ipv6-refused",
        ),
        pytest.param(
            api_node("n3", "203.0.113.13", labels={"compose-net.service-ipv4": "10.176.0.13"}),
            ("10.176.0.13", None, "203.0.113.13", None, "label compose-net.service-ipv4", None),
            id="public-with-label",
        ),
        pytest.param(
            api_node("n2", "10.176.0.12", labels={"compose-net.service-ipv4": "192.168.5.2"}),
            ("192.168.5.2", None, None, None, "label compose-net.service-ipv4", None),
            id="label-overrides-internal",
        ),
        pytest.param(
            api_node("n2", "10.176.0.12", labels={"compose-net.service-ipv6": "fd00::12"}),
            (
                "10.176.0.12",
                "fd00::12",
                None,
                None,
                "advertised address, label compose-net.service-ipv6",
                None,
            ),
            id="label-adds-ipv6",
        ),
        pytest.param(
            api_node("n2", "10.176.0.12", labels={"compose-net.service-ipv4": "fd00::12"}),
            (
                "10.176.0.12",
                None,
                None,
                None,
                "advertised address",
                "label compose-net.service-ipv4='fd00::12' is not a usable IPv4 address",
            ),
            id="label-of-the-wrong-family",
        ),
        pytest.param(
            api_node("n2", "10.176.0.12", labels={"compose-net.service-ipv4": "node-2.internal"}),
            (
                "10.176.0.12",
                None,
                None,
                None,
                "advertised address",
                "label compose-net.service-ipv4='node-2.internal' is not an IPv4 address",
            ),
            id="label-not-an-address",
        ),
        pytest.param(
            api_node("n2", "127.0.0.1"),
            (None, None, None, None, "", "its advertised address 127.0.0.1 is loopback"),
            id="loopback",
        ),
        pytest.param(
            api_node("n2", None),
            (None, None, None, None, "", "it advertises no address"),
            id="no-address",
        ),
    ),
)
def test_swarm_node(
    data: dict[str, Any],
    expected: tuple[str | None, str | None, str | None, str | None, str, str | None],
) -> None:
    node = docker.swarm_node(data)
    assert (
        node.service_ipv4,
        node.service_ipv6,
        node.public_ipv4,
        node.public_ipv6,
        node.source,
        node.problem,
    ) == expected
    assert (node.name, node.id, node.role) == (
        data["Description"]["Hostname"],
        data["ID"],
        data["Spec"]["Role"],
    )


def test_shared_hostnames_get_their_id() -> None:
    nodes = [api_node("vm", "10.0.0.2"), api_node("vm", "10.0.0.1"), api_node("db", "10.0.0.3")]
    nodes[0]["ID"], nodes[1]["ID"] = "bbbbbbbbbbbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaaaaaaaaaaa"
    table = docker.swarm_inventory(nodes)
    assert [(n.name, n.hostname, n.service_ipv4) for n in table.nodes] == [
        ("db", "db", "10.0.0.3"),
        ("vm-aaaaaaaaaaaa", "vm", "10.0.0.1"),
        ("vm-bbbbbbbbbbbb", "vm", "10.0.0.2"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param("10.0.0.1:2377", "10.0.0.1", id="ipv4-port"),
        pytest.param("[fd00::1]:2377", "fd00::1", id="ipv6-port"),
        pytest.param("fd00::1", "fd00::1", id="ipv6-bare"),
        pytest.param("10.0.0.1", "10.0.0.1", id="ipv4-bare"),
    ),
)
def test_manager_address(text: str, expected: str) -> None:
    assert (
        docker.advertised({"Status": {"Addr": "0.0.0.0"}, "ManagerStatus": {"Addr": text}})
        == expected
    )
