"""Hostile names through every command and format: nothing printed forges a line.

A file name (or a service name, or a network name) may hold a line break, a carriage return,
a tab, an escape sequence, ``::`` (a GitHub workflow command at the start of a line), ``%``,
bytes that are not UTF-8 or a leading ``-``. Every row runs one command on one such name and
asserts that no raw control character reaches standard output or standard error (line feeds
between lines aside) and that no line starts with ``::`` but the annotations
``check --format github`` means, one per finding or error; JSON reports stay JSON.
Run in process for every name, and for a few rows as root and as ``nobody`` in a bounded
child.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from harness import bounded

from compose_net.cli import main

EXPOSED = 'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n'
BROKEN = "services: [\n"
INVALID = 'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n    nope: 1\n'
BIND = ("--bind", "10.0.0.5")

#: id -> the file's name, as bytes (some are not UTF-8)
NAMES: dict[str, bytes] = {
    "newline-workflow-command": b"n\n::warning file=x.yml,line=1::FORGED\n-stack.yml",
    "carriage-return": b"a\r::error::FORGED.yml",
    "crlf": b"a\r\n::error::FORGED.yml",
    "tab": b"t\tab.yml",
    "escape-sequence": b"e\x1b[31mred\x1b[0m\x1b]0;title\x07.yml",
    "leading-colons": b"::warning file=x.yml::FORGED.yml",
    "percent": b"%0A::%25.yml",
    "not-utf-8": b"bad\xff\xfe\n::error::x.yml",
    "leading-dash": b"-o.yml",
    "next-line-c1": "nel\u0085::error::x.yml".encode(),
    "line-separator": "ls\u2028::error::x.yml".encode(),
    "bidi-override": "bidi\u202egnp.yml".encode(),
}

# (id, argv before the file name, what the file holds, JSON on standard output)
FORMATS = ("text", "json", "sarif", "github", "gitlab")
COMMANDS: list[tuple[str, tuple[str, ...], str, bool]] = [
    *[(f"check-{fmt}{tail}", ("check", "--no-config", "--format", fmt), text,
       fmt not in ("text", "github"))
      for fmt in FORMATS for tail, text in (("", EXPOSED), ("-broken", BROKEN))],
    ("check-verbose", ("check", "--no-config", "-v"), EXPOSED, False),
    ("harden", ("harden", "--no-config", *BIND), EXPOSED, False),
    ("harden-verbose", ("harden", "--no-config", "-v", *BIND), EXPOSED, False),
    ("harden-diff", ("harden", "--no-config", "--diff", *BIND), EXPOSED, False),
    ("harden-stdout", ("harden", "--no-config", "--stdout", *BIND), EXPOSED, False),
    ("harden-check", ("harden", "--no-config", "--check", *BIND), EXPOSED, False),
    ("harden-no-bind", ("harden", "--no-config"), EXPOSED, False),
    ("harden-broken", ("harden", "--no-config", *BIND), BROKEN, False),
    ("harden-stack", ("harden", "--no-config", "--target", "stack"), EXPOSED, False),
    ("harden-stack-diff", ("harden", "--no-config", "--target", "stack", "--diff"), EXPOSED, False),
    ("ports", ("ports",), EXPOSED, False),
    ("ports-json", ("ports", "--format", "json"), EXPOSED, True),
    ("ports-broken", ("ports",), BROKEN, False),
    ("validate", ("validate",), INVALID, False),
    ("validate-broken", ("validate",), BROKEN, False),
]  # fmt: skip

#: a GitHub annotation as compose-net writes it: its properties hold no raw ":" or ","
ANNOTATION = re.compile(
    r"::(error|warning|notice) file=[^:,]*,line=[0-9]+(,col=[0-9]+)?,title=[^:,]*::[^\n]*"
)


def assert_clean(out: str, err: str, *, annotations: bool, json_out: bool) -> None:
    """No raw control character, no forged line, JSON that parses."""
    for stream in (out, err):
        raw = [c for c in stream if not c.isprintable() and c != "\n"]
        assert not raw, (raw, stream)
        for line in stream.split("\n"):
            if line.startswith("::"):
                assert annotations and stream is out, line
                assert ANNOTATION.fullmatch(line), line
    if json_out:
        json.loads(out)


def _file(folder: Path, name: bytes, text: str) -> str:
    path = os.path.join(os.fsencode(folder), name)
    with open(path, "wb") as f:
        f.write(text.encode())
    return os.fsdecode(name)


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("GITHUB_ACTIONS", "COMPOSE_FILE", "NO_COLOR"):
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize(("argv", "text", "json_out"), [c[1:] for c in COMMANDS],
                         ids=[c[0] for c in COMMANDS])  # fmt: skip
@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_file_names(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: bytes,
    argv: tuple[str, ...],
    text: str,
    json_out: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    shown = _file(tmp_path, name, text)
    code = main([*argv, "--", shown])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert_clean(out, err, annotations="github" in argv, json_out=json_out and code != 2)
    if "github" in argv:  # one annotation: the finding, or the file that could not be checked
        assert sum(line.startswith("::") for line in out.split("\n")) == 1, out


def test_names_in_the_file_and_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Service, network and node names are names too."""
    monkeypatch.chdir(tmp_path)
    hostile = "x\\n::warning::FORGED\\r\\u001b[2J"
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        f'  "{hostile}":\n'
        "    image: nginx\n"
        '    ports: ["80:80", "80:80"]\n'
        f'    networks: ["{hostile}"]\n'
        f'networks:\n  "{hostile}": {{}}\n',
        encoding="utf-8",
    )
    runs = [
        ["check", "--no-config", "compose.yaml"],
        ["check", "--no-config", "--format", "github", "compose.yaml"],
        ["harden", "--no-config", *BIND, "--diff", "compose.yaml"],
        ["harden", "--no-config", "--target", "stack", "--stack-strategy", "internal-network",
         "--stack-network", "a\n::error::b", "--diff", "compose.yaml"],
        ["harden", "--no-config", *BIND, "--node", "n\n::error::x", "compose.yaml"],
        ["ports", "compose.yaml"],
        ["validate", "compose.yaml"],
    ]  # fmt: skip
    for argv in runs:
        main(argv)
        out, err = capsys.readouterr()
        assert_clean(out, err, annotations="github" in argv, json_out=False)


# -- as root and as nobody, in a bounded child ------------------------------------------------

NOBODY = bounded.nobody()
CHILD = ("newline-workflow-command", "not-utf-8")
CHILD_COMMANDS = ("check-github", "check-text-broken", "harden", "harden-diff", "ports")


@pytest.mark.parametrize("who", ["root", "nobody"])
@pytest.mark.parametrize("command", CHILD_COMMANDS)
@pytest.mark.parametrize("row", CHILD)
def test_child(request: pytest.FixtureRequest, who: str, command: str, row: str) -> None:
    argv, text, json_out = next(c[1:] for c in COMMANDS if c[0] == command)
    user = request.getfixturevalue("as_nobody") if who == "nobody" else None
    with bounded.open_folder(0o777) as folder:
        shown = _file(folder, NAMES[row], text)
        if NOBODY is not None and who == "nobody":
            os.chown(os.path.join(os.fsencode(folder), NAMES[row]), NOBODY.pw_uid, NOBODY.pw_gid)
        done = bounded.run([*argv, "--", shown], cwd=folder, user=user)
    assert done.returncode in (0, 1, 2), done
    out = done.stdout.decode("utf-8")  # strict: nothing undecodable was printed
    err = done.stderr.decode("utf-8")
    assert "Traceback" not in err
    assert_clean(out, err, annotations="github" in argv, json_out=json_out)
