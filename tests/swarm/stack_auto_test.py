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


#: an option of a row: the folder's configuration says ``target: stack``
CONFIGURED = "+target-stack-configured"
#: (options, the note's reason and the options it names: "" for no note)
IGNORED = {
    "bind": (("--bind", "10.0.0.5"), "looks like a swarm stack: --bind"),
    "resolve": (("--resolve", "local"), "looks like a swarm stack: --resolve"),
    "inventory": (("--inventory", "nodes.yaml"), "looks like a swarm stack: --inventory"),
    "inventory-and-node": (
        ("--inventory", "nodes.yaml", "--node", "n1"),
        "looks like a swarm stack: --inventory, --node",
    ),
    "configured-stack": (
        (CONFIGURED, "--bind", "10.0.0.5"), "target: stack (configured): --bind",
    ),
    "bind-quiet": (("-q", "--bind", "10.0.0.5"), ""),
    "no-address": ((), ""),
    "bind-explicit-compose": (("--target", "compose", "--bind", "10.0.0.5"), ""),
}  # fmt: skip


@pytest.mark.parametrize(("options", "noted"), IGNORED.values(), ids=IGNORED.keys())
@pytest.mark.parametrize("mode", ["--check", "--diff", "in-place"])
def test_ignored_address_options_are_noted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: tuple[str, ...],
    noted: str,
    mode: str,
) -> None:
    """Under --target auto a stack-looking file is hardened with the stack strategy: the
    node-address options it does without are named in one note on standard error (none with
    -q), the exit code is plain harden's, and docker stack config takes the result."""
    require(docker_cli() is not None, "the docker CLI is not installed")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nodes.yaml").write_text("nodes:\n  n1:\n    service: {ipv4: 10.0.0.5}\n")
    (tmp_path / "plain").mkdir()
    for folder in (tmp_path, tmp_path / "plain"):
        (folder / "docker-stack.yml").write_text(EXAMPLE)
    config: tuple[str, ...] = ("--no-config",)
    if CONFIGURED in options:  # the project's configuration says target: stack
        (tmp_path / ".compose-net.yaml").write_text("target: stack\n")
        options, config = tuple(o for o in options if o != CONFIGURED), ()
    how = () if mode == "in-place" else (mode,)
    code = cli.main(["harden", *config, *how, *options, "docker-stack.yml"])
    err = capsys.readouterr().err
    plain = cli.main(["harden", "--no-config", *how, "plain/docker-stack.yml"])
    capsys.readouterr()
    notes = [line for line in err.splitlines() if "swarm ignores host IPs" in line]
    expected = (
        [
            f"docker-stack.yml: note: {noted} ignored, since swarm ignores host IPs; the stack "
            "strategy unpublish is used instead; pass --target compose to bind"
        ]
        if noted
        else []
    )
    assert notes == expected
    if "--target" not in options:  # the same work as without the options
        assert code == plain
        assert (tmp_path / "docker-stack.yml").read_text() == (
            tmp_path / "plain" / "docker-stack.yml"
        ).read_text()
    assert stack_config(tmp_path, "docker-stack.yml").returncode == 0
