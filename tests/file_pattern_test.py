"""One file pattern everywhere: the pre-commit hooks, the README and docs recipes, the GitHub
Action and the package's constant (the language server's document selector) carry the very
same pattern, and it matches the Compose and stack file names people use, and nothing else."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from compose_net.discovery import FILE_PATTERN

ROOT = Path(__file__).resolve().parents[1]

MATCHES = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    "docker-compose.prod.yml",
    "docker-compose.override.yml",
    "compose.override.yaml",
    "compose.prod.yaml",
    "compose-dev.yml",
    "docker-compose-dev.yaml",
    "docker_compose.yml",
    "broken-compose.yml",
    "app-compose.yaml",
    "app.compose.yml",
    "deploy/docker-compose.yml",
    "a/b/c/compose.yaml",
    "stack.yml",
    "stack.yaml",
    "docker-stack.yml",
    "prod-stack.yml",
    "prod_stack.yml",
    "app.stack.yaml",
    "stack.prod.yml",
    "deploy/swarm/traefik-stack.yml",
    "My Project/compose.yaml",
]

NON_MATCHES = [
    "composer.yml",
    "composer.json",
    "decompose.yml",
    "recompose.yaml",
    "haystack.yml",
    "stackoverflow.yml",
    "compose.json",
    "docker-compose.yml.bak",
    "docker-compose.yml.orig",
    "compose.yaml~",
    "compose/app.yml",
    "stack/app.yaml",
    "Dockerfile",
    ".env",
    "values.yaml",
    "kustomization.yml",
    "compose.txt",
    "compose.ymlx",
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [pytest.param(n, True, id=n) for n in MATCHES]
    + [pytest.param(n, False, id=f"not {n}") for n in NON_MATCHES],
)
def test_pattern_table(name: str, expected: bool) -> None:
    """Python's re (pre-commit's ``files:``, the language server) decides each name."""
    assert (re.search(FILE_PATTERN, name) is not None) is expected


def test_grep_agrees() -> None:
    """The recipes run it with ``grep -E`` (POSIX extended): the same names match."""
    grep = shutil.which("grep")
    assert grep is not None
    names = "\n".join(MATCHES + NON_MATCHES) + "\n"
    found = subprocess.run(
        [grep, "-E", FILE_PATTERN], input=names, capture_output=True, text=True, check=False
    ).stdout.splitlines()
    assert found == MATCHES


#: where the pattern is written, and how many times
PLACES = [
    (".pre-commit-hooks.yaml", 2),
    ("README.md", 1),
    ("docs/ci.md", 2),
    ("action.yml", 1),
]

#: any pattern that names YAML files in these files
_WRITTEN = re.compile(r"'([^'\n]*ya\?ml\$)'")


@pytest.mark.parametrize(("path", "count"), [pytest.param(p, n, id=p) for p, n in PLACES])
def test_every_place_carries_the_pattern(path: str, count: int) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert _WRITTEN.findall(text) == [FILE_PATTERN] * count


def test_hooks_use_the_pattern() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [hook["files"] for hook in hooks] == [FILE_PATTERN] * len(hooks)
    assert len(hooks) == 2
