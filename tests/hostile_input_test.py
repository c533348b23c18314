"""Hostile contents: files a pull request controls, run in a child bounded by setrlimit.

Each row: the files (name -> bytes), the command, extra environment, the exit code, the
exact standard error (``{d}`` is the folder) and, where it matters, standard output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness import bounded

COMPOSE = b'services:\n  web:\n    image: nginx\n    ports:\n      - "${IP:-}:80:80"\n'
HEADER = "LOCATION   SERVICE  HOST IP  PUBLISHED  TARGET  MODE     EXPOSURE\n"
#: enough CPU for a start-up and a linear pass, far too little for a quadratic one
TIGHT = bounded.Limits(memory=512 * 1024 * 1024, cpu=8)


def _chained(n: int) -> bytes:
    """``V1=${V0:-x}y`` ...: each value repeats the one before, n lines."""
    return b"V0=a\n" + b"".join(b"V%d=${V%d:-x}y\n" % (i, i - 1) for i in range(1, n))


def _many(n: int) -> bytes:
    return b"".join(b"KEY_%d=value_%d\n" % (i, i) for i in range(n))


def _doubling(n: int) -> bytes:
    lines = (b"V%d=${V%d}${V%d}\n" % (i, i - 1, i - 1) for i in range(1, n))
    return b"V0=abcdefgh\n" + b"".join(lines)


@dataclass(frozen=True)
class Case:
    files: dict[str, bytes]
    argv: tuple[str, ...]
    code: int
    stderr: str
    stdout: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    limits: bounded.Limits = TIGHT


CASES = (
    pytest.param(
        Case({"compose.yaml": COMPOSE, "big.env": _many(160_000)},
             ("ports", "--env-file", "big.env", "compose.yaml"), 0, "",
             env={"COMPOSE_NET_MAX_ENV_BYTES": "4000000"}),
        id="env-160000-lines-linear",
    ),
    pytest.param(
        Case({"compose.yaml": COMPOSE}, ("ports", "--env-file", "/dev/zero", "compose.yaml"), 2,
             "compose-net: error: /dev/zero: cannot read env file: not a regular file: name the "
             "file itself, or - "
             "for standard input\n"),
        id="env-file-dev-zero",
    ),
    pytest.param(
        Case({"compose.yaml": COMPOSE, "big.env": _many(160_000)},
             ("check", "--env-file", "big.env", "compose.yaml"), 2,
             "compose-net: error: big.env: env file is too large (bound: bytes in one env file; "
             "raise it with "
             "COMPOSE_NET_MAX_ENV_BYTES=N if the file is trusted, now 1048576)\n"
             "compose-net: 0 findings in 0 files; 1 file not checked\n"),
        id="env-file-over-the-bound",
    ),
    pytest.param(
        Case({"compose.yaml": COMPOSE, ".env": _many(200)}, ("ports", "compose.yaml"), 2,
             "compose-net: error: .env: env file is too large (bound: bytes in one env file; "
             "raise it with "
             "COMPOSE_NET_MAX_ENV_BYTES=N if the file is trusted, now 100)\n",
             env={"COMPOSE_NET_MAX_ENV_BYTES": "100"}),
        id="dot-env-over-a-lowered-bound",
    ),
    pytest.param(
        Case({"compose.yaml": COMPOSE, ".env": _many(200_000)}, ("ports", "compose.yaml"), 2,
             "compose-net: error: .env: env file is too large (bound: bytes in one env file; "
             "raise it with "
             "COMPOSE_NET_MAX_ENV_BYTES=N if the file is trusted, now 1048576)\n",
             env={"COMPOSE_NET_MAX_ENV_BYTES": "1e9"}),
        id="bound-not-a-number-is-the-default",
    ),
    pytest.param(
        Case({"compose.yaml": COMPOSE, ".env": _chained(40_000)}, ("ports", "compose.yaml"), 2,
             "compose-net: error: .env:5793: the values expand too far, each ${VARIABLE} "
             "repeating the ones before "
             "(bound: characters an env file's values expand to; raise it with "
             "COMPOSE_NET_MAX_ENV_EXPANSION=N if the file is trusted, now 16777216)\n"),
        id="env-values-repeating-the-ones-before",
    ),
    pytest.param(
        Case({"compose.yaml": COMPOSE, ".env": _doubling(60)}, ("validate", "compose.yaml"), 2,
             "compose-net: error: ./.env:22: the values expand too far, each ${VARIABLE} "
             "repeating the ones before (bound: characters an env file's values expand to; raise "
             "it with COMPOSE_NET_MAX_ENV_EXPANSION=N if the file is trusted, now 16777216)\n"),
        id="env-values-doubling",
    ),
    pytest.param(
        Case({"compose.yaml": COMPOSE, ".env": b"A=" + b"${X:-" * 20_000 + b"v" + b"}" * 20_000},
             ("ports", "compose.yaml"), 2,
             "compose-net: error: .env:1: variables nested too deep (bound: levels of nesting; "
             "raise it with "
             "COMPOSE_NET_MAX_DEPTH=N if the file is trusted, now 200)\n"),
        id="env-value-nested-20000-deep",
    ),
    pytest.param(
        Case({"compose.yaml": b'services:\n  web:\n    image: nginx\n    ports: ["'
              + b"${X:-" * 20_000 + b"80" + b"}" * 20_000 + b':80"]\n'},
             ("ports", "compose.yaml"), 2,
             "compose-net: error: compose.yaml:4:13: services.web.ports[0]: variables nested too "
             "deep (bound: levels "
             "of nesting; raise it with COMPOSE_NET_MAX_DEPTH=N if the file is trusted, now "
             "200)\n"),
        id="port-nested-20000-deep",
    ),
    pytest.param(
        Case({"compose.yaml": COMPOSE, ".env": b"IP=\xff\n"}, ("ports", "compose.yaml"), 2,
             "compose-net: error: .env:1: env file is not valid UTF-8 (byte 0xff)\n"),
        id="env-not-utf8",
    ),
)


@pytest.mark.parametrize("case", CASES)
def test_hostile_input(case: Case, tmp_path: Path) -> None:
    for name, data in case.files.items():
        (tmp_path / name).write_bytes(data)
    proc = bounded.run(case.argv, cwd=tmp_path, limits=case.limits, env=case.env)
    assert proc.stderr.decode() == case.stderr.replace("{d}", str(tmp_path))
    assert proc.returncode == case.code
    if case.stdout is not None:
        assert proc.stdout.decode() == case.stdout


@pytest.mark.parametrize(
    ("argv", "code", "stderr"),
    (
        pytest.param(("ports", "compose.yaml"), 0, "", id="dot-env-fifo-is-not-a-dot-env"),
        pytest.param(
            ("ports", "--env-file", ".env", "compose.yaml"), 2,
            "compose-net: error: .env: cannot read env file: a FIFO, not a regular file; "
            "compose-net reads files\n",
            id="env-file-fifo-refused",
        ),
    ),
)  # fmt: skip
def test_env_fifo_does_not_block(
    tmp_path: Path, argv: tuple[str, ...], code: int, stderr: str
) -> None:
    (tmp_path / "compose.yaml").write_bytes(COMPOSE)
    os.mkfifo(tmp_path / ".env")
    proc = bounded.run(argv, cwd=tmp_path, limits=TIGHT)
    assert proc.stderr.decode() == stderr
    assert proc.returncode == code


# --------------------------------------------------------------------------- control characters

#: a service name that would retitle and clear the terminal, and a port string that would forge
#: a GitHub annotation at the start of a line
INJECTING = (
    b'services:\n  "w\\e]0;pwned\\a\\e[2J":\n    image: nginx\n'
    b'    ports: ["\\r::error file=README.md,line=1::forged\\r:80:80"]\n'
)
#: valid, so that harden gets to its diff: CRLF lines (kept), a right-to-left override and
#: a zero-width space in a comment the diff shows as context (escaped)
VALID_INJECTING = (
    "services:\r\n  web:\r\n    image: nginx  # \u202eevil\u200b\r\n    ports: [\"80:80\"]\r\n"
).encode()
SURROGATE = b'services:\n  "w\\udc80":\n    image: nginx\n    ports: ["80:80"]\n'


@pytest.mark.parametrize(
    ("text", "argv", "code", "shown"),
    (
        pytest.param(INJECTING, ("ports", "f.yaml"), 2, "\\r::error file=README.md", id="ports"),
        pytest.param(INJECTING, ("validate", "f.yaml"), 2, "\\r::error file=", id="validate"),
        pytest.param(INJECTING, ("check", "--format", "text", "f.yaml"), 1,
                     "w\\x1b]0;pwned\\x07\\x1b[2J", id="check-text"),
        pytest.param(INJECTING, ("check", "--format", "github", "f.yaml"), 1,
                     "forged\\r:80:80", id="check-github"),
        pytest.param(INJECTING, ("harden", "--bind", "10.0.0.5", "f.yaml"), 2,
                     "\\r::error file=README.md", id="harden"),
        pytest.param(VALID_INJECTING, ("harden", "--bind", "10.0.0.5", "--diff", "f.yaml"), 1,
                     "nginx  # \\u202eevil\\u200b\r\n", id="harden-diff-keeps-crlf"),
        pytest.param(VALID_INJECTING, ("check", "--format", "json", "f.yaml"), 1,
                     '"rule": "CN001"', id="check-json"),
        pytest.param(SURROGATE, ("check", "--format", "text", "f.yaml"), 1, "w\\udc80",
                     id="lone-surrogate-text"),
        pytest.param(SURROGATE, ("check", "--format", "github", "f.yaml"), 1, "w\\udc80",
                     id="lone-surrogate-github"),
        pytest.param(SURROGATE, ("ports", "f.yaml"), 0, "w\\udc80", id="lone-surrogate-ports"),
    ),
)  # fmt: skip
def test_control_characters_are_escaped(
    tmp_path: Path, text: bytes, argv: tuple[str, ...], code: int, shown: str
) -> None:
    (tmp_path / "f.yaml").write_bytes(text)
    proc = bounded.run(argv, cwd=tmp_path, limits=TIGHT)
    out = proc.stdout.decode() + proc.stderr.decode()
    assert "internal error" not in out
    assert proc.returncode == code, out
    assert shown in out
    unprintable = {c for c in out.replace("\r\n", "\n") if not c.isprintable() and c != "\n"}
    assert unprintable == set()
    # every line a workflow command reads is compose-net's own annotation
    commands = [line for line in out.splitlines() if line.startswith("::")]
    own = ("::error file=f.yaml,", "::notice file=f.yaml,")
    assert all(line.startswith(own) for line in commands)


# --------------------------------------------------------------------------- secrets

SECRET = "hunter2-very-secret-token"
LEAKING = b'services:\n  web:\n    image: nginx\n    ports: ["${SECRET_TOKEN}:80"]\n'
#: what a message says of it: the variable's name and the problem, no part of its value
NAMED = "the host port from ${SECRET_TOKEN} is not a port"
PUBLIC_VIA_VARIABLE = b'services:\n  web:\n    image: nginx\n    ports: ["${BIND_IP}:80:80"]\n'


@pytest.mark.parametrize(
    ("files", "argv", "env", "code", "shown"),
    (
        pytest.param({"f.yaml": LEAKING}, ("check", "--format", "text", "f.yaml"),
                     {"SECRET_TOKEN": SECRET}, 1, NAMED,
                     id="check-text"),
        pytest.param({"f.yaml": LEAKING}, ("check", "--format", "github", "f.yaml"),
                     {"SECRET_TOKEN": SECRET}, 1, NAMED,
                     id="check-github"),
        pytest.param({"f.yaml": LEAKING}, ("check", "--format", "sarif", "f.yaml"),
                     {"SECRET_TOKEN": SECRET}, 1, NAMED,
                     id="check-sarif"),
        pytest.param({"f.yaml": LEAKING}, ("check", "--format", "json", "f.yaml"),
                     {"SECRET_TOKEN": SECRET}, 1, NAMED,
                     id="check-json"),
        pytest.param({"f.yaml": LEAKING, ".env": f"SECRET_TOKEN='{SECRET}'\n".encode()},
                     ("check", "--format", "sarif", "-o", "report.sarif", "f.yaml"), {}, 1,
                     NAMED, id="dot-env-into-a-report-file"),
        pytest.param({"f.yaml": LEAKING, ".env": f'SECRET_TOKEN="{SECRET}\\"q"\n'.encode()},
                     ("check", "--format", "json", "f.yaml"), {}, 1,
                     NAMED, id="dot-env-value-json-escaped"),
        pytest.param({"f.yaml": LEAKING, ".env": f'SECRET_TOKEN="{SECRET}\\r\\nx"\n'.encode()},
                     ("check", "--format", "github", "f.yaml"), {}, 1,
                     NAMED,
                     id="dot-env-value-with-a-line-break-github"),
        pytest.param({"f.yaml": LEAKING}, ("check", "--format", "github", "f.yaml"),
                     {"SECRET_TOKEN": SECRET + "\t%x"}, 1, NAMED,
                     id="value-with-a-tab-and-percent-github"),
        pytest.param({"f.yaml": LEAKING, ".env": f'SECRET_TOKEN="{SECRET}\\nx"\n'.encode()},
                     ("ports", "f.yaml"), {}, 2, NAMED,
                     id="dot-env-value-with-a-line-break-ports"),
        pytest.param({"f.yaml": LEAKING, ".env": f'SECRET_TOKEN="{SECRET}\\nx"\n'.encode()},
                     ("validate", "f.yaml"), {}, 2, "invalid port: " + NAMED,
                     id="dot-env-value-with-a-line-break-validate"),
        pytest.param({"f.yaml": LEAKING}, ("validate", "f.yaml"), {"SECRET_TOKEN": SECRET}, 2,
                     "invalid port: " + NAMED, id="validate"),
        pytest.param({"f.yaml": LEAKING}, ("ports", "f.yaml"), {"SECRET_TOKEN": SECRET}, 2,
                     NAMED, id="ports"),
        pytest.param({"f.yaml": LEAKING}, ("harden", "--bind", "10.0.0.5", "f.yaml"),
                     {"SECRET_TOKEN": SECRET}, 1, "CN009 services.web.ports[0] "
                     '"${SECRET_TOKEN}:80": ' + NAMED + " (1-65535) or a range of ports; not fixed",
                     id="harden"),
        pytest.param({"f.yaml": PUBLIC_VIA_VARIABLE}, ("ports", "f.yaml"),
                     {"BIND_IP": "203.0.113.7"}, 0, "${BIND_IP}  80", id="an-address-is-named"),
    ),
)  # fmt: skip
def test_variable_values_are_not_shown(
    tmp_path: Path,
    files: dict[str, bytes],
    argv: tuple[str, ...],
    env: dict[str, str],
    code: int,
    shown: str,
) -> None:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    proc = bounded.run(argv, cwd=tmp_path, limits=TIGHT, env=env)
    out = proc.stdout.decode() + proc.stderr.decode()
    report = tmp_path / "report.sarif"
    if report.exists():
        out += report.read_text()
    assert proc.returncode == code, out
    assert shown in out
    assert "hunter2" not in out


# --------------------------------------------------------------------------- files outside

OUTSIDE = b"password: hunter2-outside-file\n"


@pytest.mark.parametrize(
    ("compose", "argv", "code", "stderr"),
    (
        pytest.param(b"include:\n  - ../outside.yaml\n", ("check", "--format", "json"), 2,
                     "compose-net: error: p/compose.yaml:2:5: include: p/../outside.yaml is "
                     "outside the project "
                     "directory and is not read: name it with -f, or pass --read-outside "
                     "(harden: --edit-outside)\n", id="include"),
        pytest.param(b"include:\n  - {path: ../outside.yaml}\n", ("validate",), 2,
                     "compose-net: error: p/compose.yaml:2:5: include: p/../outside.yaml is "
                     "outside the project "
                     "directory and is not read: name it with -f, or pass --read-outside "
                     "(harden: --edit-outside)\n", id="include-path"),
        pytest.param(b"services:\n  web:\n    extends: {file: ../outside.yaml, service: x}\n",
                     ("ports",), 2,
                     "compose-net: error: p/compose.yaml:3:21: p/../outside.yaml is outside the "
                     "project directory "
                     "and is not read: name it with -f, or pass --read-outside (harden: "
                     "--edit-outside)\n", id="extends"),
        pytest.param(b"include:\n  - ../outside.yaml\n", ("ports", "--read-outside"), 0, "",
                     id="read-when-asked"),
    ),
)  # fmt: skip
def test_files_outside_the_project_are_not_read(
    tmp_path: Path, compose: bytes, argv: tuple[str, ...], code: int, stderr: str
) -> None:
    (tmp_path / "outside.yaml").write_bytes(OUTSIDE)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "compose.yaml").write_bytes(compose)
    proc = bounded.run((*argv, "-f", "p/compose.yaml"), cwd=tmp_path, limits=TIGHT)
    err = proc.stderr.decode()
    assert (proc.returncode, err[: len(stderr)]) == (code, stderr)
    if "--read-outside" not in argv:
        assert "hunter2" not in err + proc.stdout.decode()


@pytest.mark.parametrize(
    ("argv", "code", "stderr"),
    (
        pytest.param(("ports", "p/compose.yaml"), 2,
                     "compose-net: error: p/compose.yaml:3:21: p/../outside.yaml is outside the "
                     "project directory and "
                     "is not read: name it with -f, or pass --read-outside (harden: "
                     "--edit-outside)\n",
                     id="refused"),
        pytest.param(("ports", "--read-outside", "p/compose.yaml"), 2,
                     "compose-net: error: p/compose.yaml:3:47: cannot extend service 'x': it is "
                     "not defined\n",
                     id="read-when-asked"),
    ),
)  # fmt: skip
def test_a_file_on_its_own_extends_nothing_outside_its_folder(
    tmp_path: Path, argv: tuple[str, ...], code: int, stderr: str
) -> None:
    (tmp_path / "outside.yaml").write_bytes(OUTSIDE)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "compose.yaml").write_bytes(
        b"services:\n  web:\n    extends: {file: ../outside.yaml, service: x}\n"
    )
    proc = bounded.run(argv, cwd=tmp_path, limits=TIGHT)
    assert (proc.returncode, proc.stderr.decode()) == (code, stderr)


#: a value whose text is also JSON's own: replaced in the text of a report, it would break it
STRUCTURAL = '",\n      "line": '


@pytest.mark.parametrize(
    "argv",
    (
        pytest.param(("check", "--format", "json", "f.yaml"), id="check-json"),
        pytest.param(("check", "--format", "sarif", "f.yaml"), id="check-sarif"),
        pytest.param(("check", "--format", "gitlab", "f.yaml"), id="check-gitlab"),
        pytest.param(("ports", "--format", "json", "f.yaml"), id="ports-json"),
    ),
)
def test_reports_stay_json_whatever_the_values(tmp_path: Path, argv: tuple[str, ...]) -> None:
    import json

    (tmp_path / "f.yaml").write_bytes(
        b'services:\n  web:\n    image: "${X}"\n    ports: ["80:80"]\n'
    )
    proc = bounded.run(argv, cwd=tmp_path, limits=TIGHT, env={"X": STRUCTURAL})
    assert proc.returncode in (0, 1), proc.stderr
    json.loads(proc.stdout)
