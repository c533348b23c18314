"""Messages to the user and the exit code, decided in one place.

Each message is one line whatever the names in it hold (compose_net.printable): a file name
with a line break in it cannot end the line and start a forged one.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass

from compose_net import printable
from compose_net.errors import ComposeNetError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


def error(err: ComposeNetError | str) -> None:
    """One line: ``compose-net: error: file:line:column: message`` (the place when known)."""
    print(f"compose-net: error: {printable.one_line(str(err))}", file=sys.stderr)


def warn(where: str, message: str) -> None:
    print(f"{printable.name(where)}: warning: {printable.one_line(message)}", file=sys.stderr)


def note(where: str, message: str) -> None:
    print(f"{printable.name(where)}: note: {printable.one_line(message)}", file=sys.stderr)


def finding(where: str, severity: str, message: str) -> None:
    print(f"{printable.name(where)}: {severity}: {printable.one_line(message)}", file=sys.stderr)


def info(message: str) -> None:
    print(printable.one_line(message), file=sys.stderr)


@dataclass
class Report:
    """Counts what happened to each file; ``return_code`` is the exit code."""

    check: bool = False
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    exposed: int = 0

    def failure(self, err: ComposeNetError) -> None:
        self.failed += 1
        error(err)

    @property
    def return_code(self) -> int:
        if self.failed:
            return EXIT_ERROR
        if self.exposed or (self.check and self.changed):
            return EXIT_FINDINGS
        return EXIT_OK


def unified_diff(path: str, before: str, after: str) -> str:
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    out: list[str] = []
    name = printable.name(path)  # a header is one line whatever the file's name holds
    for line in difflib.unified_diff(a, b, fromfile=f"a/{name}", tofile=f"b/{name}", n=3):
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
