"""``compose-net harden``: apply check's fixes, prove the result, write it, check it again.

Exit codes as ``ruff check --fix``: 0 when nothing remains that ``check`` would report on
what harden leaves behind; 1 when something remains (each printed with why it was not
fixed) or, with ``--check``/``--diff``, when a file would change; 2 on errors, with
nothing written. What harden could fix is still written when something else remains.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from compose_net import document, engine, harden, model, printable, report, source
from compose_net.commands import inputs
from compose_net.document import Document, Service
from compose_net.engine import Part, Session, Settings
from compose_net.errors import ComposeNetError, SafetyError, raise_all
from compose_net.harden import Hardened, Permissions
from compose_net.policy.allowances import Allow
from compose_net.policy.binds import Binds, BindsFor, NodeAddresses
from compose_net.project import DocKey, Project, Spec, doc_key, file_key, load_files
from compose_net.report import Report
from compose_net.rewrite import UnsupportedSyntax
from compose_net.rules.context import Project as SharedPorts


class WriteBack(enum.Enum):
    """What happens to a hardened text (black's names)."""

    YES = "write"  # in place, or to --output
    CHECK = "check"  # write nothing; exit 1 if it would change
    DIFF = "diff"  # print a unified diff; write nothing
    STDOUT = "stdout"  # print the hardened text

    @property
    def writes(self) -> bool:
        return self is WriteBack.YES

    @classmethod
    def from_options(cls, *, check: bool, diff: bool, to_stdout: bool) -> WriteBack:
        """``--diff`` wins over ``--check``, which wins over ``--stdout``."""
        if diff:
            return cls.DIFF
        if check:
            return cls.CHECK
        if to_stdout:
            return cls.STDOUT
        return cls.YES


@dataclass(frozen=True)
class Options:
    binds_for: BindsFor
    allows: Sequence[Allow] = ()
    rewrite_public: bool = False
    remap_conflicts: bool = False
    write_back: WriteBack = WriteBack.YES
    #: with WriteBack.YES: write here instead of in place (one input file)
    output: str | None = None
    target: str = "compose"
    quiet: bool = False
    verbose: bool = False
    env_files: Sequence[str] = field(default_factory=tuple)
    use_config: bool = True
    #: which addresses each service's node has, when an inventory or resolver tells
    addresses_for: Callable[[Document], NodeAddresses] | None = None
    #: --target stack: how published ports are taken off public interfaces (compose_net.swarm)
    stack_strategy: str = "unpublish"
    stack_network: str = "internal"
    #: a project (-f): also edit files outside its directory
    edit_outside: bool = False
    #: read the files include: and extends: name outside the project directory
    read_outside: bool = False
    #: print what remains after the fixes (``check --fix`` reports it in its own format)
    report_remaining: bool = True

    @property
    def permissions(self) -> Permissions:
        return Permissions(self.rewrite_public, self.remap_conflicts)

    def settings(self, *, binds: bool = True) -> Settings:
        """The settings ``check`` would use for the same files, plus the fixes' addresses."""
        return Settings(
            target="stack" if self.target == "stack" else "compose",
            allows=self.allows,
            env_files=self.env_files,
            use_config=self.use_config,
            addresses_for=self.addresses_for,
            binds_for=self.binds_for if binds else None,
        )


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


def main(
    files: Sequence[str],
    *,
    project_files: Sequence[str] = (),
    project_directory: str | None = None,
    read_outside: bool = False,
    edit_outside: bool = False,
    binds: Sequence[str] = (),
    bind_var: str | None = None,
    allows: Sequence[str] = (),
    rewrite_public: bool = False,
    output: str | None = None,
    to_stdout: bool = False,
    diff: bool = False,
    check: bool = False,
    target: str = "compose",
    env_files: Sequence[str] = (),
    no_config: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    resolve: str | None = None,
    interface: str | None = None,
    cidr: str | None = None,
    inventory: str | None = None,
    node: str | None = None,
    docker_image: str | None = None,
    remap_conflicts: bool = False,
    stack_strategy: str | None = None,
    stack_network: str | None = None,
    report_remaining: bool = True,
) -> int:
    """The command line's ``harden``, with the options as click parses them: settle which
    files (or project), where the addresses come from and what happens to the result."""
    from compose_net import config, resolvers

    config.announce(verbose)

    outside = read_outside or edit_outside
    project = inputs.project_spec(files, project_files, project_directory, env_files, outside)
    if project is not None and target == "stack":
        if project.files or project.directory:
            raise ComposeNetError("--target stack hardens files one by one: name them as arguments")
        project = None
    paths = inputs.default_files(files) if project is None else []
    address_options = [
        flag
        for flag, given in (
            ("--bind", bool(binds)),
            ("--bind-var", bind_var is not None),
            ("--rewrite-public", rewrite_public),
            ("--resolve", resolve is not None),
            ("--inventory", inventory is not None),
            ("--node", node is not None),
            ("--remap-conflicts", remap_conflicts),
        )
        if given
    ]
    stack_usage(target, stack_strategy, stack_network, address_options)
    configured = inputs.configuration(no_config, paths, project)
    if target == "stack":
        binds_for = resolvers.static(Binds(var="UNUSED"))
        stack_strategy = stack_strategy or configured.get("stack-strategy")
    else:
        binds_for = resolvers.from_options(
            binds=binds,
            bind_var=bind_var,
            resolve=resolve,
            inventory=inventory,
            node=node,
            interface=interface,
            cidr=cidr,
            docker_image=docker_image,
            internal=() if no_config else None,
            config=configured,
        )
    opts = Options(
        binds_for=binds_for,
        allows=[Allow.parse(a) for a in allows],
        rewrite_public=rewrite_public,
        remap_conflicts=remap_conflicts,
        write_back=WriteBack.from_options(check=check, diff=diff, to_stdout=to_stdout),
        output=output,
        target=target,
        quiet=quiet,
        verbose=verbose,
        env_files=env_files,
        use_config=not no_config,
        addresses_for=(
            resolvers.node_addresses_for(binds_for)
            if (resolve is not None or inventory is not None) and target != "stack"
            else None
        ),
        stack_strategy=stack_strategy or "unpublish",
        stack_network=stack_network or "internal",
        edit_outside=edit_outside,
        read_outside=read_outside,
        report_remaining=report_remaining,
    )
    code = run_project(project, opts) if project is not None else run(paths, opts)
    if not quiet and code != report.EXIT_ERROR:  # after the work: an error stays one line
        inputs.say_unread_overrides(files, project_files)
    return code


def check_schema(
    original: Document | Callable[[], Document],
    new_doc: Document,
    target: str,
    env: Mapping[str, str] | None,
) -> None:
    """The edited file must pass the target's schema; an input that already fails is bad
    input (exit 2, "not a valid ... file"), not a bad edit (a failed safety check).
    ``original``: the original document, or how to read it again."""
    from compose_net import schema

    if not callable(original):  # an override's ports: null stays dropped
        new_doc.kept_ports |= original.kept_ports
    errors = [
        e for e in schema.check_document(new_doc, target=target, env=env or {})
        if not new_doc.null_ports_kept(e.line, e.column)
    ]
    if not errors:
        return
    if callable(original):
        original = original()
        original.kept_ports |= new_doc.kept_ports
    before = [
        e for e in schema.check_document(original, target=target, env=env or {})
        if not original.null_ports_kept(e.line, e.column)
    ]
    if before:  # each problem of the input, as validate lists them
        raise_all(
            [
                ComposeNetError(
                    f"not a valid {target} file ({e.message}); nothing was written",
                    path=original.path,
                    line=e.line,
                    column=e.column,
                )
                for e in sorted(before, key=lambda e: (e.line or 0, e.column or 0))
            ]
        )
    first = errors[0]
    raise SafetyError(
        f"the edited file fails the {target} schema ({first.message}); nothing was written",
        path=original.path,
        line=first.line,
        column=first.column,
    )


# --------------------------------------------------------------------------- output


def _where(path: str, line: int, column: int) -> str:
    return f"{path}:{line}:{column}"


def notes(result: Hardened, opts: Options, shown: str) -> list[tuple[str, str]]:
    """What the first run has to say about a file, as (where, message) notes: what was kept
    on purpose, what was moved and, with -v, what was fixed and what is fine as it is."""
    outcome = result.outcome
    if outcome is None:
        return result.notes
    out: list[tuple[str, str]] = []
    linted = outcome.linted
    for d in linted.diagnostics:
        f = d.finding
        if (
            d.allowance is not None
            and d.allowance.kind == "allow"
            and (opts.verbose or not opts.quiet)
        ):
            out.append(
                (
                    _where(shown, f.line, f.column),
                    f"{_subject(f.message)} stays public: {d.allowance.reason}",
                )
            )
    for entry, message in outcome.moves:
        if not opts.quiet:
            out.append((_where(shown, entry.position.line, entry.position.column), message))
    if opts.verbose:
        for fix in result.applied:
            pos = fix.entry.position
            out.append(
                (
                    _where(shown, pos.line, pos.column),
                    f"services.{fix.entry.service}.ports[{fix.entry.index}] fixed: {fix.title}",
                )
            )
        out.extend(_kept(linted, shown))
    return out


def announce(result: Hardened, opts: Options, shown: str) -> None:
    """What was kept on purpose, what was fixed (-v) and what remains, with why."""
    for where, message in notes(result, opts, shown):
        report.note(where, message)
    if not opts.report_remaining:
        return
    for d, why in result.remaining:
        f = d.finding
        report.finding(
            _where(shown, f.line, f.column), f.severity, f"{f.rule} {f.message}; not fixed: {why}"
        )


#: why an entry no rule reports is left as it is, by its exposure as written
KEPT = {
    "private": "bound to the internal address {ip}",
    "loopback": "bound to the loopback address {ip}",
    "variable": "its host IP ({ip}) is safe with the variables unset, empty and as set here",
}


def _kept(linted: engine.Linted, shown: str) -> list[tuple[str, str]]:
    """-v: every entry left alone because nothing is wrong with it, and why."""
    reported = {id(d.entry.node) for d in linted.diagnostics if d.entry is not None}
    out: list[tuple[str, str]] = []
    for item in linted.context.entries:
        entry = item.entry
        why = KEPT.get(item.exposure or "")
        if item.base is not None or id(entry.node) in reported or why is None:
            continue
        pos = entry.position
        out.append(
            (
                _where(shown, pos.line, pos.column),
                f"{item.label} {item.display} is kept: " + why.format(ip=entry.written_host_ip),
            )
        )
    return out


def _subject(message: str) -> str:
    """The entry a finding's message is about (its first word: services.x.ports[i])."""
    return message.split(" ", 1)[0]


def emit(
    path: str,
    src: source.Source,
    text: str,
    opts: Options,
    rep: Report,
    what: str,
    shown: str | None = None,
    *,
    written: bool = False,
) -> None:
    """Write (unless ``written`` already), print or diff one file's result as the options
    say, and count it."""
    changed = text != src.text
    wb = opts.write_back
    if wb is WriteBack.DIFF:
        if changed:
            diff = printable.diff(report.unified_diff(path, src.text, text))
            printable.raw(sys.stdout).write(diff)
    elif wb is WriteBack.STDOUT or (path == "-" and wb is WriteBack.YES):
        sys.stdout.buffer.write(src.encode(text))
        sys.stdout.flush()
    elif wb is WriteBack.YES and opts.output is not None:
        source.write_atomic(opts.output, src.encode(text), outside_ok=opts.edit_outside)
    elif wb is WriteBack.YES and changed and not written:
        source.write_atomic(path, src.encode(text), outside_ok=opts.edit_outside)
    elif wb is WriteBack.CHECK and opts.output is not None:  # refused as the real run would be
        source.check_all([opts.output], outside_ok=opts.edit_outside)
    elif wb is WriteBack.CHECK and changed and not written and path != "-":
        source.check_all([path], outside_ok=opts.edit_outside)
    if not changed:
        rep.unchanged += 1
        return
    rep.changed += 1
    if not opts.quiet:
        verb = "hardened" if wb is WriteBack.YES else "would harden"
        report.info(f"{verb} {shown or path} {what}")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# --------------------------------------------------------------------------- files


@dataclass
class _Run:
    """State across the files of one run: the rules' view before and after, and the
    ledgers of host ports that harden's collision step keeps (first run and second)."""

    opts: Options
    before: Session
    after: Session
    first: harden.Ledgers = field(default_factory=harden.Ledgers)
    second: harden.Ledgers = field(default_factory=harden.Ledgers)
    #: the YAML documents hardened so far (a file that several FILE arguments read)
    done: set[DocKey] = field(default_factory=set)
    #: folder -> how many FILE arguments in it are still to come (their host ports meet)
    later: dict[str, int] = field(default_factory=dict)


def _validator(target: str, env: Mapping[str, str] | None) -> harden.Validate:
    def validate(original: Callable[[], Document], new_doc: Document) -> None:
        check_schema(original, new_doc, target, env)

    return validate


def harden_file(path: str, run: _Run, rep: Report) -> None:
    """One FILE argument: a project of its own (its include: and extends: files too), its
    host ports shared with the other files of its folder."""
    opts = run.opts
    if opts.target == "stack":
        _harden_stack(path, source.read(path, outside_ok=opts.edit_outside), run, rep)
        return
    spec = Spec((path,), None, tuple(opts.env_files), opts.read_outside or opts.edit_outside)
    texts, results = _harden_project(spec, run, path)
    for r in results:
        announce(r, opts, r.path)
        rep.exposed += len(r.remaining)
    files = _files_of(results)
    named = file_key(path)
    if not any(file_key(f.path) == named for f in files):
        src = texts[named]
        files.insert(0, _File(path, src, src.text, 0))
    one = opts.output is not None or opts.write_back is WriteBack.STDOUT or path == "-"
    if one:
        other = next(
            (f for f in files if f.text != f.source.text and file_key(f.path) != named), None
        )
        if other is not None:
            raise ComposeNetError(
                f"{other.path} would change too: -o/--output, --stdout and standard input "
                "take the changes of one file; harden in place or with --diff"
            )
        files = [f for f in files if file_key(f.path) == named]
    shown = opts.output if opts.output is not None and opts.write_back is WriteBack.YES else path
    if not one and opts.write_back is WriteBack.YES:
        source.write_all(
            [(f.path, f.source.encode(f.text)) for f in files if f.text != f.source.text],
            outside_ok=opts.edit_outside,
        )
    elif not one and opts.write_back is WriteBack.CHECK:  # refused as the real run would be
        source.check_all(
            [f.path for f in files if f.text != f.source.text], outside_ok=opts.edit_outside
        )
    for f in files:
        what = f"({_count(f.applied, 'port')})"
        here = shown if file_key(f.path) == named else f.path
        emit(f.path, f.source, f.text, opts, rep, what, here, written=not one)


def _harden_stack(path: str, src: source.Source, run: _Run, rep: Report) -> None:
    """``--target stack``: the swarm-published findings' fixes are the chosen swarm strategy
    (compose_net.swarm.strategies), applied to exactly the entries whose finding counts,
    proven, then checked again as ``check --target stack`` would."""
    from compose_net.swarm import strategies

    opts = run.opts
    strategy = next((s for s in strategies.STRATEGIES if s == opts.stack_strategy), None)
    if strategy is None:
        raise ComposeNetError(f"unknown --stack-strategy {opts.stack_strategy!r}")
    allows = run.before.allows(path)
    env = run.before.env(path)
    original = document.load(src)
    raise_all(model.invalid_entries(original))  # every entry must be one Compose accepts
    before = engine.lint(original, run.before)
    the_plan = strategies.plan(
        original, strategy, allows=allows, network=opts.stack_network, only=_published(before)
    )
    stacked = strategies.apply(original, the_plan)
    if stacked.text != src.text:
        check_schema(original, stacked.document, "stack", env)
    after = engine.lint(stacked.document, run.after)
    again = strategies.plan(
        stacked.document,
        strategy,
        allows=allows,
        network=opts.stack_network,
        only=_published(after),
    )
    strategies.refuse_second_run(again, path)
    result = Hardened(harden.Outcome(before), stacked.text, stacked.document)
    harden.recheck([result], [after], opts.permissions, run.second)
    for m in the_plan.messages:
        if m.kept or not opts.quiet:
            report.note(f"{path}:{m.line}:{m.column}", m.text)
    announce(result, opts, path)
    rep.exposed += len(result.remaining)
    n = len(the_plan.changed)
    emit(
        path,
        src,
        stacked.text,
        opts,
        rep,
        f"for docker stack deploy with {strategy} ({_count(n, 'port')})",
    )


def _published(linted: engine.Linted) -> set[int]:
    """The entries whose swarm-published finding counts: the strategy's fixes apply to them."""
    return {
        id(d.entry.node)
        for d in linted.diagnostics
        if d.finding.rule == "CN005" and d.entry is not None and harden.counts(d)
    }


def _sessions(opts: Options) -> _Run:
    return _Run(opts, Session(opts.settings()), Session(opts.settings()))


def run(paths: Sequence[str], opts: Options) -> int:
    rep = Report(check=opts.write_back in (WriteBack.CHECK, WriteBack.DIFF))
    if opts.output is not None and len(paths) != 1:
        report.error("-o/--output takes exactly one input file")
        return report.EXIT_ERROR
    state = _sessions(opts)
    for path in paths:
        folder = state.before.folder(path)
        state.later[folder] = state.later.get(folder, 0) + 1
    for path in paths:
        state.later[state.before.folder(path)] -= 1
        try:
            harden_file(path, state, rep)
        except ComposeNetError as e:
            rep.failure(e.with_path(path))
    if not opts.quiet and len(paths) > 1:
        report.info(f"{rep.changed} changed, {rep.unchanged} unchanged, {rep.failed} failed")
    _summary(rep, opts)
    return rep.return_code


def _summary(rep: Report, opts: Options) -> None:
    if rep.exposed and not rep.failed and opts.report_remaining:
        one = rep.exposed == 1
        report.info(
            f"compose-net: {_count(rep.exposed, 'finding')} "
            + (
                "remains; `compose-net check` fails on it until it is"
                if one
                else "remain; `compose-net check` fails on them until they are"
            )
            + " fixed or allowed"
        )


# --- a project's files (-f, COMPOSE_FILE, compose.yaml and its override) -----------------------


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


def _parts(
    project: Project, opts: Options, shared: SharedPorts, skip: set[DocKey]
) -> list[tuple[Document, Part]]:
    """The project's documents, each with the ports it declares that the project publishes
    (its feeds), as check reads them: a document with no such ports is still checked again
    (its host networking, say) though nothing in it is rewritten; a document a later one of
    its file follows has its ports bound too; none of ``skip`` (hardened already in this
    run); a file read only for an ``extends`` that publishes nothing is left out."""
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
        binds = _project_binds(first, opts.binds_for, frozen, path)
        out.append((doc, Part(doc, part.env, shared, frozen, binds, followed)))
    return out


def _apply(
    outcomes: list[harden.Outcome],
    counts: Mapping[str, int],
    envs: Mapping[str, Mapping[str, str] | None],
    keep: Callable[[Hardened], None],
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
        validate = _validator("compose", envs[key])
        done = harden.apply_file(group, validate, counts.get(key, 1), keep)
        results.update(zip(indexes, done))
    return [results[i] for i in range(len(results))]


def _refuse_outside(
    directory: str, files: Sequence[str], results: Sequence[Hardened], opts: Options
) -> None:
    """Files outside the project directory that include: and extends: name are edited only
    with --edit-outside (a named file's symlink is the writer's to judge)."""
    if opts.edit_outside:
        return
    root = os.path.realpath(directory)
    named = {file_key(path) for path in files}
    for result in results:
        path = result.path
        if not result.changed or path == "-" or file_key(path) in named:
            continue  # a file named on the command line is the user's to edit
        real = os.path.realpath(path)
        if os.path.commonpath([real, root]) == root:
            continue
        where = result.first_fix
        raise ComposeNetError(
            f"this file is outside the project directory {directory}: pass "
            "--edit-outside to harden it too; nothing was written",
            path=path,
            line=where.line if where else None,
            column=where.column if where else None,
        )


def run_project(spec: Spec, opts: Options) -> int:
    """Harden a project: each exposed port the merged project publishes, in the file that
    declares it; every file is proven before any is written."""
    rep = Report(check=opts.write_back in (WriteBack.CHECK, WriteBack.DIFF))
    if opts.output is not None or opts.write_back is WriteBack.STDOUT:
        report.error("-o/--output and --stdout take one file, not a project (--diff shows changes)")
        return report.EXIT_ERROR
    state = _sessions(opts)
    try:
        _, results = _harden_project(spec, state, None)
    except ComposeNetError as e:
        if e.path is None:
            raise  # no project to harden: a usage error
        rep.failure(e)
        return rep.return_code
    for r in results:
        announce(r, opts, r.path)
        rep.exposed += len(r.remaining)
    files = _files_of(results)
    writes = opts.write_back is WriteBack.YES
    try:  # every file or none (source.write_all)
        if writes:
            source.write_all(
                [
                    (f.path, f.source.encode(f.text))
                    for f in files
                    if f.text != f.source.text and f.path != "-"
                ],
                outside_ok=opts.edit_outside,
            )
        elif opts.write_back is WriteBack.CHECK:  # refused as the real run would be
            source.check_all(
                [f.path for f in files if f.text != f.source.text and f.path != "-"],
                outside_ok=opts.edit_outside,
            )
    except ComposeNetError as e:
        rep.failure(e)
        return rep.return_code
    for f in files:
        what = f"({_count(f.applied, 'port')})"
        emit(f.path, f.source, f.text, opts, rep, what, written=writes)
    if not opts.quiet and len(files) > 1:
        report.info(f"{rep.changed} changed, {rep.unchanged} unchanged, {rep.failed} failed")
    _summary(rep, opts)
    return rep.return_code


def _harden_project(
    spec: Spec, state: _Run, named: str | None
) -> tuple[dict[str, source.Source], list[Hardened]]:
    """Lint, fix, prove and lint again one project (``named``: the FILE argument it was
    made of, whose folder's files share host ports); nothing is written here. Returns the
    texts the project read (by :func:`file_key`) and the results.

    The first run's nodes and findings are let go once its results are proven and what is
    to be said about them is kept: the second run reads the edited texts alone."""
    opts = state.opts
    project = spec.load(lenient=True)
    skip = set(state.done)
    if named is None:
        before_ports, after_ports = None, None
    else:
        before_ports, after_ports = state.before.project(named), state.after.project(named)
    shared = before_ports or SharedPorts(key=project.directory)
    parts = _parts(project, opts, shared, skip)
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
    outcomes = _first_run(parts, state)
    parts.clear()  # the outcomes hold what is needed of the originals until they are proven
    if named is None or not state.later.get(state.before.folder(named)):
        # no later file meets these host ports: the first run's ledgers of them can go
        state.first.before.pop(shared.key, None)
        state.first.after.pop(shared.key, None)
        if named is not None:
            state.before.projects.pop(state.before.folder(named), None)
    del shared, before_ports

    def keep(result: Hardened) -> None:
        result.notes = notes(result, opts, result.path)

    results = _apply(outcomes, counts, envs, keep)
    _refuse_outside(directory, files, results, opts)
    again = _reload(files, directory, env, texts, results)
    again_parts = _parts(again, opts, after_ports or SharedPorts(key=directory), skip)
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
        after.append(engine.lint(doc, state.after, part))
    by_path.clear()
    for r, a in zip(results, after):
        r.document = a.doc
    harden.recheck(results, after, opts.permissions, state.second)
    state.done.update(keys)
    return texts, results


def _first_run(parts: Sequence[tuple[Document, Part]], state: _Run) -> list[harden.Outcome]:
    """The rules' findings on the originals and the fixes chosen and settled for them."""
    opts = state.opts
    # every entry must be one Compose accepts: all that are not, of every file, at once
    raise_all([e for doc, _ in parts for e in model.invalid_entries(doc)])
    linted = harden.lint_all(parts, state.before)
    outcomes = [harden.choose(item, opts.permissions) for item in linted]
    harden.settle(outcomes, state.first, opts.permissions)
    return outcomes


def _key(result: Hardened) -> DocKey:
    return (file_key(result.path), result.index)


class _File(NamedTuple):
    """One file's result: its YAML documents' results together."""

    path: str
    source: source.Source
    text: str
    applied: int


def _files_of(results: Sequence[Hardened]) -> list[_File]:
    out: dict[str, _File] = {}
    for r in results:
        key = file_key(r.path)
        before = out.get(key)
        applied = r.fixed + (before.applied if before is not None else 0)
        out[key] = _File(r.path, r.source, r.text, applied)
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


# --- end of projects ------------------------------------------------------------------------------
