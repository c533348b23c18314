"""The Language Server Protocol side of ``compose-net server`` (pygls, lsprotocol).

Every open Compose document is checked as part of its project (:mod:`.analysis`) on open,
change and save, in one worker thread, off the event loop: a newer version of a document,
or a change to a file of its project, makes the work on the older one stale, and a stale
result is dropped (work still queued for it is skipped). Nothing here writes a file: fixes
reach the client as edits it applies. No handler lets an exception out: the client gets a
one-line message, standard error one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from compose_net import __version__, redaction
from compose_net.errors import ComposeNetError
from compose_net.server.documents import (
    ALLOW,
    CONFIG_NAMES,
    ENV_NAME,
    Item,
    Settings,
    is_compose,
)

if TYPE_CHECKING:
    from compose_net.server.analysis import Analyzer, Checked, QuickFix

#: the code action kind of "fix all" (ruff's ``source.fixAll.ruff``)
FIX_ALL = "source.fixAll.compose-net"
#: the command that asks the client to apply every safe fix of a document
FIX_ALL_COMMAND = "compose-net.applyFixAll"
#: how long a change waits for the next keystroke before it is checked (seconds)
DEBOUNCE = 0.015
SOURCE = "compose-net"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}
WATCHED = ("**/.compose-net.yaml", "**/.compose-net.yml", "**/pyproject.toml", "**/.env")

T = TypeVar("T")


def _path(uri: str) -> str | None:
    """The local file a ``file:`` URI names (None: not a local file)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.normpath(unquote(parsed.path))


def file_key(path: str) -> str:
    """What identifies a file: its real path (:func:`compose_net.project.file_key`, which
    comes with the engine)."""
    return os.path.realpath(os.path.abspath(path))


def _uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()


def _brief(e: BaseException) -> str:
    """One line for any failure (no traceback, no environment value)."""
    if isinstance(e, ComposeNetError):
        return redaction.redact(e.message).replace("\n", " ")
    if isinstance(e, RecursionError):
        return "the input nests deeper than this server can follow"
    if isinstance(e, MemoryError):
        return "out of memory: the input needs more than this process may use"
    return f"internal error: {type(e).__name__}"


@dataclass
class Doc:
    uri: str
    path: str
    version: int | None
    language: str
    #: checked by the server (a Compose document), or only read as part of a project
    compose: bool
    #: bumped by each change that makes a check of it stale
    generation: int = 0
    #: the files (file_key) its last check read; None: not checked yet
    files: set[str] | None = None
    #: the URIs its last check published diagnostics to
    published: set[str] = field(default_factory=set)


class ComposeNetServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("compose-net", __version__)
        self._analyzer: Analyzer | None = None
        self.settings = Settings()
        self.docs: dict[str, Doc] = {}
        #: one worker: the engine's caches are not shared between threads
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="compose-net")
        #: uri -> (the items last published, the diagnostics made of them)
        self.shown: dict[str, list[tuple[Item, types.Diagnostic]]] = {}
        self.debounce = DEBOUNCE

    @property
    def analyzer(self) -> Analyzer:
        """The engine, imported with the first check (in the worker), not at start-up."""
        if self._analyzer is None:
            from compose_net.server.analysis import Analyzer

            self._analyzer = Analyzer()
        return self._analyzer

    # ----------------------------------------------------------------- helpers

    def log(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        line = redaction.redact(message).replace("\n", " ")
        print(f"compose-net: {line}", file=sys.stderr, flush=True)
        with contextlib.suppress(Exception):  # the client is gone: standard error has it
            self.window_log_message(types.LogMessageParams(kind, line))

    def report_server_error(self, error: Exception, source: Any) -> None:
        self.log(f"server error: {_brief(error)}", types.MessageType.Error)

    def text(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source

    def overlay(self) -> dict[str, str]:
        return {file_key(d.path): self.text(d.uri) for d in self.docs.values()}

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in the worker as one request: the values it substitutes are printed as
        their names in what it returns, and forgotten with it (compose_net.redaction)."""

        def request() -> T:
            with redaction.running():
                out = fn()
                if isinstance(out, ComposeNetError):  # said after the request: named now
                    out.message = redaction.redact(out.message)
                return out

        return await asyncio.get_running_loop().run_in_executor(self.worker, request)

    def units(self, line: str, column: int) -> int:
        """A 1-based column in characters as the client counts (0-based)."""
        prefix = line[: column - 1]
        if prefix.isascii():
            return len(prefix)
        return int(self.workspace.position_codec.client_num_units(prefix))

    def position(self, lines: list[str], line: int, column: int) -> types.Position:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return types.Position(max(line - 1, 0), self.units(text, column))

    def offset_position(self, text: str, offset: int) -> types.Position:
        line = text.count("\n", 0, offset)
        start = text.rfind("\n", 0, offset) + 1
        return types.Position(line, self.units(text[start:], offset - start + 1))

    # ----------------------------------------------------------------- checking

    def schedule(self, doc: Doc, delay: float = 0.0) -> None:
        doc.generation += 1
        asyncio.get_running_loop().create_task(self._check(doc.uri, doc.generation, delay))

    def dependents(self, changed: Doc) -> list[Doc]:
        """The open Compose documents whose check reads ``changed`` (itself included)."""
        key = file_key(changed.path)
        return [
            d for d in self.docs.values()
            if d.compose and (d is changed or d.files is None or key in d.files)
        ]

    def recheck_all(self) -> None:
        if self._analyzer is not None:
            self._analyzer.invalidate()
        for doc in self.docs.values():
            if doc.compose:
                self.schedule(doc)

    async def _check(self, uri: str, generation: int, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            doc = self.docs.get(uri)
            if doc is None or doc.generation != generation:
                return
            overlay, settings = self.overlay(), self.settings

            def work() -> Checked | BaseException | None:
                if doc.generation != generation:
                    return None  # a newer version is queued: skip this one
                try:
                    return self.analyzer.check(doc.path, overlay, settings)
                except (Exception, RecursionError, MemoryError) as e:
                    return e

            checked = await self.run(work)
            if checked is None or self.docs.get(uri) is not doc or doc.generation != generation:
                return  # stale: dropped
            if isinstance(checked, BaseException):
                self.log(f"{doc.path}: {_brief(checked)}")
                item = Item(doc.path, 1, 1, 1, 1, None, "error", _brief(checked))
                self.publish(doc, {file_key(doc.path): (doc.path, [item], None)})
                return
            by_key = {  # columns counted on the lines the rules read
                key: (checked.paths[key], items, checked.lines.get(key))
                for key, items in checked.items.items()
            }
            doc.files = set(by_key) | {file_key(doc.path)}
            by_key.setdefault(file_key(doc.path), (doc.path, [], None))
            self.publish(doc, by_key)
        except Exception as e:  # never out of a task: one line
            self.log(f"check failed: {_brief(e)}", types.MessageType.Error)

    def _open_by_key(self) -> dict[str, Doc]:
        return {file_key(d.path): d for d in self.docs.values()}

    def publish(
        self, origin: Doc, by_key: Mapping[str, tuple[str, list[Item], list[str] | None]]
    ) -> None:
        open_docs = self._open_by_key()
        now: set[str] = set()
        for key, (path, items, lines) in by_key.items():
            opened = open_docs.get(key)
            uri = opened.uri if opened is not None else _uri(path)
            if lines is None and opened is not None:
                lines = self.text(opened.uri).splitlines()
            diagnostics = [(item, self.diagnostic(item, lines or [])) for item in items]
            self.shown[uri] = diagnostics
            now.add(uri)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri,
                    [d for _, d in diagnostics],
                    version=opened.version if opened is not None else None,
                )
            )
        for uri in origin.published - now:
            if uri not in self.docs:
                self.shown.pop(uri, None)
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
        origin.published = now

    def diagnostic(self, item: Item, lines: list[str]) -> types.Diagnostic:
        start = self.position(lines, item.line, item.column)
        end = self.position(lines, item.end_line, item.end_column)
        related = [
            types.DiagnosticRelatedInformation(
                types.Location(
                    self._uri_of(r.path),
                    types.Range(
                        types.Position(r.line - 1, r.column - 1),
                        types.Position(r.line - 1, r.column - 1),
                    ),
                ),
                r.message,
            )
            for r in item.related
        ]
        href = None
        if item.rule:
            from compose_net.server.analysis import rule_anchor  # imported by the check

            href = rule_anchor(item.rule)
        return types.Diagnostic(
            range=types.Range(start, end),
            message=item.message,
            severity=SEVERITY.get(item.severity, types.DiagnosticSeverity.Error),
            code=item.rule,
            code_description=types.CodeDescription(href) if href else None,
            source=SOURCE,
            related_information=related or None,
        )

    def _uri_of(self, path: str) -> str:
        opened = self._open_by_key().get(file_key(path))
        return opened.uri if opened is not None else _uri(path)

    # ----------------------------------------------------------------- fixes

    def edit(self, doc: Doc, text: str, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        del text
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    types.OptionalVersionedTextDocumentIdentifier(doc.uri, doc.version),
                    list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit](edits),
                )
            ]
        )

    def splice(self, text: str, start: int, end: int, new: str) -> types.TextEdit:
        return types.TextEdit(
            types.Range(self.offset_position(text, start), self.offset_position(text, end)), new
        )

    def whole_edit(self, old: str, new: str) -> list[types.TextEdit]:
        """The one edit that turns ``old`` into ``new`` (their common ends kept)."""
        if old == new:
            return []
        start = 0
        limit = min(len(old), len(new))
        while start < limit and old[start] == new[start]:
            start += 1
        end = 0
        while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
            end += 1
        return [self.splice(old, start, len(old) - end, new[start : len(new) - end])]

    async def fix_all(self, doc: Doc) -> types.WorkspaceEdit | None:
        text, version = self.text(doc.uri), doc.version
        overlay, settings = self.overlay(), self.settings

        def work() -> str | BaseException:
            try:
                return self.analyzer.harden_text(doc.path, overlay, settings)
            except (Exception, RecursionError, MemoryError) as e:
                return e

        new = await self.run(work)
        if isinstance(new, BaseException):
            self.log(f"{doc.path}: no fix-all: {_brief(new)}", types.MessageType.Info)
            return None
        if doc.version != version:
            return None
        if text.startswith("\ufeff"):  # a client that keeps the BOM in the text
            new = "\ufeff" + new
        return self.edit(doc, text, self.whole_edit(text, new))


def build() -> ComposeNetServer:
    """A server with its features registered (one per process: ``compose-net server``)."""
    server = ComposeNetServer()


    def _doc(uri: str) -> Doc | None:
        return server.docs.get(uri)


    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        settings, problems = Settings.parse(params.initialization_options)
        server.settings = settings
        for p in problems:
            server.log(p)


    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        server.worker.submit(lambda: server.analyzer)  # the engine's import, off the first check
        try:
            caps = server.client_capabilities.workspace
            watch = caps.did_change_watched_files if caps is not None else None
            if watch is not None and watch.dynamic_registration:
                globs = list(WATCHED)
                if server.settings.inventory:
                    globs.append(os.path.abspath(server.settings.inventory))
                await server.client_register_capability_async(
                    types.RegistrationParams(
                        [
                            types.Registration(
                                "compose-net-watch",
                                types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                types.DidChangeWatchedFilesRegistrationOptions(
                                    [types.FileSystemWatcher(g) for g in globs]
                                ),
                            )
                        ]
                    )
                )
        except Exception as e:
            server.log(f"no watching of configuration files: {_brief(e)}")
        try:
            await _pull_configuration()
        except Exception as e:
            server.log(f"configuration: {_brief(e)}")


    async def _pull_configuration() -> None:
        caps = server.client_capabilities.workspace
        if caps is None or not caps.configuration:
            return
        found = await server.workspace_configuration_async(
            types.ConfigurationParams([types.ConfigurationItem(section="compose-net")])
        )
        if found and found[0] is not None:
            settings, problems = Settings.parse(found[0])
            for p in problems:
                server.log(p)
            if settings != server.settings:
                server.settings = settings
                server.recheck_all()


    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        try:
            data = params.settings
            if isinstance(data, Mapping) and isinstance(data.get("compose-net"), Mapping):
                settings, problems = Settings.parse(data["compose-net"])
                for p in problems:
                    server.log(p)
                server.settings = settings
                server.recheck_all()
                return
            await _pull_configuration()
            server.recheck_all()
        except Exception as e:
            server.log(f"configuration: {_brief(e)}")


    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        if params.changes:
            server.recheck_all()


    def _is_setting_file(path: str) -> bool:
        name = os.path.basename(path)
        inventory = server.settings.inventory
        return (
            name in CONFIG_NAMES
            or name == ENV_NAME
            or (inventory is not None and file_key(inventory) == file_key(path))
        )


    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        path = _path(item.uri)
        if path is None:
            return
        try:
            compose = is_compose(path, item.language_id, item.text)
        except Exception:
            compose = False
        doc = Doc(item.uri, path, item.version, item.language_id, compose)
        server.docs[item.uri] = doc
        for other in server.dependents(doc):
            server.schedule(other)


    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        doc = _doc(params.text_document.uri)
        if doc is None:
            return
        doc.version = params.text_document.version
        if not doc.compose:
            try:
                doc.compose = is_compose(doc.path, doc.language, server.text(doc.uri))
            except Exception:
                doc.compose = False
        for other in server.dependents(doc):
            server.schedule(other, server.debounce)


    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        doc = _doc(params.text_document.uri)
        path = doc.path if doc is not None else _path(params.text_document.uri)
        if path is not None and _is_setting_file(path):
            server.recheck_all()
            return
        if doc is not None:
            for other in server.dependents(doc):
                server.schedule(other)


    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        doc = server.docs.pop(params.text_document.uri, None)
        if doc is None:
            return
        doc.generation += 1
        for uri in doc.published:
            if uri not in server.docs:
                server.shown.pop(uri, None)
                server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
        if doc.uri not in doc.published:
            server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(doc.uri, []))
        for other in server.dependents(doc):
            if other is not doc:
                server.schedule(other)


    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]
        ),
    )
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        try:
            return await _code_actions(params)
        except Exception as e:
            server.log(f"code actions: {_brief(e)}")
            return None


    def _wants(only: list[str] | None, kind: str) -> bool:
        return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


    async def _code_actions(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        doc = _doc(params.text_document.uri)
        if doc is None or not doc.compose:
            return None
        only = [str(k) for k in params.context.only] if params.context.only else None
        out: list[types.CodeAction] = []
        text, version = server.text(doc.uri), doc.version
        first, last = params.range.start.line + 1, params.range.end.line + 1
        shown = server.shown.get(doc.uri, [])
        if _wants(only, types.CodeActionKind.QuickFix):
            overlay, settings = server.overlay(), server.settings

            def work() -> list[QuickFix] | BaseException:
                try:
                    return server.analyzer.quick_fixes(doc.path, overlay, settings)
                except (Exception, RecursionError, MemoryError) as e:
                    return e

            found = await server.run(work)
            if doc.version != version:
                return None
            quick = [] if isinstance(found, BaseException) else found
            for q in quick:
                if not first <= q.line <= last:
                    continue
                here = (q.rule, q.line, q.column)
                matching = [d for i, d in shown if (i.rule, i.line, i.column) == here]
                edits = [server.splice(text, s, e, new) for s, e, new in q.edits]
                out.append(
                    types.CodeAction(
                        q.title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=matching or None,
                        is_preferred=q.applicability == "safe",
                        edit=server.edit(doc, text, edits),
                    )
                )
            lines = text.splitlines()
            for item, diagnostic in shown:
                if item.allow_at is None or not first <= item.line <= last:
                    continue
                line, column = item.allow_at
                if 0 < line <= len(lines) and "compose-net:" in lines[line - 1]:
                    continue
                at = server.position(lines, line, column)
                out.append(
                    types.CodeAction(
                        f"{item.rule}: allow this port to stay public ({ALLOW})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        edit=server.edit(
                            doc, text, [types.TextEdit(types.Range(at, at), "  " + ALLOW)]
                        ),
                    )
                )
        if _wants(only, FIX_ALL):
            edit = await server.fix_all(doc)
            if edit is not None and (only is not None or _has_edits(edit)):
                out.append(
                    types.CodeAction(
                        "compose-net: fix all (as compose-net harden)",
                        kind=FIX_ALL,
                        edit=edit,
                    )
                )
        return out


    def _has_edits(edit: types.WorkspaceEdit) -> bool:
        return any(
            isinstance(c, types.TextDocumentEdit) and c.edits for c in edit.document_changes or ()
        )


    @server.command(FIX_ALL_COMMAND)
    async def apply_fix_all(*arguments: Any) -> bool:
        """Ask the client to apply every safe fix of the document (its URI the argument)."""
        try:
            args = list(arguments)
            uri = args[0] if args and isinstance(args[0], str) else None
            if isinstance(args[0] if args else None, Mapping):
                uri = args[0].get("uri")
            doc = _doc(uri) if isinstance(uri, str) else None
            if doc is None or not doc.compose:
                return False
            edit = await server.fix_all(doc)
            if edit is None:
                return False
            if not _has_edits(edit):
                return True
            result = await server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit, label="compose-net: fix all")
            )
            return bool(result.applied)
        except Exception as e:
            server.log(f"fix all: {_brief(e)}")
            return False


    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(params: types.HoverParams) -> types.Hover | None:
        try:
            doc = _doc(params.text_document.uri)
            if doc is None or not doc.compose:
                return None
            lines = server.text(doc.uri).splitlines()
            line = params.position.line + 1
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            codec = server.workspace.position_codec
            column = codec.position_from_client_units(
                lines, types.Position(params.position.line, params.position.character)
            ).character + 1
            del text
            overlay, settings = server.overlay(), server.settings

            def work() -> str | None:
                try:
                    return server.analyzer.hover(doc.path, overlay, settings, line, column)
                except (Exception, RecursionError, MemoryError):
                    return None

            found = await server.run(work)
            if found is None:
                return None
            return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, found))
        except Exception as e:
            server.log(f"hover: {_brief(e)}")
            return None

    return server


class _Brief(logging.Formatter):
    """pygls's own log lines, without tracebacks."""

    def formatException(self, ei: Any) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info = None
        record.exc_text = None
        return f"compose-net: {record.levelname.lower()}: {redaction.redact(record.getMessage())}"


def serve() -> int:
    """Serve on standard input and output until the client exits."""
    import gc

    gc.enable()  # a long run: the command line's collector pause is for short ones
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Brief())
    log = logging.getLogger("pygls")
    log.handlers[:] = [handler]
    log.setLevel(logging.ERROR)
    log.propagate = False
    stdin, stdout = sys.__stdin__, sys.__stdout__
    assert stdin is not None and stdout is not None
    sys.stdout = sys.stderr  # nothing but the protocol reaches standard output
    build().start_io(cast(BinaryIO, stdin.buffer), cast(BinaryIO, stdout.buffer))
    return 0
