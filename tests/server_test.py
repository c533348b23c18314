"""``compose-net server`` end to end: pytest-lsp drives the real server over standard input
and output, and what it publishes is compared with what ``check`` reports and what
``harden --stdout`` prints for the same files.

One server process serves the whole module (the corpus row opens every file Compose
accepts in it, one after the other).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from harness import require
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from compose_net import config, discovery, output
from compose_net.commands import check, options
from compose_net.commands import harden as harden_command
from compose_net.project import Spec, file_key
from compose_net.project import file_key as project_file_key
from compose_net.server import documents, lsp
from compose_net.server.lsp import FIX_ALL, FIX_ALL_COMMAND

ROOT = Path(__file__).resolve().parents[1]
#: the corpus beside the checkout, as tests/check_corpus_test.py finds it (a worktree elsewhere
#: names it with COMPOSE_NET_TEST_CORPUS)
CORPUS = Path(os.environ.get("COMPOSE_NET_TEST_CORPUS") or ROOT.parent / "shared" / "corpus")
BIND = "10.0.0.5"
CANARY = "canary-7f3e9b21-do-not-print"
#: a bound low enough for a test to pass it quickly (the command line's default is 64 MiB)
MAX_BYTES = 4_000_000

pytestmark = pytest.mark.asyncio(loop_scope="module")

Published = tuple[str, "int | None", list[types.Diagnostic]]


def _client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.published: list[Published] = []  # type: ignore[misc]
    client.applied: list[types.ApplyWorkspaceEditParams] = []  # type: ignore[misc]

    def publish(c: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        c.diagnostics[params.uri] = params.diagnostics
        c.published.append((params.uri, params.version, list(params.diagnostics)))  # type: ignore[attr-defined]

    def apply(c: LanguageClient, params: types.ApplyWorkspaceEditParams
              ) -> types.ApplyWorkspaceEditResult:
        c.applied.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    def register(c: LanguageClient, params: types.RegistrationParams) -> None:
        c.registered.extend(params.registrations)  # type: ignore[attr-defined]

    client.registered: list[types.Registration] = []  # type: ignore[misc]
    register_lsp_features(
        client,
        {
            **DEFAULT_CLIENT_FEATURES,
            types.CLIENT_REGISTER_CAPABILITY: register,
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
            types.WORKSPACE_APPLY_EDIT: apply,
        },
    )
    return client


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_NET_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["COMPOSE_NET_MAX_FILE_BYTES"] = str(MAX_BYTES)
    env["CN_CANARY_TOKEN"] = CANARY
    env.pop("COMPOSE_FILE", None)
    return env


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "compose_net", "server"],
        server_env=_env(),
        client_factory=_client,
    ),
)
async def client(lsp_client: LanguageClient) -> Any:
    capabilities = pytest_lsp.client_capabilities("visual-studio-code")
    lsp_client.set_configuration({"bind": BIND}, section="compose-net")
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=capabilities, initialization_options={"bind": BIND})
    )
    yield
    await lsp_client.shutdown_session()


# --------------------------------------------------------------------------- helpers


def _uri(path: Path) -> str:
    return path.resolve().as_uri()


def _open(client: LanguageClient, path: Path, text: str | None = None, version: int = 1,
          language: str = "yaml") -> str:
    uri = _uri(path)
    body = path.read_text(encoding="utf-8") if text is None else text
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, version, body))
    )
    return uri


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version, uri),
            [types.TextDocumentContentChangeWholeDocument(text)],
        )
    )


def _close(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )


async def _diagnostics(
    client: LanguageClient, uri: str, version: int | None = None, since: int = 0,
    timeout: float = 30.0,
) -> list[types.Diagnostic]:
    """The first diagnostics published for ``uri`` (at ``version``) after the ``since``-th
    publication."""
    published: list[Published] = client.published  # type: ignore[attr-defined]

    async def wait() -> list[types.Diagnostic]:
        seen = since
        while True:
            for u, v, diags in published[seen:]:
                if u == uri and (version is None or v == version):
                    return diags
            seen = len(published)
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), timeout)


async def _quiet(client: LanguageClient, for_: float = 0.5) -> None:
    """Until nothing has been published for ``for_`` seconds."""
    while True:
        seen = _mark(client)
        await asyncio.sleep(for_)
        if _mark(client) == seen:
            return


def _latest(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    """The diagnostics last published for ``uri``."""
    published: list[Published] = client.published  # type: ignore[attr-defined]
    return next(diags for u, _, diags in reversed(published) if u == uri)


def _mark(client: LanguageClient) -> int:
    return len(client.published)  # type: ignore[attr-defined]


def _offset(text: str, position: types.Position) -> int:
    """An offset from a position in UTF-16 code units (an independent reading)."""
    lines = text.splitlines(keepends=True)
    offset = sum(len(line) for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(line):
        if units >= position.character:
            return offset + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return offset + len(line)


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    spans = sorted(
        ((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def _edits(edit: types.WorkspaceEdit | None, uri: str) -> list[types.TextEdit]:
    assert edit is not None
    out: list[types.TextEdit] = []
    for change in edit.document_changes or ():
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri
        out.extend(e for e in change.edits if isinstance(e, types.TextEdit))
    return out


async def _actions(
    client: LanguageClient, uri: str, only: list[str] | None = None, line: int = 0,
    end: int = 10_000,
) -> list[types.CodeAction]:
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            types.Range(types.Position(line, 0), types.Position(end, 0)),
            types.CodeActionContext([], only=only),
        )
    )
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


class _Stdout:
    """What harden prints on standard output, kept."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text.encode("utf-8"))

    def flush(self) -> None:
        pass


def _harden_stdout(path: Path) -> tuple[int, bytes]:
    """``compose-net harden --bind BIND --stdout FILE``, in this process."""
    out = _Stdout()
    real = sys.stdout
    sys.stdout = out  # type: ignore[assignment]
    try:
        code = harden_command.main(
            options.Harden(
                inputs=options.Inputs(files=(str(path),)),
                fixes=options.Fixes(binds=(BIND,)),
                to_stdout=True,
                quiet=True,
            )
        )
    except Exception:
        code = 2
    finally:
        sys.stdout = real
    return code, out.buffer.getvalue()


def _project_spec(path: Path) -> Spec | None:
    """The project the server checks a file in: compose.yaml and its override as
    ``compose-net check`` run in their folder reads them; any other file on its own."""
    if path.name in (*discovery.DEFAULT_NAMES, *discovery.OVERRIDE_NAMES):
        files = discovery.find(str(path.parent))
        if file_key(str(path)) in {file_key(f) for f in files}:
            return Spec(tuple(files), str(path.parent))
    return None


def _expected(path: Path) -> list[tuple[str | None, int, int, int]]:
    """What ``check --format json`` reports for ``path``: (rule, line, column, severity)."""
    spec = _project_spec(path)
    opts = check.Options()
    result = check.check_paths([str(path)], opts) if spec is None else check.check_project(
        spec, opts
    )
    report = output.json_report(result)
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    out = []
    key = file_key(str(path))
    sev = {"error": 1, "warning": 2, "note": 3}
    for f in report["findings"]:
        if file_key(f["path"]) == key:
            out.append((f["rule"], f["line"] - 1, _units(text, f["line"], f["column"]),
                        sev[f["severity"]]))
    for e in report["errors"]:
        if file_key(e["path"] or str(path)) == key:
            out.append((None, (e["line"] or 1) - 1, (e["column"] or 1) - 1, 1))
    return sorted(out, key=repr)


def _units(lines: list[str], line: int, column: int) -> int:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text[: column - 1].encode("utf-16-le")) // 2


def _got(diags: list[types.Diagnostic]) -> list[tuple[str | None, int, int, int]]:
    return sorted(
        (
            (str(d.code) if d.code is not None else None, d.range.start.line,
             d.range.start.character, int(d.severity or 0))
            for d in diags
        ),
        key=repr,
    )


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


EXPOSED = 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n'


# --------------------------------------------------------------------------- document selection


@pytest.mark.parametrize(
    ("path", "language", "text", "chosen"),
    [
        pytest.param("/p/compose.yaml", "yaml", "", True, id="compose-yaml"),
        pytest.param("/p/docker-compose.prod.yml", "yaml", "", True, id="docker-compose-prod"),
        pytest.param("/p/app-stack.yml", "yaml", "", True, id="stack-suffix"),
        pytest.param("/p/web-compose.yml", "yaml", "", True, id="compose-suffix"),
        pytest.param("/p/anything.txt", "dockercompose", "", True, id="language-id"),
        pytest.param("/p/app.yaml", "yaml", "version: '3'\nservices:\n  a: {}\n", True,
                     id="top-level-services"),
        pytest.param("/p/app.yaml", "yaml", "jobs:\n  services:\n    a: {}\n", False,
                     id="nested-services"),
        pytest.param("/p/values.yaml", "yaml", "image: nginx\n", False, id="other-yaml"),
        pytest.param("/p/README.md", "markdown", "services:\n", False, id="markdown"),
    ],
)
async def test_document_selection(path: str, language: str, text: str, chosen: bool) -> None:
    assert documents.is_compose(path, language, text) is chosen


async def test_hook_pattern_is_the_hooks() -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    patterns = {line.split("files:", 1)[1].strip().strip("'") for line in hooks.splitlines()
                if line.strip().startswith("files:")}
    assert patterns == {documents.HOOK_FILES.pattern}


async def test_configuration_names() -> None:
    """A change to any file the configuration is read from re-checks the open documents."""
    assert set(documents.CONFIG_NAMES) == {*config.CONFIG_NAMES, "pyproject.toml"}


# --------------------------------------------------------------------------- diagnostics


async def test_open_change_save(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(EXPOSED, encoding="utf-8")
    since = _mark(client)
    uri = _open(client, path)
    diags = await _diagnostics(client, uri, 1, since)
    assert [(d.code, d.source, d.severity) for d in diags] == [
        ("CN001", "compose-net", types.DiagnosticSeverity.Error)
    ]
    (d,) = diags
    assert d.range == types.Range(types.Position(4, 8), types.Position(4, 17))
    assert d.code_description is not None
    assert d.code_description.href.endswith("docs/rules.md#cn001-all-interfaces")
    assert "published on all interfaces" in d.message
    since = _mark(client)
    _change(client, uri, 2, EXPOSED.replace('"8080:80"', '"10.0.0.5:8080:80"'))
    assert await _diagnostics(client, uri, 2, since) == []
    since = _mark(client)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    assert await _diagnostics(client, uri, 2, since) == []
    _close(client, uri)


async def test_other_files_and_related(client: LanguageClient, tmp_path: Path) -> None:
    """A clash with the override: the override's diagnostic goes to its URI (it is not
    open) and names the other side."""
    _write(tmp_path, {
        "compose.yaml": EXPOSED,
        "compose.override.yaml": 'services:\n  db:\n    image: redis\n    ports:\n'
                                 '      - "8080:6379"\n',
    })
    since = _mark(client)
    uri = _open(client, tmp_path / "compose.yaml")
    await _diagnostics(client, uri, 1, since)
    other = await _diagnostics(client, _uri(tmp_path / "compose.override.yaml"), None, since)
    assert _got(other) == [("CN001", 4, 8, 1), ("CN006", 4, 8, 1)]
    (clash,) = [d for d in other if d.code == "CN006"]
    assert clash.related_information is not None
    (where,) = clash.related_information
    assert where.location.uri == uri
    assert where.location.range.start == types.Position(4, 8)
    _close(client, uri)


async def test_unsaved_override_changes_base(client: LanguageClient, tmp_path: Path) -> None:
    _write(tmp_path, {
        "compose.yaml": EXPOSED,
        "compose.override.yaml": 'services:\n  web:\n    environment:\n      A: "1"\n',
    })
    since = _mark(client)
    base = _open(client, tmp_path / "compose.yaml")
    assert _got(await _diagnostics(client, base, 1, since)) == [("CN001", 4, 8, 1)]
    override = _open(client, tmp_path / "compose.override.yaml")
    await _diagnostics(client, override, 1, since)
    await _quiet(client)  # both checks the opening made are published
    since = _mark(client)
    _change(client, override, 2,
            'services:\n  web:\n    ports: !override\n      - "127.0.0.1:8080:80"\n')
    assert await _diagnostics(client, base, 1, since) == []
    await _diagnostics(client, override, 2, since)  # the override's own check, published too
    assert b"!override" not in (tmp_path / "compose.override.yaml").read_bytes()
    await _quiet(client)  # every check the change made is published
    since = _mark(client)
    _close(client, override)  # the text on disk again
    await _diagnostics(client, base, 1, since)
    await _quiet(client)  # the last word on the base file is the one that counts
    assert _got(_latest(client, base)) == [("CN001", 4, 8, 1)]
    _close(client, base)


BROKEN = [
    pytest.param("services: [web\n", 1, id="unclosed-flow"),
    pytest.param("services:\n  web:\n    ports:\n      - \"8080:80\n", 4, id="unclosed-quote"),
    pytest.param("services:\n\tweb: {}\n", 1, id="tab-indent"),
    pytest.param("- a\n- b\n", 0, id="not-a-mapping"),
]


@pytest.mark.parametrize(("text", "line"), BROKEN)
async def test_broken_then_recovered(
    client: LanguageClient, tmp_path: Path, text: str, line: int
) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    expected = _expected(path)
    since = _mark(client)
    uri = _open(client, path)
    diags = await _diagnostics(client, uri, 1, since)
    assert len(diags) == 1
    assert _got(diags) == expected
    assert diags[0].range.start.line == line
    since = _mark(client)
    _change(client, uri, 2, EXPOSED)
    assert _got(await _diagnostics(client, uri, 2, since)) == [("CN001", 4, 8, 1)]
    _close(client, uri)


async def test_configuration_file_change(client: LanguageClient, tmp_path: Path) -> None:
    """A new .compose-net.yaml (internal-networks) re-checks the open documents."""
    (tmp_path / ".git").mkdir()  # the project root: no configuration above it counts
    path = tmp_path / "compose.yaml"
    path.write_text(EXPOSED.replace('"8080:80"', '"203.0.113.5:8080:80"'), encoding="utf-8")
    since = _mark(client)
    uri = _open(client, path)
    assert _got(await _diagnostics(client, uri, 1, since)) == [("CN002", 4, 8, 1)]
    config = tmp_path / ".compose-net.yaml"
    config.write_text("internal-networks: [203.0.113.0/24]\n", encoding="utf-8")
    since = _mark(client)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(_uri(config), types.FileChangeType.Created)]
        )
    )
    assert await _diagnostics(client, uri, 1, since) == []
    config.write_text("allow: []\n", encoding="utf-8")
    since = _mark(client)  # a save of the configuration, open in the editor, does the same
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(_uri(config)))
    )
    assert _got(await _diagnostics(client, uri, 1, since)) == [("CN002", 4, 8, 1)]
    config.unlink()
    _close(client, uri)


async def test_editor_settings_change(client: LanguageClient, tmp_path: Path) -> None:
    """workspace/didChangeConfiguration: the editor's target is used; the project's
    configuration file comes first."""
    (tmp_path / ".git").mkdir()
    path = tmp_path / "compose.yaml"
    path.write_text(EXPOSED, encoding="utf-8")
    since = _mark(client)
    uri = _open(client, path)
    assert _got(await _diagnostics(client, uri, 1, since)) == [("CN001", 4, 8, 1)]
    try:
        client.set_configuration({"bind": BIND, "target": "stack"}, section="compose-net")
        since = _mark(client)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(None))
        diags = await _diagnostics(client, uri, 1, since)
        assert "CN005" in {d.code for d in diags}
        (tmp_path / ".compose-net.yaml").write_text("target: compose\n", encoding="utf-8")
        since = _mark(client)
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                [types.FileEvent(_uri(tmp_path / ".compose-net.yaml"),
                                 types.FileChangeType.Created)]
            )
        )
        assert _got(await _diagnostics(client, uri, 1, since)) == [("CN001", 4, 8, 1)]
    finally:
        client.set_configuration({"bind": BIND}, section="compose-net")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(None))
    _close(client, uri)


async def test_stale_version_is_dropped(client: LanguageClient, tmp_path: Path) -> None:
    """Versions 2 and 3 arrive together: only version 3 is published."""
    path = tmp_path / "compose.yaml"
    services = "".join(
        f'  s{i}:\n    image: nginx\n    ports:\n      - "{8000 + i}:80"\n' for i in range(300)
    )
    path.write_text("services:\n" + services, encoding="utf-8")
    since = _mark(client)
    uri = _open(client, path)
    assert len(await _diagnostics(client, uri, 1, since)) == 300
    since = _mark(client)
    _change(client, uri, 2, "services:\n" + services.replace('"8000:80"', '"9000:80"'))
    _change(client, uri, 3, EXPOSED)
    assert _got(await _diagnostics(client, uri, 3, since)) == [("CN001", 4, 8, 1)]
    await asyncio.sleep(0.3)
    versions = [v for u, v, _ in client.published[since:] if u == uri]  # type: ignore[attr-defined]
    assert versions == [3]
    _close(client, uri)


# --------------------------------------------------------------------------- fixes


FIXABLE = [
    pytest.param(EXPOSED, id="short"),
    pytest.param(
        "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n"
        "        published: 8080\n", id="long"),
    pytest.param('services: {web: {image: nginx, ports: ["8080:80", "9090:90"]}}\n', id="flow"),
    pytest.param("services:\r\n  web:\r\n    image: nginx\r\n    ports:\r\n      - 8080:80\r\n",
                 id="crlf-unquoted"),
    pytest.param('services:\n  web: {image: "ñ😀", ports: ["8080:80"]} # ü ✓\n', id="non-ascii"),
    pytest.param(EXPOSED + '  api:\n    image: nginx\n    ports:\n      - "127.0.0.1:81:81"\n',
                 id="one-of-two"),
]


@pytest.mark.parametrize("text", FIXABLE)
async def test_fix_all_is_harden(client: LanguageClient, tmp_path: Path, text: str) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(text.encode("utf-8"))
    code, expected = _harden_stdout(path)
    assert code == 0 and expected != text.encode("utf-8")
    before = _snapshot(tmp_path)
    since = _mark(client)
    uri = _open(client, path, text)
    await _diagnostics(client, uri, 1, since)
    (action,) = await _actions(client, uri, [FIX_ALL])
    assert action.kind == FIX_ALL
    assert _apply(text, _edits(action.edit, uri)).encode("utf-8") == expected
    # the same through the command: the client is asked to apply it
    applied = len(client.applied)  # type: ignore[attr-defined]
    assert await client.workspace_execute_command_async(
        types.ExecuteCommandParams(FIX_ALL_COMMAND, [uri])
    ) is True
    params = client.applied[applied]  # type: ignore[attr-defined]
    assert _apply(text, _edits(params.edit, uri)).encode("utf-8") == expected
    # each quick fix is harden's change of its entry; together they are harden's text
    quick = await _actions(client, uri, [types.CodeActionKind.QuickFix])
    fixes = [a for a in quick if "allow" not in a.title]
    assert fixes and all(a.diagnostics for a in fixes)
    together = list({repr(e): e for a in fixes for e in _edits(a.edit, uri)}.values())
    assert _apply(text, together).encode("utf-8") == expected
    assert _snapshot(tmp_path) == before  # the server wrote nothing
    _close(client, uri)


async def test_quick_fix_titles_and_allow(client: LanguageClient, tmp_path: Path) -> None:
    text = EXPOSED + '  api:\n    image: nginx\n    ports:\n      - "203.0.113.7:81:81"\n'
    path = tmp_path / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    since = _mark(client)
    uri = _open(client, path)
    diags = await _diagnostics(client, uri, 1, since)
    assert _got(diags) == [("CN001", 4, 8, 1), ("CN002", 8, 8, 1)]
    actions = await _actions(client, uri, [types.CodeActionKind.QuickFix])
    titles = sorted(a.title for a in actions)
    assert titles == [
        "CN001: allow this port to stay public (# compose-net: allow)",
        "CN001: bind it to 10.0.0.5",
        "CN002: allow this port to stay public (# compose-net: allow)",
        "CN002: bind it to 10.0.0.5 (unsafe: replaces the public address 203.0.113.7; "
        "harden does it with --rewrite-public)",
    ]
    (allow,) = [a for a in actions if a.title.startswith("CN001: allow")]
    allowed = _apply(text, _edits(allow.edit, uri))
    assert allowed.splitlines()[4] == '      - "8080:80"  # compose-net: allow'
    since = _mark(client)
    _change(client, uri, 2, allowed)
    assert _got(await _diagnostics(client, uri, 2, since)) == [("CN002", 8, 8, 1)]
    _close(client, uri)


async def test_no_bind_no_fix(client: LanguageClient, tmp_path: Path) -> None:
    """Without an address to bind to, no fix is offered (display-only), the finding stays."""
    try:
        client.set_configuration({}, section="compose-net")
        client.workspace_did_change_configuration(  # the settings in the notification
            types.DidChangeConfigurationParams({"compose-net": {}})
        )
        path = tmp_path / "compose.yaml"
        path.write_text(EXPOSED, encoding="utf-8")
        since = _mark(client)
        uri = _open(client, path)
        assert _got(await _diagnostics(client, uri, 1, since)) == [("CN001", 4, 8, 1)]
        titles = [a.title for a in await _actions(client, uri)]
        assert titles == ["CN001: allow this port to stay public (# compose-net: allow)"]
    finally:
        client.set_configuration({"bind": BIND}, section="compose-net")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(None))
    _close(client, uri)


# --------------------------------------------------------------------------- hover


HOVERS = [
    pytest.param(4, 10, ["`web`", "published `8080`", "**all-interfaces**", "CN001"],
                 id="exposed"),
    pytest.param(8, 10, ["`api`", "host IP `10.1.2.3`", "**private**",
                         "bound to the internal address 10.1.2.3"], id="private"),
    pytest.param(1, 3, None, id="not-a-port"),
]


@pytest.mark.parametrize(("line", "character", "words"), HOVERS)
async def test_hover(
    client: LanguageClient, tmp_path: Path, line: int, character: int, words: list[str] | None
) -> None:
    text = EXPOSED + '  api:\n    image: nginx\n    ports:\n      - "10.1.2.3:81:81"\n'
    path = tmp_path / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    since = _mark(client)
    uri = _open(client, path)
    await _diagnostics(client, uri, 1, since)
    found = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, character))
    )
    if words is None:
        assert found is None
    else:
        assert found is not None and isinstance(found.contents, types.MarkupContent)
        for word in words:
            assert word in found.contents.value
    _close(client, uri)


# --------------------------------------------------------------------------- hostile input


def _bomb(levels: int) -> str:
    out = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        out.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(out) + "\nservices:\n  web:\n    image: nginx\n"


HOSTILE = [
    pytest.param("services: {web: {image: x, ports: ['8080:80']}}\n" + "#" * MAX_BYTES,
                 "bytes in one file", id="huge"),
    pytest.param("services:\n  web:\n    x: " + "[" * 300 + "]" * 300 + "\n",
                 "collections nest too deep", id="deep"),
    pytest.param(_bomb(9), "nodes after expanding aliases", id="alias-bomb"),
    pytest.param('services:\n  web:\n    image: nginx\n    ports:\n      - "1-65535:1-65535"\n'
                 + "".join(f'  w{i}:\n    image: nginx\n    ports:\n      - "1-65535:1-65535"\n'
                           for i in range(10)),
                 "ports once ranges are expanded", id="ranges"),
    pytest.param('services:\n  web:\n    image: nginx\n    ports:\n'
                 '      - "${CN_CANARY_TOKEN}:80"\n      - "${CN_CANARY_TOKEN:-x}:81:81"\n',
                 None, id="env-canary"),
    pytest.param('services:\n  web:\n    image: nginx\n    ports:\n'
                 '      - "${FROM_DOTENV}:80"\n      - "${FROM_DOTENV}:81:81"\n',
                 None, id="dotenv-canary"),
    pytest.param("services:\n  web:\n    image: \x01\x02\ud800\n", None, id="control-chars"),
]


@pytest.mark.parametrize(("text", "bound"), HOSTILE)
async def test_hostile_input(
    client: LanguageClient, tmp_path: Path, text: str, bound: str | None
) -> None:
    """The command line's bounds; a one-line message; no value of the environment or .env;
    the server answers the next request."""
    (tmp_path / ".env").write_text(f"FROM_DOTENV={CANARY}\n", encoding="utf-8")
    path = tmp_path / "compose.yaml"
    logs = len(client.log_messages)
    since = _mark(client)
    uri = _open(client, path, text)
    diags = await _diagnostics(client, uri, 1, since, timeout=60)
    messages = [d.message for d in diags]
    if bound is not None:
        assert any(bound in m for m in messages), messages
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(4, 9))
    )
    actions = await _actions(client, uri)
    said = json.dumps(
        [messages, [m.message for m in client.log_messages[logs:]],
         hover.contents.value if hover is not None and isinstance(
             hover.contents, types.MarkupContent) else "",
         [a.title for a in actions]]
    )
    assert CANARY not in said
    assert "Traceback" not in said and "File \"" not in said
    assert all("\n" not in m for m in messages)
    _close(client, uri)
    # still serving
    since = _mark(client)
    other = tmp_path / "docker-compose.yml"
    uri = _open(client, other, EXPOSED)
    assert _got(await _diagnostics(client, uri, 1, since)) == [("CN001", 4, 8, 1)]
    _close(client, uri)
    assert not path.exists() and not other.exists()  # opened unsaved: nothing was written


# --------------------------------------------------------------------------- the corpus


def _corpus_files() -> Iterator[Path]:
    summary = CORPUS / "oracle" / "SUMMARY.tsv"
    require(summary.is_file(), f"the corpus is not at {CORPUS}")
    for row in summary.read_text(encoding="utf-8").splitlines()[1:]:
        path = row.split("\t")[0]
        relative = Path(path).relative_to("files").with_suffix(".json")
        oracle = json.loads((CORPUS / "oracle" / relative).read_text(encoding="utf-8"))
        if oracle["ok"]:
            yield CORPUS / path


async def test_corpus(client: LanguageClient) -> None:
    """Every corpus file Compose accepts: the diagnostics are check's findings (rule,
    line, column, severity), and fix-all gives what ``harden --stdout`` prints."""
    files = list(_corpus_files())
    checked = fixed = 0
    wrong: list[str] = []
    for path in files:
        text = path.read_bytes().decode("utf-8")  # line endings as they are
        expected = _expected(path)
        since = _mark(client)
        uri = _open(client, path, text)
        got = _got(await _diagnostics(client, uri, 1, since))
        checked += 1
        if got != expected:
            wrong.append(f"{path.name}: diagnostics {got[:3]} != check {expected[:3]}")
        if any(rule in ("CN001", "CN003") for rule, *_ in expected):
            code, hardened = _harden_stdout(path)
            actions = await _actions(client, uri, [FIX_ALL])
            if code == 2:
                if actions:
                    wrong.append(f"{path.name}: harden fails, fix-all offered")
            elif len(actions) != 1:
                wrong.append(f"{path.name}: no fix-all ({code})")
            else:
                new = _apply(text, _edits(actions[0].edit, uri)).encode("utf-8")
                fixed += new != text.encode("utf-8")
                if new != hardened:
                    wrong.append(f"{path.name}: fix-all differs from harden --stdout: "
                                 f"{_first_difference(new, hardened)}")
                quick = await _actions(client, uri, [types.CodeActionKind.QuickFix])
                # one entry's findings offer the same edit: it is applied once
                safe = list({repr(e): e for a in quick if a.is_preferred
                             for e in _edits(a.edit, uri)}.values())
                one_by_one = _apply(text, safe).encode("utf-8")
                if one_by_one != hardened:
                    wrong.append(f"{path.name}: the safe quick fixes differ from harden: "
                                 f"{_first_difference(one_by_one, hardened)}")
        _close(client, uri)
    with capsys_disabled():
        print(f"\nserver corpus: {checked} files, {fixed} fixed by fix-all as harden does")
    assert wrong == []
    assert checked == 606 and fixed > 300


def _first_difference(a: bytes, b: bytes) -> str:
    i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(i - 20, 0)
    return f"at {i} of {len(a)}/{len(b)}: {a[start:i + 40]!r} / {b[start:i + 40]!r}"


class capsys_disabled:
    """Print the corpus summary past pytest's capture."""

    def __enter__(self) -> None:
        self.stdout = sys.stdout
        sys.stdout = sys.__stdout__

    def __exit__(self, *exc: object) -> None:
        sys.stdout = self.stdout


async def test_server_starts_alone(tmp_path: Path) -> None:
    """The command answers ``initialize`` on standard output and exits on ``exit`` (other
    commands never import pygls or lsprotocol: tests/perf_imports_test.py)."""
    request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                          "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    exit_ = json.dumps({"jsonrpc": "2.0", "method": "exit"})
    data = b"".join(
        f"Content-Length: {len(m)}\r\n\r\n{m}".encode() for m in (request, exit_)
    )
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "compose_net", "server"], input=data, capture_output=True,
        env=_env(), cwd=tmp_path, timeout=60, check=False,
    )
    assert b'"capabilities"' in proc.stdout
    assert b"codeActionProvider" in proc.stdout and b"hoverProvider" in proc.stdout
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "path", [pytest.param("compose.yaml", id="relative"), pytest.param("/tmp/../etc/x.yml",
                                                                         id="dotdot")]
)
async def test_file_key_is_the_engines(path: str) -> None:
    assert lsp.file_key(path) == project_file_key(path)
