"""harden and check agree over every corpus file and every fixture.

Each file is copied alone into a folder of its own (the harden fixtures as compose.yaml, the
fixture projects as their whole folder), then ``harden --bind 10.0.0.5`` and ``check`` run on
it in process, in one fixed environment, and the real Compose binary reads it before and
after. The promises are those of consistency_cases.py. Files Compose rejects are counted and
left out; every other file is either agreed or listed with what broke.
"""

from __future__ import annotations

import concurrent.futures
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from consistency_cases import BIND, Case, Outcome, inprocess_runner, run_case
from harden_corpus_test import CORPUS, _materialize
from harden_fixtures_test import CASE_ENV
from harness import require
from project_test import FIXTURE_TABLE, FIXTURES

pytestmark = [pytest.mark.compose, pytest.mark.slow]

HARDEN_FIXTURES = Path(__file__).parent / "fixtures" / "harden"

#: Files where harden and check disagree, with what breaks (harden applies check's own fixes
#: and checks its result, so each one is a bug to fix). The test fails when a file disagrees
#: that is not listed here, and when a listed file agrees again.
KNOWN: dict[str, str] = {}


def _oracle(rel: str) -> dict[str, Any]:
    path = CORPUS / "oracle" / Path(rel).with_suffix(".json")
    return json.loads(path.read_text()) if path.is_file() else {}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _items() -> list[tuple[str, Case, dict[str, Any]]]:
    """(name, case, oracle data) for every corpus file, harden fixture and fixture project."""
    items: list[tuple[str, Case, dict[str, Any]]] = []
    for path in sorted((CORPUS / "files").rglob("*.yml")):
        rel = str(path.relative_to(CORPUS / "files"))
        data = _oracle(rel)
        case = Case(
            files={path.name: path.read_bytes()},
            projects=[[path.name]],
            harden=["--bind", BIND],
            # the Compose target, whose promises these are: a file that looks like a swarm
            # stack is hardened with the stack strategy by default, which drops published
            # ports on purpose (tests/swarm/stack_auto_test.py)
            common=["--no-config", "--target", "compose"],
            compose_flags=list(data.get("flags", [])),
        )
        items.append((f"corpus/{rel}", case, data))
    for path in sorted(HARDEN_FIXTURES.glob("*.yaml")):
        case_name = path.name.split(".")[0]
        case = Case(
            files={"compose.yaml": path.read_bytes()},
            env=dict(CASE_ENV.get(case_name, {})),
            common=["--no-config"],
        )
        items.append((f"fixtures/harden/{path.name}", case, {}))
    for param in FIXTURE_TABLE:
        fixture = param.values[0]
        case = Case(
            files=_tree(FIXTURES / fixture.name),
            raw=list(fixture.args),
            cwd=fixture.cwd,
            harden=["--bind", BIND, *fixture.harden_args],
            common=["--no-config"],
            # what harden may edit outside the project, check and ports must read
            readers=["--read-outside"] if "--edit-outside" in fixture.harden_args else [],
        )
        items.append((f"fixtures/projects/{param.id or fixture.name}", case, {}))
    return items


def _one(compose_bin: str, item: tuple[str, Case, dict[str, Any]]) -> tuple[str, Outcome]:
    name, case, data = item
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "project"
        folder.mkdir()
        _materialize(folder, data)
        return name, run_case(case, folder, inprocess_runner, compose_bin, skip_rejected=True)


#: the files are checked in this many parts, each a test of its own, so that the workers of a
#: parallel run share them (one part is items[k::SHARDS] of the list _items makes)
SHARDS = 4


@pytest.mark.parametrize(
    "shard", range(SHARDS), ids=[f"part-{k + 1}-of-{SHARDS}" for k in range(SHARDS)]
)
def test_harden_and_check_agree_everywhere(compose_bin: str, shard: int) -> None:
    """Every file of the part agrees or is listed in KNOWN, and no file of the part listed
    in KNOWN agrees again; the whole corpus is at least 700 files."""
    require((CORPUS / "files").is_dir(), f"corpus not found at {CORPUS}")
    every = _items()
    items = every[shard::SHARDS]
    # Compose runs in threads; the in-process runs take turns (consistency_cases' lock).
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda item: _one(compose_bin, item), items))
    counts: Counter[str] = Counter()
    broken: dict[str, str] = {}
    for name, outcome in results:
        if outcome.harden is None:
            counts["rejected by Compose"] += 1
            continue
        counts[f"harden-exit-{outcome.harden.code}"] += 1
        if outcome.problems:
            broken[name] = "; ".join(outcome.problems)
        else:
            counts["agreed"] += 1
    corpus = sum(1 for name, _, _ in every if name.startswith("corpus/"))
    mine = sum(1 for name, _, _ in items if name.startswith("corpus/"))
    print(
        f"\nconsistency corpus, part {shard + 1} of {SHARDS}: {len(items)} files ({mine} corpus, "
        f"{len(items) - mine} fixtures): {counts['agreed']} agreed, {len(broken)} disagreed "
        f"({len(set(broken) & set(KNOWN))} known), {counts['harden-exit-0']} harden-exit-0, "
        f"{counts['harden-exit-1']} harden-exit-1, {counts['harden-exit-2']} errors, "
        f"{counts['rejected by Compose']} rejected by Compose"
    )
    for name, outcome in results:
        if outcome.harden is None:
            print(f"  rejected by Compose: {name}: {outcome.compose_rejects}")
    assert len(results) == len(items)
    assert corpus >= 700
    unexpected = {name: why for name, why in broken.items() if name not in KNOWN}
    assert not unexpected, "\n".join(f"{n}: {w}" for n, w in sorted(unexpected.items()))
    missing = sorted(set(KNOWN) - {name for name, _, _ in every})
    assert not missing, f"KNOWN lists files that are not checked: {missing}"
    fixed = sorted((set(KNOWN) & {name for name, _, _ in items}) - set(broken))
    assert not fixed, f"these files agree now; take them out of KNOWN: {fixed}"
