"""action.yml, the composite GitHub Action: valid against the action-metadata schema that
check-jsonschema ships, and its shell steps run as a runner runs them (``bash --noprofile
--norc -eo pipefail``, ``${{ inputs.* }}`` and ``${{ steps.*.outputs.* }}`` filled in,
GITHUB_PATH and GITHUB_OUTPUT honoured) against the example in a git repository.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import require, run
from harness.venv import ROOT, copy_package, tracked_files

pytestmark = pytest.mark.slow

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EXAMPLE = (ROOT / "examples" / "docker-compose.yml").read_text(encoding="utf-8")
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.mark.parametrize(
    ("change", "valid"),
    (
        pytest.param(None, True, id="action.yml"),
        pytest.param(lambda a: a["runs"].pop("using"), False, id="no-using"),
        pytest.param(lambda a: a["runs"]["steps"][0].pop("shell"), False, id="run-without-shell"),
        pytest.param(lambda a: a.pop("description"), False, id="no-description"),
    ),
)
def test_action_metadata_schema(tmp_path: Path, change: Any, valid: bool) -> None:
    require(importlib.util.find_spec("check_jsonschema") is not None,
            "check-jsonschema is not installed")
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    if change is not None:
        change(action)
    path = tmp_path / "action.yml"
    path.write_text(yaml.safe_dump(action), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions",
         str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert (proc.returncode == 0) == valid, proc.stdout + proc.stderr


class Runner:
    """Just enough of a GitHub runner for a composite action's steps."""

    def __init__(self, action_path: Path, temp: Path, workspace: Path, inputs: dict[str, str]):
        self.action_path, self.temp, self.workspace = action_path, temp, workspace
        self.inputs = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
        unknown = set(inputs) - set(self.inputs)
        assert not unknown, unknown
        self.inputs.update(inputs)
        self.outputs: dict[str, dict[str, str]] = {}
        self.path: list[str] = []
        self.failed = False
        self.log: list[tuple[str, int, str]] = []
        self.uploads: list[dict[str, str]] = []

    def value(self, expr: str) -> str:
        parts = expr.split(".")
        if parts[0] == "inputs":
            return self.inputs[".".join(parts[1:])]
        if parts[0] == "steps" and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"expression not understood: {expr}")

    def fill(self, text: str) -> str:
        return EXPR.sub(lambda m: self.value(m.group(1)), text)

    def condition(self, text: str | None) -> bool:
        if text is None:
            return not self.failed
        inner = EXPR.sub(lambda m: m.group(1), text)
        always = "always()" in inner
        inner = inner.replace("always()", "True").replace("&&", " and ").replace("||", " or ")
        inner = re.sub(r"\b(inputs|steps)\.[\w.-]+",
                       lambda m: repr(self.value(m.group(0))), inner)
        ok = bool(eval(inner, {"__builtins__": {}}, {"True": True}))  # a test's own literal
        return ok if always else ok and not self.failed

    def run_step(self, step: dict[str, Any]) -> int | None:
        if not self.condition(step.get("if")):
            return None
        if "uses" in step:
            self.uploads.append({k: self.fill(str(v)) for k, v in step.get("with", {}).items()})
            return 0
        assert step["shell"] == "bash"
        script = self.temp / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        output = self.temp / "output"
        output.write_text("")
        path_file = self.temp / "path"
        path_file.write_text("")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("GITHUB_")}
        env.update(GIT_ENV, GITHUB_ACTIONS="true", GITHUB_ACTION_PATH=str(self.action_path),
                   GITHUB_WORKSPACE=str(self.workspace), RUNNER_TEMP=str(self.temp),
                   GITHUB_OUTPUT=str(output), GITHUB_PATH=str(path_file),
                   PIP_DISABLE_PIP_VERSION_CHECK="1")
        env["PATH"] = os.pathsep.join([*self.path, env.get("PATH", "")])
        env.update({k: self.fill(str(v)) for k, v in step.get("env", {}).items()})
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=self.workspace, env=env, capture_output=True, text=True,
                              timeout=900, check=False)
        self.log.append((step["name"], proc.returncode, proc.stdout + proc.stderr))
        self.path = [*reversed(path_file.read_text().split()), *self.path]
        if "id" in step:
            pairs = [line.split("=", 1) for line in output.read_text().splitlines() if line]
            self.outputs[step["id"]] = dict(pairs)
        if proc.returncode != 0:
            self.failed = True
        return proc.returncode


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """The action's checkout (its package files) and the install step, run once:
    (action path, runner temp, PATH entries the step added)."""
    base = tmp_path_factory.mktemp("action")
    action_path = base / "compose-net"
    copy_package(action_path)
    assert (action_path / "action.yml").is_file()
    temp = base / "runner-temp"
    temp.mkdir()
    runner = Runner(action_path, temp, base, {})
    step = ACTION["runs"]["steps"][0]
    assert step["name"] == "Install compose-net"
    assert runner.run_step(step) == 0, runner.log
    assert (temp / "compose-net" / "bin" / "compose-net").is_file()
    return action_path, temp, runner.path


def _workspace(base: Path, files: dict[str, str]) -> Path:
    workspace = base / "workspace"
    for name, text in files.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text, encoding="utf-8")
    env = {**os.environ, **GIT_ENV}
    run(["git", "init", "-q"], cwd=workspace, env=env)
    run(["git", "add", "-A"], cwd=workspace, env=env)
    return workspace


HARDENED_EXAMPLE = (EXAMPLE.replace('"80:80"', '"10.0.0.5:80:80"')
                    .replace("published: 8000", "published: 8000\n        host_ip: 10.0.0.5")
                    .replace('"6379:6379"', '"10.0.0.5:6379:6379"')
                    .replace("5432:5432", '"10.0.0.5:5432:5432"')
                    .replace('"0.0.0.0:9100:9100"', '"10.0.0.5:9100:9100"'))


@pytest.mark.parametrize(
    ("files", "inputs", "code", "log", "sarif"),
    (
        pytest.param({"deploy/docker-compose.yml": EXAMPLE}, {}, 1,
                     "::error file=deploy/docker-compose.yml,line=7,col=9,", None,
                     id="finds-the-example-fails-the-job"),
        pytest.param({"deploy/docker-compose.yml": HARDENED_EXAMPLE}, {}, 0,
                     "::notice file=deploy/docker-compose.yml,line=8,", None, id="hardened-passes"),
        pytest.param({"deploy/docker-compose.yml": EXAMPLE, "notes.yml": 'ports: ["1:1"]\n'},
                     {"sarif": "true"}, 1, "::error file=deploy/docker-compose.yml,line=7,col=9,",
                     6,
                     id="sarif-upload-holds-findings-only"),
        pytest.param({"a/compose.yaml": EXAMPLE, "b/compose.yaml": HARDENED_EXAMPLE},
                     {"files": "b/*.yaml", "format": "text"}, 0, "compose-net: 0 findings", None,
                     id="files-glob"),
        pytest.param({"stack.yml": HARDENED_EXAMPLE}, {"target": "stack", "format": "text"}, 1,
                     "CN005", None, id="target-stack"),
        pytest.param({"compose.yaml": EXAMPLE}, {"args": "--allow * --ignore CN008",
                                                "format": "text"}, 0,
                     "compose-net: 0 findings", None, id="extra-args"),
        pytest.param({"compose.yaml": "services: [web\n"}, {"format": "text"}, 2, "compose.yaml:",
                     None, id="unreadable-is-2"),
        pytest.param({"README.md": "nothing here\n"}, {"sarif": "true"}, 0,
                     "no Compose or stack file to check", None, id="no-files"),
        pytest.param({"--output=x-stack.yml": EXAMPLE}, {"format": "text"}, 1,
                     "--output=x-stack.yml:7:9: error CN001", None,
                     id="a-file-named-like-an-option"),
    ),
)
def test_action_steps(
    installed: tuple[Path, Path, list[str]], tmp_path: Path, files: dict[str, str],
    inputs: dict[str, str], code: int, log: str, sarif: int | None,
) -> None:
    action_path, temp, path = installed
    workspace = _workspace(tmp_path, files)
    runner = Runner(action_path, temp, workspace, inputs)
    runner.path = list(path)
    codes = [runner.run_step(step) for step in ACTION["runs"]["steps"][1:]]
    assert codes[-1] == code, runner.log
    assert [c for c in codes[:-1] if c not in (None, 0)] == [], runner.log
    assert log in runner.log[-1][2], runner.log[-1][2]
    if sarif is None:
        assert runner.uploads == []
        return
    [upload] = runner.uploads
    assert upload["category"] == "compose-net"
    uploaded = json.loads((workspace / upload["sarif_file"]).read_text(encoding="utf-8"))
    full = json.loads((workspace / "compose-net.sarif").read_text(encoding="utf-8"))
    results = uploaded["runs"][0]["results"]
    assert len(results) == sarif and all("suppressions" not in r for r in results)
    assert len(full["runs"][0]["results"]) == sarif + 1  # the allowed 443
    assert "notes.yml" not in json.dumps(full)


def test_action_installs_this_checkout() -> None:
    """The install step's default is the action's own checkout: what `uses:` pinned."""
    assert "action.yml" in tracked_files()
    assert '"${PACKAGE:-$GITHUB_ACTION_PATH}"' in ACTION["runs"]["steps"][0]["run"]
    assert shutil.which("bash") is not None


@pytest.mark.parametrize(
    ("link", "codes"),
    (
        pytest.param("compose-net.sarif", [0, 2], id="report-is-a-symlink-refused"),
        pytest.param("compose-net.sarif.upload.sarif", [0, 0, 0, 1],
                     id="upload-file-symlink-replaced-not-followed"),
    ),
)  # fmt: skip
def test_action_never_writes_through_a_symlink(
    installed: tuple[Path, Path, list[str]], tmp_path: Path, link: str, codes: list[int]
) -> None:
    """A pull request that plants a symlink where the Action writes its SARIF files does not
    make it write elsewhere: compose-net refuses the report, and the upload file is a new
    file renamed over the link."""
    action_path, temp, path = installed
    workspace = _workspace(tmp_path, {"compose.yaml": EXAMPLE})
    victim = tmp_path / "victim"
    victim.write_text("profile\n", encoding="utf-8")
    (workspace / link).symlink_to(victim)
    runner = Runner(action_path, temp, workspace, {"sarif": "true", "format": "text"})
    runner.path = list(path)
    got = [runner.run_step(step) for step in ACTION["runs"]["steps"][1:]]
    assert [c for c in got if c is not None] == codes, runner.log
    assert victim.read_text(encoding="utf-8") == "profile\n"
    assert (workspace / link).is_symlink() == (link == "compose-net.sarif")
