"""The harden command as a user runs it: real processes, real files, real exit codes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from compose_net.cli import main

EXPOSED = b'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n'
#: nine to the eighth power nodes once the aliases are expanded
BOMB = (
    b"x0: &x0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    + b"".join(
        b"x%d: &x%d [%s]\n" % (i, i, b", ".join([b"*x%d" % (i - 1)] * 9)) for i in range(1, 8)
    )
    + b"services:\n  w:\n    ports: ['80:80']\n"
)
HARDENED = b'services:\n  web:\n    image: nginx\n    ports:\n      - "10.0.0.5:80:80"\n'


def run(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.fixture
def exposed(tmp_path: Path) -> Path:
    path = tmp_path / "compose.yaml"
    path.write_bytes(EXPOSED)
    return path


@pytest.mark.parametrize(
    ("extra", "code", "written"),
    (
        pytest.param([], 0, HARDENED, id="in-place"),
        pytest.param(["--check"], 1, EXPOSED, id="check"),
        pytest.param(["--diff"], 1, EXPOSED, id="diff"),
        pytest.param(["--diff", "--check"], 1, EXPOSED, id="diff-check"),
        pytest.param(["--stdout"], 0, EXPOSED, id="stdout"),
    ),
)
def test_exit_codes_and_writes(exposed: Path, extra: list[str], code: int, written: bytes) -> None:
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(exposed), *extra)
    assert proc.returncode == code, proc.stderr
    assert exposed.read_bytes() == written


def test_clean_file_exits_zero_and_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_bytes(HARDENED)
    os.utime(path, ns=(1, 1))
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", "--check", str(path))
    assert proc.returncode == 0
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(path))
    assert proc.returncode == 0
    assert path.stat().st_mtime_ns == 1


def test_diff_output(exposed: Path) -> None:
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", "--diff", str(exposed))
    assert proc.stdout.decode().splitlines()[2:] == [
        "@@ -2,4 +2,4 @@",
        "   web:",
        "     image: nginx",
        "     ports:",
        '-      - "80:80"',
        '+      - "10.0.0.5:80:80"',
    ]


def test_stdin_to_stdout() -> None:
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", "-", stdin=EXPOSED)
    assert proc.returncode == 0
    assert proc.stdout == HARDENED


def test_output_file(exposed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(exposed), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == HARDENED
    assert exposed.read_bytes() == EXPOSED


def test_mode_is_kept(exposed: Path) -> None:
    exposed.chmod(0o640)
    assert main(["harden", "--no-config", "-q", "--bind", "10.0.0.5", str(exposed)]) == 0
    assert stat.S_IMODE(exposed.stat().st_mode) == 0o640
    assert exposed.read_bytes() == HARDENED
    assert [p.name for p in exposed.parent.iterdir()] == ["compose.yaml"]


def test_symlink_target_is_replaced(exposed: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.yaml"
    link.symlink_to(exposed)
    assert main(["harden", "--no-config", "-q", "--bind", "10.0.0.5", str(link)]) == 0
    assert link.is_symlink()
    assert exposed.read_bytes() == HARDENED


@pytest.mark.parametrize(
    ("content", "message"),
    (
        pytest.param(b"services: [\n", "invalid YAML", id="invalid-yaml"),
        pytest.param(b"a: 1\na: 2\n", ":2:1: duplicate key 'a'", id="duplicate-key"),
        pytest.param(b"services:\n  w:\n    image: \xff\n", "not valid UTF-8", id="non-utf8"),
        pytest.param(b"\xff\xfe\x00\x00s\x00\x00\x00", "UTF-32 is not supported", id="utf32"),
        pytest.param("a: 1\n".encode("utf-16-le"), "UTF-16 without a byte order mark", id="utf16"),
        pytest.param(b"a: 1\n\xef\xbb\xbf", ":2:1: a byte order mark (U+FEFF)", id="bom-at-end"),
        pytest.param(b"", "empty compose file", id="empty"),
        pytest.param(b"- a\n", "must be a mapping", id="top-level-list"),
        pytest.param(
            b"services:\n  w:\n    ports: ['80:80:80:80']\n",
            ":3:13: services.w.ports[0]: invalid IP",
            id="bad-spec",
        ),
        pytest.param(
            b"services:\n  w:\n    ports: ['70000:80']\n", "invalid hostPort: 70000", id="bad-port"
        ),
        pytest.param(
            b"services:\n  w:\n    ports: ['abc']\n",
            "invalid containerPort: abc",
            id="bad-container",
        ),
        pytest.param(
            b"services:\n  w:\n    ports: ['8000-8002:9000-9001']\n", "invalid ranges", id="ranges"
        ),
        pytest.param(b"services:\n  w:\n    ports: ['[::1:80:80']\n", "missing ']'", id="bracket"),
        pytest.param(b"services:\n  w:\n    ports: [true]\n", "a port must be", id="bool"),
        pytest.param(b"services:\n  w:\n    ports: '80:80'\n", "must be a list", id="not-a-list"),
        pytest.param(
            b"services:\n  w:\n    ports:\n      - |\n        80:80\n",
            "invalid containerPort",
            id="block-scalar",
        ),
        pytest.param(
            b"services:\n  w:\n    ports:\n      - >\n        80:80\n",
            "invalid containerPort: 80",
            id="folded-scalar-keeps-its-line-break",
        ),
        pytest.param(b"x: &a [*a]\n", "recursive alias", id="recursive-alias"),
        pytest.param(
            b"services:\n  a: {}\n---\n",
            ":4:1: a compose file must be a mapping",
            id="multi-doc-empty-document",
        ),
        pytest.param(b"%YAML 1.1\n---\nservices: {}\n", "YAML 1.1", id="yaml-1.1"),
        pytest.param(b"x: " + b"[" * 300 + b"]" * 300 + b"\n", "too deep", id="deep"),
        pytest.param(BOMB, "bound: nodes after expanding aliases and merges", id="alias-bomb"),
        pytest.param(
            "services:\n  wé:\n    ports: ['80:80']\n".encode(),
            'not a valid compose file (services["wé"]',
            id="invalid-input-is-not-a-bad-edit",
        ),
        pytest.param(
            b"services:\n  w:\n    ports:\n      - target: 80\n        host_ip:\n",
            "host_ip must be a string",
            id="null-host-ip",
        ),
        pytest.param(
            b'services:\n  w:\n    ports:\n      - {target: 80, host_ip: ""}\n',
            "invalid IP address",
            id="empty-host-ip",
        ),
    ),
)
def test_bad_input_is_one_line_and_leaves_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "compose.yaml"
    path.write_bytes(content)
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(path))
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yaml"]


@pytest.mark.parametrize(
    ("content", "message"),
    (
        pytest.param(
            b"services:\n  w:\n    ports: ['${P:-127.0.0.1:8080}:80', '${Q:-0.0.0.0:1}:1']\n",
            "not fixed: a variable holds the address and the port together",
            id="variable-structure",
        ),
        pytest.param(
            b'services:\n  w:\n    ports: ["${PORTS}"]\n',
            "error: CN009 services.w.ports[0]",
            id="one-variable",
        ),
    ),
)
def test_entries_it_cannot_rewrite_remain_as_findings(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """Valid files whose exposed entry has no certain rewrite: the finding remains (exit 1,
    as ``check``), named with its reason; nothing else to fix, so the file is untouched."""
    path = tmp_path / "compose.yaml"
    path.write_bytes(content)
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(path))
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert message in err
    assert "Traceback" not in err
    assert path.read_bytes() == content
    assert run("check", "--no-config", str(path)).returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    (
        pytest.param(["--bind", "0.0.0.0"], "every interface", id="wildcard-bind"),
        pytest.param(["--bind", "nope"], "not an IP address", id="not-ip"),
        pytest.param(["--bind", "203.0.113.9"], "is a public address", id="public-bind"),
        pytest.param(["--bind", "fe80::1%eth0"], "not an IP address", id="zone"),
        pytest.param(["--bind", "10.0.0.1", "--bind", "10.0.0.2"], "at most one IPv4", id="two-v4"),
        pytest.param([], "nothing to bind to", id="no-bind"),
        pytest.param(["--bind-var", "1BAD"], "not a valid variable name", id="bad-var"),
        pytest.param(["--bind", "10.0.0.1", "--bind-var", "X"], "cannot be combined", id="both"),
    ),
)
def test_usage_errors(exposed: Path, args: list[str], message: str) -> None:
    proc = run("harden", "--no-config", str(exposed), *args)
    assert proc.returncode == 2
    assert message in proc.stderr.decode()
    assert exposed.read_bytes() == EXPOSED


def test_public_address_is_kept_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    content = b'services:\n  web:\n    ports: ["203.0.113.7:80:80"]\n'
    path.write_bytes(content)
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(path))
    assert proc.returncode == 1  # check fails on it: the finding remains, named
    assert b"public address 203.0.113.7" in proc.stderr
    assert b"not fixed: pass --rewrite-public to bind it to 10.0.0.5" in proc.stderr
    assert path.read_bytes() == content


def test_config_file_allows(tmp_path: Path) -> None:
    (tmp_path / ".compose-net.yaml").write_text("allow:\n  - web:80\n")
    path = tmp_path / "compose.yaml"
    path.write_bytes(EXPOSED)
    proc = run("harden", "--bind", "10.0.0.5", str(path))
    assert proc.returncode == 0, proc.stderr
    assert b"stays public" in proc.stderr
    assert path.read_bytes() == EXPOSED


def test_pyproject_allows(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.compose-net]\nallow = ["web"]\n')
    (tmp_path / ".git").mkdir()  # the project root, where the search for a configuration ends
    sub = tmp_path / "deploy"
    sub.mkdir()
    path = sub / "compose.yaml"
    path.write_bytes(EXPOSED)
    assert main(["harden", "--bind", "10.0.0.5", str(path)]) == 0
    assert path.read_bytes() == EXPOSED


def test_stack_file_under_target_compose_gets_a_swarm_warning(tmp_path: Path) -> None:
    path = tmp_path / "docker-stack.yml"
    path.write_bytes(EXPOSED + b"    deploy:\n      replicas: 2\n")
    proc = run("harden", "--no-config", "--target", "compose", "--bind", "10.0.0.5", str(path))
    assert proc.returncode == 1  # swarm-published (CN005) remains: check fails on it
    assert b"CN005" in proc.stderr and b"harden it with --target stack" in proc.stderr
    assert b"10.0.0.5:80:80" in path.read_bytes()


def test_stack_file_is_hardened_as_a_stack_by_default(tmp_path: Path) -> None:
    path = tmp_path / "docker-stack.yml"
    path.write_bytes(EXPOSED + b"    deploy:\n      replicas: 2\n")
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(path))
    assert proc.returncode == 0, proc.stderr
    assert b"for docker stack deploy with unpublish" in proc.stderr
    assert b"10.0.0.5" not in path.read_bytes() and b"80:80" not in path.read_bytes()


def test_several_files_are_one_transaction(tmp_path: Path) -> None:
    """A file that fails leaves the others unwritten too: exit 2 means nothing was written."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_bytes(EXPOSED)
    b.write_bytes(b"services: [\n")
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(a), str(b))
    assert proc.returncode == 2
    assert a.read_bytes() == EXPOSED
    assert proc.stderr.decode().splitlines()[-1] == (
        "compose-net: nothing was written: 1 of 2 files failed"
    )


def test_version_and_help() -> None:
    assert run("--version").returncode == 0
    assert run("harden", "--help").returncode == 0
    assert run("no-such-command").returncode == 2


def test_a_network_declared_internal_may_be_bound(tmp_path: Path) -> None:
    (tmp_path / ".compose-net.yaml").write_text('internal-networks: ["203.0.113.0/24"]\n')
    path = tmp_path / "compose.yaml"
    path.write_bytes(EXPOSED)
    proc = run("harden", "--bind", "203.0.113.9", str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() == HARDENED.replace(b"10.0.0.5", b"203.0.113.9")


@pytest.mark.parametrize(
    ("port", "note"),
    (
        pytest.param(
            "127.0.0.1:80:80",
            'services.web.ports[0] "127.0.0.1:80:80" is kept: bound to the loopback address '
            "127.0.0.1",
            id="loopback",
        ),
        pytest.param(
            "10.0.0.9:81:81",
            'services.web.ports[0] "10.0.0.9:81:81" is kept: bound to the internal address '
            "10.0.0.9",
            id="internal",
        ),
        pytest.param(
            "${IP:-127.0.0.1}:82:82",
            'services.web.ports[0] "${IP:-127.0.0.1}:82:82" is kept: its host IP '
            "(${IP:-127.0.0.1}) is safe with the variables unset, empty and as set here",
            id="safe-variable",
        ),
        pytest.param("83:83", "services.web.ports[0] fixed: bind it to 10.0.0.5", id="fixed"),
    ),
)
def test_verbose_names_every_entry_and_why(tmp_path: Path, port: str, note: str) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(f'services:\n  web:\n    image: x\n    ports: ["{port}"]\n')
    proc = run("harden", "--no-config", "-v", "--bind", "10.0.0.5", str(path))
    assert proc.returncode == 0, proc.stderr
    assert f"{path}:4:13: note: {note}\n" in proc.stderr.decode()
    quiet = run("harden", "--no-config", "--check", "--bind", "10.0.0.5", str(path))
    assert b"is kept" not in quiet.stderr


@pytest.mark.parametrize(
    ("port", "code", "after"),
    (
        pytest.param('"10.0.0.9:80:80"', 0, '"10.0.0.5:80:80"', id="literal-is-rebound"),
        pytest.param("'10.0.0.9::80'", 0, "'10.0.0.5::80'", id="quote-style-kept"),
        pytest.param('"${IP:-10.0.0.9}:80:80"', 1, '"${IP:-10.0.0.9}:80:80"',
                     id="variable-is-left-and-named"),
        pytest.param('"127.0.0.1:80:80"', 0, '"127.0.0.1:80:80"', id="loopback-is-not-a-node"),
    ),
)
def test_another_nodes_address_is_rebound(
    tmp_path: Path, port: str, code: int, after: str
) -> None:
    """wrong-node-address (CN007) carries its fix: the address of the service's own node."""
    inventory = tmp_path / "nodes.yaml"
    inventory.write_text('nodes:\n  n1:\n    service: {ipv4: 10.0.0.5}\n')
    path = tmp_path / "compose.yaml"
    path.write_text(f"services:\n  web:\n    image: x\n    ports: [{port}]\n")
    proc = run("harden", "--no-config", "--inventory", str(inventory), str(path))
    assert proc.returncode == code, proc.stderr
    assert path.read_text() == f"services:\n  web:\n    image: x\n    ports: [{after}]\n"
    checked = run("check", "--no-config", "--inventory", str(inventory), str(path))
    assert checked.returncode == code, checked.stdout
    if code:
        assert b"CN007" in proc.stderr and b"not fixed: the address comes from a variable" in (
            proc.stderr
        )


@pytest.mark.parametrize(
    ("text", "code", "after"),
    (
        pytest.param(
            'services:\n  a:\n    image: x\n    ports: ["8080:80"]\n  b:\n    image: x\n'
            '    ports:\n      - "8080:80"  # compose-net: ignore[CN006] a second copy\n',
            0,
            'services:\n  a:\n    image: x\n    ports: ["10.0.0.5:8080:80"]\n  b:\n    image: x\n'
            '    ports:\n      - "10.0.0.5:8080:80"  # compose-net: ignore[CN006] a second copy\n',
            id="an-ignored-rule-does-not-stop-another-rules-fix",
        ),
        pytest.param(
            'x-p: &p ["8080:80"]\nservices:\n  a:\n    image: x\n    ports: *p\n'
            "  b:\n    image: x\n    ports: *p\n",
            1,
            'x-p: &p ["10.0.0.5:8080:80"]\nservices:\n  a:\n    image: x\n    ports: *p\n'
            "  b:\n    image: x\n    ports: *p\n",
            id="an-anchor-is-bound-once-and-its-collision-remains",
        ),
    ),
)
def test_silenced_and_shared_entries(tmp_path: Path, text: str, code: int, after: str) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    proc = run("harden", "--no-config", "--bind", "10.0.0.5", str(path))
    assert proc.returncode == code, proc.stderr
    assert path.read_text() == after
    assert run("check", "--no-config", str(path)).returncode == code


def test_another_nodes_address_in_internal_networks_is_rebound(tmp_path: Path) -> None:
    """CN007 counts as internal what the configuration's internal-networks says, as CN002 does."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".compose-net.yaml").write_text("internal-networks: [198.51.100.0/24]\n")
    inventory = tmp_path / "nodes.yaml"
    inventory.write_text("nodes:\n  n1:\n    service: {ipv4: 198.51.100.5}\n")
    path = tmp_path / "compose.yaml"
    path.write_text('services:\n  web:\n    image: x\n    ports: ["198.51.100.9:80:80"]\n')
    assert run("check", "--inventory", str(inventory), str(path)).returncode == 1
    proc = run("harden", "--inventory", str(inventory), str(path))
    assert proc.returncode == 0, proc.stderr
    assert '"198.51.100.5:80:80"' in path.read_text()
    assert run("check", "--inventory", str(inventory), str(path)).returncode == 0
