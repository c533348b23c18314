"""Variable values never shown: what interpolation substituted is printed as ``${NAME}``.

Defence in depth only: messages are built from the variables' names and never quote a value
(compose_net.interpolate.render_traced, compose_net.ports.without_values,
compose_net.model.value_free, compose_net.schema.Interpolated); this catches a whole value
that a path not built that way would still print.

A port written ``"${SECRET_TOKEN}:80"`` is interpolated before it is checked, and the
messages about it would quote the token. Every value :mod:`compose_net.interpolate` takes from
the environment or an env file is noted here with its variable's name, and :func:`redact`
writes the name in place of the value in whatever is printed (compose_net.printable applies
it to standard output, standard error and report files).

Every value the process environment holds is kept; of values from env files, the first 256
(an env file a repository controls must not slow every message down, and its values are the
repository's own).

Shown as they are, because they are what a person needs to read and no secret: addresses
(``10.0.0.5``, ``[fd00::1]``), port numbers and ranges, booleans, and values shorter than four
characters. A value shorter than eight characters is replaced only as a whole word (``host``
is not taken out of ``host-network``); a longer one wherever it appears.

The values are kept per run: a :class:`Redactor` made for one run of the command line
(:func:`compose_net.cli.main`) or one request of the language server
(:meth:`compose_net.server.lsp.ComposeNetServer.run`), reached through a context variable
set and reset around that run (:func:`start` and :func:`end`, or :func:`running`). Outside a
run nothing is noted and nothing replaced; a long-lived server does not gather the names of
every request.

Files reached through a path built from variables (``include: ["${DIR}/x.yml"]``) are not
this module's concern: such a file carries the name it is shown by
(:attr:`compose_net.source.Source.name`), and every message takes that name.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar, Token

_PLAIN = re.compile(r"[0-9]+(-[0-9]+)?(/[a-z]+)?|true|false|yes|no|True|False", re.ASCII)
_ADDRESS_CHARS = re.compile(r"\[?[0-9A-Fa-f.:%]+\]?(/[0-9]+)?")
SHORTEST = 4
WHOLE_WORD_BELOW = 8
#: a longer value is no password, and noting it would let an env file of values that repeat
#: each other fill the memory
LONGEST = 4096
#: values kept that do not come from the process environment (each message is searched for
#: every value kept)
MOST_FROM_FILES = 256


def _is_address(value: str) -> bool:
    if _ADDRESS_CHARS.fullmatch(value) is None:
        return False
    import ipaddress

    text = value.strip("[]")
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        return False
    return True


def shown_as_is(value: str) -> bool:
    """A value that may be printed: short, a number, a port range, a boolean or an address."""
    return len(value) < SHORTEST or _PLAIN.fullmatch(value) is not None or _is_address(value)


class Redactor:
    """The values one run substituted, each printed as its variable's name."""

    def __init__(self) -> None:
        #: value as printed -> the variable it came from
        self.values: dict[str, str] = {}
        #: the values, longest first (replaced before the shorter ones they may contain)
        self.order: list[str] = []
        #: values kept that do not come from the process environment
        self.from_files = 0
        #: whether values are noted at all (``ports --show-values`` asks to see them)
        self.noting = True

    def note(self, name: str, value: str) -> None:
        """``value`` came from the variable ``name``: print the name instead from now on.

        Every value of the process environment is kept; of the others (env files, which a
        repository may fill with thousands of values to slow every message down), the first
        :data:`MOST_FROM_FILES`.
        """
        if not self.noting or value in self.values or len(value) > LONGEST or shown_as_is(value):
            return
        if os.environ.get(name) != value:
            if self.from_files >= MOST_FROM_FILES:
                return
            self.from_files += 1
        import json  # only once a value is noted: off the start-up path

        self.values[value] = name
        quoted = json.dumps(value)[1:-1]  # as a JSON or SARIF report writes it
        if quoted != value:
            self.values.setdefault(quoted, name)
        self.order.clear()

    def keep_values(self) -> None:
        """Note no value from now on, and forget those noted: the user asked to see them."""
        self.noting = False
        self.values.clear()
        self.order.clear()

    def redact(self, text: str) -> str:
        """``text`` with every noted value replaced by ``${NAME}``."""
        if not self.values:
            return text
        if not self.order:
            self.order.extend(sorted(self.values, key=len, reverse=True))
        for value in self.order:
            if value not in text:
                continue
            name = "${" + self.values[value] + "}"
            if len(value) >= WHOLE_WORD_BELOW:
                text = text.replace(value, name)
            else:
                parts = re.split(rf"(?<![\w.-]){re.escape(value)}(?![\w.-])", text)
                text = name.join(parts)
        return text


#: the run's redactor (None: not in a run, nothing is noted)
_CURRENT: ContextVar[Redactor | None] = ContextVar("compose_net_redactor", default=None)


def start() -> Token[Redactor | None]:
    """Begin a run: a fresh :class:`Redactor` for everything it prints (end it with
    :func:`end`, in a ``finally``)."""
    return _CURRENT.set(Redactor())


def end(token: Token[Redactor | None]) -> None:
    """End the run :func:`start` began: its values are forgotten."""
    _CURRENT.reset(token)


@contextlib.contextmanager
def running() -> Iterator[None]:
    """A run (:func:`start` ... :func:`end`)."""
    token = start()
    try:
        yield
    finally:
        end(token)


def note(name: str, value: str) -> None:
    """``value`` came from the variable ``name`` (:meth:`Redactor.note` of the run)."""
    found = _CURRENT.get()
    if found is not None:
        found.note(name, value)


def keep_values() -> None:
    """Note no value from now on in this run: the user asked to see them
    (``ports --show-values``)."""
    found = _CURRENT.get()
    if found is not None:
        found.keep_values()


def redact(text: str) -> str:
    """``text`` with every value the run noted replaced by ``${NAME}``."""
    found = _CURRENT.get()
    return text if found is None else found.redact(text)


def redact_data(data: object) -> object:
    """JSON-like ``data`` with :func:`redact` applied to every string (keys too), so that a
    report is redacted before it is serialised and stays valid JSON whatever the values."""
    found = _CURRENT.get()
    if found is None or not found.values:
        return data
    return _redact_data(found, data)


def _redact_data(found: Redactor, data: object) -> object:
    if isinstance(data, str):
        return found.redact(data)
    if isinstance(data, dict):
        return {_redact_data(found, k): _redact_data(found, v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_redact_data(found, v) for v in data]
    return data
