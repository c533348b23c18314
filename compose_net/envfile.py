"""The environment Compose interpolates with: the process environment over ``.env`` files.

The dotenv reader follows Compose's own, including its less obvious rules:

* a statement is ``[export ]KEY=VALUE`` or ``KEY: VALUE``; a key may hold letters,
  digits, ``_ . - [ ]``; a key alone on its line is taken from the process
  environment when it is set there (and is left unset otherwise);
* an unquoted value runs to the end of the line, loses a `` #`` comment and
  trailing blanks, and is interpolated;
* a single-quoted value is taken as written (but ``\\'`` is a quote); a double-quoted one has its
  backslash escapes (``\\n``, ``\\t``, ``\\"``, ``\\\\``, ``\\$``, ``\\0NNN``...)
  expanded and is then interpolated; both may span lines, and parsing goes on
  right after the closing quote (``A="x" B=y`` sets two variables);
* interpolation sees the process environment first, then the variables already
  read from the file, then those of the env files read before it.
"""

from __future__ import annotations

import os
import re
from collections import ChainMap
from collections.abc import Mapping, Sequence
from typing import Final

from compose_net import bounds, interpolate, paths, source
from compose_net.errors import ComposeNetError

#: Blanks that are not line breaks (Compose's ``isSpace``).
_BLANKS = frozenset("\t\v\f\r \x85\xa0")
_EXPORT = re.compile(r"export[\t\n\f\r ]+")
_ESCAPE = re.compile(r"\\(?:[abcfnrtv$\"\\]|0[0-9]{0,3})")
_SIMPLE_ESCAPES: Final = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
}


def _key_char_ok(char: str) -> bool:
    """A key is made of letters and numbers (any script) and ``_ . - [ ]``."""
    return char.isalpha() or char.isnumeric() or char in "_.-[]"


def _unescape(match: re.Match[str]) -> str:
    text = match.group()
    body = text[1:]
    if body == "$":
        return "$$"  # a literal dollar for the interpolation that follows
    if body in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[body]
    if not body.startswith("0"):  # \c: matched, but not an escape
        return text
    digits = body[1:]  # \0NNN is read as the octal escape \NNN, and stays \NNN when it is not one
    if len(digits) == 3 and all(d in "01234567" for d in digits) and int(digits, 8) <= 0o377:
        return chr(int(digits, 8))
    return "\\" + digits


def _escapes_before(text: str, j: int) -> int:
    """How many backslashes run up to ``text[j]`` (an odd count escapes it)."""
    k = j
    while k > 0 and text[k - 1] == "\\":
        k -= 1
    return j - k


class _Reader:
    def __init__(
        self,
        text: str,
        path: str,
        env: Mapping[str, str],
        fallback: Mapping[str, str],
        budget: int,
    ) -> None:
        self.text = text
        self.budget = budget
        self.expanded = 0
        self.path = path
        self.env = env
        self.fallback = fallback
        self.values: dict[str, str] = {}
        self.line = 1
        #: the process environment over the file's own variables over the earlier files'
        #: (a view: building a merged copy for each value made reading quadratic)
        self.lookup = ChainMap(dict(env), self.values, dict(fallback))

    def error(self, message: str) -> ComposeNetError:
        return ComposeNetError(message, path=self.path, line=self.line)

    def expand(self, value: str) -> str:
        # the bound is checked while the value is built: a value past it is never made
        try:
            out = interpolate.interpolate(value, self.lookup, limit=self.budget - self.expanded)
        except interpolate.ExpansionError:
            message = "the values expand too far, each ${VARIABLE} repeating the ones before"
            raise bounds.ENV_EXPANSION.error(message, path=self.path, line=self.line) from None
        except interpolate.InterpolationError as e:
            raise self.error(e.message) from None
        self.expanded += len(out)
        return out

    def statement_start(self, i: int) -> int:
        """Index of the next statement, past blank lines and comments; -1 at the end."""
        text = self.text
        while i < len(text):
            c = text[i]
            if c == "\n":
                self.line += 1
            elif c == "#":
                end = text.find("\n", i)
                if end < 0:
                    return -1
                i = end
                continue
            elif not c.isspace():
                return i
            i += 1
        return -1

    def read(self) -> dict[str, str]:
        text = self.text
        i = self.statement_start(0)
        while i >= 0:
            m = _EXPORT.match(text, i)
            if m is not None:
                self.line += m.group().count("\n")
                i = m.end()
            while i < len(text) and text[i] in _BLANKS:
                i += 1
            start = i
            key = None
            while i < len(text):
                c = text[i]
                if c in "=:\n":
                    key = text[start:i].rstrip()
                    break
                if c not in _BLANKS and not _key_char_ok(c):
                    # the name up to the character, not the line: the rest may be a value
                    name = text[start : i + 1]
                    raise self.error(f"unexpected character {c!r} in variable name {name!r}")
                i += 1
            if key is None:  # no separator before the end: Compose reads it all as a value
                if start >= len(text):
                    break
                key, i = "", start
            elif text[i] == "\n":  # a key alone: inherited from the environment
                if " " in key:
                    raise self.error("key cannot contain a space")
                inherited = self.env.get(key, self.fallback.get(key))
                if inherited is not None:
                    self.values[key] = inherited
                i = self.statement_start(i)
                continue
            else:
                i += 1
            if " " in key:
                raise self.error("key cannot contain a space")
            while i < len(text) and text[i] in _BLANKS:
                i += 1
            value, i = self.value(i, key)
            self.values[key] = value
            i = self.statement_start(i)
        return self.values

    def value(self, i: int, key: str = "") -> tuple[str, int]:
        text = self.text
        quote = text[i] if i < len(text) and text[i] in "'\"" else ""
        if not quote:
            end = text.find("\n", i)
            if end < 0:
                end = len(text)
            raw = text[i:end].split(" #", 1)[0].rstrip()
            return self.expand(raw), end
        opened_on = self.line
        j = i + 1
        while j < len(text):
            c = text[j]
            if c == quote and _escapes_before(text, j) % 2 == 0:
                break
            if c == "\n":
                self.line += 1
            j += 1
        else:
            # named, not quoted: the value is likely a secret that lost its closing quote
            message = f"unterminated quoted value of {key or 'the line'}: {quote} never closes"
            raise ComposeNetError(message, path=self.path, line=opened_on)
        raw = text[i + 1 : j]
        if quote == "'":
            return raw.replace("\\'", "'"), j + 1
        return self.expand(_ESCAPE.sub(_unescape, raw)), j + 1


def parse(
    text: str,
    path: str,
    env: Mapping[str, str],
    *,
    fallback: Mapping[str, str] | None = None,
    budget: int | None = None,
) -> dict[str, str]:
    """The variables a dotenv file defines, read as Compose reads them.

    ``env`` is the process environment: it fills keys written alone and takes
    precedence inside ``${...}``. ``fallback`` holds the variables of env files
    read before this one: below the file's own variables, above nothing.
    Errors carry the file and line. ``budget`` bounds the characters all values expand
    to (default: :data:`compose_net.bounds.ENV_EXPANSION`), against values that repeat the
    ones before.
    """
    if budget is None:
        budget = bounds.ENV_EXPANSION.value()
    return _Reader(text, path, env, fallback or {}, budget).read()


def load(
    project_dir: str,
    env_files: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    *,
    outside: bool = False,
    names: Mapping[str, str] | None = None,
) -> interpolate.Variables:
    """``environ`` (default: os.environ) over the env files (default: ``.env`` if present).

    Each file goes through the path policy (:func:`compose_net.paths.check_read`): a
    symlink to a file outside its project root is not read unless ``outside``
    (``--read-outside``); the project's own ``.env`` may be named with ``--env-file``.
    The variables share ``environ``'s meter of substituted text when it has one (an
    included project's variables count against its includer's bound). ``names``: how an
    env file is shown in errors when not by its path (an include's ``env_file`` whose path
    variables built is shown as written).
    """
    base = dict(os.environ if environ is None else environ)
    files = list(env_files)
    if not files:
        default = os.path.join(project_dir, ".env")
        if os.path.isfile(default):
            files = [default]
            try:
                paths.check_read(
                    default, outside_ok=outside, hint="not read; name it with --env-file"
                )
            except ComposeNetError as e:
                if names is not None and e.path == default:
                    e.path = names.get(default, default)
                raise
    merged: dict[str, str] = {}
    limit = bounds.ENV_BYTES.value()
    for path in files:
        name = path if names is None else names.get(path, path)
        try:
            if env_files:
                paths.check_read(path, outside_ok=outside, hint="not read; pass --read-outside")
            data = source.read_regular(path, limit + 1)
        except ComposeNetError as e:
            e.message = f"cannot read env file: {e.message}"
            if e.path == path:
                e.path = name
            raise
        if len(data) > limit:
            raise bounds.ENV_BYTES.error("env file is too large", path=name)
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Compose reads env files as UTF-8 only
            message = "env file is UTF-16, which Compose does not read: convert it to UTF-8"
            raise ComposeNetError(message, path=name, line=1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            message = f"env file is not valid UTF-8 (byte 0x{data[e.start]:02x})"
            raise ComposeNetError(message, path=name, line=line) from None
        if text.startswith(source.BOM):  # one BOM, as Compose skips (a second is a character)
            text = text[1:]
        merged.update(parse(text, name, base, fallback=merged))
    merged.update(base)
    meter = environ.meter if isinstance(environ, interpolate.Variables) else None
    return interpolate.Variables(merged, meter=meter)
