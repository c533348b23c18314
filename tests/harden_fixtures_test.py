"""Fixture pairs: ``<case>.in.yaml`` hardened with ``<case>.args`` gives ``<case>.out.yaml``.

Every ``.out.yaml`` is a fixed point, and the real Compose binary reads it with
every previously exposed port bound to the address given.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from compose_net.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "harden"
CASES = sorted(p.name[: -len(".in.yaml")] for p in FIXTURES.glob("*.in.yaml"))


def _args(case: str) -> list[str]:
    return shlex.split((FIXTURES / f"{case}.args").read_text())


#: Cases whose output still has a finding ``check`` fails on, so harden exits 1: the anchored
#: list gives services a and b the same host ports (CN006), a public address is kept (CN002).
REMAINING = {"anchors", "public"}


def test_there_are_cases() -> None:
    assert len(CASES) >= 15


def _exit(case: str) -> int:
    return 1 if case in REMAINING else 0


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str, tmp_path: Path) -> None:
    target = tmp_path / "compose.yaml"
    shutil.copyfile(FIXTURES / f"{case}.in.yaml", target)
    assert main(["harden", "--no-config", "-q", str(target), *_args(case)]) == _exit(case)
    assert target.read_bytes() == (FIXTURES / f"{case}.out.yaml").read_bytes()
    args = _args(case)
    allows = [x for i, a in enumerate(args) if a == "--allow" for x in (a, args[i + 1])]
    assert main(["check", "--no-config", *allows, str(target)]) == _exit(case)


@pytest.mark.parametrize("case", CASES)
def test_output_is_a_fixed_point(case: str, tmp_path: Path) -> None:
    target = tmp_path / "compose.yaml"
    shutil.copyfile(FIXTURES / f"{case}.out.yaml", target)
    before = target.stat().st_mtime_ns
    code = _exit(case)
    assert main(["harden", "--no-config", "-q", "--check", str(target), *_args(case)]) == code
    assert main(["harden", "--no-config", "-q", str(target), *_args(case)]) == code
    assert target.stat().st_mtime_ns == before
    assert target.read_bytes() == (FIXTURES / f"{case}.out.yaml").read_bytes()


def _compose_ports(
    compose_bin: str, path: Path, env: dict[str, str]
) -> dict[str, list[dict[str, object]]]:
    proc = subprocess.run(
        [compose_bin, "--profile", "*", "-f", path.name, "config", "--format", "json"],
        cwd=path.parent,
        env={"PATH": "/usr/bin:/bin", "HOME": str(path.parent), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    return {name: s.get("ports", []) for name, s in services.items()}


def _all_interfaces(port: dict[str, object]) -> bool:
    return port.get("host_ip") in (None, "", "0.0.0.0", "::")


#: Cases where some ports are allowed to stay on all interfaces.
ALLOWING = {"allow", "pragma_scope"}
#: Variables a case needs before Compose will read it at all.
CASE_ENV = {
    "interpolation": {"REQUIRED_IP": "127.0.0.2"},
    "bind_var": {"SERVICE_IP": "10.176.226.219"},
}


@pytest.mark.compose
@pytest.mark.parametrize("case", CASES)
def test_compose_reads_the_output_as_intended(case: str, tmp_path: Path, compose_bin: str) -> None:
    env = CASE_ENV.get(case, {})
    before_path = tmp_path / "before" / "compose.yaml"
    after_path = tmp_path / "after" / "compose.yaml"
    for path, name in ((before_path, "in"), (after_path, "out")):
        path.parent.mkdir()
        shutil.copyfile(FIXTURES / f"{case}.{name}.yaml", path)
    before = _compose_ports(compose_bin, before_path, env)
    after = _compose_ports(compose_bin, after_path, env)
    args = _args(case)
    binds = {args[i + 1] for i, a in enumerate(args) if a == "--bind"}
    if "--bind-var" in args:
        binds = {env["SERVICE_IP"]}
    assert before.keys() == after.keys()
    for service, ports in before.items():
        exposed = [p for p in ports if _all_interfaces(p)]
        kept = [p for p in ports if not _all_interfaces(p)]
        new = after[service]
        # Nothing in the hardened file listens on every interface, unless explicitly allowed.
        if case not in ALLOWING:
            assert not [p for p in new if _all_interfaces(p)], (service, new)
        for p in exposed:
            rest = {k: v for k, v in p.items() if k != "host_ip"}
            matches = [q for q in new if {k: v for k, v in q.items() if k != "host_ip"} == rest]
            assert matches, (service, p)
            if case not in ALLOWING:
                assert {q.get("host_ip") for q in matches} <= binds
        if case not in ("public_rewrite",):
            for p in kept:
                assert p in new, (service, p)
