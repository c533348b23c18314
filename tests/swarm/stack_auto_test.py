"""``--target auto``: plain ``compose-net harden --bind ADDRESS`` (the README's first usage and
the pre-commit hook) on a file that looks like a swarm stack leaves a file that the real
``docker stack config`` accepts, or writes nothing and exits 1 naming the reason.

The inputs: every file of the shared corpus that looks like a stack (file name,
``deploy.mode: global``, placement, swarm-only keys) and that ``docker stack config`` accepts
as it is, and the issue's example (``docker-stack.yml`` with ``deploy: {mode: global}`` and
a long-syntax ``mode: host`` port).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import docker_cli, require, stack_config

from compose_net import cli, document, source, stack
from compose_net.errors import ComposeNetError

#: the shared corpus beside the checkout (COMPOSE_NET_CORPUS names another place)
CORPUS = Path(
    os.environ.get("COMPOSE_NET_CORPUS")
    or Path(__file__).resolve().parents[3] / "shared" / "corpus"
)

EXAMPLE = """\
services:
  traefik:
    image: traefik:v3
    ports:
      - target: 80
        published: 80
        mode: host
    deploy:
      mode: global
  api:
    image: example/api
    ports:
      - "8080:8080"
"""


def _stack_looking() -> list[Path]:
    out: list[Path] = []
    for path in sorted((CORPUS / "files").rglob("*")):
        if not path.is_file():
            continue
        try:
            docs = document.load_all(source.read(str(path), outside_ok=True))
        except ComposeNetError:
            continue
        if any(stack.looks_like_stack(doc) for doc in docs):
            out.append(path)
    return out


def _harden_and_deploy(folder: Path, name: str, capsys: pytest.CaptureFixture[str]) -> str:
    """"" when the outcome is right, else what is wrong."""
    path = folder / name
    before = path.read_bytes()
    if stack_config(folder, name).returncode != 0:
        return ""  # not a stack docker accepts as it is: nothing to keep accepted
    code = cli.main(["harden", "--no-config", "--bind", "10.0.0.5", str(path)])
    err = capsys.readouterr().err
    if code == 2:
        return f"harden failed: {err}"
    after = stack_config(folder, name)
    if after.returncode == 0:
        return ""
    if code == 1 and path.read_bytes() == before and "not fixed:" in err:
        return ""  # nothing written, and the reason is named
    return f"docker stack config rejects the result (harden exit {code}): {after.stderr}"


def test_the_issues_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require(docker_cli() is not None, "the docker CLI is not installed")
    (tmp_path / "docker-stack.yml").write_text(EXAMPLE)
    assert _harden_and_deploy(tmp_path, "docker-stack.yml", capsys) == ""
    text = (tmp_path / "docker-stack.yml").read_text()
    assert "host_ip" not in text and "10.0.0.5" not in text


def test_explicit_compose_writes_only_what_a_stack_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--target compose on a stack-looking file: the short entry is bound (docker stack
    config takes it and ignores the address), the long one is left and named."""
    require(docker_cli() is not None, "the docker CLI is not installed")
    path = tmp_path / "docker-stack.yml"
    path.write_text(EXAMPLE)
    code = cli.main(["harden", "--no-config", "--target", "compose", "--bind", "10.0.0.5",
                     str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert '"10.0.0.5:8080:8080"' in path.read_text() and "host_ip" not in path.read_text()
    assert "rejects host_ip in a long-syntax port" in err
    assert stack_config(tmp_path, "docker-stack.yml").returncode == 0


def test_every_stack_looking_corpus_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require(docker_cli() is not None, "the docker CLI is not installed")
    require((CORPUS / "files").is_dir(), f"the corpus is not at {CORPUS}")
    files = _stack_looking()
    assert len(files) >= 40  # 70 when written
    wrong: dict[str, str] = {}
    for i, original in enumerate(files):
        folder = tmp_path / str(i)
        folder.mkdir()
        (folder / original.name).write_bytes(original.read_bytes())
        why = _harden_and_deploy(folder, original.name, capsys)
        if why:
            wrong[str(original.relative_to(CORPUS))] = why
    assert wrong == {}
