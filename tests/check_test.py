"""``compose-net check`` as a command: exit codes, formats, suppression, config, discovery."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compose_net import output, rules
from compose_net.cli import main

EXPOSED = 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n'
CLEAN = 'services:\n  web:\n    image: nginx\n    ports:\n      - "127.0.0.1:8080:80"\n'
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "COMPOSE_FILE", "COMPOSE_PATH_SEPARATOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


@pytest.mark.parametrize(
    ("files", "args", "code", "stderr"),
    (
        pytest.param(
            {"compose.yaml": CLEAN}, [], 0, "compose-net: 0 findings in 1 file\n", id="clean"
        ),
        pytest.param(
            {"compose.yaml": EXPOSED},
            [],
            1,
            "compose-net: 1 finding (1 error) in 1 file\n",
            id="exposed-without-an-address-nothing-is-fixable",
        ),
        pytest.param(
            {"compose.yaml": EXPOSED},
            ["--bind", "10.0.0.5"],
            1,
            "compose-net: 1 finding (1 error) in 1 file\n"
            "compose-net: 1 fixable with `compose-net check --fix`\n",
            id="exposed",
        ),
        pytest.param(
            {"compose.yaml": CLEAN.replace('"127.0.0.1:8080:80"', "127.0.0.1:8080:80")},
            [],
            0,
            "compose-net: 1 finding (1 note) in 1 file\n",
            id="a-note-passes",
        ),
        pytest.param(
            {"compose.yaml": CLEAN.replace('"127.0.0.1:8080:80"', "127.0.0.1:8080:80")},
            ["--fail-on", "note"],
            1,
            "compose-net: 1 finding (1 note) in 1 file\n",
            id="a-note-fails-with-fail-on-note",
        ),
        pytest.param(
            {"compose.yaml": "services:\n  web:\n    image: x\n    network_mode: host\n"},
            [],
            1,
            "compose-net: 1 finding (1 warning) in 1 file\n",
            id="a-warning-fails",
        ),
        pytest.param(
            {"compose.yaml": "services:\n  web: [\n"},
            [],
            2,
            "compose-net: error: compose.yaml:3:1: invalid YAML: expected the node content, "
            "but found '<stream end>'\n"
            "compose-net: 0 findings in 0 files; 1 file not checked\n",
            id="yaml-error",
        ),
        pytest.param(
            {"compose.yaml": EXPOSED, "docker-compose.yml": "services: 1\n"},
            ["--bind", "10.0.0.5"],
            2,
            "compose-net: error: docker-compose.yml:1:11: 'services' must be a mapping\n"
            "compose-net: 1 finding (1 error) in 1 file; 1 file not checked\n"
            "compose-net: 1 fixable with `compose-net check --fix`\n",
            id="findings-and-an-error",
        ),
        pytest.param(
            {"compose.yaml": EXPOSED},
            ["--ignore", "CN001"],
            0,
            "compose-net: 0 findings in 1 file\n",
            id="ignored-rule",
        ),
    ),
)
def test_exit_codes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    args: list[str],
    code: int,
    stderr: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    names = [write(tmp_path, name, text) for name, text in files.items()]
    assert main(["check", "--no-config", *args, *names]) == code
    assert capsys.readouterr().err == stderr


@pytest.mark.parametrize(
    ("args", "message"),
    (
        pytest.param(
            ["--select", "CN999"], "compose-net: error: no such rule: 'CN999'", id="unknown-select"
        ),
        pytest.param(
            ["--ignore", "all-interfaces,nope"],
            "compose-net: error: no such rule: 'nope'",
            id="unknown-ignore",
        ),
        pytest.param(
            ["--node", "n1"],
            "compose-net: error: --node names a node of an inventory",
            id="node-alone",
        ),
        pytest.param(
            ["--allow", ":80"], "compose-net: error: invalid allow entry ':80'", id="bad-allow"
        ),
    ),
)
def test_usage_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", EXPOSED)
    assert main(["check", *args, "compose.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


def test_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", "nope.yml"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "compose-net: error: nope.yml: No such file or directory"
    )


MIXED = (
    "services:\n"
    "  web:\n"
    "    image: nginx\n"
    "    ports:\n"
    '      - "8080:80"\n'
    '      - "443:443"   # compose-net: allow TLS entry point\n'
    '      - "9000:9000" # compose-net: ignore[CN001] scraped by the firewall-less lab only\n'
    "      - 22:22\n"
)


def test_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", MIXED)
    assert main(["check", "compose.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        'compose.yaml:5:9: error CN001 services.web.ports[0] "8080:80" is published on all '
        "interfaces\n"
        'compose.yaml:8:9: error CN001 services.web.ports[3] "22:22" is published on all '
        "interfaces\n"
        "compose.yaml:8:9: warning CN008 services.web.ports[3] 22:22 is not quoted: YAML 1.1 "
        "reads it as the "
        "number 1342\n"
        'compose.yaml:6:9: note: allowed (CN001): services.web.ports[1] "443:443" is published '
        'on all '
        "interfaces: TLS entry point\n"
    )
    assert (
        captured.err
        == "compose-net: 3 findings (2 errors, 1 warning) in 1 file; 1 allowed, 1 ignored\n"
    )  # no node address: the fixes are display-only and none is counted


def test_text_verbose_shows_hints_and_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", MIXED)
    assert main(["check", "-v", "--select", "CN008", "compose.yaml"]) == 1
    assert capsys.readouterr().out == (
        "compose.yaml:8:9: warning CN008 services.web.ports[3] 22:22 is not quoted: YAML 1.1 "
        "reads it as the number 1342\n"
        '    [unquoted-port] hint: quote it: "22:22"\n'
    )


def test_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", MIXED)
    write(tmp_path, "broken/compose.yaml", "services:\n  - x\n")
    assert (
        main(
            [
                "check",
                "--format",
                "json",
                "--select",
                "CN001",
                "compose.yaml",
                "broken/compose.yaml",
            ]
        )
        == 2
    )
    data = json.loads(capsys.readouterr().out)
    first = {
        "path": "compose.yaml",
        "line": 5,
        "column": 9,
        "rule": "CN001",
        "name": "all-interfaces",
        "severity": "error",
        "message": 'services.web.ports[0] "8080:80" is published on all interfaces',
        "hint": 'bind it to the node\'s internal address, e.g. "10.0.0.5:8080:80", '
        "or run `compose-net check --fix --bind ADDRESS` (or set `bind: ADDRESS` in "
        ".compose-net.yaml and run `compose-net check --fix`)",
        "service": "web",
        "exposure": "all-interfaces",
        "fix": {
            "applicability": "display-only",
            "message": "no node address to bind to: give --bind, --bind-var, --resolve or "
            "--inventory, or set bind, bind-var, resolve or inventory in .compose-net.yaml",
            "edits": [],
        },
    }
    assert data["findings"][0] == first
    assert [(f["line"], f["rule"]) for f in data["findings"]] == [(5, "CN001"), (8, "CN001")]
    assert [(a["line"], a["reason"], a["source"]) for a in data["allowed"]] == [
        (6, "TLS entry point", "inSource"),
    ]
    assert [(s["line"], s["rule"], s["reason"]) for s in data["suppressed"]] == [
        (7, "CN001", "scraped by the firewall-less lab only"),
    ]
    assert data["errors"] == [
        {
            "path": "broken/compose.yaml",
            "line": 2,
            "column": 3,
            "message": "'services' must be a mapping",
        }
    ]
    assert data["files"] == 2


def test_json_port_findings_only_carry_exposure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    image: x\n    network_mode: host\n"
        "    ports: ['203.0.113.9:80:80']\n",
    )
    assert main(["check", "--format", "json", "compose.yaml"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f.get("exposure", "absent")) for f in findings] == [
        ("CN004", "absent"),
        ("CN002", "public"),
    ]


def test_github(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", MIXED)
    assert main(["check", "--format", "github", "--select", "CN001,CN008", "compose.yaml"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        '::error file=compose.yaml,line=5,col=9,title=CN001 '
        'all-interfaces::services.web.ports[0] "8080:80" '
        "is published on all interfaces. Fix: bind it to the node's internal address, e.g. "
        '"10.0.0.5:8080:80", or run `compose-net check --fix --bind ADDRESS` (or set '
        "`bind: ADDRESS` in .compose-net.yaml and run `compose-net check --fix`)",
        '::error file=compose.yaml,line=8,col=9,title=CN001 '
        'all-interfaces::services.web.ports[3] "22:22" '
        "is published on all interfaces. Fix: bind it to the node's internal address, e.g. "
        '"10.0.0.5:22:22", or run `compose-net check --fix --bind ADDRESS` (or set '
        "`bind: ADDRESS` in .compose-net.yaml and run `compose-net check --fix`)",
        "::warning file=compose.yaml,line=8,col=9,title=CN008 "
        "unquoted-port::services.web.ports[3] 22:22 "
        'is not quoted: YAML 1.1 reads it as the number 1342. Fix: quote it: "22:22"',
        "::notice file=compose.yaml,line=6,col=9,title=CN001 all-interfaces "
        "(allowed)::services.web.ports[1] "
        '"443:443" is published on all interfaces: TLS entry point',
    ]


@pytest.mark.parametrize(
    ("environ", "fmt", "expected"),
    (
        pytest.param({"GITHUB_ACTIONS": "true"}, "auto", "github", id="auto-under-actions"),
        pytest.param({}, "auto", "text", id="auto-elsewhere"),
        pytest.param({"GITHUB_ACTIONS": "false"}, "auto", "text", id="actions-false"),
        pytest.param({"GITHUB_ACTIONS": "true"}, "json", "json", id="explicit-wins"),
    ),
)
def test_resolve_format(environ: dict[str, str], fmt: str, expected: str) -> None:
    assert output.resolve_format(fmt, environ) == expected


def test_auto_is_github_under_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    write(tmp_path, "compose.yaml", EXPOSED)
    assert main(["check", "compose.yaml"]) == 1
    assert capsys.readouterr().out.startswith("::error file=compose.yaml,line=5,col=9,title=CN001 ")


def test_github_escapes_properties_and_data() -> None:
    line = output._annotation("error", "a,b:c.yml", 1, 2, "T:1,2", "100%\nsure")
    assert line == "::error file=a%2Cb%3Ac.yml,line=1,col=2,title=T%3A1%2C2::100%25%0Asure\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "environ", "expected"),
    (
        pytest.param(_Terminal(), {}, True, id="terminal"),
        pytest.param(io.StringIO(), {}, False, id="pipe"),
        pytest.param(_Terminal(), {"NO_COLOR": "1"}, False, id="no-color"),
    ),
)
def test_use_color(stream: io.StringIO, environ: dict[str, str], expected: bool) -> None:
    assert output.use_color(stream, environ) is expected


@pytest.mark.parametrize(
    ("flag", "colored"),
    (
        pytest.param("--color", True, id="forced"),
        pytest.param("--no-color", False, id="off"),
    ),
)
def test_color_flag(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    colored: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", EXPOSED)
    assert main(["check", flag, "compose.yaml"]) == 1
    out = capsys.readouterr().out
    shown = "\x1b[1mcompose.yaml:5:9\x1b[0m: \x1b[31merror\x1b[0m \x1b[1mCN001\x1b[0m "
    assert (shown in out) is colored
    assert ("\x1b[" in out) is colored


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    (
        pytest.param("# compose-net: ignore[CN001] reviewed", True, id="by-id"),
        pytest.param("# compose-net: ignore[cn001] reviewed", True, id="id-any-case"),
        pytest.param("# compose-net: ignore[all-interfaces] reviewed", True, id="by-name"),
        pytest.param("# compose-net: ignore[CN008, CN001]", True, id="in-a-list"),
        pytest.param("# compose-net: ignore", True, id="every-rule"),
        pytest.param("# compose-net: ignore[CN008] other rule", False, id="another-rule"),
        pytest.param("# compose-net: allow public by design", True, id="allow"),
        pytest.param("# a plain comment", False, id="plain-comment"),
    ),
)
def test_inline_suppression(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    comment: str,
    suppressed: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", EXPOSED.replace('"8080:80"', f'"8080:80"  {comment}'))
    assert main(["check", "--select", "CN001", "compose.yaml"]) == (0 if suppressed else 1)
    assert (
        "CN001 services.web.ports[0]" in capsys.readouterr().out.split("note:")[0]
    ) is not suppressed


def test_suppression_is_per_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A long-syntax entry does not take the comment of the entry after it."""
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    image: x\n    ports:\n      - target: 80\n        published: 8080\n"
        "      - '9090:90'  # compose-net: ignore[CN001]\n",
    )
    assert main(["check", "--select", "CN001", "compose.yaml"]) == 1
    assert capsys.readouterr().out == (
        "compose.yaml:5:9: error CN001 services.web.ports[0] {published: 8080, target: 80} is "
        "published on all "
        "interfaces\n"
    )


@pytest.mark.parametrize(
    ("allow", "findings", "allowed"),
    (
        pytest.param(
            ["--allow", "web"], [], [(5, "allowed by web"), (6, "allowed by web")], id="service"
        ),
        pytest.param(
            ["--allow", "web:8080"], [6], [(5, "allowed by web:8080")], id="published-port"
        ),
        pytest.param(["--allow", "web:90"], [5], [(6, "allowed by web:90")], id="target-port"),
        pytest.param(["--allow", "*:8080"], [6], [(5, "allowed by *:8080")], id="any-service"),
        pytest.param(["--allow", "db"], [5, 6], [], id="another-service"),
    ),
)
def test_allow_option(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    allow: list[str],
    findings: list[int],
    allowed: list[tuple[int, str]],
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", EXPOSED + '      - "9091:90"\n')
    assert main(["check", "--format", "json", "--select", "CN001", *allow, "compose.yaml"]) == (
        1 if findings else 0
    )
    data = json.loads(capsys.readouterr().out)
    assert [f["line"] for f in data["findings"]] == findings
    assert [(a["line"], a["reason"]) for a in data["allowed"]] == allowed
    assert {a["source"] for a in data["allowed"]} <= {"external"}


def test_allow_covers_host_network_only_for_the_whole_service(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", "services:\n  mon:\n    image: x\n    network_mode: host\n")
    assert main(["check", "--allow", "mon:19999", "compose.yaml"]) == 1
    assert main(["check", "--allow", "mon", "compose.yaml"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        "compose.yaml:4:19: note: allowed (CN004): services.mon uses network_mode: host: every "
        "port the container opens is reachable on every interface of the node: allowed by mon"
    )


def test_allow_does_not_silence_other_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path, "compose.yaml", EXPOSED.replace('"8080:80"', '"99999:80"  # compose-net: allow')
    )
    assert main(["check", "--select", "CN009", "compose.yaml"]) == 1
    assert "CN009" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("config_name", "config", "code", "rules_seen"),
    (
        pytest.param(
            ".compose-net.yaml",
            "allow:\n  - {service: web, port: 8080, reason: public API}\n",
            1,
            ["CN001", "CN008"],
            id="allow-with-reason",
        ),
        pytest.param(
            ".compose-net.yaml", "ignore: [unquoted-port]\n", 1, ["CN001", "CN001"], id="ignore"
        ),
        pytest.param(".compose-net.yaml", "select: [CN008]\n", 1, ["CN008"], id="select"),
        pytest.param(
            "pyproject.toml",
            '[tool.compose-net]\nignore = ["CN001", "CN008"]\n',
            0,
            [],
            id="pyproject",
        ),
        pytest.param(
            ".compose-net.yaml",
            "target: stack\nselect: [CN005]\n",
            1,
            ["CN005", "CN005"],
            id="target",
        ),
    ),
)
def test_configuration(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_name: str,
    config: str,
    code: int,
    rules_seen: list[str],
) -> None:
    write(tmp_path, config_name, config)
    (tmp_path / ".git").mkdir()  # the project root, where the search for a configuration ends
    write(tmp_path, "deploy/compose.yaml", EXPOSED + "      - 22:22\n")
    monkeypatch.chdir(tmp_path / "deploy")
    assert main(["check", "--format", "json", "compose.yaml"]) == code
    data = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in data["findings"]] == rules_seen


def test_configuration_allow_is_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        ".compose-net.yaml",
        "allow:\n  - {service: web, port: 8080, reason: public API}\n",
    )
    write(tmp_path, "compose.yaml", EXPOSED)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "compose.yaml"]) == 0
    assert capsys.readouterr().out == (
        'compose.yaml:5:9: note: allowed (CN001): services.web.ports[0] "8080:80" is published '
        'on all '
        "interfaces: public API\n"
    )
    assert main(["check", "--no-config", "compose.yaml"]) == 1


@pytest.mark.parametrize(
    ("config", "message"),
    (
        pytest.param("ignore: [CN404]\n", "no such rule: 'CN404'", id="unknown-rule"),
        pytest.param("selct: [CN001]\n", "invalid configuration", id="schema"),
    ),
)
def test_configuration_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str,
    message: str,
) -> None:
    write(tmp_path, ".compose-net.yaml", config)
    write(tmp_path, "compose.yaml", EXPOSED)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "compose.yaml"]) == 2
    err = capsys.readouterr().err.splitlines()[0]
    where = f"compose-net: error: {tmp_path / '.compose-net.yaml'}"
    assert err.startswith(where) and message in err, err


@pytest.mark.parametrize(
    ("present", "compose_file", "checked"),
    (
        pytest.param(
            ["compose.yaml", "compose.override.yaml"],
            None,
            ["compose.yaml", "compose.override.yaml"],
            id="compose-and-override",
        ),
        pytest.param(
            ["docker-compose.yml", "docker-compose.override.yml"],
            None,
            ["docker-compose.yml", "docker-compose.override.yml"],
            id="docker-compose-and-override",
        ),
        pytest.param(
            ["compose.yml", "docker-compose.yml"], None, ["compose.yml"], id="first-name-wins"
        ),
        pytest.param(
            ["a.yml", "b.yml", "compose.yaml"],
            f"a.yml{os.pathsep}b.yml",
            ["a.yml", "b.yml"],
            id="COMPOSE_FILE",
        ),
    ),
)
def test_discovery(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    present: list[str],
    compose_file: str | None,
    checked: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for i, name in enumerate(present):
        write(tmp_path, name, EXPOSED.replace("8080", str(8080 + i)))
    if compose_file is not None:
        monkeypatch.setenv("COMPOSE_FILE", compose_file)
    assert main(["check", "--format", "json", "--select", "CN001"]) == 1
    assert [f["path"] for f in json.loads(capsys.readouterr().out)["findings"]] == checked


def test_discovery_path_separator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.yml", EXPOSED)
    write(tmp_path, "b.yml", EXPOSED.replace("8080", "8081"))
    monkeypatch.setenv("COMPOSE_FILE", "a.yml,b.yml")
    monkeypatch.setenv("COMPOSE_PATH_SEPARATOR", ",")
    assert main(["check", "--format", "json", "--select", "CN001"]) == 1
    assert [f["path"] for f in json.loads(capsys.readouterr().out)["findings"]] == [
        "a.yml",
        "b.yml",
    ]


def test_discovery_finds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    assert capsys.readouterr().err.startswith(
        "compose-net: error: no configuration file provided: not found"
    )


def test_output_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "compose.yaml", EXPOSED)
    assert main(["check", "--format", "sarif", "-o", "report.sarif", "compose.yaml"]) == 1
    assert capsys.readouterr().out == ""
    log = json.loads((tmp_path / "report.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["CN001"]


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EXPOSED.encode())))
    assert main(["check", "--select", "CN001", "-"]) == 1
    assert capsys.readouterr().out.startswith('-:5:9: error CN001 services.web.ports[0] "8080:80"')


INVENTORY = """nodes:
  n1:
    service: {ipv4: 10.176.0.11}
  n2:
    service: {ipv4: 10.176.0.12}
"""


@pytest.mark.parametrize(
    ("bound", "code"),
    (
        pytest.param("10.176.0.11", 0, id="its-node"),
        pytest.param("10.176.0.12", 1, id="the-other-node"),
    ),
)
def test_inventory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bound: str,
    code: int,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "nodes.yaml", INVENTORY)
    write(tmp_path, "compose.yaml", EXPOSED.replace('"8080:80"', f'"{bound}:8080:80"'))
    assert main(["check", "--inventory", "nodes.yaml", "--node", "n1", "compose.yaml"]) == code
    out = capsys.readouterr().out
    assert ("CN007" in out) is (code == 1), out


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--list-rules"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out] == [[r.ID, r.NAME] for r in rules.RULES]
    assert [r.ID for r in rules.RULES] == [f"CN{i:03d}" for i in range(1, 11)]


@pytest.mark.parametrize("ref", ("CN005", "swarm-published", "cn005"))
def test_explain(capsys: pytest.CaptureFixture[str], ref: str) -> None:
    assert main(["check", "--explain", ref]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CN005 swarm-published (error): A port published by a swarm stack\n\n")
    assert rules.documentation(rules.get("CN005")) in out


def test_rules_documentation_is_generated() -> None:
    """docs/rules.md is the rules' docstrings: python -m compose_net.rules > docs/rules.md"""
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules.markdown()


def test_every_rule_is_documented() -> None:
    for rule in rules.RULES:
        doc = rules.documentation(rule)
        assert "Finding" in doc and "No finding" in doc and "Fix:" in doc, rule.ID


def test_console_script_exit_code_and_no_docker_import(tmp_path: Path) -> None:
    """Through the installed script, as pre-commit runs it; the docker SDK stays unimported."""
    path = tmp_path / "compose.yaml"
    path.write_text(EXPOSED, encoding="utf-8")
    code = (
        "import sys\n"
        "from compose_net.cli import main\n"
        "rc = main(['check', sys.argv[1]])\n"
        "heavy = sorted(m for m in ('docker', 'requests', 'urllib3') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "raise SystemExit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    assert "HEAVY []" in proc.stderr
    script = subprocess.run(
        ["compose-net", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert script.returncode == 1, script.stderr
    assert script.stdout.startswith(f"{path}:5:9: error CN001 ")


def _doc_commands() -> list[Any]:
    """Every ``compose-net check ...`` in the documentation's code blocks, as (where, arguments)."""
    out = []
    for doc in ("README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))):
        text = (ROOT / doc).read_text(encoding="utf-8")
        for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
            for line in block.splitlines():
                if "compose-net check" not in line:
                    continue
                rest = line.split("compose-net check", 1)[1].split(" #")[0].split("||")[0]
                args = shlex.split(rest)
                prose = " CN0" in line or "name:" in line  # sample output, a step's name
                if prose or any(a.startswith(("[", "$")) for a in args):
                    continue
                out.append(pytest.param(doc, args, id=f"{doc}: check {' '.join(args)}".strip()))
    return out


@pytest.mark.parametrize(("doc", "args"), _doc_commands())
def test_documented_commands_parse(doc: str, args: list[str]) -> None:
    """The options the docs use exist (click parses them without running anything)."""
    from compose_net.cli import check as command

    context = command.make_context("check", list(args))
    assert context.params["fmt"] in output.FORMATS, doc
