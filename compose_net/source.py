"""Bytes in, bytes out: decoding a file exactly and writing it back atomically.

The text is never normalised: edits are spliced into the decoded text, and
``encode`` gives back the same BOM and line endings it came with.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from typing import NamedTuple

from compose_net.errors import ComposeNetError

BOM = "\ufeff"
MAX_BYTES = 2 * 1024 * 1024


class Source(NamedTuple):
    """A decoded file: ``text`` without its BOM, and whether it had one."""

    path: str
    text: str
    bom: bool

    def encode(self, text: str) -> bytes:
        return ((BOM if self.bom else "") + text).encode("utf-8")


def decode(path: str, data: bytes, *, max_bytes: int = MAX_BYTES) -> Source:
    """Decode ``data`` strictly as UTF-8 (with an optional BOM)."""
    if len(data) > max_bytes:
        raise ComposeNetError(
            f"file is too large (over {max_bytes // 1024 // 1024} MiB); "
            "compose files are far smaller",
            path=path,
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ComposeNetError("UTF-16 files are not supported; save it as UTF-8", path=path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ComposeNetError(
            f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})",
            path=path,
            line=line,
        ) from None
    if "\x00" in text:
        raise ComposeNetError("file contains NUL characters; is it binary?", path=path)
    bom = text.startswith(BOM)
    return Source(path, text[1:] if bom else text, bom)


def read(path: str, *, max_bytes: int = MAX_BYTES) -> Source:
    """Read and decode ``path``; ``-`` reads standard input."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
    except OSError as e:
        raise ComposeNetError(e.strerror or str(e), path=path) from None
    return decode(path, data, max_bytes=max_bytes)


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, fsync, rename.

    The file's permission bits are kept; a symlink is followed and its target replaced.
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target) or "."
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    import tempfile  # writing only: off the start-up path of read-only commands

    fd, tmp = tempfile.mkstemp(prefix=".compose-net-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
