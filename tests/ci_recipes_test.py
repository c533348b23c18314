"""The CI recipes of docs/ci.md: the GitHub workflow and the GitLab job are valid for their
CI (the schemas check-jsonschema ships), and the GitLab job's commands, run as GitLab runs
them (one bash, ``set -eo pipefail``), write a Code Quality report and exit as documented.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import require, run
from harness.venv import ROOT, copy_package

PAGE = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "examples" / "docker-compose.yml").read_text(encoding="utf-8")
CLEAN = 'services:\n  web:\n    image: nginx\n    ports:\n      - "127.0.0.1:8080:80"\n'
GITLAB_SCHEMA = json.loads(
    (ROOT / "tests" / "schemas" / "gitlab-code-quality.schema.json").read_text())
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def recipe(name: str) -> str:
    """The YAML block of docs/ci.md whose first line is ``# NAME``."""
    blocks = re.findall(r"^```yaml\n(# (\S+)\n.*?)^```", PAGE, re.S | re.M)
    [text] = [text for text, first in blocks if first == name]
    return text


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
    assert checkout["with"]["submodules"] is True
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
    project = tmp_path / "project"
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    copy_package(project / "vendor" / "compose-net")  # the submodule, checked out
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "GITHUB_ACTIONS")}
    env.update(GIT_ENV, PIP_DISABLE_PIP_VERSION_CHECK="1")
    run(["git", "init", "-q"], cwd=project, env=env)
    run(["git", "add", "-A", "--", ":!vendor"], cwd=project, env=env)
    script = "set -eo pipefail\n" + "\n".join([*job["before_script"], *job["script"]]) + "\n"
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-c", script], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == code, proc.stdout + proc.stderr
    report = json.loads((project / job["artifacts"]["reports"]["codequality"]).read_text())
    jsonschema.Draft202012Validator(GITLAB_SCHEMA).validate(report)
    assert len(report) == issues, report
    assert all(not i["location"]["path"].startswith("vendor/") for i in report)
