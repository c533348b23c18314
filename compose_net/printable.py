"""Text a person reads, made safe to print: control characters escaped as ``repr`` does.

File contents (service names, port strings, ``.env`` values, file names) reach messages and
reports. Printed raw, a carriage return or an escape sequence forges a GitHub workflow
command (``\\r::error ...``) or rewrites the terminal. Every character ``str.isprintable``
refuses (C0 and C1 controls, DEL, format characters such as bidirectional overrides, lone
surrogates, separators other than the space) is written as its ``repr`` escape (``\\r``,
``\\x1b``, ``\\u202e``, ``\\udc80``); only the line breaks of multi-line text are kept.

The command line wraps standard output and standard error in :class:`Stream` for the whole
run, so no output can miss it. The few writers that mean their own control sequences
(colours, a progress bar, the line endings of a diff, GitHub's workflow commands) escape their
text with this module's functions and write to :func:`raw`.

A name (a file, a path, a service, a variable, a network, a node) is one line whatever it
holds: :func:`name` escapes its line breaks too, and a colon it starts with, so that it can
neither end a line nor start one with ``::`` (a workflow command). :class:`Stream` escapes a
colon at the start of any line it writes as well: only the annotations compose-net means
(written to :func:`raw`) start with ``::``.
"""

from __future__ import annotations

import re
from typing import Any, TextIO, cast

from compose_net import redaction

#: a line break a diff keeps: LF, or CR LF (a CRLF file's lines)
_DIFF_BREAK = re.compile(r"\r?\n")
#: a colon that starts a line after a line break
_LINE_COLON = re.compile(r"(?<=\n):")


def _escape_char(char: str) -> str:
    return repr(char)[1:-1]


def escape(text: str, keep: str = "") -> str:
    """``text`` with every unprintable character but those in ``keep`` escaped as repr does.

    Idempotent: an escape is made of printable characters (a backslash is left as it is).
    """
    if text.isprintable():
        return text
    bare = text
    for char in keep:
        bare = bare.replace(char, "")
    if bare.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else _escape_char(c) for c in text)


def name(text: str) -> str:
    """A name as printed: every unprintable character escaped, line breaks too, and a leading
    ``:`` written ``\\x3a`` (a line that starts with ``::`` is a GitHub workflow command)."""
    out = escape(text)
    if out.startswith(":"):
        out = "\\x3a" + out[1:]
    return out


def one_line(text: str) -> str:
    """A message as one printed line: every unprintable character escaped, line breaks too."""
    return escape(text)


def shown(text: str) -> str:
    """One line from a file, as printed: variable values named (compose_net.redaction), then
    escaped."""
    return escape(redaction.redact(text))


def lines(text: str) -> str:
    """Multi-line text: each line escaped, the line feeds kept."""
    return escape(text, keep="\n")


def diff(text: str) -> str:
    """A unified diff: escaped, keeping line breaks (CR LF too) and tabs, so that it still
    applies to the file it came from."""
    parts = _DIFF_BREAK.split(text)
    breaks = _DIFF_BREAK.findall(text)
    out = [escape(p, keep="\t") for p in parts]
    return "".join(p + b for p, b in zip(out, [*breaks, ""]))


class Stream:
    """A text stream whose writes have variable values named (compose_net.redaction) and are
    escaped by :func:`lines`; anything else is the wrapped stream's (``buffer``, ``isatty``,
    ``fileno``...)."""

    def __init__(self, wrapped: TextIO) -> None:
        self.wrapped = wrapped
        self.line_start = True

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes for a binary stream with b""
            raise TypeError("write() argument must be str")
        out = lines(redaction.redact(text))
        if ":" in out:  # no line starts with a colon ("::" is a workflow command)
            out = _LINE_COLON.sub("\\\\x3a", out)
            if self.line_start and out.startswith(":"):
                out = "\\x3a" + out[1:]
        if out:
            self.line_start = out.endswith("\n")
        self.wrapped.write(out)
        return len(text)

    def writelines(self, texts: Any) -> None:
        for text in texts:
            self.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def write_json(stream: TextIO, data: object) -> None:
    """``data`` as indented JSON: variable values named before it is serialised
    (compose_net.redaction), so that it stays valid JSON; JSON escapes control characters
    itself."""
    data = redaction.redact_data(data)
    try:
        text = indented_json(data)
    except TypeError:  # a value JSON has no form for: json's own error
        import json

        text = json.dumps(data, indent=2)
    raw(stream).write(text + "\n")


def indented_json(data: object) -> str:
    """``json.dumps(data, indent=2)``, character for character, for the values JSON writes
    (str, int, float, bool, None, lists, tuples and dicts; TypeError for anything else),
    without json's generators, which took most of the time of a big report."""
    from json.encoder import encode_basestring_ascii as quoted

    out: list[str] = []
    put = out.append

    def number(o: float) -> str:
        if o != o:
            return "NaN"
        if o in (float("inf"), float("-inf")):
            return "Infinity" if o > 0 else "-Infinity"
        return float.__repr__(o)

    def key_of(key: object) -> str:
        if isinstance(key, str):
            return quoted(key)
        if isinstance(key, float):
            return quoted(number(key))
        if key is True or key is False or key is None:
            return '"' + {True: "true", False: "false", None: "null"}[key] + '"'
        if isinstance(key, int):
            return quoted(int.__repr__(key))
        raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")

    def value(o: object, level: int) -> None:
        if isinstance(o, str):
            put(quoted(o))
        elif o is None:
            put("null")
        elif o is True:
            put("true")
        elif o is False:
            put("false")
        elif isinstance(o, int):
            put(int.__repr__(o))
        elif isinstance(o, float):
            put(number(o))
        elif isinstance(o, (list, tuple)):
            if not o:
                put("[]")
                return
            inner = "\n" + "  " * (level + 1)
            between = "," + inner  # one string for every item of this array
            put("[" + inner)
            first = True
            for item in o:
                if not first:
                    put(between)
                first = False
                value(item, level + 1)
            put("\n" + "  " * level + "]")
        elif isinstance(o, dict):
            if not o:
                put("{}")
                return
            inner = "\n" + "  " * (level + 1)
            between = "," + inner
            put("{" + inner)
            first = True
            for key, item in o.items():
                if not first:
                    put(between)
                first = False
                put(key_of(key))
                put(": ")
                value(item, level + 1)
            put("\n" + "  " * level + "}")
        else:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    value(data, 0)
    return "".join(out)


def raw(stream: TextIO) -> TextIO:
    """The stream under a :class:`Stream`, for text already escaped on purpose."""
    while isinstance(stream, Stream):
        stream = stream.wrapped
    return stream


def wrap(stream: TextIO) -> TextIO:
    """``stream`` wrapped in a :class:`Stream` (once)."""
    if isinstance(stream, Stream):
        return stream
    return cast(TextIO, Stream(stream))
