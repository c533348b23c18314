"""What the language server asks of the engine, in one place: check a file as part of its
project with the texts of open documents over what is on disk, what harden would write
for it, the edit of each finding's fix, and what ``ports`` says of an entry.

Nothing here knows the protocol: positions are 1-based lines and columns counted in
characters, as the engine gives them, and every message is redacted. Nothing here writes a
file. The server calls this module from one worker thread at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from compose_net import config as configuration
from compose_net import (
    discovery,
    engine,
    fixes,
    harden,
    hardening,
    redaction,
    rules,
    source,
    yamltree,
)
from compose_net.commands import check as check_command
from compose_net.commands import ports as ports_command
from compose_net.config import Config
from compose_net.engine import Linted, Part, Session
from compose_net.errors import ComposeNetError
from compose_net.findings import CheckResult, Finding
from compose_net.policy.binds import BindsFor
from compose_net.project import DocKey, Project, Reader, Spec, doc_key, file_key
from compose_net.rewrite import UnsupportedSyntax
from compose_net.rules.context import Project as SharedPorts
from compose_net.rules.context import Target
from compose_net.server.documents import Item, Related, Settings
from compose_net.source import Source

#: the rules' documentation (docs/rules.md), when this is a checkout that has it
RULES_DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "docs",
                         "rules.md")

_CLASH = re.compile(r"which (\S+) \((.+):(\d+):(\d+)\) already publishes")

#: file_key -> the text of an open document
Overlay = Mapping[str, str]


def rule_anchor(rule: str) -> str | None:
    """The link to a rule's section of docs/rules.md (None: no such documentation here)."""
    try:
        found = rules.get(rule)
    except ComposeNetError:
        return None
    if not os.path.isfile(RULES_DOC):
        return None
    from pathlib import Path

    return f"{Path(RULES_DOC).as_uri()}#{found.ID.lower()}-{found.NAME}"


@dataclass
class Checked:
    """One project's check: its result as ``check`` reports it, and the items by file."""

    result: CheckResult
    #: file_key -> the file as the engine names it
    paths: dict[str, str] = field(default_factory=dict)
    #: file_key -> its items (every file the project read: empty when it has none)
    items: dict[str, list[Item]] = field(default_factory=dict)
    #: file_key -> its lines, as the rules read them (for columns in the client's units)
    lines: dict[str, list[str]] = field(default_factory=dict)


class QuickFix(NamedTuple):
    """A fix for the finding at (rule, line, column): edits as (start, end, new text) offsets
    into the text it was made from."""

    rule: str
    line: int
    column: int
    title: str
    applicability: str
    edits: tuple[tuple[int, int, str], ...]


def _reader(overlay: Overlay, outside: bool) -> Reader:
    fallback = source.read_anywhere if outside else source.read

    def read(path: str) -> Source:
        text = overlay.get(file_key(path))
        if text is None:
            return fallback(path)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise ComposeNetError("not valid UTF-8", path=path) from None
        return source.decode(path, data)  # the command line's bounds: size, NUL, encoding

    return read


@dataclass(frozen=True)
class _Overlaid(Spec):
    """A project read with the open documents' texts."""

    overlay: Mapping[str, str] = field(default_factory=dict)

    def load(
        self,
        *,
        interpolate: bool = True,
        environ: Mapping[str, str] | None = None,
        read: Reader = source.read,
        lenient: bool = False,
    ) -> Project:
        del read
        return super().load(
            interpolate=interpolate,
            environ=environ,
            read=_reader(self.overlay, self.outside),
            lenient=lenient,
        )


class Sources(NamedTuple):
    """Where a file's addresses come from: check's node addresses, harden's binds."""

    config: Config
    target: Target | None
    addresses_for: engine.AddressesFor | None
    binds_for: BindsFor | None


class Analyzer:
    """The engine's answers for the server, with the resolvers it made kept until
    :meth:`invalidate` (a configuration, ``.env`` or inventory changed)."""

    def __init__(self) -> None:
        self._resolvers: dict[tuple[object, ...], BindsFor] = {}

    def invalidate(self) -> None:
        self._resolvers.clear()

    # ----------------------------------------------------------------- projects and settings

    def spec(self, path: str, overlay: Overlay) -> tuple[Spec, bool]:
        """The project a file is checked in, and whether it is a FILE argument: a file
        ``docker compose`` reads by default in its folder (``compose.yaml`` and its
        override) is that project, as ``compose-net check`` run there checks it; any other
        file is ``compose-net check FILE``."""
        folder = os.path.dirname(path)
        if os.path.basename(path) in (*discovery.DEFAULT_NAMES, *discovery.OVERRIDE_NAMES):
            project = _Overlaid((), folder, overlay=overlay)
            try:
                files, _, _ = project.resolve()
            except ComposeNetError:
                files = []
            if file_key(path) in {file_key(f) for f in files}:
                return project, False
        return _Overlaid((path,), overlay=overlay), True

    def sources(self, path: str, settings: Settings) -> Sources:
        """The configuration first, then the editor's settings: the target, and where the
        addresses come from (None: nowhere, so fixes cannot be offered)."""
        from compose_net import resolvers

        config = configuration.find(path)
        target = None if config.target else settings.target
        configured = resolvers.configured_source(config)
        internal = tuple(config.internal_extra)
        addresses_for = None
        if any(configured):
            binds, bind_var, resolve, inventory = configured
        else:
            binds, bind_var = settings.bind, settings.bind_var
            resolve, inventory = settings.resolve, settings.inventory
            if resolve is not None or inventory is not None:
                addresses_for = resolvers.node_addresses_for(
                    self._resolver((), None, resolve, inventory, internal)
                )
        binds_for = None
        if binds or bind_var or resolve or inventory:
            binds_for = self._resolver(binds, bind_var, resolve, inventory, internal)
        return Sources(config, target, addresses_for, binds_for)

    def _resolver(
        self,
        binds: Sequence[str],
        bind_var: str | None,
        resolve: str | None,
        inventory: str | None,
        internal: tuple[str, ...],
    ) -> BindsFor:
        from compose_net import resolvers

        key = (tuple(binds), bind_var, resolve, inventory, internal)
        found = self._resolvers.get(key)
        if found is None:
            found = resolvers.from_options(
                binds=binds, bind_var=bind_var, resolve=resolve, inventory=inventory,
                internal=internal,
            )
            self._resolvers[key] = found
        return found

    # ----------------------------------------------------------------- check

    def check(self, path: str, overlay: Overlay, settings: Settings) -> Checked:
        """What ``check --format json`` reports for ``path`` in its project (raises
        ComposeNetError only for an error of no file, as the command line does)."""
        spec, named = self.spec(path, overlay)
        found = self.sources(path, settings)
        opts = check_command.Options(target=found.target, addresses_for=found.addresses_for)
        session = Session(opts)
        result = CheckResult([], [], [], [], {}, {})
        linted = _check(spec, session, result, session.project(path) if named else None)
        out = Checked(result)
        # findings and errors name a file as it is shown (a path built from variables, as
        # written); diagnostics go to the file itself
        files = {item.doc.name: item.doc.path for item in linted}
        for item in linted:
            key = file_key(item.doc.path)
            out.paths.setdefault(key, item.doc.path)
            out.lines.setdefault(key, item.lines)
            out.items.setdefault(key, []).extend(_items(item, files))
        for e in result.errors:
            where = path if e.path is None else files.get(e.path, e.path)
            if where == e.path and where != path and not os.path.exists(where):
                # a file known by its name as written only (its project did not load): the
                # error is said at the file checked, with where it is
                e, where = ComposeNetError(str(e)), path
            key = file_key(where)
            out.paths.setdefault(key, where)
            out.items.setdefault(key, []).append(_error_item(e, where, overlay))
        return out

    # ----------------------------------------------------------------- harden

    def _harden_settings(self, path: str, settings: Settings, unsafe: bool
                         ) -> hardening.Settings:
        found = self.sources(path, settings)
        if found.binds_for is None:
            raise ComposeNetError(
                "nothing to bind to: set bind, bind-var, resolve or inventory in "
                ".compose-net.yaml or in the editor's settings"
            )
        if settings.target == "stack" and found.target == "stack":
            raise ComposeNetError("a stack's fixes are made by compose-net harden --target stack")
        return hardening.Settings(
            binds_for=found.binds_for,
            permissions=harden.Permissions(unsafe, unsafe),
            addresses_for=found.addresses_for,
        )

    def harden_text(self, path: str, overlay: Overlay, settings: Settings) -> str:
        """The text ``compose-net harden --stdout FILE`` prints for ``path`` (raises
        ComposeNetError when it would fail)."""
        run = hardening.Run(self._harden_settings(path, settings, False))
        result = run.project(_Overlaid((path,), overlay=overlay), path)
        named = file_key(path)
        for f in result.files:
            if file_key(f.path) == named:
                return f.text
        return _reader(overlay, False)(path).text

    def quick_fixes(self, path: str, overlay: Overlay, settings: Settings) -> list[QuickFix]:
        """Each counted finding's fix in ``path`` as harden makes it for that entry: the
        safe fixes as plain ``harden`` chooses and settles them, the unsafe ones as with
        ``--rewrite-public --remap-conflicts``; display-only fixes offer none."""
        out: list[QuickFix] = []
        named = file_key(path)
        for unsafe in (False, True):
            run = hardening.Run(self._harden_settings(path, settings, unsafe))
            for o in run.chosen(_Overlaid((path,), overlay=overlay), path):
                if file_key(o.doc.path) != named:
                    continue
                out.extend(_fixes_of(o, unsafe))
        return out

    # ----------------------------------------------------------------- hover

    def hover(
        self, path: str, overlay: Overlay, settings: Settings, line: int, column: int
    ) -> str | None:
        """What ``compose-net ports`` prints for the entry at (line, column), and its
        exposure with the reason (None: no port entry there)."""
        spec, _ = self.spec(path, overlay)
        project = spec.load(lenient=True)
        named = file_key(path)
        entry = None
        for part in project.documents:
            if file_key(part.document.path) != named:
                continue
            for e in part.document.entries():
                if _covers(e.node, line, column):
                    entry = e
        if entry is None:
            return None
        internal = configuration.find(path).internal_networks()
        data = ports_command.project_ports(project, internal)
        rows: list[tuple[str, dict[str, object]]] = []
        for service, ports in data["services"].items():
            for p in ports["ports"]:
                if file_key(p["file"]) == named and (p["line"], p["column"]) == (
                    entry.position.line, entry.position.column
                ):
                    rows.append((service, p))
        checked = self.check(path, overlay, settings)
        here = (entry.position.line, entry.position.column)
        reasons = [
            f"{f.rule} {f.name}: {f.message}"
            for f in checked.result.findings
            if file_key(f.path) == named and (f.line, f.column) == here
        ]
        reasons += [
            f"stays public: {s.reason}"
            for s in checked.result.allowed
            if file_key(s.finding.path) == named and (s.finding.line, s.finding.column) == here
        ]
        out = [f"**services.{entry.service}.ports[{entry.index}]**", ""]
        if not rows:
            out.append("Compose publishes nothing for it in this project.")
        exposures = []
        for service, p in rows:
            exposures.append(str(p["exposure"]))
            out.append(
                f"- `{service}`: host IP `{p.get('host_ip', '*')}`, published "
                f"`{p.get('published', '-')}`, target `{p.get('target', '-')}/"
                f"{p.get('protocol', '')}`, mode `{p.get('mode', '')}`, exposure "
                f"**{p['exposure']}**"
            )
        out.append("")
        if reasons:
            out.extend(f"- {r}" for r in reasons)
        else:
            kept = set(exposures) & set(harden.KEPT)
            for exposure in sorted(kept):
                why = harden.KEPT[exposure].format(ip=entry.written_host_ip)
                out.append(f"{exposure}: {why}")
        return redaction.redact("\n".join(out).strip())


def _covers(node: yamltree.Node, line: int, column: int) -> bool:
    """Whether the 1-based (line, column) is inside ``node``'s own text."""
    start, end = node.start_mark, yamltree.own_end_mark(node)
    at = (line - 1, column - 1)
    return (start.line, start.column) <= at <= (end.line, end.column)


def _check(
    spec: Spec, session: Session, result: CheckResult, shared_ports: SharedPorts | None
) -> list[Linted]:
    """:func:`compose_net.commands.check._check`, keeping what the rules saw."""
    out: list[Linted] = []
    try:
        project = spec.load(environ=session.settings.environ, lenient=True)
    except ComposeNetError as e:
        if shared_ports is not None:
            result.errors.append(e.with_path(spec.files[0]))
            return out
        if e.path is None:
            raise
        result.errors.append(e)
        return out
    scope = project.scope()
    shared = SharedPorts(key=project.directory) if shared_ports is None else shared_ports
    done: set[DocKey] = set()
    for part in project.documents:
        doc = part.document
        feeds = {name: frozenset(s) for name, s in scope.get(doc_key(doc), {}).items()}
        followed = project.followed(doc)
        if part.how == "extends" and not feeds and not followed:
            continue
        if doc_key(doc) in done:
            continue
        done.add(doc_key(doc))
        if doc.name not in result.paths:
            result.paths.append(doc.name)
        try:
            own = Part(doc, part.env, shared, feeds, followed=followed)
            linted = engine.lint(doc, session, own)
        except ComposeNetError as e:
            result.errors.append(e.with_path(doc.name))
            continue
        engine.record(linted, result)
        out.append(linted)
    return out


def _line_end(lines: Sequence[str], line: int) -> int:
    """The exclusive 1-based end column of a line's text."""
    if 0 < line <= len(lines):
        return len(lines[line - 1].rstrip("\r\n").rstrip()) + 1
    return 1


def _items(linted: Linted, files: Mapping[str, str]) -> list[Item]:
    """The diagnostics of ``linted``; ``files``: a file as shown -> its path."""
    out: list[Item] = []
    lines = linted.lines
    for d in linted.diagnostics:
        if d.allowance is not None:
            continue  # check reports it as allowed or suppressed, not as a finding
        f = d.finding
        end_line, end_column = f.line, max(_line_end(lines, f.line), f.column)
        allow_at = None
        if d.entry is not None and yamltree.position(d.entry.node) == (f.line, f.column):
            end = yamltree.own_end_mark(d.entry.node)
            end_line, end_column = end.line + 1, end.column + 1
            if f.rule in rules.EXPOSURE_RULES:
                at = end_line if yamltree.is_scalar(d.entry.node) else f.line
                allow_at = (at, _line_end(lines, at))
        out.append(
            Item(
                f.path, f.line, f.column, end_line, end_column, f.rule, f.severity,
                redaction.redact(f.message), _related(f, files), allow_at,
            )
        )
    return out


def _related(f: Finding, files: Mapping[str, str]) -> tuple[Related, ...]:
    """The other side of a host-port clash (CN006), in the file its message names (as
    shown: ``files`` gives its path)."""
    if f.rule != "CN006":
        return ()
    m = _CLASH.search(f.message)
    if m is None:
        return ()
    return (Related(files.get(m.group(2), m.group(2)), int(m.group(3)), int(m.group(4)),
                    redaction.redact(f"{m.group(1)} already publishes this host port")),)


def _error_item(e: ComposeNetError, path: str, overlay: Overlay) -> Item:
    line, column = e.line or 1, e.column or 1
    end = column
    text = overlay.get(file_key(path))
    if text is not None:
        lines = text.splitlines()
        end = max(_line_end(lines, line), column)
        if e.column is None:
            column = 1
    return Item(path, line, column, line, end, None, "error", redaction.redact(e.message))


def _fixes_of(o: harden.Outcome, unsafe: bool) -> list[QuickFix]:
    out: list[QuickFix] = []
    text = o.doc.source.text
    for d in o.linted.diagnostics:
        fix = d.fix
        if fix is None or d.entry is None or not harden.counts(d) or fix.by_strategy:
            continue
        if fix.applicability == "display-only" or (fix.applicability == "unsafe") != unsafe:
            continue
        chosen = o.chosen.get(id(fix.entry.node))
        if chosen is None:
            continue
        rendered = fixes.Rendered()
        try:
            fixes.render(text, o.doc.name, chosen, rendered)
        except UnsupportedSyntax:
            continue
        if not rendered.edits:
            continue
        title = chosen.title
        if unsafe:
            title = f"{title} (unsafe: {_changes(chosen, fix)}; harden does it with {fix.requires})"
        f = d.finding
        out.append(
            QuickFix(
                f.rule, f.line, f.column, redaction.redact(f"{f.rule}: {title}"),
                fix.applicability, tuple((e.start, e.end, e.text) for e in rendered.edits),
            )
        )
    return out


def _changes(chosen: fixes.Fix, fix: fixes.Fix) -> str:
    """What an unsafe fix changes that the user wrote on purpose."""
    entry = chosen.entry
    if fix.requires == "--remap-conflicts" and chosen.published is not None:
        return f"moves its host port to {chosen.published}"
    if fix.requires == "--rewrite-public" and entry.written_host_ip:
        return f"replaces the public address {entry.written_host_ip}"
    return f"changes {fix.title}"
