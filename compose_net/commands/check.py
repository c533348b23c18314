"""``compose-net check``: lint Compose and stack files for exposed ports.

:func:`check_paths` runs the rules and returns a :class:`CheckResult` without
printing anything; :func:`run` prints it in the chosen format and returns the
exit code (report.exit_code, the table harden shares): 0 clean, 1 when a finding
at ``--fail-on`` or worse (default: an error or warning) remains after
suppression, unless ``--exit-zero``; 2 when a file could not be checked.
``--fix`` is harden's code path (commands.harden.main), then this report.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from compose_net import engine, rules
from compose_net.commands import inputs
from compose_net.document import Service
from compose_net.engine import Part, Session
from compose_net.errors import ComposeNetError
from compose_net.findings import SEVERITIES, CheckResult, Severity, failing_from
from compose_net.policy.allowances import Allow
from compose_net.policy.binds import Binds, BindsFor
from compose_net.project import DocKey, Spec, doc_key
from compose_net.report import EXIT_ERROR, EXIT_OK, exit_code
from compose_net.rules.context import Project, Target

Options = engine.Settings


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
        spec = Spec((path,), None, tuple(opts.env_files), opts.read_outside)
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
        project = spec.load(environ=session.settings.environ, lenient=True)
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
        path = doc.path
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


@dataclass(frozen=True)
class Verdict:
    """What makes a run fail, and how much of the report is printed (the options of ruff's
    and hadolint's habits: ``--fail-on``, ``--exit-zero``, ``--quiet``, ``--statistics``)."""

    fail_on: Severity = "warning"
    exit_zero: bool = False
    quiet: bool = False
    statistics: bool = False


def return_code(result: CheckResult, verdict: Verdict = Verdict()) -> int:
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
    verdict: Verdict = Verdict(),
) -> int:
    from compose_net import output

    out = sys.stdout if stream is None else stream
    result = check_paths(paths, opts) if project is None else check_project(project, opts)
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


def main(
    files: Sequence[str],
    *,
    project_files: Sequence[str] = (),
    project_directory: str | None = None,
    read_outside: bool = False,
    fmt: str = "auto",
    output: str | None = None,
    target: str | None = None,
    selects: Sequence[str] = (),
    ignores: Sequence[str] = (),
    allows: Sequence[str] = (),
    env_files: Sequence[str] = (),
    no_config: bool = False,
    node: str | None = None,
    color: bool | None = None,
    verbose: bool = False,
    list_rules: bool = False,
    explain: str | None = None,
    inventory: str | None = None,
    resolve: str | None = None,
    interface: str | None = None,
    cidr: str | None = None,
    docker_image: str | None = None,
    fixes: Fixing | None = None,
    verdict: Verdict = Verdict(),
) -> int:
    """The command line's ``check``, with the options as click parses them."""
    from compose_net import config

    config.announce(verbose)
    if list_rules or explain:
        return describe(explain)
    fixes = fixes or Fixing()
    if verdict.statistics and output_format(fmt) not in ("text", "json"):
        raise ComposeNetError("--statistics prints text or json, not " + output_format(fmt))
    if fixes.fix:
        from compose_net.commands import harden

        stdin = "-" in files or "-" in project_files
        if stdin and (output_format(fmt) != "text" or verdict.statistics):
            raise ComposeNetError(
                "--fix on standard input prints the fixed file: the report is text, on "
                "standard error (as harden's)"
            )
        # harden's code path: the same fixes, proofs, write-back and exit-code table
        fixed = harden.main(
            files,
            project_files=project_files,
            project_directory=project_directory,
            read_outside=read_outside,
            binds=fixes.binds,
            bind_var=fixes.bind_var,
            allows=allows,
            rewrite_public=fixes.rewrite_public or fixes.unsafe_fixes,
            remap_conflicts=fixes.remap_conflicts or fixes.unsafe_fixes,
            target=target or "compose",
            env_files=env_files,
            no_config=no_config,
            quiet=verdict.quiet,
            verbose=verbose,
            resolve=resolve,
            interface=interface,
            cidr=cidr,
            inventory=inventory,
            node=node,
            docker_image=docker_image,
            report_remaining=stdin,
        )
        if stdin or fixed == EXIT_ERROR:  # the fixed text went to standard output
            failed = fixed == EXIT_ERROR
            return exit_code(errors=failed, remaining=fixed, exit_zero=verdict.exit_zero)
    project = inputs.project_spec(files, project_files, project_directory, env_files, read_outside)
    rules.select(selects, ignores)  # an unknown rule is a usage error before any file is read
    addresses_for = None
    if inventory is not None or resolve is not None:
        from compose_net import resolvers

        addresses_for = resolvers.node_addresses_for(
            resolvers.from_options(
                resolve=resolve,
                inventory=inventory,
                node=node,
                interface=interface,
                cidr=cidr,
                docker_image=docker_image,
            )
        )
    elif node is not None:
        raise ComposeNetError(
            "--node names a node of an inventory: use it with --inventory or --resolve"
        )
    opts = Options(
        binds_for=_fix_binds(fixes),
        target=_target(target),
        select=selects,
        ignore=ignores,
        allows=[Allow.parse(a) for a in allows],
        env_files=env_files,
        use_config=not no_config,
        addresses_for=addresses_for,
        read_outside=read_outside,
    )
    paths = list(files)
    if output is None:
        code = run(
            paths, opts, fmt=fmt, color=color, verbose=verbose, project=project, verdict=verdict
        )
    else:
        with open(output, "w", encoding="utf-8") as f:
            code = run(
                paths,
                opts,
                fmt=fmt,
                color=bool(color),
                verbose=verbose,
                stream=f,
                project=project,
                verdict=verdict,
            )
    if not verdict.quiet and not fixes.fix and code != EXIT_ERROR:  # check --fix: harden says it
        inputs.say_unread_overrides(files, project_files)
    return code


@dataclass(frozen=True)
class Fixing:
    """``check --fix`` and the options harden names the same way."""

    fix: bool = False
    unsafe_fixes: bool = False
    rewrite_public: bool = False
    remap_conflicts: bool = False
    binds: Sequence[str] = ()
    bind_var: str | None = None


def _fix_binds(fixes: Fixing) -> BindsFor | None:
    """The addresses fixes bind to: ``--bind``/``--bind-var`` when given (else None: which
    findings ``check --fix`` could fix is known without them, engine.record)."""
    if not fixes.binds and fixes.bind_var is None:
        return None
    binds = Binds.parse(fixes.binds, fixes.bind_var)

    def binds_for(service: Service) -> Binds:
        del service
        return binds

    return binds_for


def severity(name: str) -> Severity:
    """``--fail-on`` as click checked it."""
    return next(s for s in SEVERITIES if s == name)


def output_format(fmt: str) -> str:
    from compose_net import output

    return output.resolve_format(fmt)


def _target(target: str | None) -> Target | None:
    """``--target`` as click checked it (compose or stack), None when not given."""
    if target is None:
        return None
    return "stack" if target == "stack" else "compose"


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
