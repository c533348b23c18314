"""Variable values printed as ``${NAME}``, except those a person needs and no secret."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from compose_net import interpolate, redaction
from compose_net.errors import ComposeNetError


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    with redaction.running():  # a run of its own, as cli.main and the server make one
        yield


@pytest.mark.parametrize(
    ("env", "template", "message", "expected"),
    (
        pytest.param({"TOKEN": "s3cr3t-t0ken-value"}, "${TOKEN}:80",
                     "invalid hostPort: s3cr3t-t0ken-value", "invalid hostPort: ${TOKEN}",
                     id="secret-named"),
        pytest.param({"TOKEN": "s3cr3t-t0ken-value"}, "${TOKEN}:80",
                     "in a word:xs3cr3t-t0ken-valuex", "in a word:x${TOKEN}x",
                     id="long-value-anywhere"),
        pytest.param({"MODE": "host"}, "${MODE}", "CN003 host-network: network_mode host",
                     "CN003 host-network: network_mode ${MODE}", id="short-value-whole-words"),
        pytest.param({"IP": "203.0.113.7"}, "${IP}:80:80", "bound to 203.0.113.7",
                     "bound to 203.0.113.7", id="ipv4-address-shown"),
        pytest.param({"IP": "[fd00::1]"}, "${IP}:80:80", "bound to [fd00::1]",
                     "bound to [fd00::1]", id="ipv6-address-shown"),
        pytest.param({"PORT": "8080-8090/tcp"}, "${PORT}:80", "port 8080-8090/tcp",
                     "port 8080-8090/tcp", id="port-range-shown"),
        pytest.param({"X": "abc"}, "${X}", "abc", "abc", id="short-shown"),
        pytest.param({"UNUSED": "s3cr3t-t0ken-value"}, "${OTHER:-x}",
                     "s3cr3t-t0ken-value", "s3cr3t-t0ken-value", id="only-what-was-substituted"),
        pytest.param({"Q": 'pa"ss\\word-1234'}, "${Q}", '{"m": "pa\\"ss\\\\word-1234"}',
                     '{"m": "${Q}"}', id="as-json-writes-it"),
        pytest.param({"A": "s3cr3t-t0ken", "B": "s3cr3t-t0ken-value"}, "${A}${B}",
                     "s3cr3t-t0ken-value", "${B}", id="longest-first"),
    ),
)  # fmt: skip
def test_redact(env: dict[str, str], template: str, message: str, expected: str) -> None:
    interpolate.interpolate(template, env)
    assert redaction.redact(message) == expected


def test_long_values_are_not_kept() -> None:
    value = "x" * (redaction.LONGEST + 1)
    interpolate.interpolate("${BIG}", {"BIG": value})
    assert redaction.redact(value) == value


@pytest.mark.parametrize(
    ("from_files", "environment_last", "redacted"),
    (
        pytest.param(10, False, 10, id="few-all-kept"),
        pytest.param(redaction.MOST_FROM_FILES + 50, False, redaction.MOST_FROM_FILES,
                     id="env-file-flood-capped"),
        pytest.param(redaction.MOST_FROM_FILES + 50, True, redaction.MOST_FROM_FILES + 1,
                     id="the-environment-is-always-kept"),
    ),
)  # fmt: skip
def test_values_from_files_are_capped(
    monkeypatch: pytest.MonkeyPatch, from_files: int, environment_last: bool, redacted: int
) -> None:
    values = {f"V{i}": f"file-value-{i:05d}" for i in range(from_files)}
    if environment_last:
        monkeypatch.setenv("CI_TOKEN", "environment-secret-value")
        values["CI_TOKEN"] = "environment-secret-value"
    for name in values:
        interpolate.interpolate("${" + name + "}", values)
    shown = [redaction.redact(v) for v in values.values()]
    assert sum(s.startswith("${") for s in shown) == redacted
    if environment_last:
        assert shown[-1] == "${CI_TOKEN}"


# -- one redactor per run ---------------------------------------------------------------------

SECRET = "s3cr3t-t0ken-value"


def _noted_in_a_run(value: str) -> str:
    """What a run that substituted ``value`` prints of it."""
    interpolate.interpolate("${TOKEN}", {"TOKEN": value})
    return redaction.redact(value)


@pytest.mark.parametrize(
    ("runs", "expected"),
    (
        pytest.param(("outside",), SECRET, id="outside-a-run-nothing-is-noted"),
        pytest.param(("run",), "${TOKEN}", id="noted-in-its-run"),
        pytest.param(("run", "next"), SECRET, id="the-next-run-starts-afresh"),
        pytest.param(("nested",), "${TOKEN}", id="a-nested-run-leaves-the-outer-one"),
        pytest.param(("run", "shown"), SECRET, id="show-values-in-its-run"),
    ),
)  # fmt: skip
def test_values_are_kept_per_run(runs: tuple[str, ...], expected: str) -> None:
    seen = ""
    with contextlib.ExitStack() as stack:
        stack.enter_context(_outside())
        for step in runs:
            if step == "outside":
                seen = _noted_in_a_run(SECRET)
            elif step == "run":
                with redaction.running():
                    seen = _noted_in_a_run(SECRET)
            elif step == "next":
                with redaction.running():
                    seen = redaction.redact(SECRET)
            elif step == "nested":
                with redaction.running():
                    interpolate.interpolate("${TOKEN}", {"TOKEN": SECRET})
                    with redaction.running():
                        assert redaction.redact(SECRET) == SECRET
                    seen = redaction.redact(SECRET)
            elif step == "shown":
                with redaction.running():
                    redaction.keep_values()
                    seen = _noted_in_a_run(SECRET)
    assert seen == expected


@contextlib.contextmanager
def _outside() -> Iterator[None]:
    """Out of the run the fixture made: as in a library call."""
    token = redaction._CURRENT.set(None)
    try:
        yield
    finally:
        redaction._CURRENT.reset(token)


def test_the_command_line_ends_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """cli.main makes a run and ends it: what it noted is gone when it returns."""
    from compose_net.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKEN", SECRET)
    (tmp_path / "compose.yaml").write_text('services:\n  web:\n    ports: ["${TOKEN}:80"]\n')
    with _outside():
        assert main(["check", "--no-config", "compose.yaml"]) == 1
        assert redaction._CURRENT.get() is None
        assert redaction.redact(SECRET) == SECRET
    out, err = capsys.readouterr()
    assert SECRET not in out + err


def test_the_server_forgets_each_request() -> None:
    """Each request of the language server is a run: its values are printed as names in what
    it returns, and the next request does not know them (the server gathers nothing)."""
    from compose_net.server.lsp import ComposeNetServer

    server = ComposeNetServer()

    def failed() -> ComposeNetError:  # a request's error, said on the loop afterwards
        _noted_in_a_run(SECRET)
        return ComposeNetError(f"cannot use {SECRET}")

    async def requests() -> list[str]:
        first = await server.run(lambda: _noted_in_a_run(SECRET))
        second = await server.run(lambda: redaction.redact(SECRET))
        third = await server.run(failed)
        return [first, second, third.message]

    try:
        assert asyncio.run(requests()) == ["${TOKEN}", SECRET, "cannot use ${TOKEN}"]
    finally:
        server.worker.shutdown()
