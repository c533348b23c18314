"""Where the configuration is looked for: from the files' folder up to the project root (the
nearest folder holding .git or .hg, else the files' own folder), never above it."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import bounded

from compose_net import config

EXPOSED = 'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n'
ALLOW_ALL = 'allow: ["*"]\n'


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize(
    ("files", "start", "found"),
    (
        pytest.param(
            {".compose-net.yaml": ALLOW_ALL, "p/": ""}, "p", None, id="no-repo-parent-not-read"
        ),
        pytest.param(
            {".compose-net.yaml": ALLOW_ALL, "p/.git/": "", "p/svc/": ""},
            "p/svc",
            None,
            id="repo-root-is-the-limit",
        ),
        pytest.param(
            {"p/.compose-net.yaml": ALLOW_ALL, "p/.git/": "", "p/svc/": ""},
            "p/svc",
            "p/.compose-net.yaml",
            id="repo-root-config-found-from-a-subfolder",
        ),
        pytest.param(
            {"p/.compose-net.yml": ALLOW_ALL, "p/.hg/": "", "p/a/b/": ""},
            "p/a/b",
            "p/.compose-net.yml",
            id="mercurial-root",
        ),
        pytest.param(
            {"p/.compose-net.yaml": ALLOW_ALL, "p/.git/": "", "p/svc/.compose-net.yaml": "{}\n"},
            "p/svc",
            "p/svc/.compose-net.yaml",
            id="nearest-wins",
        ),
        pytest.param(
            {"pyproject.toml": "not toml [", "p/": ""},
            "p",
            None,
            id="broken-pyproject-above-ignored",
        ),
        pytest.param(
            {"p/pyproject.toml": "[tool.compose-net]\nallow = ['web']\n", "p/": ""},
            "p",
            "p/pyproject.toml",
            id="pyproject-in-the-folder",
        ),
        pytest.param(
            {"p/.git": "gitdir: elsewhere\n", "p/x/": ""}, "p/x", None, id="git-file-marks-a-root"
        ),
    ),
)
def test_search_stops_at_the_project_root(
    tmp_path: Path, files: dict[str, str], start: str, found: str | None
) -> None:
    _tree(tmp_path, files)
    result = config.find(str(tmp_path / start))
    assert result.path == (None if found is None else str(tmp_path / found))


@pytest.mark.parametrize(
    ("files", "argv", "code", "stderr"),
    (
        pytest.param(
            {"tmp/.compose-net.yaml": ALLOW_ALL, "tmp/p/compose.yaml": EXPOSED},
            ("check", "-v", "--format", "text", "compose.yaml"),
            1,
            "compose-net: configuration: none (looked in {d}/tmp/p)\n"
            "compose-net: 1 finding (1 error) in 1 file\n",
            id="planted-allow-all-in-a-shared-parent",
        ),
        pytest.param(
            {"tmp/p/.compose-net.yaml": 'allow: ["web"]\n', "tmp/p/compose.yaml": EXPOSED},
            ("check", "-v", "--format", "text", "compose.yaml"),
            0,
            "compose-net: configuration: {d}/tmp/p/.compose-net.yaml\n"
            "compose-net: 0 findings in 1 file; 1 allowed\n",
            id="the-projects-own",
        ),
        pytest.param(
            {"tmp/.compose-net.yaml": 'internal-networks: ["0.0.0.0/0"]\n',
             "tmp/p/compose.yaml": EXPOSED},
            ("harden", "-v", "--bind", "203.0.113.7", "compose.yaml"),
            2,
            "compose-net: configuration: none (looked in {d}/tmp/p)\n"
            "compose-net: error: --bind 203.0.113.7 is a public address: bind to the node's "
            "internal address (if that network is internal here, add it to internal-networks "
            "in .compose-net.yaml)\n",
            id="planted-internal-networks-in-a-shared-parent",
        ),
        pytest.param(
            {"tmp/p/.compose-net.yaml": 'allow: ["web"]\n', "tmp/p/compose.yaml": EXPOSED,
             "tmp/p/other.yaml": EXPOSED.replace("80:80", "81:81")},
            ("check", "-v", "--format", "text", "compose.yaml", "other.yaml"),
            0,
            "compose-net: configuration: {d}/tmp/p/.compose-net.yaml\n"
            "compose-net: 0 findings in 2 files; 2 allowed\n",
            id="said-once-for-two-files",
        ),
        pytest.param(
            {"tmp/p/.compose-net.yaml": 'internal-networks: ["10.9.0.0/16"]\n',
             "tmp/p/compose.yaml": EXPOSED, "tmp/p/other.yaml": EXPOSED.replace("80:80", "81:81")},
            ("check", "-v", "--fix", "--bind", "10.9.0.5", "compose.yaml", "other.yaml"),
            0,
            "compose-net: configuration: {d}/tmp/p/.compose-net.yaml\n"
            "compose.yaml:5:9: note: services.web.ports[0] fixed: bind it to 10.9.0.5\n"
            "hardened compose.yaml (1 port)\n"
            "other.yaml:5:9: note: services.web.ports[0] fixed: bind it to 10.9.0.5\n"
            "hardened other.yaml (1 port)\n"
            "2 changed, 0 unchanged, 0 failed\n"
            "compose-net: 0 findings in 2 files\n",
            id="said-once-when-check-fixes-then-checks",
        ),
    ),
)  # fmt: skip
def test_verbose_names_the_configuration(
    tmp_path: Path, files: dict[str, str], argv: tuple[str, ...], code: int, stderr: str
) -> None:
    _tree(tmp_path, files)
    proc = bounded.run(argv, cwd=tmp_path / "tmp" / "p")
    stderr_text = proc.stderr.decode()
    assert stderr_text.replace(str(tmp_path), "{d}") == stderr
    assert proc.returncode == code
