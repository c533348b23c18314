"""``compose-net validate``: check files against compose-net's Compose or stack schema."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from compose_net import document, schema, source
from compose_net.errors import ComposeNetError

TARGETS = ("compose", "stack")


def run(paths: Sequence[str], *, target: str, env: Mapping[str, str]) -> int:
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
            doc = document.load(source.read(path))
            errors = schema.check_document(doc, target=target, env=env)
        except ComposeNetError as e:
            errors = [e.with_path(path)]
        for error in errors:
            print(str(error), file=sys.stderr)
        if errors:
            status = 2
    return status
