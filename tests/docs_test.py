"""The examples of README.md and docs/*.md, run.

* Every ``console`` block is a script: each of its ``compose-net`` lines runs, in order, in a
  folder holding the files the examples name, and must end as the documentation says (0 or
  1 unless the table below says why not), without a traceback, and as one line when it
  fails. The README's two install commands are run by readme_test.py instead.
* Every ``text`` block that starts with ``$ compose-net`` prints what it shows (addresses
  of this host masked).
* Every rule's "Finding" and "No finding" examples in docs/rules.md are checked with that
  rule: it reports the first and not the second.
* Every YAML or TOML block named after a configuration, an inventory or a pre-commit file
  is valid for it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml
from harness import require

from compose_net import schema

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
#: the lines run: compose-net, alone or at the end of a pipe
RUN = re.compile(r"^(cat [^|]*\| )?compose-net ")
#: the README's install commands (readme_test.py) and the development block
NOT_RUN = re.compile(r"^(python3 -m venv|\. \.venv|python3 -m pytest|ruff )")

EXPOSED = (ROOT / "examples" / "docker-compose.yml").read_text(encoding="utf-8")
STACK = """\
services:
  api:
    image: example/api:2.3
    deploy:
      replicas: 2
    ports:
      - "8000:8000"
"""
SANDBOX = {
    "compose.yaml": EXPOSED,
    "compose.override.yaml": 'services:\n  web:\n    ports:\n      - "8080:8080"\n',
    "docker-compose.yml": EXPOSED,
    "base.yml": 'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n',
    "prod.yml": 'services:\n  web:\n    ports: ["8443:443"]\n',
    "app/compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["${PORT}:80"]\n',
    "app/prod.env": "PORT=8081\n",
    "stack.yml": STACK,
    "docker-stack.yml": STACK,
    "deploy/api.yml": STACK,
    "deploy/web.yml": STACK.replace("api", "web"),
    "nodes.yaml": "nodes:\n  n1:\n    service: {ipv4: 10.0.0.11}\n"
    "    engine: unix:///var/run/docker.sock\n",
}

#: command -> (exit codes it may end with, why); the rest end with 0 or 1
EXPECTED: dict[str, tuple[set[int], str]] = {
    "compose-net addr service ipv4": ({0, 2}, "exit 2 on a host without exactly one"),
    "compose-net harden docker-compose.yml --resolve local": (
        {0, 2}, "exit 2 on a host without an internal address"),
    "compose-net harden compose.yaml --resolve local": (
        {0, 2}, "exit 2 on a host without an internal address"),
    "compose-net harden compose.yaml --inventory nodes.yaml": (
        {0, 2}, "after `nodes --resolve docker`: exit 2 when the engine's host has no internal "
        "address"),
    "compose-net harden compose.yaml --resolve docker": (
        {0, 2}, "exit 2 when the engine's host has no internal address"),
    "compose-net probe 203.0.113.10 compose.yaml": (
        {0, 1, 2}, "what answers at a documentation address depends on the network"),
    "compose-net probe 203.0.113.10 --timeout 1 --concurrency 200 compose.yaml": (
        {0, 1, 2}, "what answers at a documentation address depends on the network"),
    "compose-net probe 203.0.113.10 --from-docker": (
        {0, 1, 2}, "what answers at a documentation address depends on the network"),
}
DOCKER = re.compile(r"--resolve docker|^compose-net audit|--from-docker|--nodes")


def _blocks(kind: str) -> list[tuple[str, int, str]]:
    """(page, line number, text) of every fenced block of ``kind``."""
    out = []
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for m in re.finditer(rf"^```{kind}\n(.*?)^```", text, re.S | re.M):
            out.append((page, text.count("\n", 0, m.start()) + 1, m.group(1)))
    return out


def _command(line: str) -> str:
    """The command of a console line, without its trailing comment."""
    return re.split(r"\s{2,}#\s|\s#\s", line.rstrip(), maxsplit=1)[0].strip()


def _scripts() -> list[object]:
    out = []
    for page, line, block in _blocks("console"):
        commands = [_command(raw) for raw in block.splitlines() if raw.strip()]
        commands = [c for c in commands if RUN.match(c) and not NOT_RUN.match(c)]
        if commands:
            marks = [pytest.mark.docker] if any(DOCKER.search(c) for c in commands) else []
            out.append(pytest.param(commands, id=f"{page}:{line}", marks=marks))
    return out


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with the examples' files, and an environment whose ``compose-net`` is this
    checkout's."""
    for name, text in SANDBOX.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    bin_dir = tmp_path.parent / f"{tmp_path.name}-bin"
    bin_dir.mkdir(exist_ok=True)  # a passing test's tmp_path is removed, and its name reused
    shim = bin_dir / "compose-net"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m compose_net "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    return tmp_path, env


def _engine_image() -> None:
    """``--resolve docker`` on a plain engine runs ``busybox``: the local build, by that name."""
    require(shutil.which("docker") is not None, "the docker CLI is not installed")
    if subprocess.run(["docker", "image", "inspect", "busybox"], capture_output=True,
                      timeout=60, check=False).returncode == 0:
        return
    from harness import busybox_image, root_engine

    engine = root_engine()
    require(engine.answers(), f"no Docker engine answers at {engine.host}")
    subprocess.run(["docker", "tag", busybox_image(engine.host), "busybox"], check=True,
                   timeout=60)


@pytest.mark.parametrize("commands", _scripts())
def test_console_examples_run(sandbox: tuple[Path, dict[str, str]], commands: list[str]) -> None:
    folder, env = sandbox
    if any(DOCKER.search(c) for c in commands):
        _engine_image()
    for command in commands:
        proc = subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=120, check=False)
        codes, why = EXPECTED.get(command, ({0, 1}, ""))
        out = proc.stdout + proc.stderr
        assert proc.returncode in codes, f"{command}: exit {proc.returncode} {why}\n{out}"
        assert "Traceback" not in out and "internal error" not in out, f"{command}\n{out}"
        if proc.returncode == 2:
            assert len(proc.stderr.strip().splitlines()) == 1, f"{command}\n{proc.stderr}"


ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b")


def _transcripts() -> list[object]:
    out = []
    for page, line, block in _blocks("text"):
        if block.startswith("$ compose-net "):
            command, _, shown = block.partition("\n")
            out.append(pytest.param(command[2:], shown, id=f"{page}:{line}"))
    return out


@pytest.mark.parametrize(("command", "shown"), _transcripts())
def test_transcripts_match(
    sandbox: tuple[Path, dict[str, str]], command: str, shown: str
) -> None:
    folder, env = sandbox
    proc = subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert ADDRESS.sub("ADDR", proc.stdout + proc.stderr) == ADDRESS.sub("ADDR", shown)


def _files() -> list[object]:
    out = []
    for kind in ("yaml", "toml"):
        for page, line, block in _blocks(kind):
            first = block.splitlines()[0] if block else ""
            name = first[2:].strip() if first.startswith("# ") else ""
            if kind == "toml" and "[tool.compose-net]" in block:
                name = "pyproject.toml"
            if name:
                out.append(pytest.param(name, block, id=f"{page}:{line}:{name}"))
    return out


HOOK_IDS = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


@pytest.mark.parametrize(("name", "text"), _files())
def test_documented_files_are_valid(name: str, text: str) -> None:
    if name == "pyproject.toml":
        data = tomllib.loads(text)["tool"]["compose-net"]
        assert schema.validate(data, target="config") == []
    elif name == ".compose-net.yaml":
        assert schema.validate(yaml.safe_load(text), target="config") == []
    elif name == "nodes.yaml":
        assert schema.validate(yaml.safe_load(text), target="inventory") == []
    elif name == ".pre-commit-config.yaml":
        hooks = [h for repo in yaml.safe_load(text)["repos"] for h in repo["hooks"]]
        assert hooks and all(h["id"] in HOOK_IDS for h in hooks), hooks
    else:
        assert yaml.safe_load(text), name


def test_every_configuration_key_is_documented() -> None:
    keys = schema.load_schema("config")["properties"]
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [k for k in keys if f"| `{k}` |" not in page] == []
    assert len(_files()) >= 5


# --- docs/rules.md: each rule's "Finding" and "No finding" examples --------------------------

#: what a label such as "with `db` placed on a node whose internal address is 10.176.0.12"
#: stands for: (files beside the example, more arguments)
RULE_CONTEXT: dict[str, tuple[dict[str, str], list[str]]] = {
    "CN007": ({"nodes.yaml": "nodes:\n  n1:\n    service: {ipv4: 10.176.0.12}\n"},
              ["--inventory", "nodes.yaml", "--node", "n1"]),
}


def _rule_examples() -> list[object]:
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    sections = re.split(r"^## (CN\d{3}) \S+\n", text, flags=re.M)
    out = []
    for rule, body in zip(sections[1::2], sections[2::2]):
        for label, block in re.findall(r"^((?:No f|F)inding[^\n]*):\n\n```yaml\n(.*?)^```",
                                        body, re.S | re.M):
            # options in the label, as in "Finding (`--target stack`)"
            args = [a for quoted in re.findall(r"`(--[^`]+)`", label) for a in quoted.split()]
            found = label.startswith("Finding")
            out.append(pytest.param(rule, found, args, block, id=f"{rule}-{label[:10].strip()}"))
    return out


@pytest.mark.parametrize(("rule", "found", "args", "text"), _rule_examples())
def test_rule_examples(
    tmp_path: Path, rule: str, found: bool, args: list[str], text: str
) -> None:
    files, more = RULE_CONTEXT.get(rule, ({}, []))
    for name, content in {**files, "compose.yaml": text}.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "compose_net", "check", "--no-config", "--format", "json",
         "--select", rule, *args, *more, "compose.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    rules = [f["rule"] for f in json.loads(proc.stdout)["findings"]]
    assert (rule in rules) == found, (rules, proc.stderr)


def test_every_rule_has_examples() -> None:
    rules = {p.values[0] for p in _rule_examples()}  # type: ignore[attr-defined]
    assert len(rules) == 10
