"""Big real shapes finish with the right result under a memory limit the test sets.

Generated files, one service per tenant, are real: 100,000 services in block and flow
style, one service aliased 100,000 times, one anchored port list reused by 100,000
services, and 2,000 services in 5 MB (which harden rewrites and Compose reads back).
Each command runs in a child process limited by ``resource.setrlimit``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import compose_binary

MEMORY = 1024 * 1024 * 1024
CPU_SECONDS = 600
BIND = "10.0.0.5"
SERVICES = 100_000


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        capture_output=True, text=True, cwd=cwd, timeout=CPU_SECONDS * 2, check=False,
        preexec_fn=limited, env={k: v for k, v in os.environ.items() if k != "COMPOSE_FILE"},
    )


def block(n: int) -> str:
    return "services:\n" + "".join(
        f"  s{i}:\n    image: nginx\n    ports:\n      - \"{i % 60000 + 1024}:80\"\n"
        for i in range(n)
    )


def flow(n: int) -> str:
    return "services: {" + ", ".join(
        f"s{i}: {{image: nginx, ports: ['{i % 60000 + 1024}:80']}}" for i in range(n)
    ) + "}\n"


def aliased(n: int) -> str:
    first = "  s0: &s\n    image: nginx\n    ports:\n      - \"8080:80\"\n"
    return "services:\n" + first + "".join(f"  s{i}: *s\n" for i in range(1, n))


def anchored(n: int) -> str:
    head = "x-ports: &ports\n  - \"80:80\"\n  - target: 443\n    published: 8443\nservices:\n"
    return head + "".join(f"  s{i}:\n    image: nginx\n    ports: *ports\n" for i in range(n))


def both_protocols(n: int) -> str:
    """Block style without a collision: the first 60,000 host ports over TCP, then UDP."""
    return "services:\n" + "".join(
        f"  s{i}:\n    image: nginx\n    ports:\n"
        f"      - \"{i % 60000 + 1024}:80{'/udp' if i >= 60000 else ''}\"\n"
        for i in range(n)
    )


def five_megabytes(n: int = 2000) -> str:
    """2,000 services of about 2.6 KB each: environment, labels and three port forms."""
    out = ["services:\n"]
    for i in range(n):
        env = "".join(f'      VAR_{j}: "value-{i}-{j}-{"y" * 40}"\n' for j in range(30))
        out.append(
            f"  s{i}:\n    image: registry.example.com/team/app-{i}:1.2.3\n"
            f"    environment:\n{env}    labels:\n"
            f'      com.example.description: "service {i} {"z" * 300}"\n'
            f'    ports:\n      - "{10000 + i}:80"\n      - {20000 + i}:443\n'
            f"      - target: 53\n        published: {30000 + i}\n        protocol: udp\n"
        )
    return "".join(out)


SHAPES = [
    pytest.param(block, SERVICES, 1, id="100k-services-block"),
    pytest.param(flow, SERVICES, 1, id="100k-services-flow"),
    pytest.param(aliased, SERVICES, 1, id="one-service-aliased-100k-times"),
    pytest.param(anchored, SERVICES, 2, id="one-port-list-anchored-100k-times"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("make", "services", "ports"), SHAPES)
def test_ports_of_a_big_shape(
    tmp_path: Path, make: Any, services: int, ports: int
) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(make(services))
    proc = run("ports", "--format", "json", str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-1000:]
    listed = json.loads(proc.stdout)["files"][0]["services"]
    assert len(listed) == services
    exposures = {p["exposure"] for s in listed.values() for p in s["ports"]}
    assert exposures == {"all-interfaces"}
    assert sum(len(s["ports"]) for s in listed.values()) == services * ports


@pytest.mark.slow
def test_harden_writes_five_megabytes_of_two_thousand_services(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    text = five_megabytes()
    assert len(text.encode()) > 5_000_000
    path.write_text(text)
    proc = run("harden", "--no-config", "--bind", BIND, str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert "(6000 ports)" in proc.stderr
    config = subprocess.run(
        [compose_binary(), "-f", str(path), "config", "--format", "json"],
        capture_output=True, text=True, timeout=600, check=True, cwd=tmp_path,
    )
    services = json.loads(config.stdout)["services"]
    assert len(services) == 2000
    assert {p.get("host_ip") for s in services.values() for p in s["ports"]} == {BIND}
    written = path.read_text()
    # two short entries per service gain the address (the unquoted one its quotes too),
    # the long one a host_ip line: nothing else changed
    grown = 4000 * len(BIND + ":") + 2000 * len('""') + 2000 * len(f"\n        host_ip: {BIND}")
    assert len(written) - len(text) == grown
    again = run("harden", "--no-config", "--bind", BIND, "--check", str(path), cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-1000:]


#: (shape, harden's options, exit code, findings that remain): block and flow style repeat
#: 40,000 host ports (i % 60000), which stay reported; an aliased or anchored entry is
#: shared, so --remap-conflicts never moves it (moving thousands of ports is timed in
#: tests/resolvers/conflicts_test.py)
HARDEN = [
    pytest.param(both_protocols, (), 0, 0, id="100k-services-no-collision"),
    pytest.param(block, (), 1, 40_000, id="100k-services-block"),
    pytest.param(flow, (), 1, 40_000, id="100k-services-flow"),
    pytest.param(aliased, ("--remap-conflicts",), 1, SERVICES - 1, id="aliased-100k-times"),
]


def remaining(stderr: str) -> int:
    """The findings harden or check says remain, from the last line it writes to stderr."""
    lines = [line for line in stderr.strip().splitlines() if " fixable with " not in line]
    last = lines[-1] if lines else ""
    if "findings remain" in last:
        return int(last.split()[1])
    if " findings (" in last:
        return int(last.split()[1])
    return 0


@pytest.mark.slow
@pytest.mark.parametrize(("make", "options", "code", "left"), HARDEN)
def test_harden_a_big_shape(
    tmp_path: Path, make: Any, options: tuple[str, ...], code: int, left: int
) -> None:
    """Under the memory limit: the exit code and the findings left are exact, every port is
    bound to the address, check reports what harden said remains, and a second run would
    change nothing."""
    path = tmp_path / "compose.yaml"
    path.write_text(make(SERVICES))
    proc = run("harden", "--no-config", "--bind", BIND, "-q", *options, str(path), cwd=tmp_path)
    assert proc.returncode == code, proc.stderr[-1000:]
    assert remaining(proc.stderr) == left, proc.stderr[-1000:]
    assert proc.stderr.count(": error: CN006 ") == left
    written = path.read_text()
    listed = run("ports", "--format", "json", str(path), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-1000:]
    services = json.loads(listed.stdout)["files"][0]["services"]
    ports = [p for s in services.values() for p in s["ports"]]
    assert len(ports) == SERVICES * (2 if make is anchored else 1)
    assert {p.get("host_ip") for p in ports} == {BIND}
    checked = run("check", "--no-config", str(path), cwd=tmp_path)
    assert checked.returncode == (1 if left else 0), checked.stderr[-1000:]
    assert remaining(checked.stderr) == left
    assert checked.stdout.count(": error CN006 ") == left
    again = run(
        "harden", "--no-config", "--bind", BIND, "--check", *options, str(path), cwd=tmp_path
    )
    assert again.returncode == code, again.stderr[-1000:]
    assert "would harden" not in again.stderr
    assert remaining(again.stderr) == left
    assert path.read_text() == written


@pytest.mark.slow
def test_check_a_port_list_anchored_by_every_service(tmp_path: Path) -> None:
    """check on 100,000 services reusing one anchored list, under the memory limit: every
    service but the first collides on both ports, and every port is on all interfaces."""
    path = tmp_path / "compose.yaml"
    path.write_text(anchored(SERVICES))
    proc = run("check", "--no-config", str(path), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-1000:]
    rules = [line.split(": ", 2)[1].split()[1] for line in proc.stdout.splitlines()]  # SEVERITY ID
    assert rules.count("CN006") == 2 * (SERVICES - 1)
    assert rules.count("CN001") == 2 * SERVICES
    assert remaining(proc.stderr) == len(rules) == 4 * SERVICES - 2
