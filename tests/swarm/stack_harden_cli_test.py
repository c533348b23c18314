"""``compose-net harden --target stack`` from the command line: outputs, exit codes, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose_net.cli import main

STACK = "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n"
UNPUBLISHED = "services:\n  web:\n    image: nginx\n"
NOTE = (
    "stack.yml:4:13: note: services.web.ports[0] '80:80' is no longer published; services on its "
    "overlay network (default) reach it at web:80 (each task at tasks.web:80)"
)


def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], data: bytes
) -> tuple[int, bytes, str, str]:
    """(exit code, the file afterwards, stdout, stderr) of harden run in tmp_path."""
    path = tmp_path / "stack.yml"
    path.write_bytes(data)
    code = main(["harden", "--no-config", *args, str(path)])
    out, err = capsys.readouterr()
    return (
        code,
        path.read_bytes(),
        out.replace(str(path), "stack.yml"),
        err.replace(str(path), "stack.yml"),
    )


@pytest.mark.parametrize(
    ("args", "data", "code", "after", "stdout", "stderr"),
    [
        pytest.param(
            ["--target", "stack"],
            STACK.encode(),
            0,
            UNPUBLISHED.encode(),
            "",
            [NOTE, "hardened stack.yml for docker stack deploy with unpublish (1 port)"],
            id="write",
        ),
        pytest.param(
            ["--target", "stack", "--check"],
            STACK.encode(),
            1,
            STACK.encode(),
            "",
            [NOTE, "would harden stack.yml for docker stack deploy with unpublish (1 port)"],
            id="check-changes-needed",
        ),
        pytest.param(
            ["--target", "stack", "--check"],
            UNPUBLISHED.encode(),
            0,
            UNPUBLISHED.encode(),
            "",
            [],
            id="check-nothing-to-do",
        ),
        pytest.param(
            ["--target", "stack", "-q", "--stdout"],
            STACK.encode(),
            0,
            STACK.encode(),
            UNPUBLISHED,
            [],
            id="stdout-quiet",
        ),
        pytest.param(
            ["--target", "stack", "-q", "--diff"],
            STACK.encode(),
            1,
            STACK.encode(),
            "--- a/stack.yml\n+++ b/stack.yml\n@@ -1,4 +1,3 @@\n services:\n   web:\n"
            "     image: nginx\n-    ports: ['80:80']\n",
            [],
            id="diff",
        ),
        pytest.param(
            ["--target", "stack", "-q", "--allow", "web:80"],
            STACK.encode(),
            0,
            STACK.encode(),
            "",
            [
                "stack.yml:4:13: note: services.web.ports[0] '80:80' stays published on every "
                "node: allowed by web:80"
            ],
            id="allowed-note-even-when-quiet",
        ),
        pytest.param(
            ["--target", "stack", "-q"],
            b"\xef\xbb\xbfservices:\r\n  web:\r\n    image: nginx\r\n    ports: ['80:80']\r\n",
            0,
            b"\xef\xbb\xbfservices:\r\n  web:\r\n    image: nginx\r\n",
            "",
            [],
            id="bom-crlf-kept",
        ),
        pytest.param(
            ["--target", "stack", "--stack-strategy", "host-mode"],
            STACK.replace("'80:80'", "'80-81:80-81'").encode(),
            2,
            STACK.replace("'80:80'", "'80-81:80-81'").encode(),
            "",
            [
                "compose-net: error: stack.yml:4:13: '80-81:80-81' is a port range, which "
                "swarm's long syntax cannot publish; write one entry per port, or use "
                "--stack-strategy unpublish"
            ],
            id="refusal-is-one-line-file-untouched",
        ),
        pytest.param(
            ["--target", "stack"],
            (STACK + "    bogus: 1\n").encode(),
            2,
            (STACK + "    bogus: 1\n").encode(),
            "",
            [
                "compose-net: error: stack.yml:5:5: not a valid stack file "
                "(services.web.bogus: unknown key 'bogus'); nothing was written"
            ],
            id="invalid-stack-file",
        ),
    ],
)
def test_harden_stack(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    data: bytes,
    code: int,
    after: bytes,
    stdout: str,
    stderr: list[str],
) -> None:
    got = run(tmp_path, capsys, args, data)
    assert got == (code, after, stdout, "".join(line + "\n" for line in stderr))


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(
            ["--target", "compose", "--stack-strategy", "host-mode"],
            "compose-net: error: --stack-strategy and --stack-network need --target stack",
            id="strategy-without-stack-target",
        ),
        pytest.param(
            ["--target", "stack", "--bind", "10.0.0.5", "--rewrite-public"],
            "compose-net: error: --bind, --rewrite-public: swarm ignores host IPs, so no address "
            "protects a stack's ports; choose --stack-strategy unpublish, internal-network or "
            "host-mode",
            id="addresses-under-stack-target",
        ),
        pytest.param(
            ["--target", "stack", "--stack-network", "back"],
            "compose-net: error: --stack-network is for --stack-strategy internal-network",
            id="network-without-internal-network",
        ),
        pytest.param(
            ["--target", "stack", "--stack-strategy", "mesh"],
            "compose-net: error: Invalid value for '--stack-strategy': 'mesh' is not one of "
            "'unpublish', 'internal-network', 'host-mode'. (see compose-net harden --help)",
            id="unknown-strategy",
        ),
    ],
)
def test_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    got = run(tmp_path, capsys, args, STACK.encode())
    assert got == (2, STACK.encode(), "", error + "\n")


def test_allow_list_from_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".compose-net.yaml").write_text(
        "allow:\n  - {service: web, port: 80, reason: the public site}\n"
    )
    path = tmp_path / "stack.yml"
    path.write_text(STACK + "  db:\n    image: postgres\n    ports: ['5432:5432']\n")
    assert main(["harden", "--target", "stack", "-q", str(path)]) == 0
    assert path.read_text() == STACK + "  db:\n    image: postgres\n"
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{path}:4:13: note: services.web.ports[0] '80:80' stays published on every node: "
        "the public site"
    )
