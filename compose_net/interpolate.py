"""Compose's variable interpolation, kept symbolic until there is an environment.

The grammar is the one Compose applies to every string of a file:
``$$`` is a literal ``$``; ``$NAME`` and ``${NAME}`` substitute; inside braces
``:-``/``-`` give a default (when unset or empty / when unset), ``:?``/``?``
make the variable required, ``:+``/``+`` give a replacement when set. Defaults,
replacements and messages may themselves contain interpolation.

Two details follow Compose rather than the shell: a ``$`` that starts neither a
name nor ``{`` (``$1``, ``$-``, a trailing ``$``) is kept as a literal ``$``; and
the text after an operator is substituted *before* the operator is applied, so
``${SET:-${MISSING:?x}}`` fails although its default is never used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple, Union

from compose_net import bounds, redaction
from compose_net.errors import ComposeNetError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = (":-", ":?", ":+", "-", "?", "+")
#: the text is not quoted: it may be a value of an env file
_INVALID = (
    "invalid interpolation format: ${ needs a variable name and a closing } (a literal $ is $$)"
)


class InterpolationError(ComposeNetError):
    """An invalid template, or a required variable that is missing."""


class ExpansionError(InterpolationError):
    """The text grows past a bound while it is substituted (values repeating values)."""


class Variables(dict[str, str]):
    """A project's variables, and a meter of the characters substituted from them.

    Every value :func:`render` substitutes is counted before it is used, over every string
    and every pass: past :data:`compose_net.bounds.EXPANSION` the render raises
    :class:`compose_net.bounds.Exceeded` (which no caller takes for a bad value), so that
    ``${BIG}${BIG}...`` costs at most the bound, not the product of the repeats. Variables
    made from these (an included project's) share the meter.
    """

    def __init__(
        self, values: Mapping[str, str] | None = None, *, meter: bounds.Meter | None = None
    ) -> None:
        super().__init__(values or {})
        self.meter = bounds.Meter(bounds.EXPANSION) if meter is None else meter

    def spend(self, characters: int) -> None:
        if self.meter.add(characters):
            raise bounds.Exceeded(
                bounds.EXPANSION.error(
                    "the ${VARIABLES} substitute too much text, values repeated over and over"
                )
            )


class Var(NamedTuple):
    """``${name<op>arg}``; ``op`` is ``""`` for a plain reference."""

    name: str
    op: str
    arg: tuple[Part, ...]
    text: str


Part = Union[str, Var]
Template = tuple[Part, ...]


def has_variables(text: str) -> bool:
    """True when ``text`` contains an interpolation (not just ``$$`` escapes or literal ``$``).

    A template Compose would reject counts as having variables: it is not a plain value.
    """
    if "$" not in text:
        return False
    try:
        return any(isinstance(part, Var) for part in parse(text))
    except InterpolationError:
        return True


def parse(text: str) -> Template:
    """Parse ``text`` into literal strings and variables."""
    parts, end = _parse(text, 0, closing=False)
    assert end == len(text)
    return parts


def _parse(text: str, i: int, *, closing: bool, depth: int = 0) -> tuple[Template, int]:
    # ${A:-${A:-${A:-...}}}: bounded, as YAML nesting is (a bound is at least 1: the top
    # level never asks the environment for it)
    if depth and depth > bounds.DEPTH.value():
        raise InterpolationError(bounds.DEPTH.error("variables nested too deep").message)
    parts: list[Part] = []
    literal: list[str] = []
    n = len(text)
    while i < n:
        # the literal text up to the next "$" (or the "}" that closes a default), at once
        stop = text.find("$", i)
        if stop < 0:
            stop = n
        if closing:
            brace = text.find("}", i, stop)
            if brace >= 0:
                stop = brace
        if stop > i:
            literal.append(text[i:stop])
            i = stop
            continue
        if text[i] == "}":  # closing: the end of this default
            break
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "$":
            literal.append("$")
            i += 2
            continue
        if nxt == "{":
            var, i = _parse_braced(text, i, depth)
        else:
            m = _NAME.match(text, i + 1)
            if m is None:  # not a reference: Compose keeps the "$" as written
                literal.append("$")
                i += 1
                continue
            var = Var(m.group(), "", (), text[i : m.end()])
            i = m.end()
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(var)
    if literal:
        parts.append("".join(literal))
    return tuple(parts), i


def _parse_braced(text: str, start: int, depth: int) -> tuple[Var, int]:
    m = _NAME.match(text, start + 2)
    if m is None:
        raise InterpolationError(_INVALID)
    i = m.end()
    op = ""
    arg: Template = ()
    for candidate in _OPS:
        if text.startswith(candidate, i):
            op = candidate
            arg, i = _parse(text, i + len(candidate), closing=True, depth=depth + 1)
            break
    if i >= len(text) or text[i] != "}":
        raise InterpolationError(_INVALID)
    return Var(m.group(), op, arg, text[start : i + 1]), i + 1


class Traced(NamedTuple):
    """Characters ``start``..``end`` of a rendered text came from the variable ``name``."""

    start: int
    end: int
    name: str


def render(template: Template, env: Mapping[str, str], *, limit: int | None = None) -> str:
    """Substitute ``env`` into ``template`` as Compose does.

    ``limit``: the most characters the result may have, checked part by part while it is
    built (:class:`ExpansionError` past it), so a result past the limit is never made.
    """
    return render_traced(template, env, limit=limit)[0]


def render_traced(
    template: Template, env: Mapping[str, str], *, limit: int | None = None
) -> tuple[str, tuple[Traced, ...]]:
    """:func:`render`, and which characters of the result came from which variable's value
    (a default or replacement written in the file is text of the file, not a value).

    A message about the result names the variables of the characters it is about and
    never quotes them (compose_net.ports, compose_net.model).
    """
    out: list[str] = []
    traces: list[Traced] = []
    at = 0
    for part in template:
        if isinstance(part, str):
            text = part
        else:
            text, inner = _render_var(part, env, limit)
            traces.extend(Traced(at + t.start, at + t.end, t.name) for t in inner)
        at += len(text)
        if limit is not None and at > limit:
            raise ExpansionError(f"the text expands to more than {limit:,} characters")
        out.append(text)
    return "".join(out), tuple(traces)


def names_in(traces: tuple[Traced, ...], start: int = 0, end: int | None = None) -> list[str]:
    """The variables whose values fill any character of ``start``..``end``, each once."""
    stop = max((t.end for t in traces), default=0) if end is None else end
    return list(dict.fromkeys(t.name for t in traces if t.start < stop and t.end > start))


def references(names: list[str]) -> str:
    """``${A}``, ``${A} and ${B}``: variables as a message names them."""
    shown = ["${" + name + "}" for name in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _render_var(
    var: Var, env: Mapping[str, str], limit: int | None = None
) -> tuple[str, tuple[Traced, ...]]:
    value = env.get(var.name)
    if value and isinstance(env, Variables):
        env.spend(len(value))
    if value:  # defence in depth: printed text names the variable (compose_net.redaction)
        redaction.note(var.name, value)
    is_set = value is not None
    non_empty = bool(value)
    op = var.op
    # Compose substitutes the operand first, whether or not it is used.
    arg, arg_traces = render_traced(var.arg, env, limit=limit) if var.arg else ("", ())
    own = (Traced(0, len(value), var.name),) if value else ()
    if op in (":-", "-"):
        use_default = not non_empty if op == ":-" else not is_set
        return (arg, arg_traces) if use_default else (value or "", own)
    if op in (":?", "?"):
        missing = not non_empty if op == ":?" else not is_set
        if missing:
            # the message as written in the file, never as rendered: a variable in it is
            # named, not substituted
            written = var.text[len(var.name) + len(op) + 2 : -1]
            raise InterpolationError(
                f"required variable {var.name} is missing a value"
                + (f": {written}" if written else ""),
            )
        return value or "", own
    if op in (":+", "+"):
        use_repl = non_empty if op == ":+" else is_set
        return (arg, arg_traces) if use_repl else ("", ())
    return value or "", own


def interpolate(text: str, env: Mapping[str, str], *, limit: int | None = None) -> str:
    """Parse and render in one step; text without ``$`` is returned as is."""
    if "$" not in text:
        return text
    return render(parse(text), env, limit=limit)


def default_of(text: str) -> str | None:
    """The value ``text`` takes when no variable is set; None when one is required."""
    try:
        return interpolate(text, {})
    except InterpolationError:
        return None
