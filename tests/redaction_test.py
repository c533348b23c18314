"""Variable values printed as ``${NAME}``, except those a person needs and no secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compose_net import interpolate, redaction


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
