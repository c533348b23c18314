"""A schema violation: something Compose (or `docker stack deploy`) refuses to load.

The file is validated against compose-net's schema for the target, after
interpolation: the Compose schema by default, the swarm stack schema with
`--target stack` (which, like `docker stack deploy`, rejects `host_ip` in
long syntax and the keys swarm does not know). A required variable that is
not set where `check` runs is accepted as written.

When the violation is a port entry that `invalid-port` (CN009) already
reports, only the CN009 finding is kept.

Finding:

```yaml
services:
  web:
    image: nginx
    restrat: always        # CN010: unknown key 'restrat' (did you mean 'restart'?)
```

No finding:

```yaml
services:
  web:
    image: nginx
    restart: always
```

Fix: correct the file as the message says; `compose-net validate` prints
the same errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from compose_net.findings import Finding, Severity
from compose_net.rules.context import Context

ID = "CN010"
NAME = "schema"
SEVERITY: Severity = "error"


class _Mark(NamedTuple):
    line: int
    column: int


class _Span(NamedTuple):
    """A one-line stand-in for a node: where the validator points."""

    start_mark: _Mark
    end_mark: _Mark


def check(ctx: Context) -> Iterator[Finding]:
    try:
        import compose_net.schema as validator
    except ModuleNotFoundError as e:  # only a checkout without the validator lacks it
        if e.name != "compose_net.schema":
            raise
        return
    env = ctx.env if ctx.env is not None else {}
    for error in validator.check_document(ctx.doc, target=ctx.target, env=env):
        if ctx.doc.null_ports_kept(error.line, error.column):
            continue  # an override's ports: null, which Compose's merge drops
        line = max((error.line or 1) - 1, 0)
        column = max((error.column or 1) - 1, 0)
        yield ctx.finding(
            _Span(_Mark(line, column), _Mark(line, column + 1)),
            error.message,
            "correct the file as the message says (`compose-net validate` shows the same)",
        )
