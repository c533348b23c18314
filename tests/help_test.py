"""``--help``: every option says what it does, and every command ends with usage examples
that name real options with valid values."""

from __future__ import annotations

import shlex
import subprocess
import sys

import click
import pytest

from compose_net.cli import cli

COMMANDS = sorted(cli.commands)


def _options(name: str) -> list[click.Option]:
    return [p for p in cli.commands[name].params if isinstance(p, click.Option)]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help(name: str) -> None:
    assert [p.opts for p in _options(name) if not p.help] == []


@pytest.mark.parametrize(
    ("name", "option", "words"),
    (
        pytest.param("harden", "--env-file", "instead of the project's .env", id="harden-env"),
        pytest.param("check", "--env-file", "instead of the project's .env", id="check-env"),
        pytest.param("harden", "--quiet", "warnings and errors stay", id="harden-quiet"),
    ),
)
def test_option_help(name: str, option: str, words: str) -> None:
    [param] = [p for p in _options(name) if option in p.opts]
    assert param.help is not None and words in param.help


def _examples(name: str) -> list[list[str]]:
    epilog = cli.commands[name].epilog or ""
    lines = epilog.split("Examples:\n", 1)[1].splitlines() if "Examples:" in epilog else []
    return [shlex.split(line.split(" > ")[0]) for line in lines]


@pytest.mark.parametrize("name", COMMANDS)
def test_examples_parse(name: str) -> None:
    examples = _examples(name)
    assert len(examples) >= 2, cli.commands[name].epilog
    for words in examples:
        assert words[:2] == ["compose-net", name], words
        command = cli.commands[name]
        with command.make_context(name, words[2:], resilient_parsing=False) as context:
            assert context.command is command


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_the_examples(name: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "compose_net", name, "--help"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Examples:\n" in proc.stdout
    assert f"    compose-net {name}" in proc.stdout
