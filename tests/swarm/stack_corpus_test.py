"""Every corpus file through every stack strategy, read back by ``docker stack config``.

In process: each file is either refused with a one-line reason or hardened with its proof
(never a SafetyError, never a crash). For the files the docker CLI's stack loader accepts,
every hardened file must be accepted too, publish nothing (unpublish, internal-network) or
only in host mode (host-mode), and read the same as the original outside what the strategy
changes (ports, the service's networks and placement, the added network).
"""

from __future__ import annotations

import concurrent.futures
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from harness import docker_cli, require, stack_config

from compose_net import source, yamltree
from compose_net.errors import ComposeNetError, SafetyError
from compose_net.swarm import strategies

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
#: Hardened and verified files per strategy must not fall below this (430 inputs load).
MINIMUM_VERIFIED = 380


def _stack_config(folder: Path, name: str) -> tuple[bool, Any]:
    proc = stack_config(folder, name)
    if proc.returncode != 0:
        return False, proc.stderr.strip()
    return True, yamltree.to_plain(yamltree.compose(proc.stdout, name))


def _outside_changes(config: dict[str, Any], strategy: str) -> dict[str, Any]:
    out = {k: v for k, v in config.items() if k != "networks"}
    out["networks"] = {k: v for k, v in (config.get("networks") or {}).items() if k != "internal"}
    out["services"] = {}
    for name, service in (config.get("services") or {}).items():
        service = {k: v for k, v in service.items() if k not in ("ports", "networks")}
        if strategy == "host-mode" and "deploy" in service:
            deploy = {k: v for k, v in service.pop("deploy").items() if k != "placement"}
            if deploy:
                service["deploy"] = deploy
        out["services"][name] = service
    return out


def check_file(path: Path) -> list[tuple[str, str]]:
    """(strategy, outcome) per strategy; an outcome starting with 'BAD' is a failure."""
    try:
        src = source.read(str(path))
    except ComposeNetError:
        return [(s, "unreadable") for s in strategies.STRATEGIES]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "in.yml").write_bytes(src.encode(src.text))
        accepted, before = _stack_config(folder, "in.yml")
        out: list[tuple[str, str]] = []
        for strategy in strategies.STRATEGIES:
            try:
                result = strategies.harden_stack_text(src, strategy)
            except SafetyError as e:
                out.append((strategy, f"BAD proof failed: {e}"))
                continue
            except ComposeNetError:
                out.append((strategy, "refused"))
                continue
            except Exception as e:  # a crash is a failure, with the file named
                out.append((strategy, f"BAD crash {type(e).__name__}: {e}"))
                continue
            if not accepted or result.text == src.text:
                out.append((strategy, "proven" if accepted else "proven, not a stack file"))
                continue
            name = f"{strategy}.yml"
            (folder / name).write_bytes(src.encode(result.text))
            ok, after = _stack_config(folder, name)
            if not ok:
                out.append((strategy, f"BAD docker stack config rejects it: {after}"))
                continue
            modes = {
                p.get("mode")
                for service in after["services"].values()
                for p in service.get("ports") or []
            }
            if modes - ({"host"} if strategy == "host-mode" else set()):
                out.append((strategy, f"BAD still published: {sorted(map(str, modes))}"))
            elif _outside_changes(before, strategy) != _outside_changes(after, strategy):
                out.append((strategy, "BAD something else changed"))
            else:
                out.append((strategy, "verified"))
        return out


@pytest.mark.slow
def test_corpus_through_every_strategy() -> None:
    files = sorted((CORPUS / "files").glob("*/*.yml"))
    require(bool(files), f"corpus not found at {CORPUS}")
    require(docker_cli() is not None, "the docker CLI is not installed")
    workers = max(2, os.cpu_count() or 2)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda p: (p, check_file(p)), files))
    bad = [
        f"{path.relative_to(CORPUS)} [{strategy}]: {outcome}"
        for path, outcomes in results
        for strategy, outcome in outcomes
        if outcome.startswith("BAD")
    ]
    assert bad == []
    verified = {
        s: sum(1 for _, outcomes in results for st, o in outcomes if st == s and o == "verified")
        for s in strategies.STRATEGIES
    }
    assert min(verified.values()) >= MINIMUM_VERIFIED, verified
