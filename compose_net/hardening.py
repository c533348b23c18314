"""Harden a unit: what ``compose-net harden`` makes of a FILE argument or a project, as data.

One :class:`Run` is one invocation's state across its FILE arguments: the rules' sessions
before and after the fixes, the ledgers of host ports that the collision step keeps, and
the texts earlier FILE arguments changed (a later one reads them as it will once they are
written). Its methods lint, choose, settle, render, prove, check the schema and lint again
(the steps of :mod:`compose_net.harden`, the stack strategies of
:mod:`compose_net.swarm.strategies` for a stack) and return a :class:`Result`: each file's
original and new text, how many ports were fixed, what is to be said about it (notes and
what remains, as text) and, when asked, each finding's fix with its edits. Nothing here
writes a file or prints: ``commands.harden`` reads the inputs, writes the results back as
one transaction and reports them; ``check`` takes the fixes (:func:`planned_fixes`) and
the language server the texts and chosen fixes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from compose_net import document, engine, harden, model, source, stack, unit
from compose_net.config import Config, Lookup
from compose_net.document import Document, Service
from compose_net.engine import Part, Session
from compose_net.errors import ComposeNetError, SafetyError, raise_all
from compose_net.findings import Finding, FindingFix, Severity
from compose_net.harden import Hardened, Permissions
from compose_net.policy.allowances import Allow
from compose_net.policy.binds import Binds, BindsFor, NodeAddresses
from compose_net.project import DocKey, Project, Reader, Spec, doc_key, file_key, load_files
from compose_net.project import reader as project_reader
from compose_net.rewrite import Edit, UnsupportedSyntax
from compose_net.rules.context import Project as SharedPorts

if TYPE_CHECKING:
    from compose_net.swarm.stackplan import StackPlan


class Unbound(ComposeNetError):
    """No address to bind a Compose file's ports to (raised when one is first needed)."""


class Binder:
    """The addresses each file's fixes bind to, resolved once per configuration: the
    options, else the file's own configuration (whose ``internal-networks`` also decide
    whether a ``--bind`` address is public)."""

    def __init__(self, make: Callable[[Config], BindsFor]) -> None:
        self.make = make
        self.made: dict[str | None, BindsFor | ComposeNetError] = {}

    def __call__(self, config: Config) -> BindsFor:
        found = self.made.get(config.path)
        if found is None:
            try:
                found = self.make(config)
            except ComposeNetError as e:
                found = e
            self.made[config.path] = found
        if isinstance(found, ComposeNetError):
            raise Unbound(found.message, path=found.path, line=found.line, column=found.column)
        return found


def binder_for(binds: Sequence[str], bind_var: str | None, source_of: unit.NodeSource) -> Binder:
    """The addresses each file's fixes bind to: the options', else its configuration's."""
    from compose_net import resolvers

    def binds_for(configured: Config) -> BindsFor:
        return resolvers.from_options(
            binds=binds,
            bind_var=bind_var,
            resolve=source_of.resolve,
            inventory=source_of.inventory,
            node=source_of.node,
            interface=source_of.interface,
            cidr=source_of.cidr,
            docker_image=source_of.docker_image,
            internal=configured.internal_extra,
            config=configured,
        )

    return Binder(binds_for)


def addresses_for(
    binder: Binder, *, use_config: bool, stdin_filename: str | None, lookup: Lookup | None = None
) -> Callable[[Document], NodeAddresses]:
    """Which addresses each service's node has, by the resolver of the document's file."""
    from compose_net import resolvers

    def addresses_for(doc: Document) -> NodeAddresses:
        configured = unit.configuration(
            doc.path, use_config=use_config, stdin_filename=stdin_filename, lookup=lookup
        )
        return resolvers.node_addresses_for(binder(configured))(doc)

    return addresses_for


@dataclass(frozen=True)
class Settings:
    """What one run hardens with (the command's options that decide the result)."""

    #: the addresses a file's fixes bind to: fixed, or by its configuration (a Binder)
    binds_for: BindsFor | Binder
    allows: Sequence[Allow] = ()
    #: the unsafe fixes that may be applied
    permissions: Permissions = field(default_factory=Permissions)
    #: --target: "compose", "stack", "auto" or None (the configuration's, else auto)
    target: str | None = None
    #: the notes to make: none of what was kept or moved (quiet), what was fixed (verbose)
    quiet: bool = False
    verbose: bool = False
    env_files: Sequence[str] = field(default_factory=tuple)
    use_config: bool = True
    #: which addresses each service's node has, when an inventory or resolver tells
    addresses_for: Callable[[Document], NodeAddresses] | None = None
    #: --target stack: how published ports are taken off public interfaces (compose_net.swarm)
    stack_strategy: str = "unpublish"
    stack_network: str = "internal"
    #: the stack strategy a file's configuration chose, when --stack-strategy did not
    strategy_given: bool = True
    #: a project (-f): also edit files outside its directory
    edit_outside: bool = False
    #: read the files include: and extends: name outside the project directory
    read_outside: bool = False
    #: standard input's file name: its folder's configuration, .env and project
    stdin_filename: str | None = None
    #: standard input's text, when it was read already (check's fixes)
    stdin: source.Source | None = None
    #: keep each result's findings with their fixes and edits (check's fixes)
    plan: bool = False
    #: the run's configuration searches (each folder's said once under -v)
    lookup: Lookup = field(default_factory=Lookup, compare=False, repr=False)
    #: the options given that bind to node addresses (--bind, --resolve, --inventory ...):
    #: what a file hardened as a stack does without, and says so
    address_options: Sequence[str] = field(default_factory=tuple)

    @property
    def keep(self) -> harden.Keep:
        """What is kept of each file's first run for the report (and check's fixes)."""
        return harden.Keep(self.quiet, self.verbose, self.plan)

    def check_settings(self, *, binds: bool = True) -> engine.Settings:
        """The settings ``check`` would use for the same files, plus the fixes' addresses."""
        fixed = None
        if binds and not isinstance(self.binds_for, Binder):
            fixed = self.binds_for
        return engine.Settings(
            target=self.target,
            allows=self.allows,
            env_files=self.env_files,
            use_config=self.use_config,
            addresses_for=self.addresses_for,
            binds_for=fixed,
            read_outside=self.read_outside,
            stdin_filename=self.stdin_filename,
            lookup=self.lookup,
        )


# --------------------------------------------------------------------------- results


class FileText(NamedTuple):
    """One file's result: its YAML documents' results together."""

    path: str
    source: source.Source
    text: str
    #: how many ports the fixes changed
    applied: int


class Told(NamedTuple):
    """What one YAML document's result has to say, made while its first run is known."""

    #: (where, message): what was kept on purpose, what was moved, with -v what was fixed
    notes: list[tuple[str, str]]
    #: (where, severity, message): each finding that remains, with why it was not fixed
    remaining: list[tuple[str, Severity, str]]


@dataclass
class Result:
    """What harden makes of one FILE argument (its project's files) or of a project."""

    #: each file hardened, changed or not, in the project's order (a FILE argument's own
    #: file always: first, when none of its documents was)
    files: list[FileText]
    #: what each YAML document's result has to say, in order
    told: list[Told]
    #: each counted finding of the first run -> its fix with the edits (Settings.plan)
    fixes: dict[Finding, FindingFix] = field(default_factory=dict)
    #: a stack: the strategy applied, and what it says as (where, message) notes
    strategy: str | None = None
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exposed(self) -> int:
        """How many findings remain."""
        return sum(len(t.remaining) for t in self.told)


# --------------------------------------------------------------------------- notes


def told(result: Hardened, settings: Settings, shown: str) -> Told:
    """What was kept on purpose, what was fixed (-v) and what remains, with why. The lines
    are made now, so that the result (its documents) need not be kept until they are said."""
    return Told(
        harden.notes(result, settings.keep, shown),
        [
            (
                f"{shown}:{d.finding.line}:{d.finding.column}",
                d.finding.severity,
                f"{d.finding.rule} {d.finding.message}; not fixed: {why}",
            )
            for d, why in result.remaining
        ],
    )


# --------------------------------------------------------------------------- the run


class Run:
    """One invocation's state across its FILE arguments (``paths``, in the order they are
    hardened): the rules' view before and after, the ledgers of host ports that harden's
    collision step keeps (first run and second), and the texts earlier FILE arguments
    changed. Nothing is written and nothing printed."""

    def __init__(self, settings: Settings, paths: Sequence[str] = ()) -> None:
        self.settings = settings
        self.before = Session(settings.check_settings())
        self.after = Session(settings.check_settings())
        self.first = harden.Ledgers()
        self.second = harden.Ledgers()
        #: the YAML documents hardened so far (a file that several FILE arguments read)
        self.done: set[DocKey] = set()
        #: folder -> how many FILE arguments in it are still to come (their host ports meet)
        self.later: dict[str, int] = {}
        #: the texts this run gives the files it changes, by file key: a later FILE argument
        #: reads them as it would once they are written
        self.overlay: dict[str, source.Source] = {}
        for path in paths:
            folder = self.before.folder(path)
            self.later[folder] = self.later.get(folder, 0) + 1

    # ----------------------------------------------------------------- the public calls

    def file(self, path: str) -> Result:
        """One FILE argument: a project of its own (its include: and extends: files too),
        its host ports shared with the other files of its folder. Its target is --target,
        else its configuration's, else (auto) a stack when the file looks like one."""
        folder = self.before.folder(path)
        if folder in self.later:
            self.later[folder] -= 1
        as_stack, read = self._target_of(path)
        if as_stack is not None:
            return self._stack_result(path, as_stack)
        settings = self.settings
        spec = Spec.of_file(
            path,
            settings.env_files,
            settings.read_outside or settings.edit_outside,
            settings.stdin_filename,
        )
        return self.project(spec, path, read)

    def project(self, spec: Spec, named: str | None = None, read: Reader | None = None) -> Result:
        """Harden a project (``named``: the FILE argument it was made of, whose folder's
        files share host ports, and whose file comes first in the result, changed or not;
        ``read``: how its files are read, else from disk as this run leaves them)."""
        texts, results = self._harden_project(spec, named, read)
        files = _files_of(results)
        told_all = [told(r, self.settings, r.source.name) for r in results]
        fixes = {k: v for r in results for k, v in r.fixes.items()}
        del results
        if named is not None:
            key = file_key(named)
            if not any(file_key(f.path) == key for f in files) and key in texts:
                src = texts[key]
                files.insert(0, FileText(named, src, src.text, 0))
        return Result(files, told_all, fixes)

    def chosen(self, spec: Spec, named: str) -> list[harden.Outcome]:
        """The first run on the FILE argument ``named``'s project ``spec``: the rules'
        findings on the originals and the fixes chosen and settled for them (not rendered)."""
        project = spec.load(lenient=True)
        parts = self._parts(project, self.before.project(named), set())
        return self._first_run(parts)

    def changed(self, path: str, src: source.Source, text: str) -> None:
        """A file this run changes: later FILE arguments read its new text."""
        if path != "-":
            self.overlay[file_key(path)] = src._replace(text=text)

    def read(self, path: str, *, outside: bool) -> source.Source:
        """A file as this run leaves it: its new text when an earlier FILE argument changed
        it, else as on disk."""
        found = self.overlay.get(file_key(path)) if path != "-" else None
        if found is not None:
            return found._replace(path=path)
        return source.read(path, outside_ok=outside)

    # ----------------------------------------------------------------- targets

    def _binds_of(self, path: str) -> BindsFor:
        """The addresses the fixes of the file at ``path`` bind to."""
        binds_for = self.settings.binds_for
        if isinstance(binds_for, Binder):
            return binds_for(self.before.config(path))
        return binds_for

    def _target_of(self, path: str) -> tuple[source.Source | None, Reader | None]:
        """How the FILE argument ``path`` is hardened: (its text, when it is a stack:
        --target stack, the configuration's ``target: stack``, or auto on a file that looks
        like one; how its project reads it, when it was read already to tell)."""
        settings = self.settings
        outside = settings.read_outside or settings.edit_outside
        chosen = settings.target or self.before.config(path).target or "auto"
        if chosen == "compose":
            return None, project_reader(settings.stdin, outside) if settings.stdin else None
        if path == "-" and settings.stdin is not None:
            src = settings.stdin
        else:
            src = self.read(path, outside=settings.edit_outside)
        if chosen == "stack" or any(
            stack.looks_like_stack(doc) for doc in document.load_all(src)
        ):
            return src, None
        return None, self._reader(src, outside)

    def _reader(self, src: source.Source, outside: bool) -> Reader:
        """Read files as a project does, the one already read (``src``) from memory and
        those an earlier FILE argument changed as this run leaves them."""
        key = file_key(src.path)

        def read(path: str) -> source.Source:
            if file_key(path) == key:
                return src._replace(path=path)
            return self.read(path, outside=outside)

        return read

    # ----------------------------------------------------------------- a stack

    def _stack_result(self, path: str, src: source.Source) -> Result:
        """``--target stack``: the swarm-published findings' fixes are the chosen swarm
        strategy, applied to exactly the entries whose finding counts, proven, then checked
        again as ``check --target stack`` would."""
        settings = self.settings
        result, the_plan, strategy = self._stack(path, src)
        n = len(the_plan.changed)
        messages = [
            (f"{path}:{m.line}:{m.column}", m.text)
            for m in the_plan.messages
            if m.kept or not settings.quiet
        ]
        if settings.address_options and not settings.quiet:  # not silently: they mean nothing
            chosen = settings.target or self.before.config(path).target or "auto"
            why = "looks like a swarm stack" if chosen == "auto" else "target: stack (configured)"
            messages.insert(0, (src.name, (
                f"{why}: {', '.join(settings.address_options)} ignored, since swarm ignores "
                f"host IPs; the stack strategy {strategy} is used instead; pass --target "
                "compose to bind"
            )))  # fmt: skip
        said = told(result, settings, path)
        fixes = result.fixes
        text = result.text
        del result, the_plan
        return Result([FileText(path, src, text, n)], [said], fixes, strategy, messages)

    def _stack(self, path: str, src: source.Source) -> tuple[Hardened, StackPlan, str]:
        """A stack file hardened with its strategy, proven and checked again (nothing
        printed); the fix of each swarm-published finding it applies to is the whole change."""
        from compose_net.swarm import strategies

        settings = self.settings
        wanted = settings.stack_strategy
        if not settings.strategy_given:
            wanted = self.before.config(path).stack_strategy or wanted
        strategy = next((s for s in strategies.STRATEGIES if s == wanted), None)
        if strategy is None:
            raise ComposeNetError(f"unknown --stack-strategy {wanted!r}")
        allows = self.before.allows(path)
        env = self.before.env(path)
        original = document.load(src)
        raise_all(model.invalid_entries(original))  # every entry must be one Compose accepts
        before = engine.lint(original, self.before)
        published = _published(before)
        the_plan = strategies.plan(
            original, strategy, allows=allows, network=settings.stack_network, only=published
        )
        stacked = strategies.apply(original, the_plan)
        if stacked.text != src.text:
            harden.check_schema(original, stacked.document, "stack", env)
        after = engine.lint(stacked.document, self.after)
        again = strategies.plan(
            stacked.document,
            strategy,
            allows=allows,
            network=settings.stack_network,
            only=_published(after),
        )
        strategies.refuse_second_run(again, path)
        outcome = harden.Outcome(before)
        change = _change(src.text, stacked.text)
        if change is not None:
            for d in before.diagnostics:
                if d.entry is not None and id(d.entry.node) in published:
                    outcome.edits[id(d.entry.node)] = (d.entry.node, [change])
        result = Hardened(outcome, stacked.text, stacked.document)
        result.fixes = harden.finding_fixes(outcome)
        harden.recheck([result], [after], settings.permissions, self.second)
        return result, the_plan, strategy

    # ----------------------------------------------------------------- a project

    def _harden_project(
        self, spec: Spec, named: str | None, read: Reader | None = None
    ) -> tuple[dict[str, source.Source], list[Hardened]]:
        """Lint, fix, prove and lint again one project (``named``: the FILE argument it was
        made of, whose folder's files share host ports); nothing is written here. Returns
        the texts the project read (by :func:`file_key`) and the results.

        The first run's nodes and findings are let go once its results are proven and what
        is to be said about them is kept: the second run reads the edited texts alone."""
        settings = self.settings
        if read is None and self.overlay:  # files an earlier FILE argument changed are read
            read = functools.partial(self.read, outside=spec.outside)  # as it leaves them
        project = spec.load(lenient=True) if read is None else spec.load(lenient=True, read=read)
        skip = set(self.done)
        if named is None:
            before_ports, after_ports = None, None
        else:
            before_ports, after_ports = self.before.project(named), self.after.project(named)
        shared = before_ports or SharedPorts(key=project.directory)
        parts = self._parts(project, shared, skip)
        keys = [doc_key(doc) for doc, _ in parts]
        texts = {file_key(p.document.path): p.document.source for p in project.documents}
        counts: dict[str, int] = {}
        for key in [file_key(p.document.path) for p in project.documents]:
            counts[key] = counts.get(key, 0) + 1
        envs: dict[str, Mapping[str, str] | None] = {}
        for key, env in [(file_key(doc.path), part.env) for doc, part in parts]:
            envs.setdefault(key, env)
        files, directory, env = project.files, project.directory, project.env
        del project  # its documents are the parts'
        outcomes = self._first_run(parts)
        parts.clear()  # the outcomes hold what is needed of the originals until proven
        if named is None or not self.later.get(self.before.folder(named)):
            # no later file meets these host ports: the first run's ledgers of them can go
            self.first.before.pop(shared.key, None)
            self.first.after.pop(shared.key, None)
            if named is not None:
                self.before.projects.pop(self.before.folder(named), None)
        del shared, before_ports

        results = _apply(outcomes, counts, envs, settings.keep)
        _refuse_outside(directory, files, results, settings.edit_outside)
        again = _reload(files, directory, env, texts, results)
        again_parts = self._parts(again, after_ports or SharedPorts(key=directory), skip)
        by_path = {doc_key(doc): (doc, part) for doc, part in again_parts}
        del again, again_parts
        missing = [r for r in results if _key(r) not in by_path]
        if missing:
            raise SafetyError(
                "the hardened project no longer publishes the same ports; nothing was written",
                path=missing[0].path,
            )
        after = []
        for r in results:
            doc, part = by_path.pop(_key(r))
            after.append(engine.lint(doc, self.after, part))
        by_path.clear()
        for r, a in zip(results, after):
            r.document = a.doc
        harden.recheck(results, after, settings.permissions, self.second)
        self.done.update(keys)
        return texts, results

    def _parts(
        self, project: Project, shared: SharedPorts, skip: set[DocKey]
    ) -> list[tuple[Document, Part]]:
        """The project's documents, each with the ports it declares that the project
        publishes (its feeds), as check reads them: a document with no such ports is still
        checked again (its host networking, say) though nothing in it is rewritten; a
        document a later one of its file follows has its ports bound too; none of ``skip``
        (hardened already in this run); a file read only for an ``extends`` that publishes
        nothing is left out."""
        scope = project.scope()
        first = _first_definitions(project)
        out: list[tuple[Document, Part]] = []
        for part in project.documents:
            doc = part.document
            path = doc.path
            feeds = scope.get(doc_key(doc), {})
            followed = project.followed(doc)
            if doc_key(doc) in skip:
                continue
            if part.how == "extends" and not feeds and not followed:
                continue  # read for one service that publishes nothing, as check skips it
            frozen = {name: frozenset(s) for name, s in feeds.items()}
            binds = _project_binds(first, self._binds_of(path), frozen, path)
            out.append((doc, Part(doc, part.env, shared, frozen, binds, followed)))
        return out

    def _first_run(self, parts: Sequence[tuple[Document, Part]]) -> list[harden.Outcome]:
        """The rules' findings on the originals and the fixes chosen and settled for them."""
        permissions = self.settings.permissions
        # every entry must be one Compose accepts: all that are not, of every file, at once
        raise_all([e for doc, _ in parts for e in model.invalid_entries(doc)])
        linted = harden.lint_all(parts, self.before)
        outcomes = [harden.choose(item, permissions) for item in linted]
        harden.settle(outcomes, self.first, permissions)
        return outcomes


def planned_fixes(paths: Sequence[str], settings: Settings) -> dict[Finding, FindingFix]:
    """What ``harden`` with ``settings`` would do to each FILE argument, as the fixes of the
    findings of its first run (those it applies with their edits), writing and printing
    nothing; a file harden would refuse contributes nothing (check reports its errors)."""
    run = Run(settings, paths)
    out: dict[Finding, FindingFix] = {}
    for path in paths:
        try:
            out.update(run.file(path).fixes)
        except ComposeNetError:
            continue
    return out


# --------------------------------------------------------------------------- helpers


def _first_definitions(project: Project) -> dict[str, Service]:
    """Each project service's first definition (what places it on a node)."""
    first: dict[str, Service] = {}
    for part in project.documents:
        if part.how != "extends":
            for service in part.document.services:
                first.setdefault(service.name, service)
    return first


def _project_binds(
    first: Mapping[str, Service],
    binds_for: BindsFor,
    feeds: Mapping[str, frozenset[str]],
    path: str,
) -> BindsFor:
    """A declaring service's binds: those of the project's services its ports feed.

    Each project service is placed by its first definition (``first``); a base several
    services extend is edited once, so they must agree on the address.
    """

    def for_service(service: Service) -> Binds:
        names = sorted(feeds.get(service.name, ())) or [service.name]
        found = {binds_for(first.get(name, service)) for name in names}
        if len(found) > 1:
            where = service.position
            raise UnsupportedSyntax(
                f"services.{service.name}.ports is published by services {', '.join(names)}, "
                "which bind to different addresses; give each its own ports",
                path=path,
                line=where.line,
                column=where.column,
            )
        return found.pop()

    return for_service


def _apply(
    outcomes: list[harden.Outcome],
    counts: Mapping[str, int],
    envs: Mapping[str, Mapping[str, str] | None],
    keep: harden.Keep,
) -> list[Hardened]:
    """Each file's fixes spliced and proven, all its YAML documents at once (``counts``:
    how many each file has, ``envs``: the variables it is read with, by file key); the
    results in the order of ``outcomes``, which this takes (:func:`harden.apply_file`)."""
    by_file: dict[str, list[int]] = {}
    for i, key in enumerate([file_key(o.doc.path) for o in outcomes]):
        by_file.setdefault(key, []).append(i)
    groups = [(key, indexes, [outcomes[i] for i in indexes]) for key, indexes in by_file.items()]
    outcomes.clear()
    results: dict[int, Hardened] = {}
    for key, indexes, group in groups:
        done = harden.apply_file(group, envs[key], counts.get(key, 1), keep)
        results.update(zip(indexes, done))
    return [results[i] for i in range(len(results))]


def _refuse_outside(
    directory: str, files: Sequence[str], results: Sequence[Hardened], edit_outside: bool
) -> None:
    """Files outside the project directory that include: and extends: name are edited only
    with --edit-outside (a named file's symlink is the writer's to judge)."""
    from compose_net import paths

    # a file named on the command line is the user's to edit
    fence = paths.Fence(None if edit_outside else directory, files, paths.EDIT_OPTION)
    for result in results:
        path = result.path
        if not result.changed or fence.refusal(path) is None:
            continue
        where = result.first_fix
        raise ComposeNetError(
            f"this file is outside the project directory {directory}: pass "
            "--edit-outside to harden it too; nothing was written",
            path=result.source.name,
            line=where.line if where else None,
            column=where.column if where else None,
        )


def _key(result: Hardened) -> DocKey:
    return (file_key(result.path), result.index)


def _files_of(results: Sequence[Hardened]) -> list[FileText]:
    out: dict[str, FileText] = {}
    for r in results:
        key = file_key(r.path)
        before = out.get(key)
        applied = r.fixed + (before.applied if before is not None else 0)
        out[key] = FileText(r.path, r.source, r.text, applied)
    return list(out.values())


def _reload(
    files: Sequence[str],
    directory: str,
    env: Mapping[str, str] | None,
    texts: Mapping[str, source.Source],
    results: Sequence[Hardened],
) -> Project:
    """The project (its ``files``, ``directory`` and variables) read again with the
    hardened texts; ``texts``: the texts it read before, by :func:`file_key`."""
    known = dict(texts)
    for r in results:
        known[file_key(r.path)] = r.source._replace(text=r.text)

    def read(path: str) -> source.Source:
        found = known.get(file_key(path))
        return source.read(path) if found is None else found._replace(path=path)

    return load_files(files, directory, env, read=read, lenient=True)


def _change(old: str, new: str) -> Edit | None:
    """The one edit that makes ``new`` of ``old``: what lies between their common start and
    their common end (None when they are equal)."""
    if old == new:
        return None
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return Edit(start, len(old) - end, new[start : len(new) - end])


def _published(linted: engine.Linted) -> set[int]:
    """The entries whose swarm-published finding counts: the strategy's fixes apply to them."""
    return {
        id(d.entry.node)
        for d in linted.diagnostics
        if d.finding.rule == "CN005" and d.entry is not None and harden.counts(d)
    }
