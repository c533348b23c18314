"""``compose-net validate``: check files against compose-net's Compose or stack schema."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from compose_net import document, schema, source
from compose_net.document import Document
from compose_net.errors import ComposeNetError
from compose_net.project import Spec

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

    Errors go to standard error, one a line: ``file:line:column: path: message``.
    Values are interpolated with ``env`` first, as Compose does.
    """
    if target not in TARGETS:
        print(f"compose-net: error: unknown target {target!r} (expected compose or stack)",
              file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        try:
            if docs and path in docs:
                doc = docs[path]
            else:
                doc = document.load(source.read(path, outside_ok=outside))
            errors = schema.check_document(doc, target=target, env=env)
        except ComposeNetError as e:
            errors = [e.with_path(path)]
        for error in errors:
            print(str(error), file=sys.stderr)
        if errors:
            status = 2
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
            print(str(e), file=sys.stderr)
        return 2
    status = 0
    for part in project.documents:
        if part.how == "extends":
            continue  # Compose reads one service of it
        path, env = part.document.path, part.env or {}
        code = run([path], target=target, env=env, docs={path: part.document})
        status = max(status, code)
    return status
