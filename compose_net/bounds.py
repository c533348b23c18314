"""How much work one file may cost: the bounds, their defaults and how to raise them.

A file that anyone can put in a pull request must not stall a check or eat the
machine's memory. compose-net has no fixed limit on what Compose accepts; it bounds
the work instead, and past a bound it stops with a one-line error that names the
bound and the environment variable that raises it (README, "Bounds").
"""

from __future__ import annotations

import os
from typing import NamedTuple

from compose_net.errors import ComposeNetError


class Bound(NamedTuple):
    variable: str
    default: int
    what: str

    def value(self) -> int:
        """The bound in force: the environment variable when it holds a positive integer."""
        raw = os.environ.get(self.variable, "").strip().replace("_", "")
        if raw.isdigit() and int(raw[:19] or "0") > 0:
            return int(raw[:19])
        return self.default

    def error(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> ComposeNetError:
        """``message``, then which bound stopped the work and how to raise it."""
        return ComposeNetError(
            f"{message} (bound: {self.what}; raise it with {self.variable}=N "
            f"if the file is trusted, now {self.value()})",
            path=path,
            line=line,
            column=column,
        )


#: Bytes of one file; Compose has no limit, this only keeps a mistake (a log, a dump) out.
FILE_BYTES = Bound("COMPOSE_NET_MAX_FILE_BYTES", 64 * 1024 * 1024, "bytes in one file")
#: Nodes of a document's data once aliases and merge keys are expanded (alias bombs).
NODES = Bound("COMPOSE_NET_MAX_NODES", 5_000_000, "nodes after expanding aliases and merges")
#: Port objects of one file once ranges (``"8000-8100:8000-8100"``) are expanded.
PORTS = Bound("COMPOSE_NET_MAX_PORTS", 500_000, "ports after expanding ranges")
#: Depth of nesting, aliases followed.
DEPTH = Bound("COMPOSE_NET_MAX_DEPTH", 200, "levels of nesting")

#: Bytes of one env file (``.env``, ``--env-file``).
ENV_BYTES = Bound("COMPOSE_NET_MAX_ENV_BYTES", 1024 * 1024, "bytes in one env file")
#: Characters all values of one env file expand to (values that repeat the ones before).
ENV_EXPANSION = Bound(
    "COMPOSE_NET_MAX_ENV_EXPANSION", 16 * 1024 * 1024, "characters an env file's values expand to"
)

ALL = (FILE_BYTES, NODES, PORTS, DEPTH, ENV_BYTES, ENV_EXPANSION)
