"""``compose-net ports`` through the installed console script, in a subprocess.

Exit codes (0 ok, 2 errors), one-line ``file:line:col: message`` errors, the JSON
and text outputs, and where variables come from: the process environment, the
``.env`` beside the file, ``--env-file``, or nowhere (``--no-interpolate``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import require

SCRIPT = Path(sys.executable).parent / "compose-net"
ROOT = Path(__file__).resolve().parents[1]

WEB = """\
services:
  web:
    image: nginx
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443"
      - target: 53
        published: "53"
        protocol: udp
        host_ip: 10.0.0.1
      - "${BIND:-192.0.2.10}:9000:9000"
      - "[::]:7000:7000"
"""


def _run(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    require(SCRIPT.is_file(), f"the compose-net console script is not at {SCRIPT}")
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        # this checkout's code, whichever checkout the console script was installed from
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(ROOT), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize(
    ("files", "args", "code", "err"),
    (
        pytest.param({"c.yaml": WEB}, ["c.yaml"], 0, "", id="ok"),
        pytest.param(
            {"c.yaml": "services:\n  a:\n    image: x\n    ports:\n      - '80:80:80:80'\n"},
            ["c.yaml"],
            2,
            "compose-net: error: c.yaml:5:9: services.a.ports[0]: invalid IP address: 80:80\n",
            id="invalid-spec",
        ),
        pytest.param(
            {"c.yaml": "services:\n  a:\n    image: x\n    ports: [{target: 80, host_ip: ''}]\n"},
            ["c.yaml"],
            2,
            "compose-net: error: c.yaml:4:13: services.a.ports[0]: invalid IP address: \n",
            id="invalid-long-syntax",
        ),
        pytest.param(
            {"c.yaml": "services:\n  a:\n    image: x\n    ports: ['${PORT:?set PORT}:80']\n"},
            ["c.yaml"],
            2,
            "compose-net: error: "
            "c.yaml:4:13: services.a.ports[0]: required variable PORT is missing a value: set",
            id="required-variable",
        ),
        pytest.param(
            {"c.yaml": "services:\n  a:\n    image: x\n    ports: ['${PORT']\n"},
            ["c.yaml"],
            2,
            "compose-net: error: "
            "c.yaml:4:13: services.a.ports[0]: invalid interpolation format: ${ needs a variable "
            "name and a closing } (a literal $ is $$)\n",
            id="invalid-interpolation",
        ),
        pytest.param(
            {"c.yaml": "services:\n  a: [\n"},
            ["c.yaml"],
            2,
            "compose-net: error: c.yaml:3:1: invalid YAML",
            id="yaml-syntax",
        ),
        pytest.param(
            {"c.yaml": ""}, ["c.yaml"], 2, "compose-net: error: c.yaml: empty compose file\n",
            id="empty-file",
        ),
        pytest.param(
            {}, ["nope.yaml"], 2, "compose-net: error: nope.yaml: No such file or directory\n",
            id="missing-file",
        ),
        pytest.param(
            {"c.yaml": WEB, ".env": "A B=1\n"},
            ["c.yaml"],
            2,
            "compose-net: error: .env:1: key cannot contain a space\n",
            id="bad-dotenv",
        ),
        pytest.param(
            {"c.yaml": WEB},
            ["--env-file", "nope.env", "c.yaml"],
            2,
            "compose-net: error: nope.env: cannot read env file",
            id="missing-env-file",
        ),
        pytest.param(
            {"c.yaml": WEB, ".env": "A B=1\n"},
            ["--no-interpolate", "c.yaml"],
            0,
            "",
            id="dotenv-unread-without-interpolation",
        ),
        pytest.param(
            {"c.yaml": WEB},
            ["--format", "xml", "c.yaml"],
            2,
            "compose-net: error: Invalid value for '--format': 'xml' is not one of 'text', "
            "'json'. (see compose-net ports --help)\n",
            id="bad-format",
        ),
        pytest.param({}, [], 2, "compose-net: error: no configuration file provided", id="no-file"),
        pytest.param(
            {
                "c.yaml": (
                    "services:\n"
                    "  a:\n"
                    "    build: ./missing-context\n"
                    "    env_file: [missing.env]\n"
                    "    ports: ['80:80']\n"
                )
            },
            ["c.yaml"],
            0,
            "",
            id="missing-env-file-target-and-build-context",
        ),
        pytest.param(
            {"c.yaml": "services:\n  a:\n    image: x\n"}, ["c.yaml"], 0, "", id="no-ports"
        ),
        pytest.param({"compose.yaml": WEB}, [], 0, "", id="default-file-found"),
    ),
)
def test_exit_codes(
    tmp_path: Path, files: dict[str, str], args: list[str], code: int, err: str
) -> None:
    _write(tmp_path, files)
    proc = _run(["ports", *args], tmp_path)
    assert (proc.returncode, proc.stderr[: len(err)]) == (code, err)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == (1 if code else 0)


def test_one_bad_file_does_not_hide_the_others(tmp_path: Path) -> None:
    _write(tmp_path, {"good.yaml": WEB, "bad.yaml": "services:\n  a:\n    ports: ['abc']\n"})
    proc = _run(["ports", "--format", "json", "bad.yaml", "good.yaml"], tmp_path)
    data = json.loads(proc.stdout)
    assert (proc.returncode, [f["path"] for f in data["files"]]) == (2, ["good.yaml"])
    assert proc.stderr == (
        "compose-net: error: bad.yaml:3:13: services.a.ports[0]: invalid containerPort: abc\n"
    )


# --------------------------------------------------------------------------- outputs


def test_json_shape(tmp_path: Path) -> None:
    _write(tmp_path, {"c.yaml": WEB})
    proc = _run(["ports", "--format", "json", "c.yaml"], tmp_path)
    assert json.loads(proc.stdout) == {
        "files": [
            {
                "path": "c.yaml",
                "services": {
                    "web": {
                        "ports": [
                            {
                                "mode": "ingress",
                                "target": 80,
                                "published": "8080",
                                "protocol": "tcp",
                                "line": 5,
                                "column": 9,
                                "exposure": "all-interfaces",
                            },
                            {
                                "mode": "ingress",
                                "host_ip": "127.0.0.1",
                                "target": 443,
                                "published": "8443",
                                "protocol": "tcp",
                                "line": 6,
                                "column": 9,
                                "exposure": "loopback",
                            },
                            {
                                "mode": "ingress",
                                "host_ip": "10.0.0.1",
                                "target": 53,
                                "published": "53",
                                "protocol": "udp",
                                "line": 7,
                                "column": 9,
                                "exposure": "private",
                            },
                            {
                                "mode": "ingress",
                                "host_ip": "192.0.2.10",
                                "target": 9000,
                                "published": "9000",
                                "protocol": "tcp",
                                "line": 11,
                                "column": 9,
                                "exposure": "variable",
                            },
                            {
                                "mode": "ingress",
                                "host_ip": "::",
                                "target": 7000,
                                "published": "7000",
                                "protocol": "tcp",
                                "line": 12,
                                "column": 9,
                                "exposure": "all-interfaces",
                            },
                        ]
                    }
                },
            }
        ]
    }
    assert (proc.returncode, proc.stderr) == (0, "")


def test_text_table(tmp_path: Path) -> None:
    _write(tmp_path, {"c.yaml": WEB})
    proc = _run(["ports", "c.yaml"], tmp_path)
    assert proc.stdout == (
        "LOCATION     SERVICE  HOST IP     PUBLISHED  TARGET    MODE     EXPOSURE\n"
        "c.yaml:5:9   web      *           8080       80/tcp    ingress  all-interfaces\n"
        "c.yaml:6:9   web      127.0.0.1   8443       443/tcp   ingress  loopback\n"
        "c.yaml:7:9   web      10.0.0.1    53         53/udp    ingress  private\n"
        "c.yaml:11:9  web      192.0.2.10  9000       9000/tcp  ingress  variable\n"
        "c.yaml:12:9  web      ::          7000       7000/tcp  ingress  all-interfaces\n"
    )


def test_text_nothing_when_every_file_fails(tmp_path: Path) -> None:
    proc = _run(["ports", "nope.yaml"], tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")


def test_stdin(tmp_path: Path) -> None:
    proc = _run(["ports", "--format", "json", "-"], tmp_path, stdin=WEB)
    data = json.loads(proc.stdout)
    assert (
        proc.returncode,
        data["files"][0]["path"],
        len(data["files"][0]["services"]["web"]["ports"]),
    ) == (
        0,
        "-",
        5,
    )


def test_profiles_included(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "c.yaml": "services:\n  a:\n    image: x\n    profiles: [debug]\n"
            "    ports: ['9229:9229']\n"
        },
    )
    data = json.loads(_run(["ports", "--format", "json", "c.yaml"], tmp_path).stdout)
    assert list(data["files"][0]["services"]) == ["a"]


# --------------------------------------------------------------------------- variables

VARS = """\
services:
  a:
    image: x
    ports:
      - "${BIND:-127.0.0.1}:${PORT:-8000}:80"
"""


def _first(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert (proc.returncode, proc.stderr) == (0, "")
    port: dict[str, Any] = json.loads(proc.stdout)["files"][0]["services"]["a"]["ports"][0]
    return {k: port[k] for k in ("host_ip", "published", "exposure") if k in port}


@pytest.mark.parametrize(
    ("files", "args", "env", "expected"),
    (
        pytest.param(
            {"proj/c.yaml": VARS},
            ["proj/c.yaml"],
            {},
            {"host_ip": "127.0.0.1", "published": "8000", "exposure": "variable"},
            id="defaults",
        ),
        pytest.param(
            {"proj/c.yaml": VARS, "proj/.env": "BIND=10.0.0.7\nPORT=8001\n"},
            ["proj/c.yaml"],
            {},
            {"host_ip": "10.0.0.7", "published": "8001", "exposure": "variable"},
            id="dotenv-beside-the-file",
        ),
        pytest.param(
            {"proj/c.yaml": VARS, ".env": "BIND=10.0.0.9\n"},
            ["proj/c.yaml"],
            {},
            {"host_ip": "127.0.0.1", "published": "8000", "exposure": "variable"},
            id="dotenv-in-cwd-ignored",
        ),
        pytest.param(
            {"proj/c.yaml": VARS, "proj/.env": "BIND=10.0.0.7\nPORT=8001\n"},
            ["proj/c.yaml"],
            {"PORT": "9001"},
            {"host_ip": "10.0.0.7", "published": "9001", "exposure": "variable"},
            id="environment-over-dotenv",
        ),
        pytest.param(
            {"proj/c.yaml": VARS, "proj/.env": "BIND=10.0.0.7\n", "other.env": "PORT=8002\n"},
            ["--env-file", "other.env", "proj/c.yaml"],
            {},
            {"host_ip": "127.0.0.1", "published": "8002", "exposure": "variable"},
            id="env-file-replaces-dotenv",
        ),
        pytest.param(
            {"proj/c.yaml": VARS, "a.env": "PORT=1\nBIND=10.0.0.1\n", "b.env": "PORT=2\n"},
            ["--env-file", "a.env", "--env-file", "b.env", "proj/c.yaml"],
            {},
            {"host_ip": "10.0.0.1", "published": "2", "exposure": "variable"},
            id="later-env-file-wins",
        ),
        pytest.param(
            {"proj/c.yaml": VARS, "b.env": "PORT=2\n"},
            ["--env-file", "b.env", "proj/c.yaml"],
            {"PORT": "3"},
            {"host_ip": "127.0.0.1", "published": "3", "exposure": "variable"},
            id="environment-over-env-file",
        ),
        pytest.param(
            {"proj/c.yaml": VARS, "proj/.env": "BIND=10.0.0.7\n"},
            ["--no-interpolate", "proj/c.yaml"],
            {"PORT": "3"},
            {"host_ip": "${BIND:-127.0.0.1}", "published": "${PORT:-8000}", "exposure": "variable"},
            id="no-interpolate-keeps-them",
        ),
    ),
)
def test_variables(
    tmp_path: Path,
    files: dict[str, str],
    args: list[str],
    env: dict[str, str],
    expected: dict[str, str],
) -> None:
    """Interpolation as Compose does it; --show-values prints the values it found."""
    _write(tmp_path, files)
    proc = _run(["ports", "--format", "json", "--show-values", *args], tmp_path, env)
    assert _first(proc) == expected


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    (
        pytest.param(
            [], {}, {"host_ip": "${BIND}", "published": "${PORT}", "exposure": "variable"},
            id="dotenv-values-named",
        ),
        pytest.param(
            [], {"PORT": "9001"},
            {"host_ip": "${BIND}", "published": "${PORT}", "exposure": "variable"},
            id="environment-value-named",
        ),
        pytest.param(
            ["--show-values"], {"PORT": "9001"},
            {"host_ip": "10.0.0.7", "published": "9001", "exposure": "variable"},
            id="show-values-prints-them",
        ),
    ),
)
def test_values_are_named_without_show_values(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: dict[str, str]
) -> None:
    """Without --show-values a value that came from a variable is printed as ${NAME}."""
    _write(tmp_path, {"proj/c.yaml": VARS, "proj/.env": "BIND=10.0.0.7\nPORT=8001\n"})
    proc = _run(["ports", "--format", "json", *args, "proj/c.yaml"], tmp_path, env)
    assert _first(proc) == expected
    if not args:  # no value of .env or the environment is printed
        assert "8001" not in proc.stdout and "10.0.0.7" not in proc.stdout
        assert "9001" not in proc.stdout


def test_no_interpolate_output(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "c.yaml": (
                "services:\n  a:\n    image: x\n    ports:\n"
                "      - '${BIND}:${PORT:-80}:80/udp'\n"
                "      - {target: 81, published: '${P2}', host_ip: '${IP2:?need it}'}\n"
                "      - '8080:80'\n"
            )
        },
    )
    proc = _run(["ports", "--no-interpolate", "--format", "json", "c.yaml"], tmp_path)
    ports = json.loads(proc.stdout)["files"][0]["services"]["a"]["ports"]
    assert [{k: v for k, v in p.items() if k not in ("line", "column")} for p in ports] == [
        {
            "mode": "ingress",
            "host_ip": "${BIND}",
            "target": 80,
            "published": "${PORT:-80}",
            "protocol": "udp",
            "exposure": "variable",
        },
        {
            "target": 81,
            "published": "${P2}",
            "host_ip": "${IP2:?need it}",
            "mode": "ingress",
            "protocol": "tcp",
            "exposure": "variable",
        },
        {
            "mode": "ingress",
            "target": 80,
            "published": "8080",
            "protocol": "tcp",
            "exposure": "all-interfaces",
        },
    ]


# --------------------------------------------------------------------------- start-up

HEAVY = ("docker", "jsonschema")


@pytest.mark.parametrize(
    "args",
    (
        ["c.yaml"],
        ["--format", "json", "c.yaml"],
        ["--no-interpolate", "c.yaml"],
        ["--env-file", "vars.env", "c.yaml"],
        ["nope.yaml"],
    ),
    ids=("text", "json", "no-interpolate", "env-file", "error"),
)
def test_ports_never_imports_heavy_modules(tmp_path: Path, args: list[str]) -> None:
    _write(tmp_path, {"c.yaml": WEB, "vars.env": "BIND=10.0.0.1\n"})
    proc = _run(["ports", *args], tmp_path, env={"PYTHONPROFILEIMPORTTIME": "1"})
    imported = {
        line.split("|")[2].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    # the import log is there (the ports command itself shows up), and nothing heavy is in it
    assert ("compose_net.commands.ports" in imported, heavy) == (True, [])


def test_startup_benchmark_short_mode_runs(tmp_path: Path) -> None:
    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "startup_bench.py"
    proc = subprocess.run(
        [sys.executable, str(bench), "--short", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    result = json.loads(proc.stdout)
    assert (result["runs"], result["ratio_median"] > 0, result["python_pass_ms"] > 0) == (
        5,
        True,
        True,
    )


# --------------------------------------------------------------------------- internal networks

VPN = "services:\n  a:\n    image: nginx\n    ports: ['198.51.100.7:80:80', '203.0.113.1:81:81']\n"


@pytest.mark.parametrize(
    ("files", "args", "code", "exposures", "check_code"),
    (
        pytest.param({"p/c.yaml": VPN}, ["p/c.yaml"], 0, ["public", "public"], 1,
                     id="fixed-ranges"),
        pytest.param(
            {"p/c.yaml": VPN, "p/.compose-net.yaml": "internal-networks: ['198.51.100.0/24']\n"},
            ["p/c.yaml"], 0, ["private", "public"], 1, id="configured-network-is-private",
        ),
        pytest.param(
            {"p/c.yaml": VPN,
             "p/.compose-net.yaml": "internal-networks: ['198.51.100.0/24', '203.0.113.0/24']\n"},
            ["p/c.yaml"], 0, ["private", "private"], 0, id="check-passes-when-all-private",
        ),
        pytest.param(
            {"p/c.yaml": VPN,
             "p/pyproject.toml": "[tool.compose-net]\ninternal-networks = ['198.51.100.0/24']\n"},
            ["p/c.yaml"], 0, ["private", "public"], 1, id="pyproject",
        ),
        pytest.param(
            {"p/c.yaml": VPN, "p/.compose-net.yaml": "internal-networks: ['198.51.100.0/24']\n"},
            ["-f", "p/c.yaml"], 0, ["private", "public"], 1, id="project-form",
        ),
        pytest.param(
            {"p/c.yaml": VPN, "p/.compose-net.yaml": "internal-networks: ['198.51.100.0/33']\n"},
            ["p/c.yaml"], 2, [], 2, id="bad-network",
        ),
    ),
)
def test_exposure_honours_internal_networks_as_check_does(
    tmp_path: Path, files: dict[str, str], args: list[str], code: int, exposures: list[str],
    check_code: int,
) -> None:
    _write(tmp_path, files)
    (tmp_path / ".git").mkdir()  # the project root: no configuration above it is read
    proc = _run(["ports", "--format", "json", *args], tmp_path)
    assert proc.returncode == code, proc.stderr
    if code == 0:
        ports = json.loads(proc.stdout)["files"][0]["services"]["a"]["ports"]
        assert [p["exposure"] for p in ports] == exposures
    else:
        assert "internal-networks" in proc.stderr and "Traceback" not in proc.stderr
    check = _run(["check", *args], tmp_path)
    assert check.returncode == check_code, check.stdout + check.stderr
