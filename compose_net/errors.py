"""The one error type compose-net raises for bad input, and how it is shown."""

from __future__ import annotations


class ComposeNetError(Exception):
    """Bad input, bad usage or a refused operation: a one-line message, exit 2.

    ``path``, ``line`` and ``column`` (1-based) say where, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def with_path(self, path: str) -> ComposeNetError:
        """Return this error with ``path`` filled in when it had none."""
        if self.path is None:
            self.path = path
        return self

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return where + self.message.replace("\n", " ")


class SafetyError(ComposeNetError):
    """A rewrite failed its own proof; nothing was written."""
