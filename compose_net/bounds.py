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
#: Port objects of one file, and of a whole project (includes, ``extends``), once ranges
#: (``"8000-8100:8000-8100"``) are expanded.
PORTS = Bound("COMPOSE_NET_MAX_PORTS", 500_000, "ports after expanding ranges")
#: Port objects that ranges add to a project beyond one per entry: a range costs every
#: command its expansion (``"1-65535:1-65535"`` adds 65,534), so few bytes must not buy
#: millions of them; separate entries cost their own bytes and are bounded by PORTS.
RANGE_PORTS = Bound(
    "COMPOSE_NET_MAX_RANGE_PORTS", 65_536, "ports that port ranges add to a project"
)
#: Depth of nesting, aliases followed.
DEPTH = Bound("COMPOSE_NET_MAX_DEPTH", 200, "levels of nesting")

#: Bytes of one env file (``.env``, ``--env-file``).
ENV_BYTES = Bound("COMPOSE_NET_MAX_ENV_BYTES", 1024 * 1024, "bytes in one env file")
#: Characters all values of one env file expand to (values that repeat the ones before).
ENV_EXPANSION = Bound(
    "COMPOSE_NET_MAX_ENV_EXPANSION", 16 * 1024 * 1024, "characters an env file's values expand to"
)

#: Characters the ``${VARIABLES}`` of a project's Compose files substitute, all strings and
#: every pass together (``${BIG}${BIG}...`` repeats a value without paying for it).
EXPANSION = Bound(
    "COMPOSE_NET_MAX_EXPANSION",
    64 * 1024 * 1024,
    "characters a project's ${VARIABLES} substitute",
)

#: Compose files a project merges, each counted every time it is read (``-f``,
#: ``COMPOSE_FILE``, ``include:``; a file included twice counts twice).
PROJECT_FILES = Bound(
    "COMPOSE_NET_MAX_PROJECT_FILES", 1_000, "files a project merges, counting repeats"
)
#: Bytes of the Compose files a project merges, each counted every time it is read.
PROJECT_BYTES = Bound(
    "COMPOSE_NET_MAX_PROJECT_BYTES",
    64 * 1024 * 1024,
    "bytes of the files a project merges, counting repeats",
)

ALL = (
    FILE_BYTES,
    NODES,
    PORTS,
    RANGE_PORTS,
    DEPTH,
    ENV_BYTES,
    ENV_EXPANSION,
    EXPANSION,
    PROJECT_FILES,
    PROJECT_BYTES,
)


class Exceeded(Exception):
    """A bound passed in the middle of work whose errors are otherwise caught and
    reported as findings (a variable that cannot be substituted, a port Compose refuses):
    not a :class:`ComposeNetError`, so that nothing on the way takes it for one, and the
    command stops with :attr:`error`, one line, exit 2."""

    def __init__(self, error: ComposeNetError) -> None:
        super().__init__(str(error))
        self.error = error

    def at(self, path: str, line: int | None = None, column: int | None = None) -> Exceeded:
        """This, with the place it was found when it had none."""
        if self.error.path is None:
            self.error.path, self.error.line, self.error.column = path, line, column
        return self

    def __str__(self) -> str:
        return str(self.error)


class Meter:
    """Work counted against one bound, across one project: :meth:`add` says when it passes."""

    __slots__ = ("bound", "limit", "used")

    def __init__(self, bound: Bound) -> None:
        self.bound = bound
        self.limit = bound.value()
        self.used = 0

    def add(self, amount: int) -> bool:
        """Count ``amount`` more; True once the total passes the bound."""
        self.used += amount
        return self.used > self.limit

