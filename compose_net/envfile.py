"""The environment Compose interpolates with: the process environment over ``.env`` files."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from compose_net import interpolate
from compose_net.errors import ComposeNetError

_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s?(.*)$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "\\$"}


def parse(text: str, path: str, env: Mapping[str, str]) -> dict[str, str]:
    """Parse a dotenv file as Compose does (the common subset, including interpolation)."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _LINE.match(raw)
        if m is None:
            if "=" not in stripped:
                values[stripped] = env.get(stripped, "")
                continue
            raise ComposeNetError(f"unexpected character in variable name: {stripped!r}", path=path, line=i)
        key, rest = m.group(1), m.group(2).strip()
        scope = {**env, **values}
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            body = rest[1:]
            while _closing(body, quote) < 0 and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            end = _closing(body, quote)
            if end < 0:
                raise ComposeNetError(f"unterminated quoted value for {key}", path=path, line=i)
            value = body[:end]
            if quote == '"':
                value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), value)
                value = interpolate.interpolate(value, scope)
        else:
            value = re.split(r"\s+#", rest, maxsplit=1)[0].strip()
            value = interpolate.interpolate(value, scope)
        values[key] = value
    return values


def _closing(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        if body[i] == "\\" and quote == '"':
            i += 2
            continue
        if body[i] == quote:
            return i
        i += 1
    return -1


def load(project_dir: str, env_files: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: os.environ) over the env files (default: ``.env`` if present)."""
    base = dict(os.environ if environ is None else environ)
    files = list(env_files)
    if not files:
        default = os.path.join(project_dir, ".env")
        if os.path.isfile(default):
            files = [default]
    merged: dict[str, str] = {}
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise ComposeNetError(f"cannot read env file: {e}", path=path) from None
        merged.update(parse(text, path, {**merged, **base}))
    merged.update(base)
    return merged
