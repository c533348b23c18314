"""Address classes, from psutil and from `ip -o addr`, read inside a namespace built for the test.

The namespace is a lab node (a "public" and an "internal" veth) with more interfaces added:
container bridges under their usual names, a CGNAT and an RFC 1918 address, IPv6 addresses of
every kind, and addresses just outside the internal ranges. Link-local addresses are added by
hand (address generation is off), so every address in the namespace is known.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator

import pytest
from harness import Lab, Node, netns_unavailable_reason, require

from compose_net.policy import addresses
from compose_net.resolvers import local
from compose_net.resolvers.local import InterfaceAddress

#: interface -> (link type arguments for `ip link add`, addresses with prefix length)
INTERFACES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "eth2": (
        ("type", "veth", "peer", "name", "eth2p"),
        (
            "172.16.5.21/24",
            "192.168.7.21/24",
            "100.64.1.21/10",
            "169.254.9.21/16",
            "198.51.100.21/24",
            "100.63.255.21/24",
            "172.32.0.21/24",
            "fe80::21/64",
        ),
    ),
    "docker0": (("type", "bridge"), ("172.17.0.1/16", "fe80::1/64")),
    "br-3f2a9c": (("type", "bridge"), ("172.18.0.1/16",)),
    "docker_gwbridge": (("type", "bridge"), ("172.19.0.1/16",)),
    "veth0a1b2c": (("type", "veth", "peer", "name", "vethpeer"), ("10.200.0.1/24",)),
    "cni0": (("type", "bridge"), ("10.22.0.1/24",)),
    "flannel.1": (("type", "vxlan", "id", "1", "dstport", "8472"), ("10.244.0.0/32",)),
}
#: more addresses on the lab's own interfaces
EXTRA = {
    "public": ("2001:db8::21/64", "fe80::2:21/64"),
    "internal": ("fd00:176::21/64",),
}

ROWS = (
    ("lo", "127.0.0.1", 8, "loopback"),
    ("lo", "::1", 128, "loopback"),
    ("public", "203.0.113.21", 24, "public"),
    ("public", "2001:db8::21", 64, "public"),
    ("public", "fe80::2:21", 64, "link-local"),
    ("internal", "10.176.0.21", 16, "service"),
    ("internal", "fd00:176::21", 64, "service"),
    ("eth2", "172.16.5.21", 24, "service"),
    ("eth2", "192.168.7.21", 24, "service"),
    ("eth2", "100.64.1.21", 10, "service"),
    ("eth2", "169.254.9.21", 16, "link-local"),
    ("eth2", "198.51.100.21", 24, "public"),
    ("eth2", "100.63.255.21", 24, "public"),
    ("eth2", "172.32.0.21", 24, "public"),
    ("eth2", "fe80::21", 64, "link-local"),
    ("docker0", "172.17.0.1", 16, "container"),
    ("docker0", "fe80::1", 64, "link-local"),
    ("br-3f2a9c", "172.18.0.1", 16, "container"),
    ("docker_gwbridge", "172.19.0.1", 16, "container"),
    ("veth0a1b2c", "10.200.0.1", 24, "container"),
    ("cni0", "10.22.0.1", 24, "container"),
    ("flannel.1", "10.244.0.0", 32, "container"),
)

CAPTURE = (
    "import json, psutil; print(json.dumps({name: [[int(a.family), a.address, a.netmask] "
    "for a in addrs] for name, addrs in psutil.net_if_addrs().items()}))"
)


def build(node: Node) -> None:
    for name, (link, addrs) in INTERFACES.items():
        node.ip("link", "add", name, *link)
        node.ip("link", "set", name, "addrgenmode", "none")
        for addr in addrs:
            node.ip("addr", "add", addr, "dev", name, *(("nodad",) if ":" in addr else ()))
        node.ip("link", "set", name, "up")
    for peer in ("eth2p", "vethpeer"):
        node.ip("link", "set", peer, "addrgenmode", "none")
        node.ip("link", "set", peer, "up")
    for name, addrs in EXTRA.items():
        for addr in addrs:
            node.ip("addr", "add", addr, "dev", name, "nodad")


@pytest.fixture(scope="module")
def seen() -> Iterator[tuple[list[InterfaceAddress], list[InterfaceAddress]]]:
    """(from psutil, from `busybox ip -o addr`) inside the namespace."""
    reason = netns_unavailable_reason()
    require(reason is None, reason or "")
    with Lab() as lab:
        node = lab.add_node("nsa", "203.0.113.21", "10.176.0.21")
        build(node)
        raw = json.loads(node.run(sys.executable, "-c", CAPTURE).stdout)
        table = {name: [(f, a, m) for f, a, m in entries] for name, entries in raw.items()}
        from_psutil = local.from_psutil(table)
        from_ip = local.parse_ip_oneline(node.run("busybox", "ip", "-o", "addr", "show").stdout)
    yield from_psutil, from_ip


def _without_generated(items: list[InterfaceAddress]) -> list[tuple[str, str, int, str]]:
    """Rows, less the link-local addresses the kernel makes for the lab's own veths."""
    known = {(i, a) for i, a, _, _ in ROWS}
    return [
        (i.interface, i.address, i.prefixlen, i.klass)
        for i in items
        if (i.interface, i.address) in known or not i.address.startswith("fe80:")
    ]


@pytest.mark.parametrize(
    ("interface", "address", "prefixlen", "klass"),
    [pytest.param(*row, id=f"{row[0]}-{row[1]}") for row in ROWS],
)
def test_class(
    seen: tuple[list[InterfaceAddress], list[InterfaceAddress]],
    interface: str,
    address: str,
    prefixlen: int,
    klass: str,
) -> None:
    from_psutil, _ = seen
    found = [i for i in from_psutil if (i.interface, i.address) == (interface, address)]
    assert [(i.prefixlen, i.klass, i.family) for i in found] == [
        (prefixlen, klass, 6 if ":" in address else 4)
    ]


def test_every_address_is_in_the_table(
    seen: tuple[list[InterfaceAddress], list[InterfaceAddress]],
) -> None:
    from_psutil, _ = seen
    assert sorted(_without_generated(from_psutil)) == sorted(ROWS)
    assert all(i.klass == "link-local" for i in from_psutil if i.address.startswith("fe80:"))


def test_ip_command_output_gives_the_same_table(
    seen: tuple[list[InterfaceAddress], list[InterfaceAddress]],
) -> None:
    from_psutil, from_ip = seen
    assert from_ip == from_psutil


@pytest.mark.parametrize(
    ("kind", "family", "choice", "expected"),
    (
        pytest.param("public", 4, local.Choice("public"), "203.0.113.21", id="public-v4-interface"),
        pytest.param("public", 6, local.Choice(), "2001:db8::21", id="public-v6"),
        pytest.param("service", 6, local.Choice(), "fd00:176::21", id="service-v6"),
        pytest.param(
            "service", 4, local.Choice("internal"), "10.176.0.21", id="service-v4-interface"
        ),
        pytest.param(
            "service",
            4,
            local.Choice(cidr=addresses.parse_cidr("100.64.0.0/10")),
            "100.64.1.21",
            id="service-v4-cidr",
        ),
        pytest.param(
            "service",
            4,
            local.Choice(cidr=addresses.parse_cidr("198.51.100.0/24")),
            "198.51.100.21",
            id="cidr-declares-a-network-internal",
        ),
        pytest.param(
            "service",
            4,
            local.Choice(),
            "error:several internal (service) IPv4 addresses on this host: 100.64.1.21 "
            "(eth2), 172.16.5.21 (eth2), 192.168.7.21 (eth2), 10.176.0.21 (internal); "
            "choose one with --interface NAME or --cidr CIDR",
            id="ambiguous",
        ),
        pytest.param(
            "public",
            4,
            local.Choice("eth2"),
            "error:several public IPv4 addresses on this host matching --interface eth2",
            id="ambiguous-on-one-interface",
        ),
        pytest.param(
            "service",
            4,
            local.Choice("docker0"),
            "error:no internal (service) IPv4 address on this host matching --interface docker0",
            id="container-bridge-never-counts",
        ),
        pytest.param(
            "service",
            6,
            local.Choice("public"),
            "error:no internal (service) IPv6 address on this host matching --interface public",
            id="empty",
        ),
    ),
)
def test_select(
    seen: tuple[list[InterfaceAddress], list[InterfaceAddress]],
    kind: local.Kind,
    family: int,
    choice: local.Choice,
    expected: str,
) -> None:
    from_psutil, _ = seen
    if expected.startswith("error:"):
        with pytest.raises(local.AddrError) as info:
            local.select(from_psutil, kind, family, choice)
        assert info.value.message.startswith(expected[len("error:") :])
    else:
        assert local.select(from_psutil, kind, family, choice) == expected


def test_socket_families_are_the_platform_ones() -> None:
    # The captured table carries the numbers psutil reports; they must be these constants.
    assert (int(socket.AF_INET), int(socket.AF_INET6)) == (2, 10)
