"""Hostile inputs: each one finishes, under a time and memory limit the test sets, with
the right result or a one-line error that names the bound; the file is never changed
on an error."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

MEMORY = 1024 * 1024 * 1024  # bytes of address space for the child
CPU_SECONDS = 60


def limited(memory: int = MEMORY, cpu: int = CPU_SECONDS) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def run(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    memory: int = MEMORY,
) -> subprocess.CompletedProcess[str]:
    """compose-net in a child process under a memory and CPU limit."""
    full = {**os.environ, **(env or {})}
    full.pop("COMPOSE_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        env=full,
        cwd=cwd,
        timeout=CPU_SECONDS * 2,
        check=False,
        preexec_fn=lambda: limited(memory),
    )


def merge_bomb(levels: int = 9, width: int = 10) -> str:
    """``<<: [*m, *m, ...]`` nested ``levels`` deep: width**levels merges if done naively."""
    lines = ["x-m0: &m0 {TIER: web}"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*m{i - 1}"] * width)
        lines.append(f"x-m{i}: &m{i}\n  <<: [{refs}]\n  LEVEL{i}: '{i}'")
    lines.append("services:\n  web:\n    image: nginx\n    environment:\n      <<: *m9")
    lines.append("    ports: ['80:80']")
    return "\n".join(lines) + "\n"


def alias_bomb() -> str:
    lines = ["x-a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 9):
        lines.append(f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\nservices:\n  web:\n    image: nginx\n    ports: ['80:80']\n"


def extends_chain(length: int, *, reverse: bool = False) -> str:
    """s1 extends s0, s2 extends s1, ...: Compose follows any length. ``reverse``: the
    longest chain is written first (nothing resolved yet to stop at)."""
    head = "services:\n  s0:\n    image: nginx\n    ports: ['80']\n"
    links = [f"  s{i}:\n    extends: s{i - 1}\n" for i in range(1, length)]
    return head + "".join(reversed(links) if reverse else links)


HUGE_NUMBER = "9" * 5000
SERVICE = "services:\n  web:\n    image: nginx\n"


def exposed(*entries: str, extra: str = "") -> str:
    return SERVICE + extra + "    ports:\n" + "".join(f"      - {e}\n" for e in entries)


COMMANDS = {
    "check": ["check", "--no-config"],
    "check-json": ["check", "--no-config", "--format", "json"],
    "check-sarif": ["check", "--no-config", "--format", "sarif"],
    "check-github": ["check", "--no-config", "--format", "github"],
    "validate": ["validate"],
    "ports": ["ports"],
    "ports-json": ["ports", "--format", "json"],
    "harden-check": ["harden", "--no-config", "--bind", "10.0.0.5", "--check"],
    "harden": ["harden", "--no-config", "--bind", "10.0.0.5"],
}

NUMBER_COMMANDS = (
    "check", "check-json", "check-sarif", "validate", "ports-json", "harden-check", "harden"
)

# (file text, {command: (exit code, text in stdout+stderr)}, environment)
CASES = [
    pytest.param(
        merge_bomb(),
        {
            "check": (1, "is published on all interfaces"),
            "validate": (0, ""),
            "ports": (0, "all-interfaces"),
            "harden-check": (1, "would harden"),
            "harden": (0, "hardened"),
        },
        {},
        id="merge-key-bomb",
    ),
    pytest.param(
        alias_bomb(),
        dict.fromkeys(("check", "validate", "harden"), (2, "COMPOSE_NET_MAX_NODES")),
        {},
        id="alias-bomb-names-the-bound",
    ),
    pytest.param(
        SERVICE + "    ports:\n" + "      - 1\n" * 300_000,
        {
            "check": (2, "the document has more than 200,000 nodes"),
            "harden": (2, "COMPOSE_NET_MAX_NODES"),
        },
        {"COMPOSE_NET_MAX_NODES": "200000"},
        id="many-tiny-entries-are-not-an-alias-bomb",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        extends_chain(3000),
        dict.fromkeys(
            ("check", "ports", "harden-check", "harden"),
            (2, "extends a chain of more than 200 services"),
        ),
        {},
        id="extends-chain-past-the-bound",
    ),
    pytest.param(
        extends_chain(3000),
        {"check": (1, "3000 findings"), "harden": (0, "hardened")},
        {"COMPOSE_NET_MAX_DEPTH": "100000"},
        id="extends-chain-past-a-raised-bound",
    ),
    pytest.param(
        extends_chain(3000, reverse=True),
        dict.fromkeys(("check", "harden"), (2, "nests deeper than this run can follow")),
        {"COMPOSE_NET_MAX_DEPTH": "100000"},
        id="extends-chain-written-backwards-past-a-raised-bound",
    ),
    pytest.param(
        extends_chain(150),
        {"check": (1, "services.s0.ports[0] (extended by s149)"), "harden": (0, "hardened")},
        {},
        id="extends-chain-within-the-bound",
    ),
    pytest.param(
        exposed(*['"1-65535:1-65535"'] * 20),
        dict.fromkeys(
            ("check", "ports", "ports-json", "harden-check", "harden"),
            (2, "port ranges that add more than 65,536 ports once ranges are expanded"),
        ),
        {},
        id="port-ranges-past-the-bound",
    ),
    pytest.param(
        SERVICE + "    ports:\n" + "      - 1\n" * 1_000_000,
        {"check": (2, "more than 500,000 ports")},
        {},
        id="a-million-tiny-entries-are-not-an-alias-bomb",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        exposed(*['"1-65535:1-65535"'] * 20),
        dict.fromkeys(("ports", "harden"), (2, "COMPOSE_NET_MAX_PORTS")),
        {"COMPOSE_NET_MAX_PORTS": "65535"},
        id="port-ranges-bound-lowered",
    ),
    pytest.param(
        exposed('"8000-8100:8000-8100"', '"9000-9100:9000-9100/udp"'),
        {"ports": (0, "9100/udp"), "check": (1, "published on all interfaces"),
         "harden": (0, "hardened")},
        {},
        id="port-ranges-within-the-bound",
    ),
    pytest.param(
        exposed('"80:80"') + "#" * 3_000_000 + "\n",
        {"check": (1, "published on all interfaces"), "harden": (0, "hardened")},
        {},
        id="3-MB-is-no-longer-refused",
    ),
    pytest.param(
        exposed('"80:80"') + "#" * 3_000_000 + "\n",
        dict.fromkeys(("check", "validate", "harden"), (2, "COMPOSE_NET_MAX_FILE_BYTES")),
        {"COMPOSE_NET_MAX_FILE_BYTES": "1048576"},
        id="file-size-bound",
    ),
    *(
        pytest.param(
            text,
            {command: (code, "") for command, code in zip(NUMBER_COMMANDS, codes)},
            {},
            id=f"number-{name}",
        )
        for name, text, codes in (
            ("short", exposed(HUGE_NUMBER), (1, 1, 1, 2, 2, 2, 2)),
            ("host-port", exposed(f'"{HUGE_NUMBER}:80"'), (1, 1, 1, 2, 2, 2, 2)),
            ("base-60", exposed(f"{HUGE_NUMBER}:22"), (1, 1, 1, 2, 2, 2, 2)),
            ("range", exposed(f'"1-{HUGE_NUMBER}:1-{HUGE_NUMBER}"'), (1, 1, 1, 2, 2, 2, 2)),
            ("target", exposed(f"{{target: {HUGE_NUMBER}}}"), (1, 1, 1, 2, 2, 2, 2)),
            ("published", exposed(f"{{target: 80, published: {HUGE_NUMBER}}}"),
             (1, 1, 1, 2, 0, 2, 2)),
            ("published-text", exposed(f'{{target: 80, published: "{HUGE_NUMBER}"}}'),
             (1, 1, 1, 2, 0, 2, 2)),
            ("mem-limit", exposed('"80:80"', extra=f"    mem_limit: {HUGE_NUMBER}\n"),
             (1, 1, 1, 0, 0, 1, 0)),
            ("label", exposed('"80:80"', extra=f"    labels: {{a: {HUGE_NUMBER}}}\n"),
             (1, 1, 1, 0, 0, 1, 0)),
            ("hex", exposed('"80:80"', extra=f"    cpus: 0x{HUGE_NUMBER}\n"),
             (1, 1, 1, 2, 0, 2, 2)),
            ("float", exposed('"80:80"', extra=f"    cpus: {HUGE_NUMBER}.5\n"),
             (1, 1, 1, 0, 0, 1, 0)),
        )
    ),
    pytest.param(
        'services:\n  "w\\udc80b":\n    image: nginx\n    ports: ["80:80"]\n',
        {
            "check": (1, "published on all interfaces"),
            "check-json": (1, ""),
            "check-sarif": (1, ""),
            "check-github": (1, "::error"),
            "ports-json": (0, ""),
        },
        {"PYTHONIOENCODING": "utf-8"},
        id="lone-surrogate-in-a-service-name",
    ),
]


@pytest.mark.parametrize(("text", "expected", "env"), CASES)
def test_hostile_input(
    tmp_path: Path, text: str, expected: dict[str, tuple[int, str]], env: dict[str, str]
) -> None:
    path = tmp_path / "compose.yaml"
    original = text.encode()
    for command, (code, message) in expected.items():
        path.write_bytes(original)
        proc = run(*COMMANDS[command], str(path), env=env, cwd=tmp_path)
        out = proc.stdout + proc.stderr
        assert "Traceback" not in out and "internal error" not in out, (command, out[-2000:])
        assert proc.returncode == code, (command, out[-2000:])
        assert message in out, (command, out[-2000:])
        if command.endswith(("json", "sarif")):
            json.loads(proc.stdout)
        if code == 2 and not command.startswith("check"):  # check adds its summary line
            assert len(proc.stderr.strip().splitlines()) == 1, (command, proc.stderr)
        if code == 2 or command != "harden":
            assert path.read_bytes() == original, command


def test_every_bound_is_in_the_readme() -> None:
    from compose_net import bounds

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Bounds", 1)[1].split("\n## ", 1)[0]
    for bound in bounds.ALL:
        row = next((line for line in section.splitlines() if f"`{bound.variable}=N`" in line), "")
        assert f"{bound.default:,}" in row, bound.variable


@pytest.mark.parametrize(
    ("length", "code", "message"),
    (
        pytest.param(150, 1, "150 findings", id="within-the-bound"),
        pytest.param(600, 2, "include: nests more than 200 files", id="past-the-bound"),
    ),
)
def test_a_chain_of_includes_is_bounded(
    tmp_path: Path, length: int, code: int, message: str
) -> None:
    """f0 includes f1, which includes f2, ...: Compose follows any length; compose-net follows
    COMPOSE_NET_MAX_DEPTH files and past it says so in one line, writing nothing."""
    for i in range(length):
        include = f"include:\n  - f{i + 1}.yml\n" if i + 1 < length else ""
        (tmp_path / f"f{i}.yml").write_text(
            include + f"services:\n  s{i}:\n    image: nginx\n    ports: ['{1000 + i}:80']\n"
        )
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for command in ("check", "harden"):
        proc = run(*COMMANDS[command], "f0.yml", cwd=tmp_path)
        out = proc.stdout + proc.stderr
        assert "Traceback" not in out and "internal error" not in out, out[-2000:]
        expected = code if command == "check" or code == 2 else 0
        assert proc.returncode == expected, (command, out[-2000:])
        if command == "check":
            assert message in out, out[-2000:]
        if code == 2:
            assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
