"""The pre-commit recipes of README.md and docs/ci.md, copied verbatim (the blocks marked
``<!-- recipe: ... -->``) into a fresh git repository and run with the real git and
pre-commit, as a user's ``git commit`` runs them: a commit that adds an exposed port is
refused, and once ``compose-net check --fix`` has fixed the file the commit passes.

The clone recipe runs in a shell where ``COMPOSE_NET`` names a clone of this checkout (as the
docs ask), so its ``rev:`` is that clone's commit. The ``repo: local`` recipe runs the
``compose-net`` on PATH: this checkout's.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from harness import require, run
from harness.recipes import PAGES, clone, environment, recipes, shell, where

pytestmark = pytest.mark.slow

EXPOSED = 'services:\n  cache:\n    image: redis\n    ports:\n      - "6379:6379"\n'


def test_both_pages_print_both_recipes_alike() -> None:
    """The README's short form is the docs' recipe, word for word."""
    for name in ("pre-commit-clone", "pre-commit-local"):
        texts = where(name)
        assert [page for page, _ in texts] == list(PAGES), name
        assert len({text for _, text in texts}) == 1, name


def test_no_recipe_names_a_tag_that_does_not_exist() -> None:
    tags = run(["git", "tag", "--list"], cwd=Path(__file__).parent).stdout.split()
    for page in PAGES:
        for name, (_, text) in recipes(page).items():
            for tag in re.findall(r"\bv\d+\.\d+\.\d+\b", text):
                assert tag in tags, f"{page}: recipe {name} pins {tag}, which is not tagged"


@pytest.mark.parametrize(
    ("page", "name"),
    [pytest.param(page, name, id=f"{page}:{name}")
     for name in ("pre-commit-clone", "pre-commit-local") for page, _ in where(name)],
)
def test_recipe_blocks_then_passes(tmp_path: Path, page: str, name: str) -> None:
    require(importlib.util.find_spec("pre_commit") is not None, "pre-commit is not installed")
    require(shutil.which("git") is not None, "git is not installed")
    language, text = recipes(page)[name]
    source = tmp_path / "compose-net"
    env = environment(tmp_path, source)
    sha = clone(source, env)
    project = tmp_path / "project"
    project.mkdir()
    run(["git", "init", "-q"], cwd=project, env=env)
    if language == "sh":  # pasted into a shell, as printed
        shell(text, project, env)
    else:  # a file, named by its first line: written as printed, then installed
        first = text.splitlines()[0]
        assert first.startswith("# "), first
        (project / first[2:]).write_text(text, encoding="utf-8")
        shell("pre-commit install", project, env)
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    repo = config["repos"][0]
    assert repo["repo"] == ("local" if name == "pre-commit-local" else str(source))
    if name == "pre-commit-clone":
        assert repo["rev"] == sha
    compose = project / "deploy" / "broken-compose.yml"  # the pattern matches *-compose.yml
    compose.parent.mkdir()
    compose.write_text(EXPOSED, encoding="utf-8")
    run(["git", "add", "-A"], cwd=project, env=env)

    commit = ["git", "commit", "-q", "-m", "add a cache"]
    refused = subprocess.run(commit, cwd=project, env=env, capture_output=True, text=True,
                             timeout=900, stdin=subprocess.DEVNULL, check=False)
    out = refused.stdout + refused.stderr
    assert refused.returncode == 1, out
    assert ('deploy/broken-compose.yml:5:9: error CN001 services.cache.ports[0] "6379:6379"'
            in out), out
    assert subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=project, env=env,
                          capture_output=True, check=False).returncode != 0  # nothing committed

    shell("compose-net check --fix --bind 10.0.0.5 deploy/broken-compose.yml", project, env)
    assert '"10.0.0.5:6379:6379"' in compose.read_text(encoding="utf-8")
    run(["git", "add", "-A"], cwd=project, env=env)
    passed = subprocess.run(commit, cwd=project, env=env, capture_output=True, text=True,
                            timeout=900, stdin=subprocess.DEVNULL, check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"compose-net check\.+Passed", passed.stdout + passed.stderr)
    assert run(["git", "log", "--format=%s"], cwd=project, env=env).stdout.strip() == (
        "add a cache"
    )
