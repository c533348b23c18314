"""``compose-net harden``: bind exposed ports to internal addresses, proven before writing."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from compose_net import config as configuration
from compose_net import document, envfile, harden, printable, report, source, stack
from compose_net.config import Allow
from compose_net.document import Document, Service
from compose_net.errors import ComposeNetError, SafetyError
from compose_net.harden import Binds, BindsFor, Decision
from compose_net.project import Project, ProjectFile, Spec, file_key, load_files
from compose_net.report import Report
from compose_net.rewrite import UnsupportedSyntax


@dataclass(frozen=True)
class Options:
    binds_for: BindsFor
    allows: Sequence[Allow] = ()
    rewrite_public: bool = False
    output: str | None = None
    stdout: bool = False
    diff: bool = False
    check: bool = False
    target: str = "compose"
    quiet: bool = False
    verbose: bool = False
    env_files: Sequence[str] = field(default_factory=tuple)
    use_config: bool = True
    #: changes each file's plan before it is applied (port collisions: resolvers.conflicts)
    adjust: Callable[[Document, harden.Plan], None] | None = None
    #: --target stack: how published ports are taken off public interfaces (compose_net.swarm)
    stack_strategy: str = "unpublish"
    stack_network: str = "internal"
    #: a project (-f): also edit files outside its directory
    edit_outside: bool = False


def _where(path: str, d: Decision) -> str:
    return f"{path}:{d.entry.position.line}:{d.entry.position.column}"


def _label(d: Decision) -> str:
    return f"services.{d.entry.service}.ports[{d.entry.index}]"


def _validator(
    target: str, env: Mapping[str, str], original: source.Source
) -> Callable[[Document], None]:
    """The schema check of a result, as ``harden_text`` calls it."""

    def validate(doc: Document) -> None:
        _check_schema(original, doc, target, env)

    return validate


def _announce(path: str, result: harden.Result, opts: Options) -> None:
    for d in result.plan.decisions:
        if d.action == "keep-public":
            report.warn(
                _where(path, d),
                f"{_label(d)} stays bound to the public address {d.old_ip} "
                "(pass --rewrite-public to rewrite it, or allow it)",
            )
        elif d.action == "allowed":
            report.note(_where(path, d), f"{_label(d)} stays public: {d.note}")
        elif d.action == "rewrite" and opts.verbose:
            old = d.old_ip if d.old_ip else "all interfaces"
            report.note(_where(path, d), f"{_label(d)}: {old} -> {', '.join(d.new_ips)}")


def stack_usage(
    target: str, strategy: str | None, network: str | None, address_options: Sequence[str]
) -> None:
    """Refuse options that mean nothing for the target instead of ignoring them."""
    if target != "stack":
        if strategy is not None or network is not None:
            raise ComposeNetError("--stack-strategy and --stack-network need --target stack")
        return
    if address_options:
        raise ComposeNetError(
            f"{', '.join(address_options)}: swarm ignores host IPs, so no address protects a "
            "stack's ports; choose --stack-strategy unpublish, internal-network or host-mode"
        )
    if network is not None and strategy != "internal-network":
        raise ComposeNetError("--stack-network is for --stack-strategy internal-network")


def _allows_and_env(path: str, opts: Options) -> tuple[list[Allow], Mapping[str, str]]:
    """The allow list (options, then configuration) and the interpolation environment."""
    allows = list(opts.allows)
    if opts.use_config and path != "-":
        allows.extend(configuration.find(path).allows())
    folder = "." if path == "-" else (os.path.dirname(path) or ".")
    return allows, envfile.load(folder, opts.env_files)


def _emit(
    path: str,
    src: source.Source,
    text: str,
    opts: Options,
    rep: Report,
    what: str,
    *,
    written: bool = False,
) -> None:
    """Write (unless ``written`` already), print or diff one file's result as the options
    say, and count it."""
    changed = text != src.text
    if opts.diff:
        if changed:
            diff = printable.diff(report.unified_diff(path, src.text, text))
            printable.raw(sys.stdout).write(diff)
    elif opts.stdout or path == "-":
        sys.stdout.buffer.write(src.encode(text))
        sys.stdout.flush()
    elif opts.output is not None:
        if not opts.check:
            source.write_atomic(opts.output, src.encode(text), outside_ok=opts.edit_outside)
    elif changed and not opts.check and not written:
        source.write_atomic(path, src.encode(text), outside_ok=opts.edit_outside)
    if not changed:
        rep.unchanged += 1
        return
    rep.changed += 1
    if not opts.quiet:
        verb = "would harden" if (opts.check or opts.diff) else "hardened"
        report.info(f"{verb} {path} {what}")


def _harden_stack(path: str, src: source.Source, opts: Options, rep: Report) -> None:
    """``--target stack``: apply a swarm strategy (compose_net.swarm.strategies), proven."""
    from compose_net.swarm import strategies

    strategy = next((s for s in strategies.STRATEGIES if s == opts.stack_strategy), None)
    if strategy is None:
        raise ComposeNetError(f"unknown --stack-strategy {opts.stack_strategy!r}")
    allows, env = _allows_and_env(path, opts)
    result = strategies.harden_stack_text(src, strategy, allows=allows, network=opts.stack_network)
    changed = result.text != src.text
    if changed:
        _check_schema(src, result.document, "stack", env)
    for m in result.plan.messages:
        if m.kept or not opts.quiet:
            report.note(f"{path}:{m.line}:{m.column}", m.text)
    n = len(result.plan.changed)
    _emit(
        path,
        src,
        result.text,
        opts,
        rep,
        f"for docker stack deploy with {strategy} ({n} port{'s' if n != 1 else ''})",
    )


def _check_schema(
    original: source.Source, new_doc: Document, target: str, env: Mapping[str, str]
) -> None:
    """The edited file must pass the target's schema; an input that already fails is bad
    input (exit 2, "not a valid ... file"), not a bad edit (a failed safety check)."""
    from compose_net import schema

    errors = schema.check_document(new_doc, target=target, env=env)
    if not errors:
        return
    before = schema.check_document(document.load(original), target=target, env=env)
    if before:
        first = before[0]
        raise ComposeNetError(
            f"not a valid {target} file ({first.message}); nothing was written",
            path=original.path,
            line=first.line,
            column=first.column,
        )
    first = errors[0]
    raise SafetyError(
        f"the edited file fails the {target} schema ({first.message}); nothing was written",
        path=original.path,
        line=first.line,
        column=first.column,
    )


def harden_file(path: str, opts: Options, rep: Report) -> None:
    src = source.read(path, outside_ok=opts.edit_outside)
    if opts.target == "stack":
        _harden_stack(path, src, opts, rep)
        return
    allows, env = _allows_and_env(path, opts)
    result = harden.harden_text(
        src,
        opts.binds_for,
        allows=allows,
        rewrite_public=opts.rewrite_public,
        validate=_validator(opts.target, env, src),
        adjust=opts.adjust,
    )
    doc = result.document
    assert doc is not None
    _announce(path, result, opts)
    signals = stack.signals(doc)
    if signals:
        report.warn(path, stack.SWARM_WARNING.format(why="; ".join(signals[:3])))
    n = len(result.plan.rewrites)
    _emit(path, src, result.text, opts, rep, f"({n} port{'s' if n != 1 else ''})")


def run(paths: Sequence[str], opts: Options) -> int:
    rep = Report(check=opts.check)
    if opts.output is not None and len(paths) != 1:
        report.error("-o/--output takes exactly one input file")
        return report.EXIT_ERROR
    for path in paths:
        try:
            harden_file(path, opts, rep)
        except ComposeNetError as e:
            rep.failure(e.with_path(path))
    if not opts.quiet and len(paths) > 1:
        report.info(f"{rep.changed} changed, {rep.unchanged} unchanged, {rep.failed} failed")
    return rep.return_code


# --- a project's files (-f, COMPOSE_FILE, compose.yaml and its override) -----------------------


@dataclass(frozen=True)
class _Hardened:
    part: ProjectFile
    result: harden.Result


def _project_binds(
    project: Project, binds_for: BindsFor, feeds: Mapping[str, set[str]], path: str
) -> BindsFor:
    """A declaring service's binds: those of the project's services its ports feed.

    Each project service is placed by its first definition; a base several services
    extend is edited once, so they must agree on the address.
    """
    first: dict[str, Service] = {}
    for part in project.documents:
        if part.how != "extends":
            for service in part.document.services:
                first.setdefault(service.name, service)

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


def _allows(path: str, opts: Options) -> list[Allow]:
    allows = list(opts.allows)
    if opts.use_config and path != "-":
        allows.extend(configuration.find(path).allows())
    return allows


def _harden_parts(project: Project, opts: Options) -> list[_Hardened]:
    """harden_text, with its proof, on every file that declares ports the project publishes."""
    scope = project.scope()
    out: list[_Hardened] = []
    for part in project.documents:
        path = part.document.path
        feeds = scope.get(file_key(path))
        if not feeds:
            continue
        try:
            result = harden.harden_text(
                part.document.source,
                _project_binds(project, opts.binds_for, feeds, path),
                allows=_allows(path, opts),
                rewrite_public=opts.rewrite_public,
                validate=_validator(opts.target, part.env or {}, part.document.source),
                adjust=opts.adjust,
                only=set(feeds),
            )
        except ComposeNetError as e:
            raise e.with_path(path) from None
        out.append(_Hardened(part, result))
    return out


def _changed(h: _Hardened) -> bool:
    return h.result.text != h.part.document.source.text


def _refuse_outside(project: Project, hardened: Sequence[_Hardened], opts: Options) -> None:
    """Files outside the project directory are edited only with --edit-outside."""
    if opts.edit_outside:
        return
    root = os.path.realpath(project.directory)
    for h in hardened:
        path = h.part.document.path
        if not _changed(h) or path == "-":
            continue
        real = os.path.realpath(path)
        if os.path.commonpath([real, root]) == root:
            continue
        first = next(iter(h.result.plan.rewrites), None)
        where = first.entry.position if first is not None else None
        raise ComposeNetError(
            f"this file is outside the project directory {project.directory}: pass "
            "--edit-outside to harden it too; nothing was written",
            path=path,
            line=where.line if where else None,
            column=where.column if where else None,
        )


def _prove_project(project: Project, hardened: Sequence[_Hardened], opts: Options) -> None:
    """The whole project, read again with the new texts, leaves nothing to harden."""
    texts = {file_key(p.document.path): p.document.source for p in project.documents}
    for h in hardened:
        old = h.part.document.source
        texts[file_key(old.path)] = old._replace(text=h.result.text)

    def read(path: str) -> source.Source:
        known = texts.get(file_key(path))
        return source.read(path) if known is None else known._replace(path=path)

    again = load_files(project.files, project.directory, project.env, read=read)
    scope = again.scope()
    for part in again.documents:
        path = part.document.path
        feeds = scope.get(file_key(path))
        if not feeds:
            continue
        binds = _project_binds(again, opts.binds_for, feeds, path)
        second = harden.plan(
            part.document,
            binds,
            allows=_allows(path, opts),
            rewrite_public=opts.rewrite_public,
            only=set(feeds),
        )
        if second.rewrites:
            where = second.rewrites[0].entry.position
            raise SafetyError(
                "a second run over the project would change this file again; nothing was written",
                path=path,
                line=where.line,
                column=where.column,
            )


def run_project(spec: Spec, opts: Options) -> int:
    """Harden a project: each exposed port the merged project publishes, in the file that
    declares it; every file is proven before any is written."""
    rep = Report(check=opts.check)
    if opts.output is not None or opts.stdout:
        report.error("-o/--output and --stdout take one file, not a project (--diff shows changes)")
        return report.EXIT_ERROR
    try:
        project = spec.load()
        hardened = _harden_parts(project, opts)
        _refuse_outside(project, hardened, opts)
        if any(_changed(h) for h in hardened):
            _prove_project(project, hardened, opts)
    except ComposeNetError as e:
        if e.path is None:
            raise  # no project to harden: a usage error
        rep.failure(e)
        return rep.return_code
    for h in hardened:
        path, doc = h.part.document.path, h.part.document
        _announce(path, h.result, opts)
        signals = stack.signals(doc)
        if signals:
            report.warn(path, stack.SWARM_WARNING.format(why="; ".join(signals[:3])))
    writes = not (opts.check or opts.diff)
    try:  # every file or none (source.write_all)
        if writes:
            source.write_all(
                [(h.part.document.path, h.part.document.source.encode(h.result.text))
                 for h in hardened if _changed(h) and h.part.document.path != "-"],
                outside_ok=opts.edit_outside,
            )
    except ComposeNetError as e:
        rep.failure(e)
        return rep.return_code
    for h in hardened:
        n = len(h.result.plan.rewrites)
        doc = h.part.document
        what = f"({n} port{'s' if n != 1 else ''})"
        _emit(doc.path, doc.source, h.result.text, opts, rep, what, written=writes)
    if not opts.quiet and len(hardened) > 1:
        report.info(f"{rep.changed} changed, {rep.unchanged} unchanged, {rep.failed} failed")
    return rep.return_code


# --- end of projects ------------------------------------------------------------------------------
