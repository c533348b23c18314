"""The environment Compose interpolates with: dotenv files under the process environment.

Each table row is a ``.env`` text, the process environment, and the variables
Compose ends up with; ``*_agree_with_compose`` runs ``docker-compose config
--environment`` on the same files and compares its whole output.
"""

from __future__ import annotations

import concurrent.futures
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from compose_net import envfile
from compose_net.errors import ComposeNetError

OS = {"X": "osx"}

FILES = (
    ("A=1\n", {}, {"A": "1"}),
    ("A=1", {}, {"A": "1"}),
    pytest.param("# comment\n\n  # indented comment\nA=1\n", {}, {"A": "1"}, id="comments"),
    pytest.param("A = 2\n", {}, {"A": "2"}, id="blanks-around-equals"),
    pytest.param("A=  x  y  \n", {}, {"A": "x  y"}, id="unquoted-trimmed"),
    pytest.param("A=1 # c\n", {}, {"A": "1"}, id="inline-comment"),
    pytest.param("A=1#c\n", {}, {"A": "1#c"}, id="hash-without-blank-is-value"),
    pytest.param("A=1\t#c\n", {}, {"A": "1\t#c"}, id="tab-hash-is-value"),
    pytest.param("A= #x\n", {}, {"A": "#x"}, id="value-starting-with-hash"),
    pytest.param("A=1 # c # d\n", {}, {"A": "1"}, id="first-comment-wins"),
    pytest.param("A=\n", {}, {"A": ""}, id="empty"),
    pytest.param('A=""\n', {}, {"A": ""}, id="empty-double-quoted"),
    pytest.param("A=a=b\n", {}, {"A": "a=b"}, id="equals-in-value"),
    pytest.param("A==b\n", {}, {"A": "=b"}, id="double-equals"),
    pytest.param("A: yaml\n", {}, {"A": "yaml"}, id="yaml-style"),
    pytest.param("A:=1\n", {}, {"A": "=1"}, id="colon-then-equals"),
    pytest.param("export A=exp\n", {}, {"A": "exp"}, id="export"),
    pytest.param(" export  A = 1 \n", {}, {"A": "1"}, id="export-with-blanks"),
    pytest.param("export\tA=1\n", {}, {"A": "1"}, id="export-tab"),
    pytest.param("exportA=1\n", {}, {"exportA": "1"}, id="export-glued-is-a-name"),
    pytest.param(
        "A-B=1\nA.B=2\nA[0]=3\n1A=4\né=5\n",
        {},
        {"A-B": "1", "A.B": "2", "A[0]": "3", "1A": "4", "é": "5"},
        id="odd-names",
    ),
    pytest.param(
        'A="double $X \\n\\t\\\\ \\" q"\n',
        OS,
        {"A": 'double osx \n\t\\ " q', **OS},
        id="double-quoted-escapes-and-variables",
    ),
    pytest.param("A='single $X \\n'\n", OS, {"A": "single $X \\n", **OS}, id="single-quoted-as-is"),
    pytest.param("A='a\\'b'\n", {}, {"A": "a'b"}, id="single-quoted-escaped-quote"),
    pytest.param('A="\\a|\\b|\\f|\\v"\n', {}, {"A": "\a|\b|\f|\v"}, id="control-escapes"),
    pytest.param('A="\\c\\x41\\u00e9"\n', {}, {"A": "\\c\\x41\\u00e9"}, id="unknown-escapes-kept"),
    pytest.param('A="\\0101"\n', {}, {"A": "A"}, id="octal-escape"),
    pytest.param('A="\\0|\\01|\\0400"\n', {}, {"A": "\\|\\1|\\400"}, id="bad-octal-escapes"),
    pytest.param('A="esc \\$X"\n', OS, {"A": "esc $X", **OS}, id="escaped-dollar"),
    pytest.param('A="a\\\\"\nB=1\n', {}, {"A": "a\\", "B": "1"}, id="escaped-backslash-last"),
    pytest.param('A="multi\nline"\nB=2\n', {}, {"A": "multi\nline", "B": "2"}, id="multi-line"),
    pytest.param("A='l1\nl2'\n", {}, {"A": "l1\nl2"}, id="multi-line-single"),
    pytest.param('A="a" # c\n', {}, {"A": "a"}, id="comment-after-quote"),
    pytest.param('A="a"#c\n', {}, {"A": "a"}, id="hash-after-quote"),
    pytest.param('A="a"b=c\n', {}, {"A": "a", "b": "c"}, id="statement-after-quote"),
    pytest.param('A="a" B=c\n', {}, {"A": "a", "B": "c"}, id="two-statements-one-line"),
    pytest.param('A= "q"\n', {}, {"A": "q"}, id="blank-before-quote"),
    pytest.param('A=x"y\n', {}, {"A": 'x"y'}, id="quote-inside-unquoted"),
    pytest.param("A=`back`\n", {}, {"A": "`back`"}, id="backticks-are-text"),
    pytest.param("A=1\r\nB=2\r\n", {}, {"A": "1", "B": "2"}, id="crlf"),
    pytest.param(
        "A=1\nB=${A}\nC=$A\nD=\"${A}y\"\nE='${A}z'\n",
        {},
        {"A": "1", "B": "1", "C": "1", "D": "1y", "E": "${A}z"},
        id="earlier-variables",
    ),
    pytest.param("B=${A}\nA=1\n", {}, {"A": "1", "B": ""}, id="later-variables-unseen"),
    pytest.param("A=1\nA=2\nB=$A\n", {}, {"A": "2", "B": "2"}, id="redefined"),
    pytest.param("A=${U:-def}\nB=${U:-a b}\n", {}, {"A": "def", "B": "a b"}, id="defaults"),
    pytest.param("A=1\nB=${A}\n", {"A": "os"}, {"A": "os", "B": "os"}, id="environment-first"),
    pytest.param(
        "B=${X}\nX=file\nC=${X}\n",
        OS,
        {"B": "osx", "C": "osx", **OS},
        id="environment-wins-over-file",
    ),
    pytest.param(
        "A=$$B\nC=\"$$B\"\nD='$$B'\nE=$\n",
        {},
        {"A": "$B", "C": "$B", "D": "$$B", "E": "$"},
        id="dollars",
    ),
    pytest.param("X\n", OS, OS, id="inherited-key"),
    pytest.param("ONLY\nB=${ONLY-unset}\n", {}, {"B": "unset"}, id="inherited-key-unset"),
    pytest.param("ONLY", {}, {"": "ONLY"}, id="key-at-end-without-newline"),
    pytest.param("=x\n", {}, {"": "x"}, id="empty-key"),
    pytest.param("export\nA=2\n", {}, {"A": "2"}, id="bare-export-line"),
    pytest.param("A\tB=1\n", {}, {"A\tB": "1"}, id="tab-inside-key"),
    ("", {}, {}),
)


def _case(case: Any) -> tuple[Any, ...]:
    return tuple(case.values) if hasattr(case, "values") else tuple(case)


@pytest.mark.parametrize(("text", "environ", "expected"), FILES)
def test_load(tmp_path: Path, text: str, environ: dict[str, str], expected: dict[str, str]) -> None:
    (tmp_path / ".env").write_bytes(text.encode())
    assert envfile.load(str(tmp_path), (), environ) == expected


ERRORS = (
    ("A B=1\n", "key cannot contain a space", 1),
    ("A@=1\n", "unexpected character '@' in variable name", 1),
    ("A=1\nA/B=1\n", "unexpected character '/'", 2),
    ("A='it''s'\n", 'unexpected character "\'"', 1),
    ('A=""""\n', "unexpected character '\"'", 1),
    ('A="unterminated\n', "unterminated quoted value", 1),
    pytest.param("A=1\nB='x\nC=2\n", "unterminated quoted value of B: ' never closes", 2,
                 id="line-of-the-quote"),
    pytest.param('TOKEN="s3cr3tvalue\n', "unterminated quoted value of TOKEN", 1,
                 id="unterminated-value-not-shown"),
    pytest.param("T\x00K=s3cr3tvalue\n", "unexpected character '\\x00' in variable name 'T\\x00'",
                 1, id="bad-name-shown-without-its-value"),
    ('A="x"\n\n\nB="a\nb\nc"\nW=@@@\nV$=1\n', "unexpected character '$'", 8),
    ("A=${\n", "invalid interpolation format", 1),
    ("A=1\nB=${U:?must}\n", "required variable U is missing a value: must", 2),
    ('A="${U:?must}"\n', "required variable U is missing a value: must", 1),
)


@pytest.mark.parametrize(("text", "message", "line"), ERRORS)
def test_load_rejects(tmp_path: Path, text: str, message: str, line: int) -> None:
    (tmp_path / ".env").write_bytes(text.encode())
    with pytest.raises(ComposeNetError) as excinfo:
        envfile.load(str(tmp_path), (), {})
    err = excinfo.value
    assert (message in err.message, err.path, err.line) == (True, str(tmp_path / ".env"), line)
    assert "s3cr3t" not in err.message


@pytest.mark.parametrize(
    ("files", "environ", "expected"),
    (
        pytest.param(
            ["D=d1\n", "D=d2\nE=${D}\n"],
            {},
            {"D": "d2", "E": "d2"},
            id="own-value-before-earlier-file",
        ),
        pytest.param(
            ["D=d1\n", "E=${D}\nD=d2\n"], {}, {"D": "d2", "E": "d1"}, id="earlier-file-seen"
        ),
        pytest.param(
            ["D=d1\n", "E=${D}\n"],
            {"D": "os"},
            {"D": "os", "E": "os"},
            id="environment-before-earlier-file",
        ),
        pytest.param(
            ["D=d1\n", "D=d2\nE=${D}\n"],
            {"D": "os"},
            {"D": "os", "E": "os"},
            id="environment-before-own-value",
        ),
        pytest.param(
            ["C=c1\n", "C\nF=${C}\n"], {}, {"C": "c1", "F": "c1"}, id="inherited-from-earlier-file"
        ),
        pytest.param(["A=1\n", "B=2\n"], {}, {"A": "1", "B": "2"}, id="union"),
    ),
)
def test_load_several_env_files(
    tmp_path: Path,
    files: list[str],
    environ: dict[str, str],
    expected: dict[str, str],
) -> None:
    paths = []
    for i, text in enumerate(files):
        path = tmp_path / f"f{i}.env"
        path.write_text(text)
        paths.append(str(path))
    (tmp_path / ".env").write_text("DOTENV=ignored when env files are given\n")
    assert envfile.load(str(tmp_path), paths, environ) == expected


@pytest.mark.parametrize(
    ("dotenv", "environ", "expected"),
    (
        pytest.param(None, {"A": "1"}, {"A": "1"}, id="no-dotenv"),
        pytest.param("A=file\nB=file\n", {"A": "os"}, {"A": "os", "B": "file"}, id="os-wins"),
        pytest.param("A=file\n", {"A": ""}, {"A": ""}, id="os-empty-still-wins"),
    ),
)
def test_load_environment_over_dotenv(
    tmp_path: Path,
    dotenv: str | None,
    environ: dict[str, str],
    expected: dict[str, str],
) -> None:
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    assert envfile.load(str(tmp_path), (), environ) == expected


def test_load_missing_env_file(tmp_path: Path) -> None:
    with pytest.raises(ComposeNetError) as excinfo:
        envfile.load(str(tmp_path), [str(tmp_path / "nope.env")], {})
    assert (excinfo.value.path, "cannot read env file" in excinfo.value.message) == (
        str(tmp_path / "nope.env"),
        True,
    )


def test_load_not_utf8(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=\xff\n")
    with pytest.raises(ComposeNetError) as excinfo:
        envfile.load(str(tmp_path), (), {})
    assert excinfo.value.path == str(tmp_path / ".env")


# --------------------------------------------------------------------------- the same, by Compose

BASE = {"PATH": "/usr/bin:/bin"}


def _environment(
    binary: str,
    folder: Path,
    environ: Mapping[str, str],
    env_files: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    (folder / "compose.yaml").write_text("services:\n  s:\n    image: x\n")
    flags = [arg for path in env_files for arg in ("--env-file", path)]
    return subprocess.run(
        [binary, *flags, "-f", "compose.yaml", "config", "--environment"],
        cwd=folder,
        env={**BASE, "HOME": str(folder), **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _printed(folder: Path, variables: Mapping[str, str]) -> str:
    """``config --environment`` output for these variables: sorted KEY=VALUE lines."""
    full = {
        **variables,
        **BASE,
        "HOME": str(folder),
        "PWD": str(folder),
        "COMPOSE_PROJECT_NAME": folder.name,
    }
    return "".join(f"{key}={full[key]}\n" for key in sorted(full))


def test_files_agree_with_compose(compose_bin: str, tmp_path: Path) -> None:
    cases = [_case(c) for c in FILES]

    def one(i: int) -> tuple[str, str]:
        text, environ, expected = cases[i]
        folder = tmp_path / str(i) / "proj"
        folder.mkdir(parents=True)
        (folder / ".env").write_bytes(text.encode())
        proc = _environment(compose_bin, folder, environ)
        return proc.stdout if proc.returncode == 0 else proc.stderr, _printed(folder, expected)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(len(cases))))
    assert [got for got, _ in results] == [want for _, want in results]


def test_errors_agree_with_compose(compose_bin: str, tmp_path: Path) -> None:
    def one(i: int) -> tuple[int, str]:
        folder = tmp_path / str(i) / "proj"
        folder.mkdir(parents=True)
        (folder / ".env").write_bytes(_case(ERRORS[i])[0].encode())
        proc = _environment(compose_bin, folder, {})
        return proc.returncode, proc.stderr

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(len(ERRORS))))
    assert [rc != 0 for rc, _ in results] == [True] * len(ERRORS), results


def test_several_env_files_agree_with_compose(compose_bin: str, tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "f1.env").write_text("C=c1\nD=d1\n")
    (folder / "f2.env").write_text("A=2\nB=${A}\nC\nE=${D}\nG=${D}\nD=d2\n")
    (folder / ".env").write_text("DOTENV=ignored\n")
    files = [str(folder / "f1.env"), str(folder / "f2.env")]
    environ = {"A": "os"}
    proc = _environment(compose_bin, folder, environ, files)
    assert (proc.returncode, proc.stdout) == (
        0,
        _printed(folder, envfile.load(str(folder), files, environ)),
    )
