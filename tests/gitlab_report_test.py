"""``check --format gitlab``: a GitLab Code Quality report, valid against a schema written
from the fields GitLab documents (tests/schemas/gitlab-code-quality.schema.json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "gitlab-code-quality.schema.json").read_text())
EXAMPLE = (ROOT / "examples" / "docker-compose.yml").read_text(encoding="utf-8")
TWO_REDIS = (
    "services:\n  a:\n    image: redis\n    ports:\n      - \"6379:6379\"\n"
    "  b:\n    image: redis\n    ports:\n      - \"6379:6379\"\n"
)


def _check(tmp_path: Path, files: dict[str, str], *args: str) -> tuple[int, object, str]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "compose_net", "check", "--no-config", "--format", "gitlab",
         "-o", "gl-code-quality-report.json", *args, *files],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )
    report = json.loads((tmp_path / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    return proc.returncode, report, proc.stderr


@pytest.mark.parametrize(
    ("files", "args", "code", "expected"),
    (
        pytest.param(
            {"deploy/docker-compose.yml": EXAMPLE}, [], 1,
            [("CN001 all-interfaces", "critical", "deploy/docker-compose.yml", 7),
             ("CN001 all-interfaces", "critical", "deploy/docker-compose.yml", 12),
             ("CN001 all-interfaces", "critical", "deploy/docker-compose.yml", 17),
             ("CN001 all-interfaces", "critical", "deploy/docker-compose.yml", 21),
             ("CN008 unquoted-port", "info", "deploy/docker-compose.yml", 21),
             ("CN001 all-interfaces", "critical", "deploy/docker-compose.yml", 25)],
            id="example-allowed-port-left-out"),
        pytest.param({"compose.yaml": EXAMPLE}, ["--target", "stack"], 1, None, id="stack"),
        pytest.param({"compose.yaml": TWO_REDIS}, ["--select", "CN006"], 1,
                     [("CN006 duplicate-host-port", "major", "compose.yaml", 9)],
                     id="duplicate-is-major"),
        pytest.param({"compose.yaml": EXAMPLE.replace('"80:80"', '"127.0.0.1:80:80"')
                      .replace('"6379:6379"', '"10.0.0.5:6379:6379"')},
                     ["--select", "CN002"], 0, [], id="clean-is-empty"),
        pytest.param({"compose.yaml": "services: [web\n"}, [], 2,
                      [("compose-net cannot check", "blocker", "compose.yaml", 2)],
                     id="unreadable-is-blocker"),
    ),
)
def test_gitlab_report(
    tmp_path: Path, files: dict[str, str], args: list[str], code: int,
    expected: list[tuple[str, str, str, int]] | None,
) -> None:
    returncode, report, stderr = _check(tmp_path, files, *args)
    assert returncode == code, stderr
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert isinstance(report, list)
    fingerprints = [issue["fingerprint"] for issue in report]
    assert len(set(fingerprints)) == len(fingerprints)
    got = [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
           for i in report]
    if expected is None:  # every stack port is reported
        assert {g[0] for g in got} >= {"CN005 swarm-published"} and len(got) >= 6, got
    else:
        assert sorted(got, key=lambda g: (g[3], g[0])) == expected


@pytest.mark.parametrize(
    ("issue", "error"),
    (
        pytest.param({"check_name": "x", "fingerprint": "f", "severity": "major",
                      "location": {"path": "a", "lines": {"begin": 1}}}, "description",
                     id="no-description"),
        pytest.param({"description": "d", "check_name": "x", "fingerprint": "f",
                      "severity": "error", "location": {"path": "a", "lines": {"begin": 1}}},
                     "error", id="bad-severity"),
        pytest.param({"description": "d", "check_name": "x", "fingerprint": "f",
                      "severity": "info", "location": {"path": "/abs", "lines": {"begin": 1}}},
                     "/abs", id="absolute-path"),
        pytest.param({"description": "d", "check_name": "x", "fingerprint": "f",
                      "severity": "info", "location": {"path": "a", "lines": {}}},
                     "begin", id="no-line"),
    ),
)
def test_the_schema_refuses(issue: dict[str, object], error: str) -> None:
    with pytest.raises(jsonschema.ValidationError, match=error):
        jsonschema.Draft202012Validator(SCHEMA).validate([issue])


def test_fingerprints_survive_moved_lines(tmp_path: Path) -> None:
    _, before, _ = _check(tmp_path, {"compose.yaml": EXAMPLE})
    _, after, _ = _check(tmp_path, {"compose.yaml": "# a comment\n\n" + EXAMPLE})
    assert isinstance(before, list) and isinstance(after, list)
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]
    assert [i["location"]["lines"]["begin"] + 2 for i in before] == [
        i["location"]["lines"]["begin"] for i in after]
