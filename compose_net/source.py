"""Bytes in, bytes out: decoding a file exactly and writing it back atomically.

The text is never normalised: edits are spliced into the decoded text, and
``encode`` gives back the same BOM and line endings it came with.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from compose_net import bounds, roots
from compose_net.errors import ComposeNetError

BOM = "\ufeff"


class Source(NamedTuple):
    """A decoded file: ``text`` without its BOM, whether it had one, and its encoding
    (UTF-8, or UTF-16 with a BOM, which Compose reads too)."""

    path: str
    text: str
    bom: bool
    encoding: str = "utf-8"

    def encode(self, text: str) -> bytes:
        return ((BOM if self.bom else "") + text).encode(self.encoding)


#: byte order marks Compose reads a file by (go-yaml: UTF-16 with a BOM), and those it
#: refuses as compose-net does (UTF-32)
_UTF16 = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_UTF32 = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
#: a BOM that starts a line other than the first: go-yaml reads it as the first character
#: of a key or value there (``\ufeffservices``), libyaml and ruamel skip it
_LINE_BOM = re.compile("[\r\n]\ufeff")


def decode(path: str, data: bytes, *, max_bytes: int | None = None) -> Source:
    """Decode ``data`` strictly: UTF-8 with an optional BOM, or UTF-16 with its BOM (as
    Compose reads them); anything else is refused with one line that says why."""
    if max_bytes is None:
        max_bytes = bounds.FILE_BYTES.value()
    if len(data) > max_bytes:
        raise bounds.FILE_BYTES.error("file is too large", path=path)
    if data.startswith(_UTF32):
        raise ComposeNetError(
            "UTF-32 is not supported (Compose does not read it either): convert the file to "
            "UTF-8",
            path=path,
        )
    encoding = next((name for mark, name in _UTF16 if data.startswith(mark)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n" if encoding == "utf-8" else b"\n\x00") + 1
        what = "UTF-8" if encoding == "utf-8" else f"UTF-16 ({encoding[-2:].upper()})"
        raise ComposeNetError(
            f"not valid {what} (byte 0x{data[e.start]:02x} at offset {e.start})",
            path=path,
            line=line if encoding == "utf-8" else None,
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        if encoding == "utf-8" and _utf16_without_bom(data):
            raise ComposeNetError(
                "UTF-16 without a byte order mark is not supported (Compose does not read it "
                "either): convert the file to UTF-8",
                path=path,
            )
        raise ComposeNetError("file contains NUL characters; is it binary?", path=path, line=line)
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    stray = _LINE_BOM.search(text) if BOM in text else None
    if stray is not None:
        at = stray.start() + 1
        line = text.count("\n", 0, at) + 1
        raise ComposeNetError(
            "a byte order mark (U+FEFF) starts this line: Compose reads it as part of a key "
            "or value and refuses the file; remove it",
            path=path,
            line=line,
            column=1,
        )
    return Source(path, text, bom, encoding)


def _utf16_without_bom(data: bytes) -> bool:
    """Whether ``data`` reads as ASCII text in UTF-16 (every other byte NUL)."""
    head = data[:64]
    if len(head) < 2 or len(head) % 2:
        return False
    even, odd = head[0::2], head[1::2]
    return (not any(odd) and all(even)) or (not any(even) and all(odd))


# --------------------------------------------------------------------------- reading

#: folders whose entries are not files a user wrote (``/dev/stdin``, ``/proc/self/fd/0``)
_SPECIAL = ("/dev/", "/proc/")
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


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


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _special_hop(path: str) -> str | None:
    """The first of ``path`` and the links it goes through that lies in /dev or /proc."""
    current = os.path.abspath(path)
    for _ in range(40):
        if current.startswith(_SPECIAL):
            return current
        if not os.path.islink(current):
            return None
        current = os.path.join(os.path.dirname(current), os.readlink(current))
        current = os.path.abspath(current)
    return None


def _refuse_special(path: str) -> None:
    hop = _special_hop(path)
    if hop is not None:
        what = "" if hop == os.path.abspath(path) else f"a link to {hop}, "
        raise ComposeNetError(
            f"{what}not a regular file: name the file itself, or - for standard input",
            path=path,
        )


def read(path: str, *, max_bytes: int | None = None, outside_ok: bool = False) -> Source:
    """Read and decode ``path``; ``-`` reads standard input.

    Only regular files are read: a FIFO, a device, a socket or a folder is refused
    before anything could block on it, and so is a path through /dev or /proc. A symlink
    to a file outside its project root is refused unless ``outside_ok``: a repository must
    not make compose-net read, and quote in its messages, the user's other files.
    """
    if path != "-" and not outside_ok:
        _refuse_special(path)
        outside = outside_root(path)
        if outside is not None:
            target, root = outside
            raise ComposeNetError(
                f"a symlink to {target}, outside the project {root}: name the file itself",
                path=path,
            )
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


# --------------------------------------------------------------------------- writing


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


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


def outside_root(path: str) -> tuple[str, str] | None:
    """(target, project root) when ``path`` is a symlink, or goes through a symlinked folder,
    to a file outside its project root (:func:`compose_net.roots.project_root`); else None."""
    target = os.path.realpath(path)
    lexical = os.path.abspath(path)
    if target == lexical:
        return None
    root = os.path.realpath(roots.project_root(os.path.dirname(lexical)))
    return None if _inside(target, root) else (target, root)


def _target(path: str, outside_ok: bool) -> str:
    """The file a write to ``path`` replaces (a symlink's target), which must be inside the
    project root unless ``outside_ok``: a symlink, or a symlinked folder, in a repository must
    not make compose-net rewrite a file elsewhere."""
    _refuse_special(path)
    outside = None if outside_ok else outside_root(path)
    if outside is not None:
        target, root = outside
        raise ComposeNetError(
            f"a symlink to {target}, outside the project {root}: pass --edit-outside to "
            "rewrite it; nothing was written",
            path=path,
        )
    return os.path.realpath(path)


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
