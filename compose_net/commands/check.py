"""``compose-net check``: lint Compose and stack files for exposed ports.

:func:`check_paths` runs the rules and returns a :class:`CheckResult` without
printing anything; :func:`run` prints it in the chosen format and returns the
exit code: 0 clean, 1 when an error or warning finding remains after
suppression, 2 when a file could not be checked.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from compose_net import document, engine, rules, source
from compose_net.engine import Part, Session
from compose_net.errors import ComposeNetError
from compose_net.findings import CheckResult
from compose_net.policy.allowances import Allow
from compose_net.project import Spec, file_key
from compose_net.report import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from compose_net.rules.context import Project

Options = engine.Settings


def check_file(path: str, session: Session, result: CheckResult) -> None:
    engine.record(engine.lint(document.load(source.read(path)), session), result)


def check_paths(paths: Sequence[str], opts: Options) -> CheckResult:
    """Run the rules over ``paths``; files in one folder are one project.

    Findings come file by file in the order given, by position within a file.
    """
    result = CheckResult([], [], [], list(paths), {})
    session = Session(opts)
    for path in paths:
        try:
            check_file(path, session, result)
        except ComposeNetError as e:
            result.errors.append(e.with_path(path))
    return result


def check_project(spec: Spec, opts: Options) -> CheckResult:
    """Run the rules over a project's files (those ``include`` and ``extends`` read too),
    each with its own variables; only the ports the merged project publishes count, and
    the files share one set of taken host ports."""
    result = CheckResult([], [], [], [], {})
    try:
        project = spec.load(environ=opts.environ)
    except ComposeNetError as e:
        if e.path is None:
            raise  # no project to check: a usage error
        result.paths.append(e.path)
        result.errors.append(e)
        return result
    scope = project.scope()
    session = Session(opts)
    shared = Project(key=project.directory)
    for part in project.documents:
        path = part.document.path
        feeds = {name: frozenset(s) for name, s in scope.get(file_key(path), {}).items()}
        if part.how == "extends" and not feeds:
            continue  # read for one service that publishes nothing
        result.paths.append(path)
        try:
            own = Part(part.document, part.env, shared, feeds)
            engine.record(engine.lint(part.document, session, own), result)
        except ComposeNetError as e:
            result.errors.append(e.with_path(path))
    return result


def return_code(result: CheckResult) -> int:
    if result.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.failing else EXIT_OK


def run(
    paths: Sequence[str],
    opts: Options,
    *,
    fmt: str = "auto",
    color: bool | None = None,
    verbose: bool = False,
    stream: TextIO | None = None,
    project: Spec | None = None,
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
    )
    return return_code(result)


def main(paths: Sequence[str], options: Mapping[str, Any], project: Spec | None = None) -> int:
    """The command line's entry, with the options as click parses them (``project``: -f)."""
    selects, ignores = options.get("selects", ()), options.get("ignores", ())
    rules.select(selects, ignores)  # an unknown rule is a usage error before any file is read
    addresses_for = None
    if options.get("inventory") is not None or options.get("resolve") is not None:
        from compose_net import resolvers

        addresses_for = resolvers.node_addresses_for(
            resolvers.from_options(
                resolve=options.get("resolve"),
                inventory=options.get("inventory"),
                node=options.get("node"),
                interface=options.get("interface"),
                cidr=options.get("cidr"),
                docker_image=options.get("docker_image"),
            )
        )
    elif options.get("node") is not None:
        raise ComposeNetError(
            "--node names a node of an inventory: use it with --inventory or --resolve"
        )
    opts = Options(
        target=options.get("target"),
        select=selects,
        ignore=ignores,
        allows=[Allow.parse(a) for a in options.get("allows", ())],
        env_files=options.get("env_files", ()),
        use_config=not options.get("no_config", False),
        addresses_for=addresses_for,
    )
    fmt: str = options.get("fmt", "auto")
    color: bool | None = options.get("color")
    verbose: bool = options.get("verbose", False)
    output: str | None = options.get("output")
    if output is None:
        return run(paths, opts, fmt=fmt, color=color, verbose=verbose, project=project)
    with open(output, "w", encoding="utf-8") as f:
        return run(
            paths, opts, fmt=fmt, color=bool(color), verbose=verbose, stream=f, project=project
        )


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
