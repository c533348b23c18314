"""``compose-net validate``: check files against compose-net's Compose or stack schema."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from compose_net import document, envfile, printable, report, schema, source
from compose_net.commands import inputs
from compose_net.document import Document
from compose_net.errors import ComposeNetError
from compose_net.project import Spec

if TYPE_CHECKING:
    from compose_net.commands import other_options

TARGETS = ("compose", "stack")


def run(
    paths: Sequence[str],
    *,
    target: str,
    env: Mapping[str, str],
    docs: Mapping[str, Document] | None = None,
    outside: bool = False,
) -> int:
    """Validate each file; 0 when all are valid, 2 otherwise.

    Errors go to standard error, one a line: ``file:line:column: path: message``; a valid
    file is one line on standard output: ``file: valid compose file``.
    Values are interpolated with ``env`` first, as Compose does.
    """
    if target not in TARGETS:
        report.error(f"unknown target {target!r} (expected compose or stack)")
        return 2
    status = 0
    for path in paths:
        name = docs[path].name if docs and path in docs else path  # as the file is shown
        try:
            if docs and path in docs:
                every = [docs[path]]
            else:  # each YAML document of the file (---), as Compose reads them all
                every = document.load_all(source.read(path, outside_ok=outside))
            errors = [
                error
                for doc in every
                for error in schema.check_document(doc, target=target, env=env)
                if not doc.null_ports_kept(error.line, error.column)  # merged away
            ]
        except ComposeNetError as e:  # the file cannot be read: an error, not the report
            report.error(e.with_path(name))
            status = 2
            continue
        for error in errors:
            print(str(error), file=sys.stderr)
        if errors:
            status = 2
        else:  # a person can tell it ran
            print(f"{printable.shown(name)}: valid {target} file")
    return status


def run_project(spec: Spec, *, target: str) -> int:
    """Validate the files of a project (the ``-f`` files and those they include), each
    with the variables it is read with; 0 when all are valid, 2 otherwise."""
    try:
        project = spec.load()
    except ComposeNetError as e:
        if e.path is None:
            raise  # no project to validate: a usage error
        paths, _, variables = spec.resolve()
        if run(paths, target=target, env=variables) == 0:  # else the schema said it better
            report.error(e)
        return 2
    status = 0
    for part in project.documents:
        if part.how == "extends":
            continue  # Compose reads one service of it
        path, env = part.document.path, part.env or {}
        code = run([path], target=target, env=env, docs={path: part.document})
        status = max(status, code)
    return status


def main(opts: other_options.Validate) -> int:
    """The command line's ``validate``: FILE arguments with their folder's variables, or the
    project -f names."""
    given = opts.inputs
    project = inputs.project_spec(given)
    if project is not None:
        return run_project(project, target=opts.target)
    paths = list(given.files)
    folder = os.path.dirname(paths[0]) if paths and paths[0] != "-" else "."
    env = envfile.load(folder or ".", given.env_files, outside=given.read_outside)
    return run(paths, target=opts.target, env=env, outside=given.read_outside)
