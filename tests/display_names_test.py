"""A file reached through a path built from variables is named as the path is written.

``include: ["${C_DIR}/x.yml"]`` reads ``Dk4Rw9Px/x.yml`` when ``C_DIR=Dk4Rw9Px``; the value
is a secret as any variable's value is. The file carries the name it is shown by
(compose_net.source.Source.name), set where the project reads it, and so do the files named
from it (``base.yml``, which ``x.yml`` extends, is ``${C_DIR}/base.yml``). Every output format,
every one-line error (``FILE:LINE:COLUMN``), every write refusal and the language server's
diagnostics take that name: no row prints the value, and each prints the name as written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from compose_net import redaction
from compose_net.cli import main
from compose_net.project import file_key
from compose_net.server.analysis import Analyzer
from compose_net.server.documents import Settings

VALUE = "Dk4Rw9Px"
X = "${C_DIR}/x.yml"
BASE = "${C_DIR}/base.yml"
SARIF_X = "%24%7BC_DIR%7D/x.yml"

COMPOSE = """\
include: ["${C_DIR}/x.yml"]
services:
  web:
    image: nginx
    ports: ["8080:80"]
"""
#: in the folder ${C_DIR} names
X_YML = """\
services:
  inc:
    image: nginx
    ports: ["8081:81"]
  ext:
    extends: {file: base.yml, service: b}
"""
BASE_YML = 'services:\n  b:\n    image: nginx\n    ports: ["8082:82"]\n'

#: row -> (command, what standard output or error must hold)
OUTPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "check-text": (("check",), (
        f"{X}:4:13: error CN001 services.inc.ports[0]",
        f"{BASE}:4:13: error CN001 services.b.ports[0]",
    )),
    "check-json": (("check", "--format", "json"), (
        f'"path": "{X}"', f'"path": "{BASE}"',
    )),
    "check-json-fixes": (("check", "--format", "json", "--bind", "10.0.0.5"), (
        f'"path": "{X}"', '"content": "\\"10.0.0.5:8081:81\\""',
    )),
    "check-sarif": (("check", "--format", "sarif"), (
        f'"uri": "{SARIF_X}"', '"uri": "%24%7BC_DIR%7D/base.yml"',
    )),
    "check-sarif-fixes": (("check", "--format", "sarif", "--bind", "10.0.0.5"), (
        f'"uri": "{SARIF_X}"', '"artifactChanges"',
    )),
    "check-github": (("check", "--format", "github"), (
        f"::error file={X},line=4,col=13,title=CN001 all-interfaces::",
    )),
    "check-gitlab": (("check", "--format", "gitlab"), (f'"path": "{X}"',)),
    "check-project": (("check", "-f", "compose.yaml"), (f"{X}:4:13: error CN001",)),
    "check-fix": (("check", "--fix", "--bind", "10.0.0.5"), ()),
    "harden": (("harden", "--bind", "10.0.0.5"), (
        f"hardened {X} (1 port)", f"hardened {BASE} (1 port)",
    )),
    "harden-verbose": (("harden", "-v", "--check", "--bind", "10.0.0.5"), (
        f"{X}:4:13: note: services.inc.ports[0] fixed", f"would harden {X} (1 port)",
    )),
    "harden-diff": (("harden", "--diff", "--bind", "10.0.0.5"), (
        f"--- a/{X}", f"+++ b/{BASE}",
    )),
    "ports": (("ports",), (f"{X}:4:13", f"{BASE}:4:13")),
    "ports-json": (("ports", "--format", "json"), (f'"file": "{X}"', f'"file": "{BASE}"')),
    "validate-project": (("validate", "-f", "compose.yaml"), (f"{X}: valid compose file",)),
}  # fmt: skip


def _tree(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name.replace("${C_DIR}", VALUE)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _run(
    folder: Path,
    where: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> tuple[int, str]:
    monkeypatch.chdir(folder)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    # the names themselves hide the value: redaction (defence in depth) is off here
    monkeypatch.setattr(redaction, "note", lambda name, value: None)
    if where == "env":
        monkeypatch.setenv("C_DIR", VALUE)
    else:
        monkeypatch.delenv("C_DIR", raising=False)
        (folder / ".env").write_text(f"C_DIR={VALUE}\n", encoding="utf-8")
    command, rest = args[0], tuple(a for a in args[1:] if a != WITH_CONFIG)
    files = () if "-f" in rest else ("compose.yaml",)
    ours = command in ("check", "harden") and WITH_CONFIG not in args
    config = ("--no-config",) if ours else ()
    code = main([command, *config, *rest, *files])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize(("args", "expected"), OUTPUTS.values(), ids=OUTPUTS.keys())
@pytest.mark.parametrize("where", ["env", "dotenv"])
def test_every_output_names_the_file_as_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    args: tuple[str, ...],
    expected: tuple[str, ...],
) -> None:
    _tree(tmp_path, {"compose.yaml": COMPOSE, "${C_DIR}/x.yml": X_YML,
                     "${C_DIR}/base.yml": BASE_YML})  # fmt: skip
    code, printed = _run(tmp_path, where, monkeypatch, capsys, args)
    assert code in (0, 1), printed
    for text in expected:
        assert text in printed
    assert VALUE.lower() not in printed.lower()
    if args[0] in ("harden", "check") and "--check" not in args and "--diff" not in args:
        fixed = (tmp_path / VALUE / "x.yml").read_text(encoding="utf-8")
        assert ("10.0.0.5:8081:81" in fixed) == ("--bind" in args and "--format" not in args)


#: an argument of a row: the run reads the configuration (the others pass --no-config)
WITH_CONFIG = "+config"

#: row -> (files, command, the one error line: FILE:LINE:COLUMN as written, then the message)
ERRORS: dict[str, tuple[dict[str, str], tuple[str, ...], str]] = {
    "yaml-in-include": (
        {"${C_DIR}/x.yml": 'services:\n  inc:\n    ports: ["8081:81"\n'},
        ("check",), rf"{re.escape(X)}:4:1: invalid YAML: ",
    ),
    "yaml-in-include-harden": (
        {"${C_DIR}/x.yml": 'services:\n  inc:\n    ports: ["8081:81"\n'},
        ("harden", "--check", "--bind", "10.0.0.5"), rf"{re.escape(X)}:4:1: invalid YAML: ",
    ),
    "port-in-extends-base": (
        {"${C_DIR}/x.yml": X_YML, "${C_DIR}/base.yml": BASE_YML.replace("8082:82", "80:x")},
        ("ports",), rf"{re.escape(BASE)}:4:13: services\.b\.ports\[0\]: invalid containerPort",
    ),
    "beside-an-include": (
        {"${C_DIR}/x.yml": 'include: ["y.yml"]\n', "${C_DIR}/y.yml": "services: [\n"},
        ("check",), r"\$\{C_DIR\}/y\.yml:2:1: invalid YAML: ",
    ),
    "env-file": (
        {"compose.yaml": COMPOSE.replace('["${C_DIR}/x.yml"]',
                                         '[{path: "${C_DIR}/x.yml", env_file: "${C_DIR}/e.env"}]'),
         "${C_DIR}/x.yml": X_YML, "${C_DIR}/base.yml": BASE_YML, "${C_DIR}/e.env": "A B C\n"},
        ("check",), r"\$\{C_DIR\}/e\.env:1: ",
    ),
    "project-directory-env": (
        {"compose.yaml": COMPOSE.replace(
            '["${C_DIR}/x.yml"]', '[{path: "${C_DIR}/x.yml", project_directory: "${C_DIR}"}]'),
         "${C_DIR}/x.yml": X_YML, "${C_DIR}/base.yml": BASE_YML, "${C_DIR}/.env": "A B C\n"},
        ("check",), r"\$\{C_DIR\}/\.env:1: ",
    ),
    "extends-missing-file": (
        {"${C_DIR}/x.yml": X_YML.replace("base.yml", "gone.yml")},
        ("check",), rf"{re.escape(X)}:6:21: cannot extend 'b': file gone\.yml not found",
    ),
    "configuration-beside-an-include": (
        {"${C_DIR}/x.yml": X_YML, "${C_DIR}/base.yml": BASE_YML,
         "${C_DIR}/.compose-net.yaml": "bogus: 1\n"},
        ("check", WITH_CONFIG),
        r"\$\{C_DIR\}/\.compose-net\.yaml: invalid configuration: bogus: unknown key",
    ),
    "read-only-include": (
        {"${C_DIR}/x.yml": X_YML, "${C_DIR}/base.yml": BASE_YML},
        ("harden", "--bind", "10.0.0.5"), rf"{re.escape(X)}: read-only file \(mode 0444\)",
    ),
    "read-only-include-check": (
        {"${C_DIR}/x.yml": X_YML, "${C_DIR}/base.yml": BASE_YML},
        ("harden", "--check", "--bind", "10.0.0.5"), rf"{re.escape(X)}: read-only file",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("files", "args", "line"), ERRORS.values(), ids=ERRORS.keys())
@pytest.mark.parametrize("where", ["env", "dotenv"])
def test_errors_name_the_file_as_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    files: dict[str, str],
    args: tuple[str, ...],
    line: str,
) -> None:
    _tree(tmp_path, {"compose.yaml": COMPOSE, **files})
    if "read-only file" in line:
        os.chmod(tmp_path / VALUE / "x.yml", 0o444)
    code, printed = _run(tmp_path, where, monkeypatch, capsys, args)
    assert code == 2, printed
    errors = [x for x in printed.splitlines() if x.startswith("compose-net: error: ")]
    assert errors, printed
    assert re.match("compose-net: error: " + line, errors[0]), errors
    assert VALUE.lower() not in printed.lower()


def test_the_language_server_names_the_file_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Diagnostics of the included files go to the files themselves (their URIs are the
    editor's own files); their messages name them as written, and the other side of a
    host-port clash (CN006, base.yml against x.yml) is the file itself again."""
    _tree(tmp_path, {
        "compose.yaml": COMPOSE, "${C_DIR}/x.yml": X_YML,
        "${C_DIR}/base.yml": BASE_YML.replace("8082:82", "8081:82"),
    })  # fmt: skip
    monkeypatch.setenv("C_DIR", VALUE)
    monkeypatch.setattr(redaction, "note", lambda name, value: None)
    checked = Analyzer().check(str(tmp_path / "compose.yaml"), {}, Settings())
    real = {name: str(tmp_path / VALUE / name) for name in ("x.yml", "base.yml")}
    shown = {name: str(tmp_path / "${C_DIR}" / name) for name in ("x.yml", "base.yml")}
    for name in real:
        assert checked.paths[file_key(real[name])] == real[name]
        assert {i.path for i in checked.items[file_key(real[name])]} == {shown[name]}
    clash = [i for i in checked.items[file_key(real["base.yml"])] if i.rule == "CN006"]
    assert [(i.line, i.column) for i in clash] == [(4, 13)]
    assert f"({shown['x.yml']}:4:13)" in clash[0].message
    assert [(r.path, r.line, r.column) for r in clash[0].related] == [(real["x.yml"], 4, 13)]
    said = [i.message for items in checked.items.values() for i in items]
    said += [r.message for r in clash[0].related]
    assert VALUE not in " ".join(said)
