"""The one error type compose-net raises for bad input, and how it is shown."""

from __future__ import annotations

import sys
from typing import Final

from compose_net import printable, redaction

#: top-level module -> the package on PyPI that installs it
PACKAGES: Final = {
    "click": "click",
    "docker": "docker",
    "jsonschema": "jsonschema",
    "prometheus_client": "prometheus-client",
    "psutil": "psutil",
    "requests": "docker",
    "ruamel": "ruamel.yaml",
    "tomli": "tomli",
    "urllib3": "docker",
    "yaml": "PyYAML",
}


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
            where = printable.name(self.path)  # one line whatever the file's name holds
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        # variable values named before the message becomes one line: a value holding a line
        # break would no longer be found (compose_net.redaction)
        return where + redaction.redact(self.message).replace("\n", " ")


class ManyErrors(ComposeNetError):
    """Several problems that each prevent the work, all of them in file order: a person
    fixes them in one go instead of meeting the next on each run. Reads as the first."""

    def __init__(self, errors: list[ComposeNetError]) -> None:
        first = errors[0]
        super().__init__(first.message, path=first.path, line=first.line, column=first.column)
        self.errors = errors

    def with_path(self, path: str) -> ComposeNetError:
        for e in self.errors:
            e.with_path(path)
        return super().with_path(path)


def raise_all(errors: list[ComposeNetError]) -> None:
    """Raise nothing, the one error, or :class:`ManyErrors`."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ManyErrors(errors)


def each(err: ComposeNetError) -> list[ComposeNetError]:
    """The errors ``err`` stands for (several for :class:`ManyErrors`)."""
    return err.errors if isinstance(err, ManyErrors) else [err]


class SafetyError(ComposeNetError):
    """A rewrite failed its own proof; nothing was written."""


def missing_module(error: ModuleNotFoundError) -> str:
    """One line for a module that is not installed: which one, and the command that installs it."""
    name = (error.name or str(error)).split(".")[0]
    package = PACKAGES.get(name, name)
    return (
        f"the Python module {name!r} is not installed where compose-net runs ({sys.executable}): "
        f"install it with `{sys.executable} -m pip install {package}`, or reinstall compose-net "
        "with its dependencies"
    )
