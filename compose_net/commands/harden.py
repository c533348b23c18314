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
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from compose_net import hardening, printable, report, source
from compose_net.bounds import Exceeded
from compose_net.commands import inputs
from compose_net.config import Lookup
from compose_net.errors import ComposeNetError
from compose_net.harden import Permissions
from compose_net.hardening import Binder, Result, Unbound, addresses_for, binder_for
from compose_net.policy.allowances import Allow
from compose_net.project import Spec, file_key
from compose_net.report import Report

if TYPE_CHECKING:
    from compose_net.commands import options

__all__ = ["Binder", "Options", "Unbound", "WriteBack", "addresses_for", "binder_for", "main"]


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
    """One harden run: what it hardens with (:class:`hardening.Settings`, the result) and
    what happens to the result (written, checked, diffed or printed; where)."""

    settings: hardening.Settings
    write_back: WriteBack = WriteBack.YES
    #: with WriteBack.YES: write here instead of in place (one input file)
    output: str | None = None
    #: print what remains after the fixes (``check --fix`` reports it in its own format)
    report_remaining: bool = True

    @property
    def quiet(self) -> bool:
        return self.settings.quiet

    @property
    def edit_outside(self) -> bool:
        return self.settings.edit_outside


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
        first = inputs.first_input(paths, project)
        try:
            binder(inputs.configuration(asked.no_config, first, stdin_filename, lookup))
        except Unbound as e:
            if target == "compose":  # else raised when a file that is no stack needs it
                raise ComposeNetError(e.message, path=e.path) from None
    settings = hardening.Settings(
        binds_for=binder,
        allows=[Allow.parse(a) for a in asked.allows],
        permissions=Permissions(fixes.rewrite_public, fixes.remap_conflicts),
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
        strategy_given=asked.stack_strategy is not None,
        edit_outside=asked.edit_outside,
        read_outside=given.read_outside,
        stdin_filename=stdin_filename,
        lookup=lookup,
        address_options=tuple(address_options),
    )
    write_back = WriteBack.from_options(
        check=asked.check, diff=asked.diff, to_stdout=asked.to_stdout
    )
    opts = Options(settings, write_back, asked.output, asked.report_remaining)
    code = run_project(project, opts) if project is not None else run(paths, opts)
    if not asked.quiet and code != report.EXIT_ERROR:  # after the work: an error stays one line
        inputs.say_unread_overrides(given)
    return code


# --------------------------------------------------------------------------- output


def told(result: Result, opts: Options, rep: Report) -> Callable[[], None]:
    """What was kept on purpose, what was fixed (-v) and what remains, with why (the lines
    :mod:`compose_net.hardening` made), printed when called; the count of what remains."""
    said = [
        (notes, remaining if opts.report_remaining else [])
        for notes, remaining in result.told
    ]
    exposed = result.exposed

    def tell() -> None:
        for notes, remaining in said:
            for where, message in notes:
                report.note(where, message)
            for where, severity, message in remaining:
                report.finding(where, severity, message)
        rep.exposed += exposed

    return tell


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


# --------------------------------------------------------------------------- write-back


@dataclass
class _Run:
    """One run's write-back: the hardening of its files (:class:`hardening.Run`), the
    transaction that writes them, and what is printed once it is committed."""

    opts: Options
    hardening: hardening.Run
    #: the run's transaction: what is to be written, by file key (the first ``was`` kept)
    writes: dict[str, source.Write] = field(default_factory=dict)
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


def run(paths: Sequence[str], opts: Options) -> int:
    rep = Report(check=opts.write_back in (WriteBack.CHECK, WriteBack.DIFF))
    if opts.output is not None and len(paths) != 1:
        report.error("-o/--output takes exactly one input file")
        return report.EXIT_ERROR
    state = _Run(opts, hardening.Run(opts.settings, paths))
    for path in paths:
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


def harden_file(path: str, run: _Run, rep: Report) -> None:
    """One FILE argument, hardened (:meth:`hardening.Run.file`), added to the run's
    transaction and reported."""
    opts = run.opts
    result = run.hardening.file(path)
    if result.strategy is not None:
        _stack_back(path, result, run, rep)
        return
    files = result.files
    run.say(told(result, opts, rep))
    del result
    named = file_key(path)
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
            run.hardening.changed(f.path, f.source, f.text)
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


def _stack_back(path: str, result: Result, run: _Run, rep: Report) -> None:
    """A stack file's result (its strategy's change, proven and checked again as ``check
    --target stack`` would): added to the transaction and reported."""
    opts = run.opts
    (f,) = result.files
    src, text, n, strategy = f.source, f.text, f.applied, result.strategy
    if path != "-":
        run.considered.append(path)
    if opts.write_back.writes and opts.output is not None:
        run.write(opts.output, src.encode(text), None)
    elif text != src.text and path != "-" and opts.write_back is not WriteBack.STDOUT:
        run.hardening.changed(path, src, text)
        if opts.write_back.writes:
            run.write(path, src.encode(text), src.encode(src.text))
    messages = result.messages
    tell = told(result, opts, rep)
    del result

    def say() -> None:
        for where, message in messages:
            report.note(where, message)
        tell()
        what = f"for docker stack deploy with {strategy} ({_count(n, 'port')})"
        emit(path, src, text, opts, rep, what)

    run.say(say)


# --- a project's files (-f, COMPOSE_FILE, compose.yaml and its override) -----------------------


def run_project(spec: Spec, opts: Options) -> int:
    """Harden a project: each exposed port the merged project publishes, in the file that
    declares it; every file is proven before any is written."""
    rep = Report(check=opts.write_back in (WriteBack.CHECK, WriteBack.DIFF))
    if opts.output is not None or opts.write_back is WriteBack.STDOUT:
        report.error("-o/--output and --stdout take one file, not a project (--diff shows changes)")
        return report.EXIT_ERROR
    state = _Run(opts, hardening.Run(opts.settings))
    try:
        try:
            result = state.hardening.project(spec)
        except Exceeded as exceeded:  # a bound passed: the project fails as on any error
            raise exceeded.error from None
    except Unbound as e:
        raise ComposeNetError(e.message, path=e.path) from None  # no address at all
    except ComposeNetError as e:
        if e.path is None:
            raise  # no project to harden: a usage error
        rep.failure(e)
        return rep.return_code
    files = result.files
    state.say(told(result, opts, rep))
    del result
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
