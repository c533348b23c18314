"""``compose-net check`` with the options people bring from ruff and hadolint: ``--fix``
(harden's code path), ``--unsafe-fixes``, ``--exit-zero``, ``-q``, ``--fail-on``,
``--statistics`` and ``--output-format``, alone and with each format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]

EXPOSED = 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n'
PUBLIC = 'services:\n  web:\n    image: nginx\n    ports:\n      - "203.0.113.7:8080:80"\n'
HOST = "services:\n  web:\n    image: nginx\n    network_mode: host\n"
NOTE = "services:\n  web:\n    image: nginx\n    ports:\n      - 127.0.0.1:8080:80\n"
MIXED = EXPOSED + "    network_mode: host\n"
BROKEN = "services:\n  web: [\n"
FIXED = 'services:\n  web:\n    image: nginx\n    ports:\n      - "10.0.0.5:8080:80"\n'


def compose_net(
    args: list[str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _json(text: str) -> object:
    return json.loads(text)


Check = Callable[[subprocess.CompletedProcess[str], Path], None]


def out_is(expected: str) -> Check:
    def check(r: subprocess.CompletedProcess[str], folder: Path) -> None:
        assert r.stdout == expected, r.stdout

    return check


def err_is(expected: str) -> Check:
    def check(r: subprocess.CompletedProcess[str], folder: Path) -> None:
        assert r.stderr == expected, r.stderr

    return check


def err_has(part: str) -> Check:
    def check(r: subprocess.CompletedProcess[str], folder: Path) -> None:
        assert part in r.stderr, r.stderr

    return check


def file_is(name: str, text: str) -> Check:
    def check(r: subprocess.CompletedProcess[str], folder: Path) -> None:
        assert (folder / name).read_text(encoding="utf-8") == text

    return check


def json_rules(expected: list[str]) -> Check:
    def check(r: subprocess.CompletedProcess[str], folder: Path) -> None:
        data = _json(r.stdout)
        assert isinstance(data, dict)
        assert [f["rule"] for f in data["findings"]] == expected

    return check


def statistics_json(expected: list[dict[str, object]]) -> Check:
    def check(r: subprocess.CompletedProcess[str], folder: Path) -> None:
        assert _json(r.stdout) == expected

    return check


FINDING = (
    'compose.yaml:5:9: error CN001 services.web.ports[0] "8080:80" is published on all '
    "interfaces\n"
)
FIXABLE = FINDING.replace("CN001 ", "CN001 [*] ")
SUMMARY = (
    "compose-net: 1 finding (1 error) in 1 file\n"
    "compose-net: 1 fixable with `compose-net check --fix`\n"
)

CASES = [
    # (id, file text, arguments, standard input, exit code, checks)
    # a node address makes a fix real: only then is a finding marked and counted fixable
    ("plain", EXPOSED, ["--bind", "10.0.0.5"], None, 1, [out_is(FIXABLE), err_is(SUMMARY)]),
    ("plain-without-an-address-nothing-is-fixable", EXPOSED, [], None, 1,
     [out_is(FINDING), err_is("compose-net: 1 finding (1 error) in 1 file\n")]),
    ("exit-zero", EXPOSED, ["--exit-zero"], None, 0, [out_is(FINDING)]),
    ("exit-zero-json", EXPOSED, ["--exit-zero", "--format", "json"], None, 0,
     [json_rules(["CN001"])]),
    ("exit-zero-keeps-errors", BROKEN, ["--exit-zero"], None, 2,
     [err_has("compose-net: error: compose.yaml:3:1: invalid YAML")]),
    ("fail-on-error-warning-passes", HOST, ["--fail-on", "error"], None, 0,
     [err_has("1 warning")]),
    ("fail-on-warning-warning-fails", HOST, ["--fail-on", "warning"], None, 1, []),
    ("fail-on-default-note-passes", NOTE, [], None, 0, [err_has("1 note")]),
    ("fail-on-note-note-fails", NOTE, ["--fail-on", "note"], None, 1, []),
    ("fail-on-note-exit-zero", NOTE, ["--fail-on", "note", "--exit-zero"], None, 0, []),
    ("fail-on-error-exit-zero", EXPOSED, ["--fail-on", "error", "--exit-zero"], None, 0, []),
    ("fail-on-error-sarif", MIXED, ["--fail-on", "error", "--format", "sarif"], None, 1, []),
    ("fail-on-error-sarif-warning", HOST, ["--fail-on", "error", "--format", "sarif"], None, 0,
     []),
    ("quiet", EXPOSED, ["-q"], None, 1, [out_is(FINDING), err_is("")]),
    ("quiet-long-github", EXPOSED, ["--quiet", "--format", "github"], None, 1, [err_is("")]),
    ("output-format-json", EXPOSED, ["--output-format", "json"], None, 1,
     [json_rules(["CN001"])]),
    ("output-format-text", EXPOSED, ["--output-format", "text"], None, 1, [out_is(FINDING)]),
    ("statistics", MIXED, ["--statistics", "--bind", "10.0.0.5"], None, 1,
     [out_is("    1  CN001  [*] all-interfaces       error\n"
             "    1  CN004      host-network         warning\n")]),
    ("statistics-without-an-address", MIXED, ["--statistics"], None, 1,
     [out_is("    1  CN001      all-interfaces       error\n"
             "    1  CN004      host-network         warning\n")]),
    ("statistics-json", MIXED, ["--statistics", "--format", "json", "--bind", "10.0.0.5"],
     None, 1,
     [statistics_json([
         {"code": "CN001", "name": "all-interfaces", "severity": "error", "count": 1,
          "fixable": 1},
         {"code": "CN004", "name": "host-network", "severity": "warning", "count": 1,
          "fixable": 0},
     ])]),
    ("statistics-json-exit-zero", MIXED, ["--statistics", "--output-format", "json",
                                          "--exit-zero"], None, 0, []),
    ("statistics-clean", FIXED, ["--statistics"], None, 0, [out_is("")]),
    ("statistics-sarif-refused", EXPOSED, ["--statistics", "--format", "sarif"], None, 2,
     [err_has("--statistics prints text or json")]),
    ("unsafe-fixable-summary", PUBLIC, ["--bind", "10.0.0.5"], None, 1,
     [err_has("compose-net: 1 fixable with `compose-net check --fix --unsafe-fixes`\n")]),
    ("fix", EXPOSED, ["--fix", "--bind", "10.0.0.5"], None, 0,
     [out_is(""), file_is("compose.yaml", FIXED), err_has("hardened compose.yaml (1 port)")]),
    ("fix-quiet", EXPOSED, ["--fix", "--bind", "10.0.0.5", "-q"], None, 0,
     [out_is(""), err_is(""), file_is("compose.yaml", FIXED)]),
    ("fix-json-remaining", MIXED, ["--fix", "--bind", "10.0.0.5", "--format", "json"], None, 1,
     [json_rules(["CN004"]), file_is("compose.yaml", FIXED + "    network_mode: host\n")]),
    ("fix-remaining-exit-zero", MIXED, ["--fix", "--bind", "10.0.0.5", "--exit-zero"], None, 0,
     []),
    ("fix-remaining-fail-on-error", MIXED, ["--fix", "--bind", "10.0.0.5", "--fail-on",
                                            "error"], None, 0, []),
    ("fix-statistics-json", MIXED, ["--fix", "--bind", "10.0.0.5", "--statistics", "--format",
                                    "json"], None, 1,
     [statistics_json([{"code": "CN004", "name": "host-network", "severity": "warning",
                        "count": 1, "fixable": 0}])]),
    ("fix-no-address", EXPOSED, ["--fix"], None, 2,
     [err_has("--bind"), file_is("compose.yaml", EXPOSED)]),
    ("fix-public-safe-only", PUBLIC, ["--fix", "--bind", "10.0.0.5"], None, 1,
     [file_is("compose.yaml", PUBLIC)]),
    ("fix-unsafe-fixes", PUBLIC, ["--fix", "--unsafe-fixes", "--bind", "10.0.0.5"], None, 0,
     [file_is("compose.yaml", FIXED)]),
    ("fix-rewrite-public", PUBLIC, ["--fix", "--rewrite-public", "--bind", "10.0.0.5"], None, 0,
     [file_is("compose.yaml", FIXED)]),
    ("fix-stdin", "", ["--fix", "--bind", "10.0.0.5", "-"], EXPOSED, 0,
     [out_is(FIXED), err_has("hardened - (1 port)")]),
    ("fix-stdin-remaining", "", ["--fix", "--bind", "10.0.0.5", "-"], MIXED, 1,
     [out_is(FIXED + "    network_mode: host\n"), err_has("-:6:19: warning: CN004")]),
    ("fix-stdin-exit-zero", "", ["--fix", "--bind", "10.0.0.5", "--exit-zero", "-"], MIXED, 0,
     []),
    ("fix-stdin-json-refused", "", ["--fix", "--bind", "10.0.0.5", "--format", "json", "-"],
     EXPOSED, 2, [out_is(""), err_has("--fix on standard input")]),
    ("fix-broken", BROKEN, ["--fix", "--bind", "10.0.0.5", "--exit-zero"], None, 2,
     [file_is("compose.yaml", BROKEN)]),
]


@pytest.mark.parametrize(
    ("text", "args", "stdin", "code", "checks"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_check_options(
    tmp_path: Path,
    text: str,
    args: list[str],
    stdin: str | None,
    code: int,
    checks: list[Check],
) -> None:
    if text:
        (tmp_path / "compose.yaml").write_text(text, encoding="utf-8")
        if "-" not in args:
            args = [*args, "compose.yaml"]
    r = compose_net(["check", "--no-color", *args], tmp_path, stdin)
    assert r.returncode == code, r.stderr
    for check in checks:
        check(r, tmp_path)
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("text", "options"),
    [
        pytest.param(EXPOSED, ["--bind", "10.0.0.5"], id="exposed"),
        pytest.param(MIXED, ["--bind", "10.0.0.5"], id="remaining"),
        pytest.param(PUBLIC, ["--bind", "10.0.0.5"], id="public-kept"),
        pytest.param(PUBLIC, ["--bind", "10.0.0.5", "--rewrite-public"], id="public-rewritten"),
        pytest.param(EXPOSED, ["--bind-var", "BIND"], id="bind-var"),
        pytest.param(BROKEN, ["--bind", "10.0.0.5"], id="broken"),
        pytest.param(EXPOSED, [], id="no-address"),
    ],
)
def test_fix_is_harden(tmp_path: Path, text: str, options: list[str]) -> None:
    """``check --fix`` writes what ``harden`` writes and exits as it does: one code path."""
    for name in ("checked", "hardened"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_text(text, encoding="utf-8")
    fixed = compose_net(["check", "--fix", *options, "compose.yaml"], tmp_path / "checked")
    hardened = compose_net(["harden", *options, "compose.yaml"], tmp_path / "hardened")
    assert fixed.returncode == hardened.returncode, (fixed.stderr, hardened.stderr)
    assert (tmp_path / "checked" / "compose.yaml").read_bytes() == (
        tmp_path / "hardened" / "compose.yaml"
    ).read_bytes()
