"""The pre-commit recipes of README.md, run by the real pre-commit as a user's ``git commit``
runs them: a commit that adds an exposed port is refused, and once ``compose-net harden``
has fixed the file the commit passes.

The remote recipe is used as printed except its ``repo:``, which points at a temporary clone
of this checkout; its ``rev:`` (the release tag of the current version) is made to exist
there, and the commit-id form the README gives for the time before a tag exists is run
too. The ``repo: local`` recipe runs the ``compose-net`` on PATH: this checkout's.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from harness import require, run
from harness.venv import ROOT, copy_package

from compose_net import __version__

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text(encoding="utf-8")
EXPOSED = 'services:\n  cache:\n    image: redis\n    ports:\n      - "6379:6379"\n'
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def readme_recipes() -> dict[str, str]:
    """The README's ``.pre-commit-config.yaml`` blocks: {"remote": ..., "local": ...}."""
    blocks = re.findall(r"^```yaml\n(# \.pre-commit-config\.yaml\n.*?)^```", README, re.S | re.M)
    out = {}
    for block in blocks:
        repo = yaml.safe_load(block)["repos"][0]["repo"]
        out["local" if repo == "local" else "remote"] = block
    assert sorted(out) == ["local", "remote"], blocks
    return out


def test_the_remote_recipe_pins_this_version() -> None:
    repo = yaml.safe_load(readme_recipes()["remote"])["repos"][0]
    assert repo["rev"] == f"v{__version__}"
    assert [hook["id"] for hook in repo["hooks"]] == ["compose-net-check"]


def _env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "PRE_COMMIT", "GITHUB_"))}
    bin_dir = base / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "compose-net"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m compose_net "$@"\n')
    shim.chmod(0o755)
    env.update(GIT_ENV, HOME=str(base / "home"), PRE_COMMIT_HOME=str(base / "pre-commit"),
               PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    (base / "home").mkdir(exist_ok=True)
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    return run(["git", *args], cwd=cwd, env=env, timeout=120).stdout.strip()


@pytest.mark.parametrize(
    ("recipe", "pin"),
    (
        pytest.param("remote", "tag", id="readme-recipe-tag"),
        pytest.param("remote", "commit", id="readme-recipe-commit-before-a-tag"),
        pytest.param("local", None, id="repo-local"),
    ),
)
def test_recipe_blocks_then_passes(tmp_path: Path, recipe: str, pin: str | None) -> None:
    require(importlib.util.find_spec("pre_commit") is not None, "pre-commit is not installed")
    require(shutil.which("git") is not None, "git is not installed")
    env = _env(tmp_path)
    config = readme_recipes()[recipe]
    if recipe == "remote":
        clone = tmp_path / "compose-net"
        copy_package(clone)
        _git(clone, env, "init", "-q")
        _git(clone, env, "add", "-A")
        _git(clone, env, "commit", "-q", "-m", "compose-net")
        if pin == "tag":
            _git(clone, env, "tag", f"v{__version__}")
        else:
            sha = _git(clone, env, "rev-parse", "HEAD")
            config = config.replace(f"rev: v{__version__} ", f"rev: {sha} ")
            assert sha in config
        config = config.replace("repo: /opt/compose-net ", f"repo: {clone} ")
        assert str(clone) in config
    project = tmp_path / "project"
    project.mkdir()
    _git(project, env, "init", "-q")
    (project / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    run([sys.executable, "-m", "pre_commit", "install"], cwd=project, env=env)
    compose = project / "deploy" / "docker-compose.yml"
    compose.parent.mkdir()
    compose.write_text(EXPOSED, encoding="utf-8")
    _git(project, env, "add", "-A")

    commit = ["git", "commit", "-q", "-m", "add a cache"]
    refused = subprocess.run(commit, cwd=project, env=env, capture_output=True, text=True,
                             timeout=900, stdin=subprocess.DEVNULL, check=False)
    out = refused.stdout + refused.stderr
    assert refused.returncode == 1, out
    assert 'deploy/docker-compose.yml:5:9: CN001 services.cache.ports[0] "6379:6379"' in out, out
    assert subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=project, env=env,
                          capture_output=True, check=False).returncode != 0  # nothing committed

    run(["compose-net", "harden", "--bind", "10.0.0.5", str(compose)], env=env, timeout=60)
    assert '"10.0.0.5:6379:6379"' in compose.read_text(encoding="utf-8")
    _git(project, env, "add", "-A")
    passed = subprocess.run(commit, cwd=project, env=env, capture_output=True, text=True,
                            timeout=900, stdin=subprocess.DEVNULL, check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"compose-net check\.+Passed", passed.stdout + passed.stderr)
    assert _git(project, env, "log", "--format=%s") == "add a cache"
