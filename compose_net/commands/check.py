"""``compose-net check``: lint Compose and stack files for exposed ports.

:func:`check_paths` runs the rules and returns a :class:`CheckResult` without
printing anything; :func:`run` prints it in the chosen format and returns the
exit code (report.exit_code, the table harden shares): 0 clean, 1 when a finding
at ``--fail-on`` or worse (default: an error or warning) remains after
suppression, unless ``--exit-zero``; 2 when a file could not be checked.
``--fix`` is harden's code path (commands.harden.main), then this report.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from compose_net import engine, rules, unit
from compose_net.bounds import Exceeded
from compose_net.commands import inputs, options
from compose_net.commands.options import Verdict
from compose_net.engine import Part, Session
from compose_net.errors import ComposeNetError
from compose_net.findings import CheckResult, failing_from
from compose_net.policy.allowances import Allow
from compose_net.project import DocKey, Spec, doc_key
from compose_net.project import reader as project_reader
from compose_net.report import EXIT_ERROR, EXIT_OK, exit_code
from compose_net.rules.context import Project

if TYPE_CHECKING:
    from compose_net.hardening import Settings as HardenSettings

Options = engine.Settings
#: the default verdict: a warning or an error fails, the report in full
VERDICT = Verdict()


def check_paths(paths: Sequence[str], opts: Options) -> CheckResult:
    """Run the rules over ``paths``: each file is a project of its own, read as Compose
    reads it (its ``include:`` and ``extends:`` files too); files in one folder share
    their host ports.

    Findings come file by file in the order given, by position within a file; a file
    several projects read is checked once.
    """
    result = CheckResult([], [], [], list(paths), {}, {})
    session = Session(opts)
    done: set[DocKey] = set()
    for path in paths:
        spec = Spec.of_file(path, opts.env_files, opts.read_outside, opts.stdin_filename)
        _check(spec, session, result, session.project(path), done)
    return result


def check_project(spec: Spec, opts: Options) -> CheckResult:
    """Run the rules over a project's files (those ``include`` and ``extends`` read too),
    each with its own variables; only the ports the merged project publishes count, and
    the files share one set of taken host ports."""
    result = CheckResult([], [], [], [], {}, {})
    _check(spec, Session(opts), result, None, set())
    return result


def _check(
    spec: Spec,
    session: Session,
    result: CheckResult,
    shared_ports: Project | None,
    done: set[DocKey],
) -> None:
    try:
        settings = session.settings
        read = project_reader(settings.stdin, spec.outside)
        try:
            project = spec.load(environ=session.environ, lenient=True, read=read)
        except Exceeded as exceeded:  # a bound: the file is not checked, as on any error
            raise exceeded.error from None
    except ComposeNetError as e:
        if shared_ports is not None:  # a FILE argument: the error is that file's
            result.errors.append(e.with_path(spec.files[0]))
            return
        if e.path is None:
            raise  # no project to check: a usage error
        if e.path not in result.paths:
            result.paths.append(e.path)
        result.errors.append(e)
        return
    scope = project.scope()
    shared = Project(key=project.directory) if shared_ports is None else shared_ports
    for part in project.documents:
        doc = part.document
        path = doc.name  # as shown
        feeds = {name: frozenset(s) for name, s in scope.get(doc_key(doc), {}).items()}
        followed = project.followed(doc)
        if part.how == "extends" and not feeds and not followed:
            continue  # read for one service that publishes nothing
        if doc_key(doc) in done:
            continue  # another project of this run has checked it
        done.add(doc_key(doc))
        if path not in result.paths:
            result.paths.append(path)
        try:
            own = Part(doc, part.env, shared, feeds, followed=followed)
            engine.record(engine.lint(doc, session, own), result)
        except ComposeNetError as e:
            result.errors.append(e.with_path(path))
        except Exceeded as e:  # no finding of the file counts: it is an error, exit 2
            result.errors.append(e.error.with_path(path))


def return_code(result: CheckResult, verdict: Verdict = VERDICT) -> int:
    """The exit code (report.exit_code, the table harden shares)."""
    failing = failing_from(verdict.fail_on)
    remaining = sum(f.severity in failing for f in result.findings)
    return exit_code(errors=len(result.errors), remaining=remaining, exit_zero=verdict.exit_zero)


def run(
    paths: Sequence[str],
    opts: Options,
    *,
    fmt: str = "auto",
    color: bool | None = None,
    verbose: bool = False,
    stream: TextIO | None = None,
    project: Spec | None = None,
    fixes: HardenSettings | None = None,
    verdict: Verdict = VERDICT,
) -> int:
    """Check and print; ``fixes``: how harden would fix these files (the findings' edits)."""
    from compose_net import output

    out = sys.stdout if stream is None else stream
    result = check_paths(paths, opts) if project is None else check_project(project, opts)
    if fixes is not None:
        with_fixes(result, paths, fixes)
    output.emit(
        result,
        output.resolve_format(fmt),
        out,
        color=output.use_color(out) if color is None else color,
        verbose=verbose,
        quiet=verdict.quiet,
        statistics=verdict.statistics,
    )
    return return_code(result, verdict)


def main(asked: options.Check) -> int:
    """The command line's ``check``, with what it asks for as one value."""
    from compose_net.config import Lookup

    report_as, verdict, given = asked.report, asked.verdict, asked.inputs
    fmt, verbose = report_as.fmt, report_as.verbose
    lookup = Lookup(verbose)  # the run's configuration searches
    if asked.list_rules or asked.explain:
        return describe(asked.explain)
    if verdict.statistics and output_format(fmt) not in ("text", "json"):
        raise ComposeNetError("--statistics prints text or json, not " + output_format(fmt))
    if asked.fix:
        from compose_net.commands import harden

        stdin = given.stdin
        if stdin and (output_format(fmt) != "text" or verdict.statistics):
            raise ComposeNetError(
                "--fix on standard input prints the fixed file: the report is text, on "
                "standard error (as harden's)"
            )
        # harden's code path: the same fixes, proofs, write-back and exit-code table
        fixed = harden.main(asked.fixing(report_remaining=stdin), lookup)
        if stdin or fixed == EXIT_ERROR:  # the fixed text went to standard output
            failed = fixed == EXIT_ERROR
            return exit_code(errors=failed, remaining=fixed, exit_zero=verdict.exit_zero)
    files, no_config, stdin_filename = given.files, asked.no_config, given.stdin_filename
    project = inputs.project_spec(given)
    # an unknown rule is a usage error before any file is read
    rules.select(asked.selects, asked.ignores)
    source_of = asked.node_source
    if source_of.node is not None and not source_of.given:
        raise ComposeNetError(
            "--node names a node of an inventory: use it with --inventory or --resolve"
        )
    binds, bind_var = asked.fixes.binds, asked.fixes.bind_var
    given_address = bool(binds or bind_var or source_of.given)
    opts = Options(
        target=asked.target,
        select=asked.selects,
        ignore=asked.ignores,
        allows=[Allow.parse(a) for a in asked.allows],
        env_files=given.env_files,
        use_config=not no_config,
        read_outside=given.read_outside,
        stdin_filename=stdin_filename,
        lookup=lookup,
    )
    paths = list(files)
    addressed = project is None and _addressed(paths, opts, given_address)
    fixes = None
    if given_address or addressed:  # harden's machinery only where an address is named
        from compose_net import hardening

        binder = hardening.binder_for(binds, bind_var, source_of)
        if given_address:  # an error in the options is one before any file is read
            try:
                first = inputs.first_input(files, project)
                binder(inputs.configuration(no_config, first, stdin_filename, lookup))
            except hardening.Unbound as e:
                raise ComposeNetError(e.message, path=e.path) from None
        if source_of.given:
            found = hardening.addresses_for(
                binder, use_config=not no_config, stdin_filename=stdin_filename, lookup=lookup
            )
            opts = dataclasses.replace(opts, addresses_for=found)
        if addressed:
            if "-" in paths:
                from compose_net import source

                opts = dataclasses.replace(opts, stdin=source.read("-"))
            fixes = hardening.Settings(
                binds_for=binder,
                allows=opts.allows,
                target=opts.target,
                quiet=True,
                env_files=given.env_files,
                use_config=not no_config,
                addresses_for=opts.addresses_for,
                read_outside=given.read_outside,
                stdin_filename=stdin_filename,
                stdin=opts.stdin,
                plan=True,
                lookup=lookup,
            )
    if report_as.output is not None:
        code = _report_to(report_as.output, report_as, paths, opts, project, fixes, verdict)
    else:
        code = run(
            paths,
            opts,
            fmt=fmt,
            color=report_as.color,
            verbose=verbose,
            project=project,
            fixes=fixes,
            verdict=verdict,
        )
    if not verdict.quiet and not asked.fix and code != EXIT_ERROR:  # check --fix: harden says it
        inputs.say_unread_overrides(given)
    return code


def output_format(fmt: str) -> str:
    from compose_net import output

    return output.resolve_format(fmt)


def _report_to(
    output: str,
    report_as: options.Report,
    files: list[str],
    opts: Options,
    project: Spec | None,
    fixes: HardenSettings | None,
    verdict: Verdict,
) -> int:
    """``-o``: the report written as rewrites are, whole or not at all (a temporary file
    beside it, fsync'd, renamed), never through a symlink (:func:`paths.check_report`)."""
    import io

    from compose_net import paths, source

    paths.check_report(output)
    source.check_all([output])  # what the write would refuse, said before the checking
    buffer = io.StringIO()
    code = run(
        files, opts, fmt=report_as.fmt, color=bool(report_as.color), verbose=report_as.verbose,
        stream=buffer, project=project, fixes=fixes, verdict=verdict,
    )
    source.write_atomic(output, buffer.getvalue().encode("utf-8"))
    return code


def _addressed(paths: Sequence[str], opts: Options, given: bool) -> bool:
    """Whether the fixes of these files can bind an address: an option names where node
    addresses come from, or a file's configuration does."""
    if given:
        return True
    for path in paths:
        try:
            found = unit.configuration(
                path,
                use_config=opts.use_config,
                stdin_filename=opts.stdin_filename,
                lookup=opts.lookup,
            )
        except ComposeNetError:
            continue  # the file's check reports it
        if found.sources:
            return True
    return False


def with_fixes(result: CheckResult, paths: Sequence[str], fixes: HardenSettings) -> None:
    """Each finding's fix as harden with the same settings and addresses would apply it:
    with the edits it makes (a file harden would refuse keeps the rules' fixes)."""
    from compose_net import hardening

    planned = hardening.planned_fixes(paths, fixes)
    for finding in result.findings:
        fix = planned.get(finding)
        if fix is not None:
            result.fixes[finding] = fix


def describe(ref: str | None) -> int:
    """``--list-rules`` (``ref`` None) or ``--explain RULE``."""
    if ref is not None:
        rule = rules.get(ref)
        sys.stdout.write(
            f"{rule.ID} {rule.NAME} ({rule.SEVERITY}): {rules.summary(rule)}\n\n"
            f"{rules.documentation(rule)}\n"
        )
        return EXIT_OK
    for rule in rules.RULES:
        sys.stdout.write(f"{rule.ID}  {rule.NAME:<20} {rule.SEVERITY:<8} {rules.summary(rule)}\n")
    return EXIT_OK
