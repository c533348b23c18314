"""Choosing the source of addresses, `nodes` output, and what a linter is told to expect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compose_net import document, source
from compose_net.errors import ComposeNetError
from compose_net.policy.binds import Binds
from compose_net.resolvers import NodeResolver, expected_addresses, from_options, inventory

INVENTORY = """\
nodes:
  n1:
    id: ww4dygwjs23uz3mwvukjy2k5f
    role: manager
    public: {ipv4: 203.0.113.11}
    service: {ipv4: 10.176.0.11, ipv6: "fd00::11"}
    labels: {name: n1}
  edge:
    public: {ipv4: 203.0.113.9}
"""


@pytest.fixture
def nodes_file(tmp_path: Path) -> Path:
    path = tmp_path / "nodes.yaml"
    path.write_text(INVENTORY)
    return path


@pytest.mark.parametrize(
    ("options", "message"),
    (
        pytest.param(
            {"binds": ("10.0.0.1",), "inventory": "x"},
            "--bind/--bind-var and --inventory cannot be combined",
            id="bind-inventory",
        ),
        pytest.param(
            {"resolve": "local", "inventory": "x"},
            "--resolve and --inventory cannot be combined",
            id="resolve-inventory",
        ),
        pytest.param(
            {"bind_var": "IP", "resolve": "docker"},
            "--bind/--bind-var and --resolve cannot be combined",
            id="bind-var-resolve",
        ),
        pytest.param(
            {"binds": ("10.0.0.1",), "interface": "eth0"},
            "--interface and --cidr choose among a host's addresses",
            id="interface-alone",
        ),
        pytest.param(
            {"inventory": "x", "cidr": "10.0.0.0/8"},
            "--interface and --cidr choose among a host's addresses",
            id="cidr-with-inventory",
        ),
        pytest.param(
            {"resolve": "local", "docker_image": "busybox"},
            "--docker-image is for --resolve docker",
            id="image-without-docker",
        ),
        pytest.param(
            {"binds": ("10.0.0.1",), "node": "n1"},
            "--node names a node of an inventory",
            id="node-without-inventory",
        ),
        pytest.param({}, "nothing to bind to: give --bind IP or --bind-var NAME", id="nothing"),
        pytest.param(
            {"resolve": "local", "cidr": "10.0.0.0/33"},
            "--cidr '10.0.0.0/33' is not a network",
            id="bad-cidr",
        ),
    ),
)
def test_from_options_refuses(options: dict[str, object], message: str) -> None:
    with pytest.raises(ComposeNetError) as info:
        from_options(**options)  # type: ignore[arg-type]
    assert info.value.message.startswith(message)


def test_from_options_inventory_and_node(nodes_file: Path) -> None:
    resolver = from_options(inventory=str(nodes_file), node="n1")
    doc = document.load(source.decode("c.yml", b"services:\n  a:\n    ports: ['80:80']\n"))
    assert resolver(doc.services[0]) == Binds("10.176.0.11", "fd00::11")
    with pytest.raises(ComposeNetError, match="there is no node 'n9'"):
        from_options(inventory=str(nodes_file), node="n9")


def test_expected_addresses(nodes_file: Path) -> None:
    text = (
        "services:\n"
        "  web:\n    ports: ['80:80']\n    x-compose-net: {node: n1}\n"
        "  proxy:\n    ports: ['443:443']\n    x-compose-net: {node: edge}\n"
        "  loose:\n    ports: ['8080:80']\n"
        "  quiet:\n    image: x\n"
    )
    doc = document.load(source.decode("c.yml", text.encode()))
    found = expected_addresses(doc, NodeResolver(inventory.load(str(nodes_file))))
    assert {name: (e.binds, e.node, e.error and str(e.error)) for name, e in found.items()} == {
        "web": (Binds("10.176.0.11", "fd00::11"), "n1", None),
        "proxy": (
            None,
            None,
            f"c.yml:5:3: services.proxy runs on node edge (x-compose-net node edge), which "
            f"has no internal address to bind to: node 'edge' has no service address in "
            f"{nodes_file}; add nodes.edge.service.ipv4 (or ipv6)",
        ),
        "loose": (
            None,
            None,
            "c.yml:8:3: services.loose: cannot tell which node it runs on (2 nodes: n1, "
            'edge); pin it with deploy.placement.constraints ("node.hostname == NAME"), '
            "`x-compose-net: {node: NAME}`, or --node NAME",
        ),
    }


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("fmt", "stdout"),
    (
        pytest.param(
            "text",
            "NAME  ID            ROLE     SERVICE               PUBLIC        LABELS\n"
            "n1    ww4dygwjs23u  manager  10.176.0.11,fd00::11  203.0.113.11  name=n1\n"
            "edge  -             -        -                     203.0.113.9   -\n",
            id="text",
        ),
        pytest.param(
            "yaml",
            "# compose-net node inventory, read from {path}\n"
            "nodes:\n"
            "  n1:\n"
            '    id: "ww4dygwjs23uz3mwvukjy2k5f"\n'
            "    role: manager\n"
            "    public:\n"
            '      ipv4: "203.0.113.11"\n'
            "    service:\n"
            '      ipv4: "10.176.0.11"\n'
            '      ipv6: "fd00::11"\n'
            "    labels:\n"
            '      "name": "n1"\n'
            "    # engine: tcp://ADDRESS:2376 | context: NAME | env-file: PATH (audit --nodes)\n"
            "  edge:\n"
            "    public:\n"
            '      ipv4: "203.0.113.9"\n'
            "    # no service address: node 'edge' has no service address in {path}; add "
            "nodes.edge.service.ipv4 (or ipv6)\n"
            "    # engine: tcp://ADDRESS:2376 | context: NAME | env-file: PATH (audit --nodes)\n",
            id="yaml",
        ),
    ),
)
def test_nodes_formats(nodes_file: Path, fmt: str, stdout: str) -> None:
    proc = run("nodes", "--inventory", str(nodes_file), "--format", fmt)
    assert proc.returncode == 0
    assert proc.stdout == stdout.replace("{path}", str(nodes_file))
    assert proc.stderr == (
        f"node edge: warning: node 'edge' has no service address in "
        f"{nodes_file}; add nodes.edge.service.ipv4 (or ipv6)\n"
    )


def test_nodes_json(nodes_file: Path) -> None:
    proc = run("nodes", "--inventory", str(nodes_file), "--format", "json")
    data = json.loads(proc.stdout)
    assert data["origin"] == str(nodes_file)
    assert [(n["name"], n["service"], n.get("problem") is not None) for n in data["nodes"]] == [
        ("n1", {"ipv4": "10.176.0.11", "ipv6": "fd00::11"}, False),
        ("edge", {"ipv4": None, "ipv6": None}, True),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    (
        pytest.param(
            [],
            "compose-net: error: give --inventory FILE or --resolve local|docker, or set "
            "inventory or resolve in .compose-net.yaml\n",
            id="no-source",
        ),
        pytest.param(
            ["--inventory", "nodes.yaml", "--docker-image", "x"],
            "compose-net: error: --docker-image is for --resolve docker\n",
            id="image-without-docker",
        ),
        pytest.param(
            ["--inventory", "/nonexistent/nodes.yaml"],
            "compose-net: error: /nonexistent/nodes.yaml: No such file or directory\n",
            id="missing-file",
        ),
    ),
)
def test_nodes_errors(args: list[str], message: str) -> None:
    proc = run("nodes", *args)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", message)


def test_one_resolver_many_files(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text(
        "nodes:\n  n1: {service: {ipv4: 10.176.0.11}}\n  n2: {service: {ipv4: 10.176.0.12}}\n"
    )
    paths = []
    for i in range(12):
        path = tmp_path / f"c{i}.yaml"
        path.write_text(
            f"services:\n  s:\n    x-compose-net: {{node: n{i % 2 + 1}}}\n    ports: ['80:80']\n"
        )
        paths.append(path)
    proc = run("harden", "--no-config", "--inventory", str(nodes), *map(str, paths))
    assert proc.returncode == 0, proc.stderr
    assert [p.read_text().splitlines()[-1] for p in paths] == [
        f"    ports: ['10.176.0.1{i % 2 + 1}:80:80']" for i in range(12)
    ]
