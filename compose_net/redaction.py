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

Files reached through a path built from variables (``include: ["${DIR}/x.yml"]``,
``extends: {file: ...}``, an include's ``env_file`` and ``project_directory``) are named as the
path is written (:func:`name_path`): wherever such a file, or a file in its folder, is printed,
its name is ``${DIR}/x.yml``, never the path it was read from.
"""

from __future__ import annotations

import os
import re

_PLAIN = re.compile(r"[0-9]+(-[0-9]+)?(/[a-z]+)?|true|false|yes|no|True|False", re.ASCII)
_ADDRESS_CHARS = re.compile(r"\[?[0-9A-Fa-f.:%]+\]?(/[0-9]+)?")
SHORTEST = 4
WHOLE_WORD_BELOW = 8

#: value as printed -> the variable it came from
_VALUES: dict[str, str] = {}
#: the values, longest first (replaced before the shorter ones they may contain)
_ORDER: list[str] = []
#: a longer value is no password, and noting it would let an env file of values that repeat
#: each other fill the memory
LONGEST = 4096
#: values kept that do not come from the process environment (each message is searched for
#: every value kept)
MOST_FROM_FILES = 256
_FROM_FILES = [0]
#: a path read, as printed -> its name as written (variables kept)
_PATHS: dict[str, str] = {}
#: the paths, longest first
_PATH_ORDER: list[str] = []


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


def note(name: str, value: str) -> None:
    """``value`` came from the variable ``name``: print the name instead from now on.

    Every value of the process environment is kept; of the others (env files, which a
    repository may fill with thousands of values to slow every message down), the first
    :data:`MOST_FROM_FILES`.
    """
    if not _NOTING[0] or value in _VALUES or len(value) > LONGEST or shown_as_is(value):
        return
    if os.environ.get(name) != value:
        if _FROM_FILES[0] >= MOST_FROM_FILES:
            return
        _FROM_FILES[0] += 1
    import json  # only once a value is noted: off the start-up path

    _VALUES[value] = name
    quoted = json.dumps(value)[1:-1]  # as a JSON or SARIF report writes it
    if quoted != value:
        _VALUES.setdefault(quoted, name)
    _ORDER.clear()


#: whether values are noted at all (``ports --show-values`` asks to see them)
_NOTING = [True]


def keep_values() -> None:
    """Note no value from now on: the user asked to see them (``ports --show-values``)."""
    _NOTING[0] = False
    forget(noting=False)


def name_path(real: str, written: str) -> None:
    """The file (or folder) read at ``real`` is printed as ``written``, the path as a file
    writes it (``${DIR}/x.yml``); a file next to it (its folder's) as well."""
    if real in ("", ".", "/") or real in written:  # nothing a variable hid: printed as is
        return
    import json
    from urllib.parse import quote

    pairs = [(real, written)]
    folder, shown_folder = os.path.split(real), os.path.split(written)
    if folder[1] == shown_folder[1] and folder[0] not in ("", "/") and folder[0] != shown_folder[0]:
        pairs.append((folder[0], shown_folder[0] or "."))
    for path, shown in pairs:
        _PATHS[path] = shown
        _PATHS.setdefault(json.dumps(path)[1:-1], shown)  # as a JSON or SARIF report writes it
        _PATHS.setdefault(quote(path), shown)  # a SARIF artifact's URI
        _PATHS.setdefault(path.encode("unicode_escape").decode("ascii"), shown)  # escaped
    _PATH_ORDER.clear()


def _name_paths(text: str) -> str:
    if _PATHS:
        if not _PATH_ORDER:
            _PATH_ORDER.extend(sorted(_PATHS, key=len, reverse=True))
        for path in _PATH_ORDER:
            if path in text:
                text = text.replace(path, _PATHS[path])
    return text


def path_name(path: str) -> str | None:
    """The name of a file read through a path variables built (:func:`name_path`), or of a
    file in its folder; None for any other path. A report that would print such a path in
    another form (relative to the working directory, as a URI) prints this name instead."""
    shown = _name_paths(path)
    return None if shown == path else shown


def forget(*, noting: bool = True) -> None:
    """Start afresh (each run of the command line)."""
    _VALUES.clear()
    _ORDER.clear()
    _PATHS.clear()
    _PATH_ORDER.clear()
    _FROM_FILES[0] = 0
    _NOTING[0] = noting


def redact(text: str) -> str:
    """``text`` with every named path replaced by its name as written, and every noted
    value by ``${NAME}``."""
    text = _name_paths(text)
    if not _VALUES:
        return text
    if not _ORDER:
        _ORDER.extend(sorted(_VALUES, key=len, reverse=True))
    for value in _ORDER:
        if value not in text:
            continue
        name = "${" + _VALUES[value] + "}"
        if len(value) >= WHOLE_WORD_BELOW:
            text = text.replace(value, name)
        else:
            parts = re.split(rf"(?<![\w.-]){re.escape(value)}(?![\w.-])", text)
            text = name.join(parts)
    return text


def redact_data(data: object) -> object:
    """JSON-like ``data`` with :func:`redact` applied to every string (keys too), so that a
    report is redacted before it is serialised and stays valid JSON whatever the values."""
    if not _VALUES and not _PATHS:
        return data
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redact_data(k): redact_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v) for v in data]
    return data
