"""Messages to the user and the exit code, decided in one place.

Each message is one line whatever the names in it hold (compose_net.printable): a file name
with a line break in it cannot end the line and start a forged one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from compose_net import printable, redaction
from compose_net.errors import ComposeNetError, each

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


def exit_code(*, errors: int, remaining: int, changed: int = 0, exit_zero: bool = False) -> int:
    """The exit-code table of ``check`` (with or without ``--fix``) and ``harden``.

    2 when a file could not be read, checked or written; else 1 when a finding that fails
    remains (``remaining``) or, with ``--check``/``--diff``, when a file would change
    (``changed``); else 0. ``--exit-zero`` turns the 1 into 0, never the 2.
    """
    if errors:
        return EXIT_ERROR
    if (remaining or changed) and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_OK


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
        """A file that could not be done: every problem that prevents it, one line each."""
        self.failed += 1
        for e in each(err):
            error(e)

    @property
    def return_code(self) -> int:
        return exit_code(
            errors=self.failed, remaining=self.exposed, changed=self.changed if self.check else 0
        )


def unified_diff(path: str, before: str, after: str) -> str:
    import difflib  # diffs only: off the start-up of every other command

    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    out: list[str] = []
    name = printable.name(redaction.redact(path))  # one line whatever the file name holds
    for line in difflib.unified_diff(a, b, fromfile=f"a/{name}", tofile=f"b/{name}", n=3):
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
