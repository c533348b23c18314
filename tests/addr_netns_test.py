"""`compose-net addr`, `nodes --resolve local` and `harden --resolve local`, run inside namespaces.

Each case builds a lab node with a known public (203.0.113.31) and internal (10.176.0.31)
veth, changes it as the case says, and runs the real command in that namespace.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import Lab, Node

pytestmark = pytest.mark.netns

PUBLIC = "203.0.113.31"
INTERNAL = "10.176.0.31"


def plain(node: Node) -> None:
    del node


def two_internal(node: Node) -> None:
    node.ip("link", "add", "eth2", "type", "veth", "peer", "name", "eth2p")
    node.ip("addr", "add", "10.50.0.31/24", "dev", "eth2")
    node.ip("link", "set", "eth2", "up")


def public_only(node: Node) -> None:
    node.ip("addr", "del", f"{INTERNAL}/16", "dev", "internal")


def bridge_only(node: Node) -> None:
    public_only(node)
    node.ip("link", "add", "docker0", "type", "bridge")
    node.ip("addr", "add", "172.17.0.1/16", "dev", "docker0")


Setup = Callable[[Node], None]


def run_in(
    make_lab: Callable[..., Lab], setup: Setup, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run compose-net with ``args`` in a fresh lab node changed by ``setup``."""
    node = make_lab().add_node("nsb", PUBLIC, INTERNAL)
    setup(node)
    return node.run(sys.executable, "-m", "compose_net", *args, check=False)


@pytest.mark.parametrize(
    ("setup", "args", "code", "stdout", "stderr"),
    (
        pytest.param(plain, ["service", "ipv4"], 0, f"{INTERNAL}\n", "", id="service-ipv4"),
        pytest.param(plain, ["public", "ipv4"], 0, f"{PUBLIC}\n", "", id="public-ipv4"),
        pytest.param(plain, ["ipv4", "public"], 0, f"{PUBLIC}\n", "", id="any-order"),
        pytest.param(plain, ["service"], 0, f"{INTERNAL}\n", "", id="service-every-family"),
        pytest.param(
            plain,
            ["ipv4"],
            0,
            "INTERFACE  FAMILY  ADDRESS          CLASS\n"
            f"internal   ipv4    {INTERNAL}/16   service\n"
            "lo         ipv4    127.0.0.1/8      loopback\n"
            f"public     ipv4    {PUBLIC}/24  public\n",
            "",
            id="table",
        ),
        pytest.param(
            plain,
            ["--format", "json", "service", "ipv4"],
            0,
            json.dumps({"class": "service", "family": "ipv4", "address": INTERNAL}, indent=2)
            + "\n",
            "",
            id="json",
        ),
        pytest.param(
            plain,
            ["service", "ipv6"],
            2,
            "",
            "compose-net: error: no internal (service) IPv6 address on this host",
            id="no-ipv6",
        ),
        pytest.param(
            two_internal,
            ["service", "ipv4"],
            2,
            "",
            "compose-net: error: several internal (service) IPv4 addresses on this "
            f"host: 10.50.0.31 (eth2), {INTERNAL} (internal); choose one with "
            "--interface NAME or --cidr CIDR\n",
            id="ambiguous",
        ),
        pytest.param(
            two_internal,
            ["service", "ipv4", "--interface", "eth2"],
            0,
            "10.50.0.31\n",
            "",
            id="ambiguous-interface",
        ),
        pytest.param(
            two_internal,
            ["service", "ipv4", "--cidr", "10.176.0.0/16"],
            0,
            f"{INTERNAL}\n",
            "",
            id="ambiguous-cidr",
        ),
        pytest.param(
            public_only,
            ["service", "ipv4"],
            2,
            "",
            f"compose-net: error: no internal (service) IPv4 address on this host "
            f"(addresses: |{PUBLIC} (public, public)|127.0.0.1 (lo, loopback)|"
            "if an internal network is not in the default ranges, choose it with --cidr",
            id="empty",
        ),
        pytest.param(
            public_only,
            ["service", "ipv4", "--cidr", "203.0.113.0/24"],
            0,
            f"{PUBLIC}\n",
            "",
            id="cidr-names-the-internal-network",
        ),
        pytest.param(
            bridge_only,
            ["service", "ipv4"],
            2,
            "",
            "172.17.0.1 (docker0, container)",
            id="container-bridge-is-not-internal",
        ),
        pytest.param(
            plain,
            ["bogus"],
            2,
            "",
            "compose-net: error: unexpected argument 'bogus'",
            id="bad-word",
        ),
        pytest.param(
            plain,
            ["service", "service"],
            2,
            "",
            "compose-net: error: unexpected argument 'service'",
            id="class-twice",
        ),
        pytest.param(
            plain,
            ["--cidr", "nonsense"],
            2,
            "",
            "compose-net: error: --cidr 'nonsense' is not a network",
            id="bad-cidr",
        ),
    ),
)
def test_addr(
    make_lab: Callable[..., Lab], setup: Setup, args: list[str], code: int, stdout: str, stderr: str
) -> None:
    proc = run_in(make_lab, setup, "addr", *args)
    assert (proc.returncode, proc.stdout) == (code, stdout), proc.stderr
    assert all(part in proc.stderr for part in stderr.split("|"))
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("setup", "args", "code", "written", "stderr"),
    (
        pytest.param(plain, [], 0, f'      - "{INTERNAL}:6379:6379"\n', "", id="local"),
        pytest.param(
            two_internal,
            [],
            2,
            '      - "6379:6379"\n',
            "several internal (service) IPv4 addresses on this host",
            id="ambiguous",
        ),
        pytest.param(
            two_internal,
            ["--interface", "eth2"],
            0,
            '      - "10.50.0.31:6379:6379"\n',
            "",
            id="ambiguous-interface",
        ),
        pytest.param(
            public_only,
            [],
            2,
            '      - "6379:6379"\n',
            "no internal (service) IPv4 address on this host",
            id="empty",
        ),
    ),
)
def test_harden_resolve_local(
    make_lab: Callable[..., Lab],
    tmp_path: Path,
    setup: Setup,
    args: list[str],
    code: int,
    written: str,
    stderr: str,
) -> None:
    path = tmp_path / "compose.yaml"
    head = "services:\n  redis:\n    image: redis\n    ports:\n"
    path.write_text(head + '      - "6379:6379"\n')
    proc = run_in(make_lab, setup, "harden", "--no-config", "--resolve", "local", *args, str(path))
    assert proc.returncode == code, proc.stderr
    assert stderr in proc.stderr
    assert path.read_text() == head + written


def vpn(node: Node) -> None:
    """An address outside the private ranges on a VPN-like interface."""
    node.ip("link", "add", "wg0", "type", "veth", "peer", "name", "wg0p")
    node.ip("addr", "add", "198.51.100.31/24", "dev", "wg0")
    node.ip("link", "set", "wg0", "up")


@pytest.mark.parametrize(
    ("config", "args", "code", "stdout"),
    (
        pytest.param(
            None, ["addr", "service", "ipv4", "--interface", "wg0"], 2, "", id="public-by-default"
        ),
        pytest.param(
            "internal-networks: ['198.51.100.0/24']\n",
            ["addr", "service", "ipv4", "--interface", "wg0"],
            0,
            "198.51.100.31\n",
            id="configured-internal",
        ),
        pytest.param(
            "internal-networks: ['198.51.100.0/24']\n",
            ["addr", "service", "ipv4"],
            2,
            "",
            id="configured-adds-an-ambiguity",
        ),
        pytest.param(
            "[tool.compose-net]\ninternal-networks = ['198.51.100.0/24']\n",
            ["nodes", "--resolve", "local", "--interface", "wg0", "--format", "yaml"],
            0,
            "nodes:\n",
            id="pyproject",
        ),
        pytest.param(
            "internal-networks: ['198.51.100.0/33']\n", ["addr"], 2, "", id="bad-configuration"
        ),
    ),
)
def test_configured_internal_networks(
    make_lab: Callable[..., Lab],
    tmp_path: Path,
    config: str | None,
    args: list[str],
    code: int,
    stdout: str,
) -> None:
    if config is not None:
        name = "pyproject.toml" if config.startswith("[") else ".compose-net.yaml"
        (tmp_path / name).write_text(config)
    node = make_lab().add_node("nsc", PUBLIC, INTERNAL)
    vpn(node)
    proc = node.run(
        "sh",
        "-c",
        'cd "$0" && exec "$@"',
        str(tmp_path),
        sys.executable,
        "-m",
        "compose_net",
        *args,
        check=False,
    )
    assert proc.returncode == code, proc.stderr
    assert stdout in proc.stdout
    if code == 0 and args[0] == "nodes":
        assert '      ipv4: "198.51.100.31"' in proc.stdout.split("service:")[1]
    if config and "/33" in config:
        assert proc.stderr.startswith(f"compose-net: error: {tmp_path}/.compose-net.yaml")


def test_harden_no_config_ignores_internal_networks(
    make_lab: Callable[..., Lab], tmp_path: Path
) -> None:
    (tmp_path / ".compose-net.yaml").write_text("internal-networks: ['198.51.100.0/24']\n")
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  redis:\n    image: redis\n    ports: ['6379:6379']\n")
    node = make_lab().add_node("nsd", PUBLIC, INTERNAL)
    vpn(node)
    results = []
    for extra in ([], ["--no-config"]):
        proc = node.run(
            "sh",
            "-c",
            'cd "$0" && exec "$@"',
            str(tmp_path),
            sys.executable,
            "-m",
            "compose_net",
            "harden",
            *extra,
            "--resolve",
            "local",
            "--diff",
            "compose.yaml",
            check=False,
        )
        results.append((proc.returncode, proc.stderr.splitlines()[0] if proc.stderr else ""))
    assert results == [
        (
            2,
            "compose-net: error: several internal (service) IPv4 addresses on this host: "
            "10.176.0.31 (internal), 198.51.100.31 (wg0); choose one with --interface NAME or "
            "--cidr CIDR",
        ),
        (1, "would harden compose.yaml (1 port)"),  # --diff: it would change
    ]


def test_nodes_resolve_local(make_lab: Callable[..., Lab]) -> None:
    proc = run_in(make_lab, plain, "nodes", "--resolve", "local", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (node,) = json.loads(proc.stdout)["nodes"]
    assert (node["public"], node["service"], node["source"]) == (
        {"ipv4": PUBLIC, "ipv6": None},
        {"ipv4": INTERNAL, "ipv6": None},
        "this host (psutil)",
    )
