"""``compose-net harden``: apply check's fixes, prove the result, write it, check it again.

Exit codes as ``ruff check --fix``: 0 when nothing remains that ``check`` would report on
what harden leaves behind; 1 when something remains (each printed with why it was not
fixed) or, with ``--check``/``--diff``, when a file would change; 2 on errors, with
nothing written. What harden could fix is still written when something else remains.

One run is one transaction, whatever the number of FILE arguments: every file's result is
computed and proven first, then every file is written or none (:func:`source.write_all`),
and only then is each "hardened" line printed.
"""

from __future__ import annotations

import enum
import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, cast

from compose_net import document, engine, harden, model, printable, report, source, stack, unit
from compose_net.bounds import Exceeded
from compose_net.commands import inputs
from compose_net.config import Config, Lookup
from compose_net.document import Document, Service
from compose_net.engine import Part, Session, Settings
from compose_net.errors import ComposeNetError, SafetyError, raise_all
from compose_net.findings import Finding, FindingFix
from compose_net.harden import Hardened, Permissions
from compose_net.policy.allowances import Allow
from compose_net.policy.binds import Binds, BindsFor, NodeAddresses
from compose_net.project import DocKey, Project, Reader, Spec, doc_key, file_key, load_files
from compose_net.project import reader as project_reader
from compose_net.report import Report
from compose_net.rewrite import Edit, UnsupportedSyntax
from compose_net.rules.context import Project as SharedPorts

if TYPE_CHECKING:
    from compose_net.commands import options
    from compose_net.swarm.stackplan import StackPlan


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


class Unbound(ComposeNetError):
    """No address to bind a Compose file's ports to (raised when one is first needed)."""


@dataclass(frozen=True)
class Options:
    #: the addresses a file's fixes bind to, by its configuration (None: none given)
    binds_for: BindsFor | Callable[[Config], BindsFor]
    allows: Sequence[Allow] = ()
    rewrite_public: bool = False
    remap_conflicts: bool = False
    write_back: WriteBack = WriteBack.YES
    #: with WriteBack.YES: write here instead of in place (one input file)
    output: str | None = None
    #: --target: "compose", "stack", "auto" or None (the configuration's, else auto)
    target: str | None = None
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
    #: standard input's file name: its folder's configuration, .env and project
    stdin_filename: str | None = None
    #: standard input's text, when it was read already (check's fixes)
    stdin: source.Source | None = None
    #: keep each result's findings with their fixes and edits (check's fixes)
    plan: bool = False
    #: the stack strategy a file's configuration chose, when --stack-strategy did not
    strategy_given: bool = True
    #: print what remains after the fixes (``check --fix`` reports it in its own format)
    report_remaining: bool = True
    #: the run's configuration searches (each folder's said once under -v)
    lookup: Lookup = field(default_factory=Lookup, compare=False, repr=False)
    #: the options given that bind to node addresses (--bind, --resolve, --inventory ...):
    #: what a file hardened as a stack does without, and says so
    address_options: Sequence[str] = field(default_factory=tuple)

    @property
    def permissions(self) -> Permissions:
        return Permissions(self.rewrite_public, self.remap_conflicts)

    def settings(self, *, binds: bool = True) -> Settings:
        """The settings ``check`` would use for the same files, plus the fixes' addresses."""
        fixed = None
        if binds and not isinstance(self.binds_for, Binder):
            fixed = cast(BindsFor, self.binds_for)
        return Settings(
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


def binds_of(opts: Options, session: Session, path: str) -> BindsFor:
    """The addresses the fixes of the file at ``path`` bind to."""
    if isinstance(opts.binds_for, Binder):
        return opts.binds_for(session.config(path))
    return cast(BindsFor, opts.binds_for)


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


def stack_usage(
    target: str | None, strategy: str | None, network: str | None, address_options: Sequence[str]
) -> None:
    """Refuse options that mean nothing for the target instead of ignoring them (with
    --target auto, the stack options are for the files that look like stacks)."""
    if target not in ("stack", "compose"):
        if network is not None and strategy != "internal-network":
            raise ComposeNetError("--stack-network is for --stack-strategy internal-network")
        return
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


def main(asked: options.Harden, lookup: Lookup | None = None) -> int:
    """The command line's ``harden``, with what it asks for as one value: settle which
    files (or project), where the addresses come from and what happens to the result."""
    if lookup is None:  # check --fix passes its own run's
        lookup = Lookup(asked.verbose)

    given, source_of, fixes, target = asked.inputs, asked.node_source, asked.fixes, asked.target
    project = inputs.project_spec(given, edit_outside=asked.edit_outside)
    if project is not None and target == "stack":
        if project.files or project.directory:
            raise ComposeNetError("--target stack hardens files one by one: name them as arguments")
        project = None
    paths = inputs.default_files(given.files) if project is None else []
    address_options = [
        flag
        for flag, named in (
            ("--bind", bool(fixes.binds)),
            ("--bind-var", fixes.bind_var is not None),
            ("--rewrite-public", fixes.rewrite_public),
            ("--resolve", source_of.resolve is not None),
            ("--inventory", source_of.inventory is not None),
            ("--node", source_of.node is not None),
            ("--remap-conflicts", fixes.remap_conflicts),
        )
        if named
    ]
    stack_usage(target, asked.stack_strategy, asked.stack_network, address_options)
    binder = binder_for(fixes.binds, fixes.bind_var, source_of)
    use_config, stdin_filename = not asked.no_config, given.stdin_filename
    if target != "stack":  # an error in the options is one before any file is read
        first = paths[0] if paths else "."
        if project is not None:
            first = project.directory or next(iter(project.files), ".")
        try:
            binder(inputs.configuration(asked.no_config, first, stdin_filename, lookup))
        except Unbound as e:
            if target == "compose":  # else raised when a file that is no stack needs it
                raise ComposeNetError(e.message, path=e.path) from None
    opts = Options(
        binds_for=binder,
        allows=[Allow.parse(a) for a in asked.allows],
        rewrite_public=fixes.rewrite_public,
        remap_conflicts=fixes.remap_conflicts,
        write_back=WriteBack.from_options(
            check=asked.check, diff=asked.diff, to_stdout=asked.to_stdout
        ),
        output=asked.output,
        target=target,
        quiet=asked.quiet,
        verbose=asked.verbose,
        env_files=given.env_files,
        use_config=use_config,
        addresses_for=(
            addresses_for(
                binder, use_config=use_config, stdin_filename=stdin_filename, lookup=lookup
            )
            if source_of.given and target != "stack"
            else None
        ),
        stack_strategy=asked.stack_strategy or "unpublish",
        stack_network=asked.stack_network or "internal",
        edit_outside=asked.edit_outside,
        read_outside=given.read_outside,
        stdin_filename=stdin_filename,
        strategy_given=asked.stack_strategy is not None,
        report_remaining=asked.report_remaining,
        lookup=lookup,
        address_options=tuple(address_options),
    )
    code = run_project(project, opts) if project is not None else run(paths, opts)
    if not asked.quiet and code != report.EXIT_ERROR:  # after the work: an error stays one line
        inputs.say_unread_overrides(given)
    return code


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


def told(result: Hardened, opts: Options, shown: str) -> Callable[[], None]:
    """What was kept on purpose, what was fixed (-v) and what remains, with why: printed
    when called. The lines are made now, so that the result (its documents) need not be
    kept until they are printed, once the run's files are written."""
    said = notes(result, opts, shown)
    remaining = [
        (
            _where(shown, d.finding.line, d.finding.column),
            d.finding.severity,
            f"{d.finding.rule} {d.finding.message}; not fixed: {why}",
        )
        for d, why in result.remaining
        if opts.report_remaining
    ]

    def tell() -> None:
        for where, message in said:
            report.note(where, message)
        for where, severity, message in remaining:
            report.finding(where, severity, message)

    return tell


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


def _told_all(results: Sequence[Hardened], opts: Options, rep: Report) -> Callable[[], None]:
    """:func:`told` for each of ``results``, and the count of what remains."""
    tells = [told(r, opts, r.source.name) for r in results]
    exposed = sum(len(r.remaining) for r in results)

    def tell() -> None:
        for each in tells:
            each()
        rep.exposed += exposed

    return tell


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
    checked: bool = False,
) -> None:
    """Print or diff one file's result as the options say, and count it; with ``--check``,
    refuse what the real run would refuse (unless ``checked`` already). Nothing is written
    here: the run's transaction has written the files (:func:`_commit`)."""
    changed = text != src.text
    wb = opts.write_back
    if wb is WriteBack.DIFF:
        if changed:
            diff = printable.diff(report.unified_diff(src.name, src.text, text))
            printable.raw(sys.stdout).write(diff)
    elif wb is WriteBack.STDOUT or (path == "-" and wb is WriteBack.YES and not opts.output):
        sys.stdout.buffer.write(src.encode(text))
        sys.stdout.flush()
    elif wb is WriteBack.CHECK and opts.output is not None:  # refused as the real run would be
        source.check_all([opts.output], outside_ok=opts.edit_outside)
    elif wb is WriteBack.CHECK and changed and not checked and path != "-":
        source.check_all([path], outside_ok=opts.edit_outside, names={path: src.name})
    if not changed:
        rep.unchanged += 1
        return
    rep.changed += 1
    if not opts.quiet:
        verb = "hardened" if wb is WriteBack.YES else "would harden"
        report.info(f"{verb} {shown or src.name} {what}")


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
    #: the run's transaction: what is to be written, by file key (the first ``was`` kept)
    writes: dict[str, source.Write] = field(default_factory=dict)
    #: the texts this run gives the files it changes, by file key: a later FILE argument
    #: reads them as it would once they are written
    overlay: dict[str, source.Source] = field(default_factory=dict)
    #: every file the run considered for a rewrite, changed or not (their folders are swept
    #: of what interrupted runs left)
    considered: list[str] = field(default_factory=list)
    #: what is printed once the transaction is committed (when it writes)
    outputs: list[Callable[[], None]] = field(default_factory=list)

    def say(self, output: Callable[[], None]) -> None:
        """Print a file's lines now, or, when the run writes, once everything is written."""
        if self.opts.write_back.writes:
            self.outputs.append(output)
        else:
            output()

    def write(self, path: str, data: bytes, was: bytes | None, name: str = "") -> None:
        """Add a file to the transaction (written as a whole with the others, or not);
        ``name``: how errors name it, when not by its path."""
        key = path if was is None else file_key(path)
        before = self.writes.get(key)
        if before is not None:
            was = before.was
        self.writes[key] = source.Write(path, data, was, name)

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


def _validator(target: str, env: Mapping[str, str] | None) -> harden.Validate:
    def validate(original: Callable[[], Document], new_doc: Document) -> None:
        check_schema(original, new_doc, target, env)

    return validate


def harden_file(path: str, run: _Run, rep: Report) -> None:
    """One FILE argument: a project of its own (its include: and extends: files too), its
    host ports shared with the other files of its folder. Its target is --target, else its
    configuration's, else (auto) a stack when the file looks like one."""
    opts = run.opts
    as_stack, read = _target_of(path, run)
    if as_stack is not None:
        _harden_stack(path, as_stack, run, rep)
        return
    spec = Spec.of_file(
        path, opts.env_files, opts.read_outside or opts.edit_outside, opts.stdin_filename
    )
    texts, results = _harden_project(spec, run, path, read)
    files = _files_of(results)
    run.say(_told_all(results, opts, rep))
    del results
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
                f"{other.source.name} would change too: -o/--output, --stdout and standard input "
                "take the changes of one file; harden in place or with --diff"
            )
        files = [f for f in files if file_key(f.path) == named]
    shown = opts.output if opts.output is not None and opts.write_back is WriteBack.YES else path
    if not one and opts.write_back is WriteBack.CHECK:  # refused as the real run would be
        source.check_all(
            [f.path for f in files if f.text != f.source.text],
            outside_ok=opts.edit_outside,
            names={f.path: f.source.name for f in files},
        )
    for f in files:
        if f.path != "-":
            run.considered.append(f.path)
        if f.text != f.source.text and not one:
            run.changed(f.path, f.source, f.text)
            if opts.write_back.writes:
                was = f.source.encode(f.source.text)
                run.write(f.path, f.source.encode(f.text), was, f.source.name)
    if opts.write_back.writes and opts.output is not None:
        run.write(opts.output, files[0].source.encode(files[0].text), None)

    def say() -> None:
        for f in files:
            what = f"({_count(f.applied, 'port')})"
            here = shown if file_key(f.path) == named else f.source.name
            emit(f.path, f.source, f.text, opts, rep, what, here, checked=not one)

    run.say(say)


def _target_of(path: str, run: _Run) -> tuple[source.Source | None, Reader | None]:
    """How the FILE argument ``path`` is hardened: (its text, when it is a stack: --target
    stack, the configuration's ``target: stack``, or auto on a file that looks like one;
    how its project reads it, when it was read already to tell)."""
    opts = run.opts
    outside = opts.read_outside or opts.edit_outside
    chosen = opts.target or run.before.config(path).target or "auto"
    if chosen == "compose":
        return None, project_reader(opts.stdin, outside) if opts.stdin else None
    if path == "-" and opts.stdin is not None:
        src = opts.stdin
    else:
        src = run.read(path, outside=opts.edit_outside)
    if chosen == "stack" or any(stack.looks_like_stack(doc) for doc in document.load_all(src)):
        if opts.address_options and not opts.quiet:  # not silently: they mean nothing here
            why = "looks like a swarm stack" if chosen == "auto" else "target: stack (configured)"
            report.note(src.name, (
                f"{why}: {', '.join(opts.address_options)} ignored, since swarm ignores host "
                f"IPs; the stack strategy {opts.stack_strategy} is used instead; pass --target "
                "compose to bind"
            ))  # fmt: skip
        return src, None
    return None, _reader(src, outside, run)


def _reader(src: source.Source, outside: bool, run: _Run) -> Reader:
    """Read files as a project does, the one already read (``src``) from memory and those
    an earlier FILE argument changed as this run leaves them."""
    key = file_key(src.path)
    other = source.read_anywhere if outside else source.read

    def read(path: str) -> source.Source:
        if file_key(path) == key:
            return src._replace(path=path)
        changed = run.overlay.get(file_key(path)) if path != "-" else None
        return other(path) if changed is None else changed._replace(path=path)

    return read


def _harden_stack(path: str, src: source.Source, run: _Run, rep: Report) -> None:
    """``--target stack``: the swarm-published findings' fixes are the chosen swarm strategy
    (compose_net.swarm.strategies), applied to exactly the entries whose finding counts,
    proven, then checked again as ``check --target stack`` would."""
    opts = run.opts
    result, the_plan, strategy = _stack(path, src, run)
    text = result.text
    if path != "-":
        run.considered.append(path)
    if opts.write_back.writes and opts.output is not None:
        run.write(opts.output, src.encode(text), None)
    elif text != src.text and path != "-" and opts.write_back is not WriteBack.STDOUT:
        run.changed(path, src, text)
        if opts.write_back.writes:
            run.write(path, src.encode(text), src.encode(src.text))
    n = len(the_plan.changed)
    messages = [
        (f"{path}:{m.line}:{m.column}", m.text)
        for m in the_plan.messages
        if m.kept or not opts.quiet
    ]
    tell, exposed = told(result, opts, path), len(result.remaining)
    del result, the_plan

    def say() -> None:
        for where, message in messages:
            report.note(where, message)
        tell()
        rep.exposed += exposed
        what = f"for docker stack deploy with {strategy} ({_count(n, 'port')})"
        emit(path, src, text, opts, rep, what)

    run.say(say)


def _stack(path: str, src: source.Source, run: _Run) -> tuple[Hardened, StackPlan, str]:
    """A stack file hardened with its strategy, proven and checked again (nothing printed);
    the fix of each swarm-published finding it applies to is the whole change."""
    from compose_net.swarm import strategies

    opts = run.opts
    wanted = opts.stack_strategy
    if not opts.strategy_given:
        wanted = run.before.config(path).stack_strategy or wanted
    strategy = next((s for s in strategies.STRATEGIES if s == wanted), None)
    if strategy is None:
        raise ComposeNetError(f"unknown --stack-strategy {wanted!r}")
    allows = run.before.allows(path)
    env = run.before.env(path)
    original = document.load(src)
    raise_all(model.invalid_entries(original))  # every entry must be one Compose accepts
    before = engine.lint(original, run.before)
    published = _published(before)
    the_plan = strategies.plan(
        original, strategy, allows=allows, network=opts.stack_network, only=published
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
    outcome = harden.Outcome(before)
    change = _change(src.text, stacked.text)
    if change is not None:
        for d in before.diagnostics:
            if d.entry is not None and id(d.entry.node) in published:
                outcome.edits[id(d.entry.node)] = (d.entry.node, [change])
    result = Hardened(outcome, stacked.text, stacked.document)
    result.fixes = harden.finding_fixes(outcome)
    harden.recheck([result], [after], opts.permissions, run.second)
    return result, the_plan, strategy


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


def planned_fixes(paths: Sequence[str], opts: Options) -> dict[Finding, FindingFix]:
    """What ``harden`` with ``opts`` would do to each FILE argument, as the fixes of the
    findings of its first run (those it applies with their edits), writing and printing
    nothing; a file harden would refuse contributes nothing (check reports its errors)."""
    state = _sessions(opts)
    for path in paths:
        folder = state.before.folder(path)
        state.later[folder] = state.later.get(folder, 0) + 1
    out: dict[Finding, FindingFix] = {}
    for path in paths:
        state.later[state.before.folder(path)] -= 1
        try:
            for result in _plan_file(path, state):
                out.update(result.fixes)
        except ComposeNetError:
            continue
    return out


def _plan_file(path: str, run: _Run) -> list[Hardened]:
    """:func:`harden_file` without its write-back and report."""
    opts = run.opts
    as_stack, read = _target_of(path, run)
    if as_stack is not None:
        return [_stack(path, as_stack, run)[0]]
    spec = Spec.of_file(
        path, opts.env_files, opts.read_outside or opts.edit_outside, opts.stdin_filename
    )
    return _harden_project(spec, run, path, read)[1]


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
        except Unbound as e:
            raise ComposeNetError(e.message, path=e.path) from None  # no address at all
        except ComposeNetError as e:
            rep.failure(e.with_path(path))
        except Exceeded as e:  # a bound passed: the file fails as on any error
            rep.failure(e.error.with_path(path))
    if opts.write_back.writes and not _commit(state, rep, len(paths)):
        return rep.return_code
    if not opts.quiet and len(paths) > 1:
        report.info(f"{rep.changed} changed, {rep.unchanged} unchanged, {rep.failed} failed")
    _summary(rep, opts)
    return rep.return_code


def _commit(run: _Run, rep: Report, count: int) -> bool:
    """Write every file of the run or none (one transaction, :func:`source.write_all`), then
    print what each file got; False, having said why, when nothing was written."""
    if rep.failed:
        if count > 1:
            failed = f"{rep.failed} of {_count(count, 'file')} failed"
            report.info(f"compose-net: nothing was written: {failed}")
        return False
    try:
        source.write_all(
            list(run.writes.values()), outside_ok=run.opts.edit_outside, also=run.considered
        )
    except ComposeNetError as e:
        rep.failure(e)
        return False
    outputs, run.outputs = run.outputs, []
    for output in outputs:
        output()
    return True


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
    project: Project, state: _Run, shared: SharedPorts, skip: set[DocKey]
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
        binds = _project_binds(first, binds_of(state.opts, state.before, path), frozen, path)
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
    from compose_net import paths

    # a file named on the command line is the user's to edit
    fence = paths.Fence(None if opts.edit_outside else directory, files, paths.EDIT_OPTION)
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


def run_project(spec: Spec, opts: Options) -> int:
    """Harden a project: each exposed port the merged project publishes, in the file that
    declares it; every file is proven before any is written."""
    rep = Report(check=opts.write_back in (WriteBack.CHECK, WriteBack.DIFF))
    if opts.output is not None or opts.write_back is WriteBack.STDOUT:
        report.error("-o/--output and --stdout take one file, not a project (--diff shows changes)")
        return report.EXIT_ERROR
    state = _sessions(opts)
    try:
        try:
            _, results = _harden_project(spec, state, None)
        except Exceeded as exceeded:  # a bound passed: the project fails as on any error
            raise exceeded.error from None
    except Unbound as e:
        raise ComposeNetError(e.message, path=e.path) from None  # no address at all
    except ComposeNetError as e:
        if e.path is None:
            raise  # no project to harden: a usage error
        rep.failure(e)
        return rep.return_code
    files = _files_of(results)
    state.say(_told_all(results, opts, rep))
    del results
    try:
        if opts.write_back is WriteBack.CHECK:  # refused as the real run would be
            source.check_all(
                [f.path for f in files if f.text != f.source.text and f.path != "-"],
                outside_ok=opts.edit_outside,
                names={f.path: f.source.name for f in files},
            )
    except ComposeNetError as e:
        rep.failure(e)
        return rep.return_code
    for f in files:
        if f.path != "-":
            state.considered.append(f.path)
        if f.text != f.source.text and f.path != "-" and opts.write_back.writes:
            was = f.source.encode(f.source.text)
            state.write(f.path, f.source.encode(f.text), was, f.source.name)

    def say() -> None:
        for f in files:
            what = f"({_count(f.applied, 'port')})"
            emit(f.path, f.source, f.text, opts, rep, what, checked=True)

    state.say(say)
    if opts.write_back.writes and not _commit(state, rep, 1):
        return rep.return_code
    if not opts.quiet and len(files) > 1:
        report.info(f"{rep.changed} changed, {rep.unchanged} unchanged, {rep.failed} failed")
    _summary(rep, opts)
    return rep.return_code


def _harden_project(
    spec: Spec, state: _Run, named: str | None, read: Reader | None = None
) -> tuple[dict[str, source.Source], list[Hardened]]:
    """Lint, fix, prove and lint again one project (``named``: the FILE argument it was
    made of, whose folder's files share host ports); nothing is written here. Returns the
    texts the project read (by :func:`file_key`) and the results.

    The first run's nodes and findings are let go once its results are proven and what is
    to be said about them is kept: the second run reads the edited texts alone."""
    opts = state.opts
    if read is None and state.overlay:  # files an earlier FILE argument changed are read
        read = functools.partial(state.read, outside=spec.outside)  # as it leaves them
    project = spec.load(lenient=True) if read is None else spec.load(lenient=True, read=read)
    skip = set(state.done)
    if named is None:
        before_ports, after_ports = None, None
    else:
        before_ports, after_ports = state.before.project(named), state.after.project(named)
    shared = before_ports or SharedPorts(key=project.directory)
    parts = _parts(project, state, shared, skip)
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
        result.notes = notes(result, opts, result.source.name)
        if opts.plan and result.outcome is not None:
            result.fixes = harden.finding_fixes(result.outcome)

    results = _apply(outcomes, counts, envs, keep)
    _refuse_outside(directory, files, results, opts)
    again = _reload(files, directory, env, texts, results)
    again_parts = _parts(again, state, after_ports or SharedPorts(key=directory), skip)
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
