"""harden reports every problem that prevents its work in one run, as check lists them: all
the invalid port entries of a file (of every file of a project), all its schema errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ENTRIES = (
    'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n      - "70000:80"\n'
    '      - "abc"\n  db:\n    image: x\n    ports:\n      - "1-2:3-5"\n'
)
SCHEMA = (
    'services:\n  web:\n    image: nginx\n    restart: 5\n    ports:\n      - "8080:80"\n'
    "  db:\n    image: x\n    bogus: 1\n"
)
OVERRIDE = 'services:\n  web:\n    ports:\n      - "99999:1"\n'


def compose_net(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=120, check=False,
    )


@pytest.mark.parametrize(
    ("files", "args", "places"),
    [
        pytest.param({"bad.yaml": ENTRIES}, ["bad.yaml"], ["bad.yaml:6:9", "bad.yaml:7:9",
                                                          "bad.yaml:11:9"], id="entries"),
        pytest.param({"bad.yaml": ENTRIES}, ["--target", "stack", "bad.yaml"],
                     ["bad.yaml:6:9", "bad.yaml:7:9", "bad.yaml:11:9"], id="entries-stack"),
        pytest.param({"compose.yaml": ENTRIES, "compose.override.yaml": OVERRIDE}, [],
                     ["compose.yaml:6:9", "compose.yaml:7:9", "compose.yaml:11:9",
                      "compose.override.yaml:4:9"], id="project-every-file"),
        pytest.param({"sch.yaml": SCHEMA}, ["sch.yaml"], ["sch.yaml:4:14", "sch.yaml:9:5"],
                     id="schema"),
        pytest.param({"a.yaml": ENTRIES, "b.yaml": SCHEMA}, ["a.yaml", "b.yaml"],
                     ["a.yaml:6:9", "a.yaml:7:9", "a.yaml:11:9", "b.yaml:4:14", "b.yaml:9:5"],
                     id="two-files"),
    ],
)
def test_every_problem_in_one_run(
    tmp_path: Path, files: dict[str, str], args: list[str], places: list[str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    hardened = compose_net(["harden", "--diff", *args], tmp_path)
    if "--target" not in args:
        hardened = compose_net(["harden", "--bind", "10.0.0.5", "--diff", *args], tmp_path)
    assert hardened.returncode == 2, hardened.stderr
    assert hardened.stdout == ""  # nothing is changed, not even in a diff
    lines = [line for line in hardened.stderr.splitlines() if "failed" not in line]
    assert all(line.startswith("compose-net: error: ") for line in lines), lines
    assert [line.split(": ")[2] for line in lines] == places
    # check lists the same places, as its invalid-port and schema findings
    checked = compose_net(["check", "--format", "json", *args], tmp_path)
    found = json.loads(checked.stdout)["findings"]
    listed = sorted(
        f"{f['path']}:{f['line']}:{f['column']}" for f in found if f["rule"] in ("CN009", "CN010")
    )
    assert listed == sorted(places)
    assert {name: (tmp_path / name).read_text(encoding="utf-8") for name in files} == files
