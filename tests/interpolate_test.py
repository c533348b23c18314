"""Compose's interpolation: tables of templates, checked against the real binary.

``ENV`` is the environment of every table: ``A`` set, ``E`` set but empty, ``U``
never set. The ``*_agree_with_compose`` tests put the same templates into a
compose file's labels and ask docker-compose what it makes of them.
"""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compose_net.interpolate import (
    InterpolationError,
    Var,
    default_of,
    has_variables,
    interpolate,
    parse,
)

ENV = {"A": "aa", "E": "", "B": "bb"}

RESOLVED = (
    ("plain text", "plain text"),
    ("$A", "aa"),
    ("${A}", "aa"),
    ("$A$A", "aaaa"),
    ("${A}${B}", "aabb"),
    pytest.param("$A_B", "", id="name-runs-on-underscore"),
    pytest.param("$A-B", "aa-B", id="name-stops-at-dash"),
    pytest.param("$A.B", "aa.B", id="name-stops-at-dot"),
    pytest.param("$A{", "aa{", id="brace-after-unbraced-name"),
    ("${A:-d}", "aa"),
    ("${A-d}", "aa"),
    pytest.param("${E:-d}", "d", id="colon-dash-empty-takes-default"),
    pytest.param("${E-d}", "", id="dash-empty-keeps-empty"),
    ("${U:-d}", "d"),
    ("${U-d}", "d"),
    pytest.param("${U:-}", "", id="empty-default"),
    pytest.param("${U-}", "", id="empty-default-no-colon"),
    pytest.param("${U:-${A}}", "aa", id="nested-default-variable"),
    pytest.param("${U:-${U2:-deep}}", "deep", id="nested-default-twice"),
    pytest.param("${U:-a${A}b}", "aaab", id="default-with-text-around-variable"),
    pytest.param("${U:-$A}", "aa", id="default-unbraced-variable"),
    pytest.param("${U:-a:b}", "a:b", id="colon-inside-default"),
    pytest.param("${U:-127.0.0.1}:80:80", "127.0.0.1:80:80", id="port-ip-default"),
    pytest.param("${U:-{}}", "{}", id="braces-balanced-in-default"),
    pytest.param("${U:-}}", "}", id="brace-after-empty-default"),
    pytest.param("${U:-a}b}", "ab}", id="first-brace-closes"),
    pytest.param("${A:--x}", "aa", id="dash-default-starts-with-dash"),
    pytest.param("${U:--x}", "-x", id="default-is-dash-x"),
    pytest.param("${A:-:-x}", "aa", id="default-looks-like-operator"),
    pytest.param("${A:-x:-y}", "aa", id="operator-twice"),
    ("${A:+r}", "r"),
    ("${E:+r}", ""),
    ("${U:+r}", ""),
    ("${A+r}", "r"),
    pytest.param("${E+r}", "r", id="plus-set-but-empty"),
    ("${U+r}", ""),
    pytest.param("${U:+${A:-x}}", "", id="replacement-unused"),
    pytest.param("${A:+${U:-x}}", "x", id="replacement-nested-default"),
    ("${A:?must}", "aa"),
    pytest.param("${E?must}", "", id="question-set-but-empty"),
    ("${A:?}", "aa"),
    pytest.param("$$", "$", id="escaped-dollar"),
    pytest.param("$$A", "$A", id="escaped-reference"),
    pytest.param("$${A}", "${A}", id="escaped-braced-reference"),
    pytest.param("$$$A", "$aa", id="escape-then-reference"),
    pytest.param("$$$$", "$$", id="two-escapes"),
    pytest.param("$${U:?x}", "${U:?x}", id="escaped-required-not-checked"),
    pytest.param("${U:-$$}", "$", id="escape-in-default"),
    pytest.param("a$", "a$", id="trailing-dollar-literal"),
    pytest.param("$", "$", id="lone-dollar-literal"),
    pytest.param("$1", "$1", id="dollar-digit-literal"),
    pytest.param("$-", "$-", id="dollar-dash-literal"),
    pytest.param("$ x", "$ x", id="dollar-space-literal"),
    pytest.param("$}", "$}", id="dollar-brace-close-literal"),
    pytest.param("$é", "$é", id="dollar-non-ascii-literal"),
    pytest.param("${U:-$}", "$", id="lone-dollar-as-default"),
    pytest.param("x${U:-$}y", "x$y", id="lone-dollar-default-between-text"),
    pytest.param("${A:-$}", "aa", id="lone-dollar-default-unused"),
    pytest.param("${U:-$1}", "$1", id="dollar-digit-default"),
    ("${a}", ""),
    ("${_}", ""),
    ("$_", ""),
)


@pytest.mark.parametrize(("template", "expected"), RESOLVED)
def test_interpolate(template: str, expected: str) -> None:
    assert interpolate(template, ENV) == expected


INVALID = (
    "${}",
    "${A",
    "${A:-",
    "${A:-x",
    "${-A}",
    "${A B}",
    "${ A}",
    "${A }",
    "${A:x}",
    "${A:}",
    "${1}",
    "${A.B}",
    "${A::-x}",
    "${U::-x}",
    "${U:=x}",
    "${U=x}",
    "${A#x}",
    "${A%x}",
    "${A/x/y}",
    pytest.param("${A-${B}", id="nested-unclosed"),
    pytest.param("${U:-${}", id="nested-empty"),
    pytest.param("${U:-${A}", id="outer-unclosed"),
    pytest.param("ok ${A} then ${", id="late-error"),
)


@pytest.mark.parametrize("template", INVALID)
def test_interpolate_invalid_format(template: str) -> None:
    with pytest.raises(InterpolationError) as excinfo:
        interpolate(template, ENV)
    assert excinfo.value.message.startswith("invalid interpolation format")


MISSING = (
    ("${U:?must}", "required variable U is missing a value: must"),
    ("${E:?must}", "required variable E is missing a value: must"),
    ("${U?must}", "required variable U is missing a value: must"),
    pytest.param("${U:?}", "required variable U is missing a value", id="no-message"),
    pytest.param("${U?}", "required variable U is missing a value", id="no-message-no-colon"),
    pytest.param("${U:?:x}", "required variable U is missing a value: :x", id="message-with-colon"),
    pytest.param(
        "${U:?err ${A}}",
        "required variable U is missing a value: err ${A}",  # as written: no value is printed
        id="message-interpolated",
    ),
    pytest.param(
        "${U:?${U2:?inner}}", "required variable U2 is missing a value: inner", id="inner-first"
    ),
    pytest.param(
        "${A:?${U:?inner}}",
        "required variable U is missing a value: inner",
        id="operand-checked-although-set",
    ),
    pytest.param(
        "${A:-${U:?inner}}",
        "required variable U is missing a value: inner",
        id="default-checked-although-unused",
    ),
    pytest.param(
        "${U:+${U2:?inner}}",
        "required variable U2 is missing a value: inner",
        id="replacement-checked-although-unused",
    ),
)


@pytest.mark.parametrize(("template", "message"), MISSING)
def test_interpolate_missing(template: str, message: str) -> None:
    with pytest.raises(InterpolationError) as excinfo:
        interpolate(template, ENV)
    assert excinfo.value.message == message


# --------------------------------------------------------------------------- the same, by Compose


def _values(table: tuple[Any, ...]) -> list[Any]:
    """The cases of a parametrize table without their ids."""
    return [case.values if hasattr(case, "values") else case for case in table]


def _config(binary: str, folder: Path, labels: dict[str, str]) -> subprocess.CompletedProcess[str]:
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(f"      {key}: {json.dumps(value)}\n" for key, value in labels.items())
    (folder / "compose.yaml").write_text(f"services:\n  s:\n    image: x\n    labels:\n{body}")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "DOCKER_HOST": "unix:///none", **ENV}
    return subprocess.run(
        [binary, "-f", "compose.yaml", "config", "--format", "json"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_resolved_agree_with_compose(compose_bin: str, tmp_path: Path) -> None:
    cases = _values(RESOLVED)
    labels_in = {f"l{i}": template for i, (template, _) in enumerate(cases)}
    proc = _config(compose_bin, tmp_path, labels_in)
    assert proc.returncode == 0, proc.stderr
    labels = json.loads(proc.stdout)["services"]["s"]["labels"]
    # compose config writes a literal "$" back as "$$"
    got = {template: labels[f"l{i}"].replace("$$", "$") for i, (template, _) in enumerate(cases)}
    assert got == dict(cases)


def _rejections(binary: str, root: Path, templates: list[str]) -> dict[str, str]:
    def one(i: int) -> tuple[str, str]:
        proc = _config(binary, root / str(i), {"x": templates[i]})
        return templates[i], proc.stderr if proc.returncode else f"accepted: {proc.stdout[:200]}"

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, range(len(templates))))


def test_invalid_agree_with_compose(compose_bin: str, tmp_path: Path) -> None:
    templates = [case if isinstance(case, str) else case[0] for case in _values(INVALID)]
    verdicts = _rejections(compose_bin, tmp_path, templates)
    assert {t: "invalid interpolation format" in v for t, v in verdicts.items()} == dict.fromkeys(
        templates,
        True,
    ), verdicts


#: where compose-net's message differs from Compose's on purpose: Compose substitutes the
#: variables of a required variable's message, compose-net prints the message as written
#: (no value of the environment or an env file is ever printed)
COMPOSE_SAYS = {"${U:?err ${A}}": "required variable U is missing a value: err aa"}


def test_missing_agree_with_compose(compose_bin: str, tmp_path: Path) -> None:
    cases = [(t, COMPOSE_SAYS.get(t, message)) for t, message in _values(MISSING)]
    verdicts = _rejections(compose_bin, tmp_path, [template for template, _ in cases])
    assert {t: message in verdicts[t] for t, message in cases} == dict.fromkeys(
        (t for t, _ in cases),
        True,
    ), verdicts


# --------------------------------------------------------------------------- the parsed form


@pytest.mark.parametrize(
    ("template", "expected"),
    (
        ("", ()),
        ("abc", ("abc",)),
        ("$A", (Var("A", "", (), "$A"),)),
        ("x${A}y", ("x", Var("A", "", (), "${A}"), "y")),
        ("${A:-d}", (Var("A", ":-", ("d",), "${A:-d}"),)),
        ("${A?}", (Var("A", "?", (), "${A?}"),)),
        (
            "${A:-${B:+x}}:80",
            (Var("A", ":-", (Var("B", ":+", ("x",), "${B:+x}"),), "${A:-${B:+x}}"), ":80"),
        ),
        pytest.param("$$A", ("$A",), id="escape-is-literal"),
        pytest.param("a$1", ("a$1",), id="dollar-digit-is-literal"),
    ),
)
def test_parse(template: str, expected: tuple[object, ...]) -> None:
    assert parse(template) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        ("80:80", False),
        ("$$80:80", False),
        ("$1", False),
        ("a$", False),
        ("$A", True),
        ("${A:-1}:80", True),
        ("$$$A", True),
        pytest.param("${", True, id="broken-template-counts-as-variable"),
    ),
)
def test_has_variables(text: str, expected: bool) -> None:
    assert has_variables(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        ("80", "80"),
        ("${P}", ""),
        ("${P:-8080}", "8080"),
        ("${IP:-${FALLBACK:-127.0.0.1}}", "127.0.0.1"),
        ("${IP:?set IP}", None),
        pytest.param("${IP:-${X:?x}}", None, id="required-inside-default"),
        ("$$IP", "$IP"),
    ),
)
def test_default_of(text: str, expected: str | None) -> None:
    assert default_of(text) == expected
