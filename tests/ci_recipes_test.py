"""The CI recipes of docs/ci.md, as printed (the blocks marked ``<!-- recipe: ... -->``):
the copy recipe makes ``vendor/compose-net`` in a fresh git repository from a clone named
by ``COMPOSE_NET``; the GitHub workflow and the GitLab job are valid for their CI (the
schemas check-jsonschema ships); the workflow's action, run from that copy with the steps of
action.yml as a runner runs them, fails on the example; and the GitLab job's commands, run
as GitLab runs them (one bash, ``set -eo pipefail``), write a Code Quality report and exit as
documented.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import require, run
from harness.recipes import clone, environment, recipes, shell
from harness.venv import ROOT

PAGE = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "examples" / "docker-compose.yml").read_text(encoding="utf-8")
CLEAN = 'services:\n  web:\n    image: nginx\n    ports:\n      - "127.0.0.1:8080:80"\n'
GITLAB_SCHEMA = json.loads(
    (ROOT / "tests" / "schemas" / "gitlab-code-quality.schema.json").read_text())


def recipe(name: str) -> str:
    """The YAML block of docs/ci.md whose first line is ``# NAME``."""
    blocks = re.findall(r"^```yaml\n(# (\S+)\n.*?)^```", PAGE, re.S | re.M)
    [text] = [text for text, first in blocks if first == name]
    return text


def test_marked_recipes() -> None:
    """The blocks the tests run are the ones the page prints under their names."""
    marked = recipes("docs/ci.md")
    assert marked["github-workflow"] == ("yaml", recipe(".github/workflows/compose-net.yml"))
    assert marked["gitlab-ci"] == ("yaml", recipe(".gitlab-ci.yml"))
    assert marked["vendor"][0] == "sh"
    assert "submodule add" not in PAGE  # a local-path submodule fails on current git


def vendored(tmp_path: Path, files: dict[str, str]) -> tuple[Path, dict[str, str], str]:
    """A fresh repository holding ``files`` and compose-net copied in by the copy recipe, as
    printed, from a clone that ``COMPOSE_NET`` names: (repository, environment, commit)."""
    source = tmp_path / "compose-net"
    env = environment(tmp_path, source)
    sha = clone(source, env)
    project = tmp_path / "project"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    project.mkdir(exist_ok=True)
    run(["git", "init", "-q"], cwd=project, env=env)
    shell(recipes("docs/ci.md")["vendor"][1], project, env)
    run(["git", "add", "-A"], cwd=project, env=env)
    run(["git", "commit", "-q", "-m", "compose-net"], cwd=project, env=env)
    assert (project / "vendor" / "compose-net" / "REVISION").read_text().strip() == sha
    return project, env, sha


@pytest.mark.parametrize(
    ("name", "builtin"),
    (
        pytest.param(".github/workflows/compose-net.yml", "vendor.github-workflows", id="github"),
        pytest.param(".gitlab-ci.yml", "vendor.gitlab-ci", id="gitlab"),
    ),
)
def test_recipe_is_valid_for_its_ci(tmp_path: Path, name: str, builtin: str) -> None:
    require(importlib.util.find_spec("check_jsonschema") is not None,
            "check-jsonschema is not installed")
    path = tmp_path / Path(name).name
    path.write_text(recipe(name), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", builtin,
                           str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_uses_the_action_with_code_scanning() -> None:
    from ruamel.yaml import YAML  # YAML 1.2: `on` stays a string

    workflow: dict[str, Any] = YAML(typ="safe").load(recipe(".github/workflows/compose-net.yml"))
    job = workflow["jobs"]["check"]
    assert job["permissions"]["security-events"] == "write"
    checkout, action = job["steps"]
    assert checkout == {"uses": "actions/checkout@v4"}  # the copy is in the repository
    assert action == {"uses": "./vendor/compose-net", "with": {"sarif": "true"}}
    assert "xargs" not in PAGE


def test_gitlab_job_publishes_the_report_it_writes() -> None:
    job = yaml.safe_load(recipe(".gitlab-ci.yml"))["compose-net"]
    report = job["artifacts"]["reports"]["codequality"]
    assert job["artifacts"]["when"] == "always"
    [command] = [line for line in job["script"] if line.startswith("compose-net check")]
    assert f"--format gitlab -o {report} " in command


@pytest.mark.slow
@pytest.mark.parametrize(
    ("files", "code", "issues"),
    (
        pytest.param({"deploy/docker-compose.yml": EXAMPLE}, 1, 6, id="findings-fail-the-job"),
        pytest.param({"deploy/docker-compose.yml": CLEAN}, 0, 0, id="clean-passes"),
        pytest.param({"compose.yaml": "services: [web\n"}, 2, 1, id="unreadable-is-2"),
    ),
)
def test_gitlab_job_runs(tmp_path: Path, files: dict[str, str], code: int, issues: int) -> None:
    job = yaml.safe_load(recipe(".gitlab-ci.yml"))["compose-net"]
    project, env, _ = vendored(tmp_path, files)
    env = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "GITHUB_ACTIONS")}
    script = "set -eo pipefail\n" + "\n".join([*job["before_script"], *job["script"]]) + "\n"
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-c", script], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == code, proc.stdout + proc.stderr
    report = json.loads((project / job["artifacts"]["reports"]["codequality"]).read_text())
    jsonschema.Draft202012Validator(GITLAB_SCHEMA).validate(report)
    assert len(report) == issues, report
    assert all(not i["location"]["path"].startswith("vendor/") for i in report)


@pytest.mark.slow
def test_github_workflow_runs_the_vendored_action(tmp_path: Path) -> None:
    """The workflow's ``uses: ./vendor/compose-net`` is the copy the recipe made: its
    action.yml's steps, run as a runner runs them, install it and fail on the example."""
    from action_test import Runner  # the runner of tests/action_test.py
    from ruamel.yaml import YAML

    project, _, _ = vendored(tmp_path, {"deploy/docker-compose.yml": EXAMPLE})
    workflow: dict[str, Any] = YAML(typ="safe").load(recipe(".github/workflows/compose-net.yml"))
    [step] = [s for s in workflow["jobs"]["check"]["steps"] if s["uses"].startswith("./")]
    action_path = project / step["uses"]
    action = yaml.safe_load((action_path / "action.yml").read_text(encoding="utf-8"))
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    runner = Runner(action_path, temp, project, {k: str(v) for k, v in step["with"].items()})
    codes = [runner.run_step(s) for s in action["runs"]["steps"]]
    assert codes[0] == 0, runner.log  # installed from the copy
    assert codes[-1] == 1, runner.log  # the example's findings fail the job
    assert "::error file=deploy/docker-compose.yml,line=7,col=9," in runner.log[-1][2]
    [upload] = runner.uploads
    assert upload["category"] == "compose-net"
