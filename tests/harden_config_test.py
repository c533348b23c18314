"""``harden FILE`` with no address option: the configuration's bind, bind-var, inventory or
resolve (options override it); with nothing anywhere, an error listing the ways to choose
an address and this host's pick; ``--resolve local`` warns when only IPv6 is internal.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import Lab, Node

HEAD = "services:\n  redis:\n    image: redis\n    ports:\n"
EXPOSED = HEAD + '      - "6379:6379"\n'
INVENTORY = "nodes:\n  n1:\n    service: {ipv4: 10.0.0.11}\n"
YAML = ".compose-net.yaml"
PYPROJECT = "pyproject.toml"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compose_net", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("config", "args", "code", "written", "stderr"),
    (
        pytest.param({YAML: "bind: [10.0.0.7]\n"}, [], 0, '      - "10.0.0.7:6379:6379"\n', "",
                     id="yaml-bind"),
        pytest.param({YAML: "bind: [10.0.0.7, 'fd00::7']\n"}, [], 0,
                     '      - "10.0.0.7:6379:6379"\n      - "[fd00::7]:6379:6379"\n', "",
                     id="yaml-bind-both-families"),
        pytest.param({YAML: "bind-var: NODE_IP\n"}, [], 0,
                     '      - "${NODE_IP:?set NODE_IP to the internal address of this node}'
                     ':6379:6379"\n', "", id="yaml-bind-var"),
        pytest.param({PYPROJECT: "[tool.compose-net]\nbind = ['10.0.0.8']\n"}, [], 0,
                     '      - "10.0.0.8:6379:6379"\n', "", id="pyproject-bind"),
        pytest.param({YAML: "inventory: nodes/nodes.yaml\n", "nodes/nodes.yaml": INVENTORY},
                     [], 0, '      - "10.0.0.11:6379:6379"\n', "",
                     id="inventory-relative-to-config"),
        pytest.param({YAML: "bind: [10.0.0.7]\n"}, ["--bind", "10.0.0.9"], 0,
                     '      - "10.0.0.9:6379:6379"\n', "", id="option-overrides-bind"),
        pytest.param({YAML: "bind: [10.0.0.7]\n", "other.yaml": INVENTORY},
                     ["--inventory", "{tmp}/other.yaml"], 0, '      - "10.0.0.11:6379:6379"\n',
                     "", id="option-overrides-source"),
        pytest.param({YAML: "bind: [10.0.0.7]\n"}, ["--no-config"], 2, '      - "6379:6379"\n',
                     "nothing to bind to: give --bind IP", id="no-config"),
        pytest.param({YAML: "bind: [10.0.0.7]\ninventory: nodes.yaml\n"}, [], 2,
                     '      - "6379:6379"\n',
                     f"{YAML}: bind and inventory cannot be combined", id="two-sources"),
        pytest.param({YAML: "bind: [203.0.113.7]\n"}, [], 2, '      - "6379:6379"\n',
                     f"{YAML}: --bind 203.0.113.7 is a public address",
                     id="public-bind-refused"),
        pytest.param({YAML: "bind: [10.0.0.7, 10.0.0.8]\n"}, [], 2, '      - "6379:6379"\n',
                     f"{YAML}: give at most one IPv4", id="two-ipv4-refused"),
        pytest.param({YAML: "resolve: everywhere\n"}, [], 2, '      - "6379:6379"\n',
                     "invalid configuration: resolve", id="bad-resolve"),
        pytest.param({YAML: "# bind: [10.0.0.7] once the network exists\n"}, [], 2,
                     '      - "6379:6379"\n', "nothing to bind to: give --bind IP",
                     id="comments-only-configuration-sets-nothing"),
        pytest.param({YAML: "inventory: nodes.yaml\n", "nodes.yaml": "# none yet\n"}, [], 2,
                     '      - "6379:6379"\n', "nodes.yaml: empty inventory file: it names no node",
                     id="empty-inventory"),
    ),
)
def test_harden_uses_the_configuration(
    tmp_path: Path, config: dict[str, str], args: list[str], code: int, written: str, stderr: str
) -> None:
    for name, text in config.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / ".git").mkdir()  # the project root, where the search for a configuration ends
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    path = deploy / "docker-compose.yml"
    path.write_text(EXPOSED, encoding="utf-8")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = run("harden", str(path), *argv, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert stderr in proc.stderr
    assert path.read_text(encoding="utf-8") == HEAD + written
    if code == 2:
        assert len(proc.stderr.splitlines()) == 1, proc.stderr


# --- on a host whose addresses are known: a lab namespace --------------------------------------

PUBLIC = "203.0.113.32"
INTERNAL = "10.176.0.32"


def plain(node: Node) -> None:
    del node


def ipv6_only(node: Node) -> None:
    node.ip("addr", "del", f"{INTERNAL}/16", "dev", "internal")
    node.ip("-6", "addr", "add", "fd00::32/64", "dev", "internal", "nodad")


def dual(node: Node) -> None:
    node.ip("-6", "addr", "add", "fd00::32/64", "dev", "internal", "nodad")


def public_only(node: Node) -> None:
    node.ip("addr", "del", f"{INTERNAL}/16", "dev", "internal")


IPV6_ONLY_WARNING = (
    "this host's only internal address is IPv6 (fd00::32): every port is bound to it, so IPv4 "
    "clients will no longer reach them"
)


@pytest.mark.netns
@pytest.mark.parametrize(
    ("setup", "config", "args", "code", "written", "stderr"),
    (
        pytest.param(ipv6_only, None, ["--resolve", "local"], 0,
                     '      - "[fd00::32]:6379:6379"\n', IPV6_ONLY_WARNING, id="ipv6-only-warns"),
        pytest.param(ipv6_only, "resolve: local\n", [], 0,
                     '      - "[fd00::32]:6379:6379"\n', IPV6_ONLY_WARNING,
                     id="configured-resolve-ipv6-only-warns"),
        pytest.param(dual, None, ["--resolve", "local"], 0,
                     f'      - "{INTERNAL}:6379:6379"\n      - "[fd00::32]:6379:6379"\n', "",
                     id="dual-stack-no-warning"),
        pytest.param(plain, "resolve: local\n", [], 0, f'      - "{INTERNAL}:6379:6379"\n', "",
                     id="configured-resolve"),
        pytest.param(plain, None, [], 2, '      - "6379:6379"\n',
                     "nothing to bind to: give --bind IP, --bind-var NAME, --resolve local|docker "
                     "or --inventory FILE, or set bind, bind-var, resolve or inventory in "
                     ".compose-net.yaml (or [tool.compose-net] in pyproject.toml); on this host "
                     f"`compose-net addr service` picks {INTERNAL} (--resolve local)",
                     id="nothing-shows-this-hosts-pick"),
        pytest.param(public_only, None, [], 2, '      - "6379:6379"\n',
                     "; this host has no single internal address (see `compose-net addr`)",
                     id="nothing-and-no-internal-address"),
    ),
)
def test_on_a_known_host(
    make_lab: Callable[..., Lab],
    tmp_path: Path,
    setup: Callable[[Node], None],
    config: str | None,
    args: list[str],
    code: int,
    written: str,
    stderr: str,
) -> None:
    node = make_lab().add_node("nsc", PUBLIC, INTERNAL)
    setup(node)
    if config is not None:
        (tmp_path / YAML).write_text(config, encoding="utf-8")
    path = tmp_path / "compose.yaml"
    path.write_text(EXPOSED, encoding="utf-8")
    proc = node.run(sys.executable, "-m", "compose_net", "harden", str(path), *args, check=False)
    assert proc.returncode == code, proc.stderr
    assert stderr in proc.stderr
    assert ("warning:" in proc.stderr) == (stderr == IPV6_ONLY_WARNING), proc.stderr
    assert path.read_text(encoding="utf-8") == HEAD + written


@pytest.mark.parametrize(
    ("config", "written"),
    (
        pytest.param("bind: [10.0.0.7]\n", '      - "10.0.0.7:6379:6379"\n', id="bind"),
        pytest.param("bind-var: NODE_IP\n",
                     '      - "${NODE_IP:?set NODE_IP to the internal address of this node}'
                     ':6379:6379"\n', id="bind-var"),
    ),
)
def test_a_configuration_beside_the_file_is_enough(
    tmp_path: Path, config: str, written: str
) -> None:
    """The issue's acceptance: `compose-net harden docker-compose.yml`, no option, no
    repository, only a .compose-net.yaml beside the file."""
    (tmp_path / YAML).write_text(config, encoding="utf-8")
    path = tmp_path / "docker-compose.yml"
    path.write_text(EXPOSED, encoding="utf-8")
    proc = run("harden", "docker-compose.yml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert path.read_text(encoding="utf-8") == HEAD + written


@pytest.mark.parametrize(
    ("config", "args", "code", "out"),
    (
        pytest.param("inventory: nodes/nodes.yaml\n", [], 0, "10.0.0.11",
                     id="configured-inventory"),
        pytest.param("inventory: nodes/nodes.yaml\n", ["--inventory", "other.yaml"], 0,
                     "10.0.0.99", id="option-overrides"),
        pytest.param("bind: [10.0.0.7]\n", [], 2, "give --inventory FILE or --resolve",
                     id="bind-is-no-node-table"),
    ),
)
def test_nodes_uses_the_configuration(
    tmp_path: Path, config: str, args: list[str], code: int, out: str
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / YAML).write_text(config, encoding="utf-8")
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "nodes.yaml").write_text(INVENTORY, encoding="utf-8")
    (tmp_path / "other.yaml").write_text(INVENTORY.replace("10.0.0.11", "10.0.0.99"))
    proc = run("nodes", *args, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert out in proc.stdout + proc.stderr
