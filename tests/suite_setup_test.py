"""How the suite runs: the tests that build labs or the swarm share one xdist group (one
worker runs them one after the other), the others are spread over the workers, and the oracle
cache answers a second question with the same input bytes without running the oracle again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness import oracle

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
import json, os

def pytest_collection_finish(session):
    groups = {}
    for item in session.items:
        mark = item.get_closest_marker("xdist_group")
        groups[item.nodeid] = mark.args[0] if mark is not None and mark.args else None
    with open(os.environ["GROUPS_OUT"], "w") as f:
        json.dump(groups, f)
'''

LAB_FILES = [
    "tests/e2e/fleet_e2e_test.py",
    "tests/e2e/live_e2e_test.py",
    "tests/e2e/swarm_resolve_test.py",
    "tests/e2e/swarm_stack_test.py",
    "tests/fleet_test.py",
    "tests/addr_netns_test.py",
    "tests/probe_test.py",
    "tests/resolvers/addr_classify_test.py",
]
OTHER_FILES = ["tests/file_pattern_test.py", "tests/check_habits_test.py"]
#: files whose module fixtures build a wheel, venvs or a hook environment: a group each
ONE_WORKER_FILES = ["tests/action_test.py", "tests/packaging_test.py", "tests/precommit_test.py"]


def test_lab_tests_share_one_group(tmp_path: Path) -> None:
    """Collected only (no lab is built): every test of a lab file is in the group "labs",
    every test of a file that builds a wheel or venvs for all its tests in a group named
    after the file, and no other test is in any group."""
    (tmp_path / "groups_plugin.py").write_text(PLUGIN, encoding="utf-8")
    out = tmp_path / "groups.json"
    env = dict(os.environ, GROUPS_OUT=str(out),
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-n", "0", "-p", "groups_plugin", *LAB_FILES, *OTHER_FILES, *ONE_WORKER_FILES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    groups: dict[str, str | None] = json.loads(out.read_text(encoding="utf-8"))
    by_file: dict[str, set[str | None]] = {}
    for nodeid, group in groups.items():
        by_file.setdefault(nodeid.split("::", 1)[0], set()).add(group)
    assert {f: by_file[f] for f in LAB_FILES if f in by_file} == {
        f: {"labs"} for f in LAB_FILES if f in by_file
    }
    assert len([f for f in LAB_FILES if f in by_file]) >= 6  # the lab files were collected
    assert {f: by_file[f] for f in OTHER_FILES} == {f: {None} for f in OTHER_FILES}
    assert {f: by_file[f] for f in ONE_WORKER_FILES} == {f: {f} for f in ONE_WORKER_FILES}


@pytest.mark.parametrize(
    ("second", "same"),
    [
        pytest.param({"compose.yaml": b"a\n"}, True, id="same-bytes-another-folder"),
        pytest.param({"compose.yaml": b"b\n"}, False, id="other-bytes"),
        pytest.param({"compose.yaml": b"a\n", ".env": b"X=1\n"}, False, id="another-file"),
    ],
)
def test_oracle_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second: dict[str, bytes], same: bool
) -> None:
    monkeypatch.setattr(oracle, "run_dir", str(tmp_path / "run"))
    counter = tmp_path / "counter"  # outside the folders: not part of the input
    argv = ["sh", "-c", f'cat compose.yaml; echo x >> "{counter}"; wc -l < "{counter}"']
    results = []
    for i, files in enumerate(({"compose.yaml": b"a\n"}, second)):
        folder = tmp_path / f"folder{i}"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        results.append(oracle.run(argv, folder, {"PATH": os.environ["PATH"]}))
    assert results[0].stdout == "a\n1\n"
    assert (results[1].stdout == results[0].stdout) is same
    assert counter.read_text().count("x") == (1 if same else 2)


WORKERS_PLUGIN = '''
import os
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if "test_pattern_table" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("together"))

def pytest_runtest_setup(item):
    with open(os.environ["WORKERS_OUT"], "a") as f:
        f.write(os.environ.get("PYTEST_XDIST_WORKER", "-") + " " + item.nodeid + "\\n")
'''


def test_loadgroup_keeps_a_group_on_one_worker(tmp_path: Path) -> None:
    """Two workers, --dist loadgroup (the suite's settings): the tests of a group, marked as
    the conftest marks the lab tests, all run on one worker; the rest spread."""
    (tmp_path / "workers_plugin.py").write_text(WORKERS_PLUGIN, encoding="utf-8")
    out = tmp_path / "workers.txt"
    env = dict(os.environ, WORKERS_OUT=str(out),
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         "-p", "workers_plugin", "tests/file_pattern_test.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split(" ", 1) for line in out.read_text(encoding="utf-8").splitlines()]
    grouped = {worker for worker, nodeid in rows if "test_pattern_table" in nodeid}
    assert len(grouped) == 1, rows
    assert len([r for r in rows if "test_pattern_table" in r[1]]) > 20
    assert {worker for worker, _ in rows} == {"gw0", "gw1"}, rows


ORDER_PLUGIN = '''
import os
import pytest

def pytest_itemcollected(item):
    if "test_every_place_carries_the_pattern" in item.nodeid:
        item.add_marker(pytest.mark.slow)

def pytest_runtest_setup(item):
    with open(os.environ["ORDER_OUT"], "a") as f:
        f.write(item.nodeid + "\\n")
'''


def test_slow_tests_are_handed_out_first(tmp_path: Path) -> None:
    """Under xdist the tests marked slow are handed out before the others (after the lab
    group), each part in file order, so that a long test does not start last; one process
    keeps file order."""
    (tmp_path / "order_plugin.py").write_text(ORDER_PLUGIN, encoding="utf-8")
    ran: dict[str, list[str]] = {}
    for workers in ("0", "1"):
        out = tmp_path / f"order-{workers}.txt"
        env = dict(os.environ, ORDER_OUT=str(out),
                   PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers,
             "-p", "order_plugin", "tests/file_pattern_test.py"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        ran[workers] = out.read_text(encoding="utf-8").splitlines()
    in_file_order = ran["0"]
    slow = [n for n in in_file_order if "test_every_place_carries_the_pattern" in n]
    assert slow and in_file_order[0] not in slow  # the marked tests are not first in the file
    assert ran["1"] == slow + [n for n in in_file_order if n not in slow]
