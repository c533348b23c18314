"""Host-port collisions on one node, and moving the later port to the nearest free one."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from compose_net import hardening
from compose_net.commands import harden as command
from compose_net.harden import Permissions
from compose_net.policy import collisions
from compose_net.policy.binds import Binds, BindsFor
from compose_net.resolvers import NodeResolver, inventory, static

INVENTORY = {
    "nodes": {
        "n1": {"service": {"ipv4": "10.176.0.11"}},
        "n2": {"service": {"ipv4": "10.176.0.12"}},
    }
}
V4 = static(Binds("10.0.0.5"))
DUAL = static(Binds("10.0.0.5", "fd00::5"))
NODES = NodeResolver(inventory.from_data(INVENTORY))


def svc(name: str, ports: str, extra: str = "") -> str:
    return f"  {name}:\n    image: redis\n    ports:\n{ports}{extra}"


def compose(*services: str) -> str:
    return "services:\n" + "".join(services)


TWO_REDIS = compose(svc("a", '      - "6379:6379"\n'), svc("b", '      - "6379:6379"\n'))


@pytest.mark.parametrize(
    ("files", "binds_for", "remap", "expected", "messages"),
    (
        pytest.param(
            {"c.yml": TWO_REDIS},
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:6379:6379"\n'),
                    svc("b", '      - "10.0.0.5:6378:6379"\n'),
                )
            },
            [
                "services.b.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 6378"
            ],
            id="second-redis-moves",
        ),
        pytest.param(
            {"c.yml": TWO_REDIS},
            V4,
            False,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:6379:6379"\n'),
                    svc("b", '      - "10.0.0.5:6379:6379"\n'),
                )
            },
            [
                "CN006 services.b.ports[0] \"10.0.0.5:6379:6379\" publishes host port 6379/tcp on "
                "10.0.0.5, which services.a.ports[0] ({d}/c.yml:5:9) already publishes on "
                "10.0.0.5; not fixed: pass --remap-conflicts to move it to a free host port"
            ],
            id="reported-without-remap",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "6379:6379"\n'),
                    svc("b", '      - "6379:6379"\n'),
                    svc("c", '      - "6378:6379"\n'),
                )
            },
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:6379:6379"\n'),
                    svc("b", '      - "10.0.0.5:6377:6379"\n'),
                    svc("c", '      - "10.0.0.5:6378:6379"\n'),
                )
            },
            [
                "services.b.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 6377"
            ],
            id="skips-a-port-a-later-service-wants",
        ),
        pytest.param(
            {"c.yml": compose(svc("a", '      - "53:53/udp"\n'), svc("b", '      - "53:53"\n'))},
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:53:53/udp"\n'),
                    svc("b", '      - "10.0.0.5:53:53"\n'),
                )
            },
            [],
            id="other-protocol",
        ),
        pytest.param(
            {"c.yml": compose(svc("a", '      - "6379"\n'), svc("b", '      - "6379"\n'))},
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5::6379"\n'), svc("b", '      - "10.0.0.5::6379"\n')
                )
            },
            [],
            id="ephemeral-host-ports",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "6379:6379"\n', "    x-compose-net: {node: n1}\n"),
                    svc("b", '      - "6379:6379"\n', "    x-compose-net: {node: n2}\n"),
                )
            },
            NODES,
            True,
            {
                "c.yml": compose(
                    svc(
                        "a", '      - "10.176.0.11:6379:6379"\n', "    x-compose-net: {node: n1}\n"
                    ),
                    svc(
                        "b", '      - "10.176.0.12:6379:6379"\n', "    x-compose-net: {node: n2}\n"
                    ),
                )
            },
            [],
            id="different-nodes",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "6379:6379"\n', "    x-compose-net: {node: n1}\n"),
                    svc("b", '      - "6379:6379"\n', "    x-compose-net: {node: n1}\n"),
                )
            },
            NODES,
            True,
            {
                "c.yml": compose(
                    svc(
                        "a", '      - "10.176.0.11:6379:6379"\n', "    x-compose-net: {node: n1}\n"
                    ),
                    svc(
                        "b", '      - "10.176.0.11:6378:6379"\n', "    x-compose-net: {node: n1}\n"
                    ),
                )
            },
            [
                "services.b.ports[0] publishes 6379/tcp on 10.176.0.11, which "
                "services.a.ports[0] ({d}/c.yml:5:9) already publishes; moved to host port 6378"
            ],
            id="same-node",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:80:80"\n'), svc("b", '      - "10.0.0.6:80:80"\n')
                )
            },
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:80:80"\n'), svc("b", '      - "10.0.0.6:80:80"\n')
                )
            },
            [],
            id="different-addresses",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "8080:80"  # compose-net: allow public proxy\n'),
                    svc("b", '      - "8080:80"\n'),
                )
            },
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "8080:80"  # compose-net: allow public proxy\n'),
                    svc("b", '      - "10.0.0.5:8079:80"\n'),
                )
            },
            [
                "services.b.ports[0] publishes 8080/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 8079"
            ],
            id="every-interface-overlaps-an-address",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "6379:6379"\n'),
                    svc("b", "      - target: 6379\n        published: 6379\n"),
                    svc("c", "      - {target: 6379, published: '6379'}\n"),
                )
            },
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:6379:6379"\n'),
                    svc(
                        "b",
                        "      - target: 6379\n        published: 6378\n"
                        "        host_ip: 10.0.0.5\n",
                    ),
                    svc("c", "      - {target: 6379, published: '6377', host_ip: 10.0.0.5}\n"),
                )
            },
            [
                "services.b.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 6378",
                "services.c.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 6377",
            ],
            id="long-syntax-keeps-number-or-string",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "9001:9001"\n'), svc("b", '      - "9000-9001:9000-9001"\n')
                )
            },
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:9001:9001"\n'),
                    svc("b", '      - "10.0.0.5:9000-9001:9000-9001"\n'),
                )
            },
            [
                "services.a.ports[0] ({d}/c.yml:5:9) already publishes on 10.0.0.5; not fixed: "
                "not moved: its host port is a range or a variable"
            ],
            id="range-is-not-moved",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", "      - {target: 6379, published: 6379, host_ip: 10.0.0.5}\n"),
                    svc("b", "      - {target: 6379, published: 6379, host_ip: 10.0.0.5}\n"),
                    svc(
                        "c",
                        "      - target: 6379\n        published: 6379\n        host_ip: 0.0.0.0\n",
                    ),
                )
            },
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", "      - {target: 6379, published: 6379, host_ip: 10.0.0.5}\n"),
                    svc("b", "      - {target: 6379, published: 6378, host_ip: 10.0.0.5}\n"),
                    svc(
                        "c",
                        "      - target: 6379\n        published: 6377\n"
                        "        host_ip: 10.0.0.5\n",
                    ),
                )
            },
            [
                "services.b.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 6378",
                "services.c.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 6377",
            ],
            id="long-syntax-with-a-host-ip",
        ),
        pytest.param(
            {
                "c.yml": 'x-ports: &ports\n  - "6379:6379"\n'
                + compose(
                    "  a:\n    image: redis\n    ports: *ports\n",
                    "  b:\n    image: redis\n    ports: *ports\n",
                )
            },
            V4,
            True,
            {
                "c.yml": 'x-ports: &ports\n  - "10.0.0.5:6379:6379"\n'
                + compose(
                    "  a:\n    image: redis\n    ports: *ports\n",
                    "  b:\n    image: redis\n    ports: *ports\n",
                )
            },
            [
                "services.a.ports[0] ({d}/c.yml:2:5) already publishes on 10.0.0.5; not fixed: "
                "not moved: the entry is shared with other services through an anchor or merge"
            ],
            id="shared-entry-is-not-moved",
        ),
        pytest.param(
            {"c.yml": TWO_REDIS},
            DUAL,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:6379:6379"\n      - "[fd00::5]:6379:6379"\n'),
                    svc("b", '      - "10.0.0.5:6378:6379"\n      - "[fd00::5]:6378:6379"\n'),
                )
            },
            [
                "services.b.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 6378"
            ],
            id="both-families-move-together",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:6379:6379"\n'),
                    svc("b", "      - '10.0.0.5:6379:6379'\n"),
                    svc("c", '      - "[fd00::5]:6379:6379"\n'),
                    svc("d", "      - '[fd00::5]:6379:6379'\n"),
                )
            },
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "10.0.0.5:6379:6379"\n'),
                    svc("b", "      - '10.0.0.5:6378:6379'\n"),
                    svc("c", '      - "[fd00::5]:6379:6379"\n'),
                    svc("d", "      - '[fd00::5]:6378:6379'\n"),
                )
            },
            [
                "services.b.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/c.yml:5:9) already publishes; moved to host port 6378",
                "services.d.ports[0] publishes 6379/tcp on fd00::5, which services.c.ports[0] "
                "({d}/c.yml:13:9) already publishes; moved to host port 6378",
            ],
            id="already-bound-entries-move-in-place",
        ),
        pytest.param(
            {
                "c.yml": compose(
                    svc("a", '      - "${IP:-10.0.0.5}:80:80"\n'),
                    svc("b", '      - "${IP:-10.0.0.5}:80:80"\n'),
                    svc("c", '      - "10.0.0.5:80:80"\n'),
                )
            },
            V4,
            True,
            {
                "c.yml": compose(
                    svc("a", '      - "${IP:-10.0.0.5}:80:80"\n'),
                    svc("b", '      - "${IP:-10.0.0.5}:79:80"\n'),
                    svc("c", '      - "10.0.0.5:78:80"\n'),
                )
            },
            [
                "services.b.ports[0] publishes 80/tcp on 10.0.0.5, which "
                "services.a.ports[0] ({d}/c.yml:5:9) already publishes; moved to host port 79",
                "services.c.ports[0] publishes 80/tcp on 10.0.0.5, which "
                "services.a.ports[0] ({d}/c.yml:5:9) already publishes; moved to host port 78",
            ],
            id="variables-collide-as-their-value-in-this-environment",
        ),
        pytest.param(
            {
                "a.yml": compose(svc("a", '      - "6379:6379"\n')),
                "b.yml": compose(svc("b", '      - "6379:6379"\n')),
            },
            V4,
            True,
            {
                "a.yml": compose(svc("a", '      - "10.0.0.5:6379:6379"\n')),
                "b.yml": compose(svc("b", '      - "10.0.0.5:6378:6379"\n')),
            },
            [
                "services.b.ports[0] publishes 6379/tcp on 10.0.0.5, which services.a.ports[0] "
                "({d}/a.yml:5:9) already publishes; moved to host port 6378"
            ],
            id="across-files",
        ),
        pytest.param(
            {
                "compose.yml": compose(svc("a", '      - "6379:6379"\n')),
                "compose.override.yml": compose(svc("a", '      - "6379:6379"\n')),
            },
            V4,
            True,
            {
                "compose.yml": compose(svc("a", '      - "10.0.0.5:6379:6379"\n')),
                "compose.override.yml": compose(svc("a", '      - "10.0.0.5:6379:6379"\n')),
            },
            [],
            id="override-file-repeats-its-base",
        ),
        pytest.param(
            {
                "one/compose.yml": compose(svc("a", '      - "6379:6379"\n')),
                "two/compose.yml": compose(svc("a", '      - "6379:6379"\n')),
            },
            V4,
            False,
            {
                "one/compose.yml": compose(svc("a", '      - "10.0.0.5:6379:6379"\n')),
                "two/compose.yml": compose(svc("a", '      - "10.0.0.5:6379:6379"\n')),
            },
            [],
            id="separate-projects-never-collide",
        ),
    ),
)
def test_collisions(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    binds_for: BindsFor,
    remap: bool,
    expected: dict[str, str],
    messages: list[str],
) -> None:
    paths = []
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(str(path))
    settings = hardening.Settings(
        binds_for=binds_for, permissions=Permissions(remap_conflicts=remap), use_config=False
    )
    opts = command.Options(settings)
    code = command.run(paths, opts)
    out = {name: (tmp_path / name).read_text() for name in files}
    assert out == expected
    err = capsys.readouterr().err
    wanted = [m.replace("{d}", str(tmp_path)) for m in messages]
    notes = [line.split(": note: ", 1)[1] for line in err.splitlines() if ": note: " in line]
    moved = [note for note in notes if "moved to host port" in note]
    assert moved == [m for m in wanted if "moved to host port" in m]
    for fragment in wanted:
        assert fragment in err
    unresolved = sum("moved to host port" not in m for m in messages)
    assert code == (1 if unresolved else 0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    (
        pytest.param("", "10.0.0.5", True, id="every-interface"),
        pytest.param("0.0.0.0", "10.0.0.5", True, id="ipv4-wildcard"),
        pytest.param("0.0.0.0", "fd00::5", False, id="ipv4-wildcard-other-family"),
        pytest.param("::", "fd00::5", True, id="ipv6-wildcard"),
        pytest.param("10.0.0.5", "10.0.0.6", False, id="two-addresses"),
        pytest.param("fd00::5", "fd00:0::5", True, id="same-ipv6-written-twice"),
        pytest.param("::ffff:10.0.0.5", "10.0.0.5", True, id="ipv4-mapped"),
        pytest.param("${IP}", "10.0.0.5", False, id="variable-is-unknown"),
        pytest.param("${IP}", "", True, id="variable-and-every-interface"),
    ),
)
def test_overlaps(a: str, b: str, expected: bool) -> None:
    assert collisions.overlaps(collisions.canonical(a), collisions.canonical(b)) is expected
    assert collisions.overlaps(collisions.canonical(b), collisions.canonical(a)) is expected


def _brute_holder(taken: list[collisions.Use], use: collisions.Use) -> collisions.Use | None:
    return next((earlier for earlier in taken if collisions.clashes(use, earlier)), None)


ADDRESSES = (None, "0.0.0.0", "::", "10.0.0.5", "10.0.0.6", "::ffff:10.0.0.5", "fd00::5",
             "${IP}", "${IP2}")
PROFILES = (frozenset(), frozenset({"a"}), frozenset({"b"}), frozenset({"a", "b"}))
NODES = (None, frozenset({"10.0.0.1"}), frozenset({"10.0.0.2"}),
         frozenset({"10.0.0.1", "fd00::1"}))


@pytest.mark.parametrize("seed", range(12))
def test_ledger_finds_what_a_scan_of_every_earlier_use_finds(seed: int) -> None:
    """The ledger's indexes (address, profiles, node, merged ports) only leave out uses that
    cannot clash: over random uses its answer is the first clash a full scan finds."""
    rng = random.Random(seed)
    ledger = collisions.Ledger()
    taken: list[collisions.Use] = []
    answers = []
    for i in range(400):
        address = rng.choice(ADDRESSES)
        use = collisions.Use(
            rng.choice(("p", "q")), rng.choice(NODES), collisions.canonical(address),
            rng.choice((80, 443)), rng.choice(("tcp", "udp")), f"s{rng.randrange(30)}",
            rng.choice(PROFILES), f"{address}:{rng.randrange(3)}", label=f"use {i}",
        )
        expected = _brute_holder(taken, use)
        found = ledger.take(use)
        answers.append(found is not None)
        if expected is None:
            assert found is None, (use, found)
        else:
            # the same clash; an earlier port merged into its twin may stand in for it
            assert found is not None and collisions.clashes(use, found), (use, found, expected)
        taken.append(use)
    assert any(answers) and not all(answers)


def _tenants(shape: str, n: int) -> str:
    out = ["services:\n"]
    for i in range(n):
        if shape == "address":
            port = f"'10.{i // 65536}.{i // 256 % 256}.{i % 256}:443:443'"
            out.append(f"  s{i}:\n    image: x\n    ports: [{port}]\n")
        elif shape == "profile":
            out.append(f"  s{i}:\n    image: x\n    profiles: [p{i}]\n    ports: ['443:443']\n")
        else:  # one service writing the same port again and again: Compose keeps one
            out.append("  s:\n    image: x\n    ports:\n" + "      - '443:443'\n" * n)
            break
    return "".join(out)


@pytest.mark.parametrize(
    ("shape", "clashes"),
    (
        pytest.param("address", 0, id="one-address-per-tenant"),
        pytest.param("profile", 0, id="one-profile-per-tenant"),
        pytest.param("merged", 0, id="one-port-written-again-and-again"),
    ),
)
def test_one_port_per_tenant_is_no_scan_of_every_tenant(
    tmp_path: Path, shape: str, clashes: int
) -> None:
    """20,000 uses of one host port that never clash: each new one is compared with the few
    that can clash with it, not with every earlier one (a quadratic scan took minutes)."""
    path = tmp_path / "compose.yaml"
    path.write_text(_tenants(shape, 20_000))
    proc = subprocess.run(
        [sys.executable, "-m", "compose_net", "check", "--no-config", "--format", "json",
         str(path)],
        capture_output=True, text=True, timeout=300, check=False, preexec_fn=_cpu_limit,
    )
    # a quadratic scan is killed by the CPU limit (SIGXCPU / SIGKILL: a negative code)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    rules = [f["rule"] for f in json.loads(proc.stdout)["findings"]]
    assert rules.count("CN006") == clashes
    assert proc.returncode == (1 if rules else 0)


@pytest.mark.parametrize(
    ("services", "port", "lowest"),
    (
        pytest.param(5000, 30000, 25001, id="every-tenant-asks-for-one-port"),
        pytest.param(300, 100, 1, id="past-the-lowest-port-upwards"),
    ),
)
def test_remapping_thousands_of_one_port_is_no_walk_past_every_moved_one(
    tmp_path: Path, services: int, port: int, lowest: int
) -> None:
    """Each service asking for the same host port moves to the nearest free one, below it
    first, then above: 30000, 29999, ... each search goes on where the last one stopped
    (walking past every port moved before took 300 s for 5,000 services)."""
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n" + "".join(
        f"  s{i}:\n    image: x\n    ports: ['{port}:80']\n" for i in range(services)
    ))
    proc = subprocess.run(
        [sys.executable, "-m", "compose_net", "harden", "--no-config", "-q", "--bind",
         "10.0.0.5", "--remap-conflicts", str(path)],
        capture_output=True, text=True, timeout=300, check=False, preexec_fn=_cpu_limit,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    published = [int(line.split(":")[2]) for line in path.read_text().splitlines()
                 if "ports:" in line]  # ports: ['10.0.0.5:PORT:80']
    below = list(range(port, max(port - services, 0), -1))
    expected = below + list(range(port + 1, port + 1 + services - len(below)))
    assert published == expected
    assert min(published) == lowest
    again = subprocess.run(
        [sys.executable, "-m", "compose_net", "check", "--no-config", str(path)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert again.returncode == 0, again.stdout[-2000:]


@pytest.mark.parametrize(
    ("tail", "code", "remaining"),
    (
        pytest.param("", 1, 9999, id="shared-list-cannot-move"),
        pytest.param("  solo:\n    image: x\n    ports: ['8080:80']\n", 1, 9999,
                     id="and-a-free-service-beside-it"),
    ),
)
def test_a_list_shared_by_ten_thousand_services_is_explained_once_per_service(
    tmp_path: Path, tail: str, code: int, remaining: int
) -> None:
    """One anchored list, 10,000 services: every later service collides and cannot move (the
    entry is shared); each finding says so, without a scan of every finding per service."""
    path = tmp_path / "compose.yaml"
    original = "x-p: &p ['80:80']\nservices:\n" + "".join(
        f"  s{i}:\n    image: x\n    ports: *p\n" for i in range(10_000)
    ) + tail
    path.write_text(original)
    proc = subprocess.run(
        [sys.executable, "-m", "compose_net", "harden", "--no-config", "--bind", "10.0.0.5",
         "--remap-conflicts", str(path)],
        capture_output=True, text=True, timeout=300, check=False, preexec_fn=_cpu_limit,
    )
    assert proc.returncode == code, proc.stderr[-2000:]
    shared = "not moved: the entry is shared with other services through an anchor or merge"
    assert proc.stderr.count(shared) == remaining
    assert f"{remaining} findings remain" in proc.stderr


def _cpu_limit() -> None:
    """20 s of CPU: about ten times what the 20,000 uses take, half what a scan of every
    earlier use took for them on this machine."""
    resource.setrlimit(resource.RLIMIT_CPU, (20, 20))


def test_compose_reads_the_moved_ports(tmp_path: Path, compose_bin: str) -> None:
    text = compose(
        svc("a", '      - "6379:6379"\n'),
        svc("b", '      - "6379:6379"\n'),
        svc("c", "      - target: 6379\n        published: 6379\n"),
    )
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "compose_net",
            "harden",
            "--no-config",
            "--bind",
            "10.0.0.5",
            "--remap-conflicts",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("note: ") == 2
    out = subprocess.run(
        [compose_bin, "-f", str(path), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = {
        name: [(p.get("host_ip"), p["published"]) for p in svc_["ports"]]
        for name, svc_ in json.loads(out.stdout)["services"].items()
    }
    assert seen == {
        "a": [("10.0.0.5", "6379")],
        "b": [("10.0.0.5", "6378")],
        "c": [("10.0.0.5", "6377")],
    }


@pytest.mark.parametrize(
    ("extra", "code", "stderr"),
    (
        pytest.param(
            [],
            1,
            'error: CN006 services.b.ports[0] "10.0.0.5:6379:6379" publishes host port 6379/tcp on '
            "10.0.0.5",
            id="unresolved-remains-a-finding",
        ),
        pytest.param(
            ["--remap-conflicts"],
            0,
            "note: services.b.ports[0] publishes 6379/tcp",
            id="moved-is-fine",
        ),
        pytest.param(
            ["--remap-conflicts", "--check"],
            1,
            "moved to host port 6378",
            id="check-still-reports-the-change",
        ),
    ),
)
def test_exit_codes(tmp_path: Path, extra: list[str], code: int, stderr: str) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(TWO_REDIS)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "compose_net",
            "harden",
            "--no-config",
            "--bind",
            "10.0.0.5",
            str(path),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == code, proc.stderr
    assert stderr in proc.stderr
