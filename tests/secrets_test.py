"""No part of an interpolated value in any message, in any format, at any length.

Canary values (long, short, with punctuation, numbers, mixed case, line breaks) are set in the
environment or in the project's ``.env``, and files use them where every message-producing path
meets them: invalid host IPs, host ports, container ports and protocols of short and long
entries, a whole entry in one variable, published ports and public addresses that are valid,
schema checks (addresses, networks), required variables. Every command and format runs on them
and no substring of four or more characters of any canary appears in standard output or
standard error, in any case. The canaries are made of letter and digit runs no message holds;
a run with the variables unset proves that nothing else prints them.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from harness import bounded
from harness.fakeengine import FakeEngine, FakeFleet, container

from compose_net import redaction
from compose_net.cli import main

CANARIES: dict[str, str] = {
    "C_URL": "pgq+sv://uQz8:Xq7Rt9Lm@dbWn4kZp.vx:7319/jKw3",
    "C_SHORT": "Zq8!",
    "C_MIXED": "MvYqRzWk",
    "C_PROTO": "UdPxQk",
    "C_TARGET": "Tg5Yv0Hq",
    "C_LONGIP": "Ip9Vb2Nc",
    "C_SPEC": "Sp3:Kj8:Wr6",
    "C_NUMPORT": "47391",
    "C_NUMPORT2": "38527",
    "C_PUBIP": "8.8.4.4",
    "C_LINES": "LnQa7\nLnWb8",
    "C_WHOLE": "8.8.4.4:52817:92",
    "C_RANGE": "46121-46123",
    #: a folder of the project, one outside it, one that is not there: paths built from them
    "C_DIR": "Dk4Rw9Px",
    "C_OUTDIR": "/srv/Ov7Tq2Ls",
    "C_MISSING": "Ms5Hc8Ye",
    #: the folder again, as a path no report prints it (relative to the working directory)
    "C_DOTDIR": "./Dk4Rw9Px/../Dk4Rw9Px",
}

INVALID = """\
services:
  web:
    image: nginx
    ports:
      - "${C_URL}:81"
      - "${C_SHORT}:82"
      - "83:${C_MIXED}"
      - "84/${C_PROTO}"
      - target: "${C_TARGET}"
        published: "8001"
      - target: 85
        host_ip: "${C_LONGIP}"
      - "${C_SPEC}"
      - "${C_LINES}:89"
      - "127.0.0.1:${C_URL}:90"
      - "${C_RANGE}:91"
"""

VALID = """\
services:
  web:
    image: nginx
    ports:
      - "${C_NUMPORT}:85"
      - "${C_PUBIP}:86:86"
      - "${C_PUBIP}:${C_RANGE}:9001-9003"
      - target: 87
        published: "${C_NUMPORT2}"
        host_ip: "${C_PUBIP}"
      - "${C_WHOLE:-127.0.0.1:8002:82}"
"""

SCHEMA = """\
services:
  web:
    image: nginx
    ports: ["127.0.0.1:88:88"]
    networks:
      front: {ipv4_address: "${C_MIXED}"}
networks:
  front:
    ipam:
      config:
        - subnet: "${C_URL}"
"""

REQUIRED = """\
services:
  web:
    image: nginx
    ports: ["${C_UNSET_HERE:?needs ${C_URL}}:80"]
"""

DUPLICATES = """\
services:
  web:
    image: nginx
    ports: ["${C_NUMPORT}:85", "${C_NUMPORT}:86", "127.0.0.1:${C_NUMPORT2}:87"]
  api:
    image: nginx
    ports: ["${C_NUMPORT}:89", "127.0.0.1:${C_NUMPORT2}:88", "${C_RANGE}:9001-9003"]
    deploy: {mode: global}
"""

#: files in the folder ${C_DIR} names: a port, an extends next to it, env files
IN_DIR = {
    "x.yml": """\
services:
  inc:
    image: nginx
    ports: ["8081:81"]
  ext:
    extends: {file: base.yml, service: b}
""",
    "base.yml": 'services:\n  b:\n    image: nginx\n    ports: ["8082:82"]\n',
    "e.env": "FROM_ENV_FILE=1\n",
    "bad.env": "A B C\n",
    "nest.yml": 'include: ["${C_DIR}/${C_MISSING}/y.yml"]\n',
}

WEB = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
#: a file reached through a path built from variables is named as the path is written
PATHS = {
    "include-short": 'include: ["${C_DIR}/x.yml"]\n',
    "include-long": (
        'include:\n  - path: "${C_DIR}/x.yml"\n    env_file: "${C_DIR}/e.env"\n'
        '    project_directory: "${C_DIR}"\n'
    ),
    "include-lists": 'include: [{path: ["${C_DIR}/x.yml"], env_file: ["${C_DIR}/e.env"]}]\n',
    "include-dotted": 'include: ["${C_DOTDIR}/x.yml"]\n',
    "include-missing": 'include: ["${C_MISSING}/x.yml"]\n',
    "include-nested-missing": 'include: ["${C_DIR}/nest.yml"]\n',
    "include-outside": 'include: ["${C_OUTDIR}/x.yml"]\n',
    "include-remote": 'include: ["${C_URL}"]\n',
    "include-env-missing": 'include: [{path: "${C_DIR}/x.yml", env_file: "${C_MISSING}"}]\n',
    "include-env-outside": 'include: [{path: x.yml, env_file: "${C_OUTDIR}/e.env"}]\n',
    "include-env-bad": 'include: [{path: "${C_DIR}/x.yml", env_file: "${C_DIR}/bad.env"}]\n',
    "include-dir-outside": (
        'include: [{path: "${C_DIR}/x.yml", project_directory: "${C_OUTDIR}"}]\n'
    ),
    "include-dir-bad-env": 'include: [{path: "${C_DIR}/x.yml", project_directory: "${C_DIR}/"}]\n',
}
PATHS = {name: text + WEB for name, text in PATHS.items()}
EXTENDS = "services:\n  web:\n    extends: {{file: {}, service: b}}\n    image: nginx\n"
PATHS |= {
    "extends": EXTENDS.format('"${C_DIR}/base.yml"'),
    "extends-missing": EXTENDS.format('"${C_MISSING}/b.yml"'),  # (no canary digits in its hash)
    "extends-outside": EXTENDS.format('"${C_OUTDIR}/base.yml"'),
}

FILES = {
    "invalid": INVALID, "valid": VALID, "schema": SCHEMA, "required": REQUIRED,
    "duplicates": DUPLICATES, **PATHS,
}  # fmt: skip

FORMATS = ("text", "json", "sarif", "github", "gitlab")
COMMANDS: dict[str, tuple[str, ...]] = {
    **{f"check-{fmt}": ("check", "--no-config", "--format", fmt) for fmt in FORMATS},
    "check-verbose": ("check", "--no-config", "-v"),
    "check-stack": ("check", "--no-config", "--target", "stack"),
    "harden": ("harden", "--no-config", "--bind", "10.0.0.5"),
    "harden-verbose": ("harden", "--no-config", "-v", "--bind", "10.0.0.5"),
    "harden-diff": ("harden", "--no-config", "--diff", "--bind", "10.0.0.5"),
    "harden-stdout": ("harden", "--no-config", "--stdout", "--bind", "10.0.0.5"),
    "harden-check": ("harden", "--no-config", "--check", "--bind", "10.0.0.5"),
    "harden-bind-var": ("harden", "--no-config", "--diff", "--bind-var", "C_PUBIP"),
    "harden-no-bind": ("harden", "--no-config"),
    "harden-stack": ("harden", "--no-config", "--target", "stack", "--diff"),
    "harden-host-mode": (
        "harden", "--no-config", "--target", "stack", "--stack-strategy", "host-mode", "--diff",
    ),
    "harden-remap": ("harden", "--no-config", "-v", "--remap-conflicts", "--bind", "10.0.0.5"),
    "harden-node": ("harden", "--no-config", "-v", "--node", "n1", "--bind", "10.0.0.5"),
    "ports": ("ports",),
    "ports-json": ("ports", "--format", "json"),
    "validate": ("validate",),
}


def grams(value: str) -> set[str]:
    """Every substring of four or more characters of ``value`` contains one of these."""
    return {value[i : i + 4].lower() for i in range(len(value) - 3)}


GRAMS = {name: grams(value) for name, value in CANARIES.items()}


def assert_no_canary(*outputs: str) -> None:
    for output in outputs:
        text = output.lower()
        for name, found in GRAMS.items():
            leaked = sorted(g for g in found if g in text)
            assert not leaked, (name, leaked, output)


def _env_file() -> str:
    lines = []
    for name, value in CANARIES.items():
        if "\n" in value:
            lines.append(f'{name}="' + value.replace("\n", "\\n") + '"')
        else:
            lines.append(f"{name}='{value}'")
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("GITHUB_ACTIONS", "COMPOSE_FILE", "NO_COLOR", *CANARIES, "C_UNSET_HERE"):
        monkeypatch.delenv(variable, raising=False)


def _project(folder: Path, file: str, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(folder, file)
    if where == "env":
        for name, value in CANARIES.items():
            monkeypatch.setenv(name, value)
    elif where == "dotenv":
        (folder / ".env").write_text(_env_file(), encoding="utf-8")


def _tree(folder: Path, file: str) -> None:
    """``compose.yaml`` of the row ``file``, and the files its paths name."""
    (folder / "compose.yaml").write_text(FILES[file], encoding="utf-8")
    if file in PATHS:
        inside = folder / CANARIES["C_DIR"]
        inside.mkdir()
        for name, text in IN_DIR.items():
            (inside / name).write_text(text, encoding="utf-8")
        if file == "include-dir-bad-env":
            (inside / ".env").write_text(IN_DIR["bad.env"], encoding="utf-8")
        (folder / "x.yml").write_text(IN_DIR["x.yml"], encoding="utf-8")
        (folder / "base.yml").write_text(IN_DIR["base.yml"], encoding="utf-8")


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("where", ["env", "dotenv"])
def test_no_value_is_printed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    file: str,
    command: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, file, where, monkeypatch)
    # the messages themselves name the variables: redaction (defence in depth) is off here
    monkeypatch.setattr(redaction, "note", lambda name, value: None)
    code = main([*command, "compose.yaml"])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "internal error" not in err
    assert_no_canary(out, err)


@pytest.mark.parametrize("where", ["env", "dotenv"])
def test_show_values_prints_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    """``ports --show-values`` is the one way to print them, asked for by name: the oracle
    above sees them there."""
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, "valid", where, monkeypatch)
    assert main(["ports", "--show-values", "--format", "json", "compose.yaml"]) == 0
    out = capsys.readouterr().out
    for name in ("C_NUMPORT", "C_NUMPORT2", "C_PUBIP"):
        assert CANARIES[name] in out
    with pytest.raises(AssertionError):
        assert_no_canary(out)


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("file", FILES)
def test_canaries_are_printed_by_nothing_else(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    file: str,
    command: tuple[str, ...],
) -> None:
    """With the variables unset, no output holds a canary's piece: a leak found above is
    a leak, not a coincidence."""
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, file, "unset", monkeypatch)
    main([*command, "compose.yaml"])
    out, err = capsys.readouterr()
    assert_no_canary(out, err, FILES[file])


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("where", ["env", "dotenv"])
def test_audit_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str, file: str
) -> None:
    """``audit --file`` compares an engine with the file's declared ports, interpolated."""
    folder = Path(tempfile.mkdtemp(prefix="cn-audit-"))  # a short path: a socket lives here
    try:
        monkeypatch.chdir(folder)
        _project(folder, file, where, monkeypatch)
        monkeypatch.setattr(redaction, "note", lambda name, value: None)
        engine = FakeEngine("node", containers=[container("web-1", ("0.0.0.0", 85, 85))])
        with FakeFleet(folder) as fleet:
            monkeypatch.setenv("DOCKER_HOST", fleet.add(engine))
            for fmt in ("text", "json"):
                code = main(["audit", "--format", fmt, "--file", "compose.yaml"])
                out, err = capsys.readouterr()
                assert code in (0, 1, 2)
                assert "internal error" not in err
                assert_no_canary(out, err)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- as root and as nobody, in a bounded child ------------------------------------------------


@pytest.mark.parametrize("who", ["root", "nobody"])
@pytest.mark.parametrize("command", ["check-github", "harden", "ports-json", "validate"])
@pytest.mark.parametrize("where", ["env", "dotenv"])
@pytest.mark.parametrize("file", ["invalid", "include-long", "include-env-bad", "extends-outside"])
def test_child(
    request: pytest.FixtureRequest, who: str, command: str, where: str, file: str
) -> None:
    user = request.getfixturevalue("as_nobody") if who == "nobody" else None
    with bounded.open_folder(0o777) as folder:
        _tree(folder, file)
        env = dict(CANARIES) if where == "env" else {}
        if where == "dotenv":
            (folder / ".env").write_text(_env_file(), encoding="utf-8")
            (folder / ".env").chmod(0o644)
        done = bounded.run([*COMMANDS[command], "compose.yaml"], cwd=folder, user=user, env=env)
    # (validate reads no include; ports lists; harden may harden every file)
    assert done.returncode in ((1, 2) if file == "invalid" else (0, 1, 2)), done
    out, err = done.stdout.decode(), done.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err
    assert_no_canary(out, err)
