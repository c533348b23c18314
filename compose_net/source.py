"""Bytes in, bytes out: decoding a file exactly and writing it back atomically.

The text is never normalised: edits are spliced into the decoded text, and
``encode`` gives back the same BOM and line endings it came with.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from compose_net import bounds, paths
from compose_net.errors import ComposeNetError

BOM = "\ufeff"


class Source(NamedTuple):
    """A decoded file: ``text`` without its BOM, and whether it had one."""

    path: str
    text: str
    bom: bool

    def encode(self, text: str) -> bytes:
        return ((BOM if self.bom else "") + text).encode("utf-8")


def decode(path: str, data: bytes, *, max_bytes: int | None = None) -> Source:
    """Decode ``data`` strictly as UTF-8 (with an optional BOM)."""
    if max_bytes is None:
        max_bytes = bounds.FILE_BYTES.value()
    if len(data) > max_bytes:
        raise bounds.FILE_BYTES.error("file is too large", path=path)
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
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ComposeNetError("file contains NUL characters; is it binary?", path=path, line=line)
    bom = text.startswith(BOM)
    return Source(path, text[1:] if bom else text, bom)


# --------------------------------------------------------------------------- reading

def os_error(e: OSError, path: str, doing: str = "") -> ComposeNetError:
    """An operating-system error as one line: the file, what was done, and the cause."""
    cause = e.strerror or type(e).__name__
    if e.errno == errno.EROFS:
        cause = "read-only file system"
    elif e.errno == errno.ENOSPC:
        cause = "no space left on device"
    elif e.errno == errno.EFBIG:
        cause = "file too large for this system or its limits"
    elif e.errno == errno.EPERM and doing:
        cause = "operation not permitted (an immutable or append-only file?)"
    return ComposeNetError(f"{doing}: {cause}" if doing else cause, path=path)


_kind = paths.kind
_refuse_special = paths.refuse_special


def read(path: str, *, max_bytes: int | None = None, outside_ok: bool = False) -> Source:
    """Read and decode ``path``; ``-`` reads standard input.

    Only regular files are read: a FIFO, a device, a socket or a folder is refused
    before anything could block on it, and so is a path through /dev or /proc. A symlink
    to a file outside its project root is refused unless ``outside_ok``: a repository must
    not make compose-net read, and quote in its messages, the user's other files.
    """
    paths.check_read(path, outside_ok=outside_ok)
    if max_bytes is None:
        max_bytes = bounds.FILE_BYTES.value()
    if path == "-":
        try:
            data = sys.stdin.buffer.read(max_bytes + 1)
        except OSError as e:
            raise os_error(e, path, "cannot read standard input") from None
        return decode(path, data, max_bytes=max_bytes)
    return decode(path, read_regular(path, max_bytes + 1), max_bytes=max_bytes)


def read_anywhere(path: str) -> Source:
    """:func:`read`, symlinks to files outside the project root included (``--read-outside``)."""
    return read(path, outside_ok=True)


def read_regular(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes of the regular file ``path``; anything else is refused with
    one line (a FIFO, a device, a socket, a folder, a path through /dev or /proc)."""
    _refuse_special(path)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise ComposeNetError(f"{_kind(mode)}, not a regular file; compose-net reads files")
        # O_NONBLOCK: should the path have turned into a FIFO since, opening it cannot block
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise ComposeNetError(f"{_kind(mode)}, not a regular file; compose-net reads files")
            return f.read(limit)
    except ComposeNetError as e:
        raise e.with_path(path) from None
    except OSError as e:
        raise os_error(e, path) from None


def read_packaged(path: str) -> str:
    """A file shipped with compose-net (its schemas), as text: not a user's file, so no
    bound but a sanity one, and no project to stay in."""
    return read_regular(path, 64 * 1024 * 1024).decode("utf-8")


# --------------------------------------------------------------------------- writing


@dataclass
class _Pending:
    """One file of :func:`write_all`: where it goes and the temporary files beside it."""

    path: str
    target: str
    data: bytes
    tmp: str | None = None
    #: a second link to the original (or a copy of it), to put back should a later file fail
    backup: str | None = None
    existed: bool = False
    replaced: bool = False


def _target(path: str, outside_ok: bool) -> str:
    """The file a write to ``path`` replaces (:func:`compose_net.paths.check_write`)."""
    return paths.check_write(path, outside_ok=outside_ok)


def _refuse_unwritable(path: str, target: str, st: os.stat_result) -> None:
    """What compose-net will not replace: a file that is not regular, that nobody may
    write or the user cannot, that has other hard links, or whose owner it cannot keep."""
    if not stat.S_ISREG(st.st_mode):
        raise ComposeNetError(f"{_kind(st.st_mode)}, not a regular file", path=path)
    if not st.st_mode & 0o222:
        mode = stat.S_IMODE(st.st_mode)
        raise ComposeNetError(f"read-only file (mode {mode:04o}); nothing was written", path=path)
    if st.st_nlink > 1:
        raise ComposeNetError(
            f"the file has {st.st_nlink} hard links, and replacing it would leave the others "
            "with the old ports: make it a file of its own (cp, then mv) or use --diff; "
            "nothing was written",
            path=path,
        )
    if os.geteuid() not in (0, st.st_uid):
        raise ComposeNetError(
            f"owned by another user (uid {st.st_uid}), who would lose it to a rewrite; "
            "nothing was written",
            path=path,
        )
    try:  # the permission bits, ACLs, an immutable or append-only flag, a read-only mount
        os.close(os.open(target, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY))
    except OSError as e:
        raise os_error(e, path, "cannot write") from None


def _backup(item: _Pending, folder: str) -> None:
    """A second name for the original: a hard link, or a copy where links are not possible."""
    assert item.tmp is not None
    name = item.tmp + ".orig"
    try:
        os.link(item.target, name)
    except OSError:
        import shutil

        shutil.copy2(item.target, name)
    item.backup = name


def _prepare(item: _Pending) -> None:
    """Write ``item``'s temporary file beside its target with the target's owner, group and
    permission bits (set-id bits dropped), and keep the original to restore."""
    import tempfile  # writing only: off the start-up path of read-only commands

    folder = os.path.dirname(item.target) or "."
    try:
        st: os.stat_result | None = os.stat(item.target)
    except FileNotFoundError:
        st = None
    if st is not None:
        _refuse_unwritable(item.path, item.target, st)
        mode = stat.S_IMODE(st.st_mode) & 0o777
        item.existed = True
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, item.tmp = tempfile.mkstemp(prefix=".compose-net-", suffix=".tmp", dir=folder)
    except OSError as e:
        raise os_error(e, item.path, f"cannot create a file in {folder}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if st is not None:
                mine = os.fstat(fd)
                if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
                    os.fchown(fd, st.st_uid, st.st_gid)
            os.fchmod(fd, mode)
            f.write(item.data)
            f.flush()
            os.fsync(f.fileno())
        if st is not None:
            _backup(item, folder)
    except PermissionError as e:
        raise os_error(e, item.path, "cannot keep the file's owner and group") from None
    except OSError as e:
        raise os_error(e, item.path, "cannot write") from None


def _discard(items: Sequence[_Pending]) -> None:
    for item in items:
        for name in (item.tmp, item.backup):
            if name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(name)


def _restore(items: Sequence[_Pending]) -> list[str]:
    """Put back every original a failed :func:`write_all` had already replaced; the
    backups that could not be put back are kept, and named."""
    kept: list[str] = []
    for item in items:
        if not item.replaced:
            continue
        try:
            if item.backup is not None:
                os.replace(item.backup, item.target)
                item.backup = None
            elif not item.existed:
                os.unlink(item.target)
        except OSError:
            if item.backup is not None:
                kept.append(item.backup)
                item.backup = None
    return kept


@contextlib.contextmanager
def _file_size_errors() -> Iterator[None]:
    """A file-size limit (``ulimit -f``) fails the write with EFBIG instead of killing the
    process with SIGXFSZ."""
    import signal
    import threading

    if not hasattr(signal, "SIGXFSZ") or threading.current_thread() is not threading.main_thread():
        yield  # pragma: no cover (POSIX has it; the command line runs in the main thread)
        return
    before = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGXFSZ, before)


class Prepared:
    """Every file of a :func:`write_all` in its temporary file, none in place yet."""

    def __init__(self, items: Sequence[_Pending]) -> None:
        self.items = list(items)

    def commit(self) -> None:
        """Rename each temporary file over its target; on a failure put every original back."""
        for item in self.items:
            assert item.tmp is not None
            try:
                os.replace(item.tmp, item.target)
            except OSError as e:
                kept = _restore(self.items)
                _discard(self.items)
                err = os_error(e, item.path, "cannot replace the file")
                if kept:
                    err.message += f"; originals left as {', '.join(kept)}"
                else:
                    err.message += "; no file was changed"
                raise err from None
            item.tmp = None
            item.replaced = True
        _discard(self.items)

    def discard(self) -> None:
        """Remove the temporary files: nothing is written."""
        _discard(self.items)


def prepare_all(files: Sequence[tuple[str, bytes]], *, outside_ok: bool = False) -> Prepared:
    """The first step of :func:`write_all`: check every file and write every temporary file.

    On a failure the temporary files made so far are removed and nothing is replaced.
    """
    items: list[_Pending] = []
    seen: set[str] = set()
    try:
        with _file_size_errors():
            for path, data in files:
                target = _target(path, outside_ok)
                if target in seen:
                    raise ComposeNetError("the same file twice; nothing was written", path=path)
                seen.add(target)
                item = _Pending(path, target, data)
                items.append(item)
                _prepare(item)
    except BaseException:
        _discard(items)
        raise
    return Prepared(items)


def check_all(paths: Sequence[str], *, outside_ok: bool = False) -> None:
    """What :func:`prepare_all` would refuse for ``paths``, found without writing anything
    (``harden --check`` says what the real run would say): the same refusals of each file,
    and a folder the user may not create the temporary file in."""
    seen: set[str] = set()
    for path in paths:
        target = _target(path, outside_ok)
        if target in seen:
            raise ComposeNetError("the same file twice; nothing was written", path=path)
        seen.add(target)
        try:
            st: os.stat_result | None = os.stat(target)
        except FileNotFoundError:
            st = None
        if st is not None:
            _refuse_unwritable(path, target, st)
        folder = os.path.dirname(target) or "."
        if not os.access(folder, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE):
            denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            raise os_error(denied, path, f"cannot create a file in {folder}")


#: os.access judges with the effective user, as the write itself does, where it can
_EFFECTIVE = os.access in os.supports_effective_ids


def write_all(files: Sequence[tuple[str, bytes]], *, outside_ok: bool = False) -> None:
    """Write every ``(path, data)`` or none.

    Each file is checked and written to a temporary file beside it (same owner, group and
    permission bits, set-id bits dropped, fsync'd) before any is renamed into place; should
    a rename fail, the originals are put back. Refused, with nothing written: a path
    through /dev or /proc; a file that is not regular, that nobody may write or the user
    cannot, that has other hard links, or that belongs to another user (root keeps the
    owner instead); a symlink to a file outside its folder, unless ``outside_ok``.
    """
    prepare_all(files, outside_ok=outside_ok).commit()


def write_atomic(path: str, data: bytes, *, outside_ok: bool = False) -> None:
    """Replace one file: :func:`write_all` of one."""
    write_all([(path, data)], outside_ok=outside_ok)
