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
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from compose_net import bounds, paths
from compose_net.errors import ComposeNetError

if TYPE_CHECKING:
    import signal  # imported where files are written: it makes three enums at import

BOM = "\ufeff"


class Parsed:
    """What a file's text was last parsed into (the roots of its YAML documents), kept with
    the file read: every copy of its :class:`Source` (``_replace``) shares it, so that the
    same text read again costs no second parse (a project reading the file a command looked
    at first; the edited text the proof parsed, read again as its project). It holds one
    text's nodes at a time, never changes them, and lets them go on :meth:`forget` (a big
    original, before its edited text is parsed). Not part of a Source's value: any two
    compare equal."""

    __slots__ = ("_roots", "_text")

    def __init__(self) -> None:
        self._text: str | None = None
        self._roots: tuple[object, ...] = ()

    def get(self, text: str) -> tuple[object, ...] | None:
        """The roots ``text`` was parsed into, when it is the text kept."""
        kept = self._text
        return self._roots if kept is not None and (kept is text or kept == text) else None

    def keep(self, text: str, roots: Sequence[object]) -> None:
        self._text, self._roots = text, tuple(roots)

    def forget(self) -> None:
        self._text, self._roots = None, ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parsed)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "Parsed()"


class Source(NamedTuple):
    """A decoded file: ``text`` without its BOM, whether it had one, and its encoding
    (UTF-8, or UTF-16 with a BOM, which Compose reads too); ``parsed``: what its text was
    parsed into, when it was read from a file (:class:`Parsed`).

    ``path`` is where it was read; :attr:`name` is how every message, finding and report
    names it: the path, except for a file reached through a path built from variables
    (``include: ["${DIR}/x.yml"]``), which is named as the path is written (``written``),
    never by the variables' values."""

    path: str
    text: str
    bom: bool
    encoding: str = "utf-8"
    parsed: Parsed | None = None
    #: the path as a file writes it, when variables built it ("": the path itself)
    written: str = ""

    @property
    def name(self) -> str:
        """The file as it is shown: the path as written, else the path."""
        return self.written or self.path

    def named(self, name: str) -> Source:
        """This file, shown as ``name``."""
        return self._replace(written="" if name == self.path else name)

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
    return Source(path, text, bom, encoding, Parsed())


def _utf16_without_bom(data: bytes) -> bool:
    """Whether ``data`` reads as ASCII text in UTF-16 (every other byte NUL)."""
    head = data[:64]
    if len(head) < 2 or len(head) % 2:
        return False
    even, odd = head[0::2], head[1::2]
    return (not any(odd) and all(even)) or (not any(even) and all(odd))


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
    return decode(path, _read_file(path, max_bytes + 1), max_bytes=max_bytes)


def read_anywhere(path: str) -> Source:
    """:func:`read`, symlinks to files outside the project root included (``--read-outside``)."""
    return read(path, outside_ok=True)


def read_regular(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes of the regular file ``path``; anything else is refused with
    one line (a FIFO, a device, a socket, a folder, a path through /dev or /proc)."""
    paths.refuse_special(path)
    return _read_file(path, limit)


def _read_file(path: str, limit: int) -> bytes:
    """:func:`read_regular` once the path's way through /dev or /proc was refused."""
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise ComposeNetError(
                f"{paths.kind(mode)}, not a regular file; compose-net reads files"
            )
        # O_NONBLOCK: should the path have turned into a FIFO since, opening it cannot block
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise ComposeNetError(
                    f"{paths.kind(mode)}, not a regular file; compose-net reads files"
                )
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
#
# One call of write_all is one transaction: every file is checked and staged (a temporary
# file beside it, fsync'd) before any is renamed into place; just before the renames each
# file must still hold the bytes its new text was made from; the renames run with SIGINT,
# SIGTERM and SIGHUP held back, and should one fail the files already replaced are put back
# from a second link to each original (a copy where no link is allowed) staged with them.
# Every name a write makes is a temporary one (.compose-net-XXXXXXXX.tmp): what a killed run
# leaves is removed by the next write that meets the folder, which takes the folder's lock
# exclusively first (flock: a live run holds it shared; a dead run's lock is gone).


class Write(NamedTuple):
    """One file of :func:`write_all`: ``data`` to be written at ``path``; ``was``: the bytes
    ``data`` was made from, which the file must still hold when it is replaced (None for a
    file that was not read, as ``harden -o``'s output); ``name``: how errors name it, when
    not by its path (:attr:`Source.name`)."""

    path: str
    data: bytes
    was: bytes | None = None
    name: str = ""


#: compose-net's temporary files (tempfile.mkstemp's eight random characters)
_TEMP_NAME = r"\.compose-net-[a-z0-9_]{8}\.tmp"
#: what earlier versions kept as a second hard link to a file they were replacing
_OLD_BACKUP_NAME = _TEMP_NAME + r"\.orig"
#: the signals held back while files are written; each is acted on once the files are
_HELD = ("SIGINT", "SIGTERM", "SIGHUP")
#: how long to wait for another compose-net run writing in the same folder
_LOCK_SECONDS = 10.0


def _is(pattern: str, name: str) -> bool:
    import re

    return re.fullmatch(pattern, name) is not None


#: what identifies a file's state: a rename, a write, chmod, chown or a new link changes it
_Identity = tuple[int, int, int, int, int, int, int, int, int]


def _identity(st: os.stat_result) -> _Identity:
    return (
        st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
        st.st_mode, st.st_uid, st.st_gid, st.st_nlink,
    )  # fmt: skip


class _Pending:
    """One file of :func:`write_all`: where it goes and the temporary files beside it.

    A plain class: only writes use it, and a dataclass costs every start-up its creation."""

    __slots__ = (
        "backup", "data", "existed", "name", "path", "replaced", "seen", "target", "tmp", "was"
    )

    def __init__(
        self, path: str, target: str, data: bytes, was: bytes | None = None, name: str = ""
    ) -> None:
        self.path = path
        self.target = target
        self.data = data
        self.was = was
        #: how errors name the file ("": by its path)
        self.name = name
        self.tmp: str | None = None
        #: the original under a temporary name (a second link, else a copy with the same
        #: owner, group and mode), to put back should a later rename fail; with several files
        self.backup: str | None = None
        self.existed = False
        self.replaced = False
        #: the file as it was staged against (None: there was none)
        self.seen: _Identity | None = None

    @property
    def shown(self) -> str:
        """The file as errors name it."""
        return self.name or self.path

    def shown_beside(self, path: str) -> str:
        """``path``, a file in the target's folder, as errors name it: in the folder the
        file is shown in, when it is shown by a name of its own."""
        if not self.name:
            return path
        return os.path.join(os.path.dirname(self.name), os.path.basename(path))


def _target(path: str, outside_ok: bool, name: str = "") -> str:
    """The file a write to ``path`` (shown as ``name``, when not by its path) replaces
    (:func:`compose_net.paths.check_write`)."""
    try:
        return paths.check_write(path, outside_ok=outside_ok)
    except ComposeNetError as e:
        if name and e.path == path:
            e.path = name
        raise


def _leftover_links(target: str, st: os.stat_result) -> list[str]:
    """The second names an interrupted run left for ``target`` (hard links named as
    compose-net's temporary files, ``.compose-net-*.tmp``, or ``.compose-net-*.tmp.orig``
    as earlier versions named them): the next write in the folder removes them."""
    if st.st_nlink < 2:
        return []
    folder = os.path.dirname(target) or "."
    found: list[str] = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if _is(_TEMP_NAME, entry.name) or _is(_OLD_BACKUP_NAME, entry.name):
                other = entry.stat(follow_symlinks=False)
                if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                    found.append(entry.path)
    return found


def _refuse_unwritable(path: str, target: str, st: os.stat_result) -> None:
    """What compose-net will not replace: a file that is not regular, that nobody may
    write or the user cannot, that has other hard links, or whose owner it cannot keep."""
    if not stat.S_ISREG(st.st_mode):
        raise ComposeNetError(f"{paths.kind(st.st_mode)}, not a regular file", path=path)
    if not st.st_mode & 0o222:
        mode = stat.S_IMODE(st.st_mode)
        raise ComposeNetError(f"read-only file (mode {mode:04o}); nothing was written", path=path)
    links = st.st_nlink - len(_leftover_links(target, st))
    if links > 1:
        raise ComposeNetError(
            f"the file has {links} hard links, and replacing it would leave the others "
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


def _changed(path: str) -> ComposeNetError:
    return ComposeNetError(
        "the file changed since compose-net read it (another program wrote it?); nothing "
        "was written: run compose-net again",
        path=path,
    )


def _now(item: _Pending) -> os.stat_result | None:
    """The file ``item`` replaces as it is now; refused when it no longer holds the bytes
    its new text was made from."""
    try:
        st: os.stat_result | None = os.lstat(item.target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise os_error(e, item.shown) from None
    if item.was is None:
        return st
    if st is None or not stat.S_ISREG(st.st_mode):
        raise _changed(item.shown)
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        fd = os.open(item.target, flags)
        with os.fdopen(fd, "rb") as f:
            mine = os.fstat(f.fileno())
            data = f.read(len(item.was) + 1)
    except OSError as e:
        if e.errno == errno.ELOOP:  # a symlink now
            raise _changed(item.shown) from None
        raise os_error(e, item.shown) from None
    if (mine.st_dev, mine.st_ino) != (st.st_dev, st.st_ino) or data != item.was:
        raise _changed(item.shown)
    return st


def _step(name: str) -> None:
    """A test's hook into a write (``COMPOSE_NET_TEST_PAUSE=STEP`` with
    ``COMPOSE_NET_TEST_PAUSE_DIR=DIR``): at STEP the file DIR/STEP is made, then the write
    waits, at most 30 s, for DIR/STEP.go, so that a test can send a signal or change a file
    at a known point. Steps: locked, staged, checked, renamed-N, committed."""
    if os.environ.get("COMPOSE_NET_TEST_PAUSE") != name:
        return
    folder = os.environ.get("COMPOSE_NET_TEST_PAUSE_DIR")
    if not folder:
        return
    import time

    marker = os.path.join(folder, name)
    try:
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    except OSError:
        return
    deadline = time.monotonic() + 30
    while not os.path.exists(marker + ".go") and time.monotonic() < deadline:
        time.sleep(0.005)


def _stage(
    folder: str, path: str, data: bytes, st: os.stat_result | None, mode: int, shown: str = ""
) -> str:
    """A new temporary file in ``folder`` holding ``data``, with ``st``'s owner and group and
    permission bits ``mode``, fsync'd; its name. ``path``: the file it is for, for errors."""
    import tempfile  # writing only: off the start-up path of read-only commands

    try:
        fd, name = tempfile.mkstemp(prefix=".compose-net-", suffix=".tmp", dir=folder)
    except OSError as e:
        raise os_error(e, path, f"cannot create a file in {shown or folder}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if st is not None:
                mine = os.fstat(fd)
                if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
                    os.fchown(fd, st.st_uid, st.st_gid)
            os.fchmod(fd, mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(name)
        if isinstance(e, PermissionError):
            raise os_error(e, path, "cannot keep the file's owner and group") from None
        if isinstance(e, OSError):
            raise os_error(e, path, "cannot write") from None
        raise
    return name


def _link(target: str, folder: str) -> str | None:
    """A second name for ``target`` in ``folder`` (a temporary file's name), or None where
    the file system or the kernel (protected_hardlinks) does not allow one."""
    import random

    rng = random.SystemRandom()
    for _ in range(100):
        name = os.path.join(folder, f".compose-net-{''.join(rng.choices(_LETTERS, k=8))}.tmp")
        try:
            os.link(target, name, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError:
            return None
        return name
    return None  # pragma: no cover (a hundred names taken)


_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def _prepare(item: _Pending, keep: bool) -> None:
    """Write ``item``'s temporary file beside its target with the target's owner, group and
    permission bits (set-id bits dropped); with ``keep``, also keep the original under a
    temporary name (a second link, else a copy) to put back should a later rename fail."""
    folder = os.path.dirname(item.target) or "."
    shown = "" if not item.name else (os.path.dirname(item.name) or ".")
    st = _now(item)
    if st is not None:
        _refuse_unwritable(item.shown, item.target, st)
        mode = stat.S_IMODE(st.st_mode) & 0o777
        item.existed = True
        item.seen = _identity(st)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    item.tmp = _stage(folder, item.shown, item.data, st, mode, shown)
    if not keep or st is None:
        return
    item.backup = _link(item.target, folder)
    if item.backup is not None:  # the link changed the file's link count and ctime
        try:
            linked = os.lstat(item.target)
        except OSError as e:
            raise os_error(e, item.shown) from None
        if (linked.st_dev, linked.st_ino, linked.st_size, linked.st_mtime_ns) != (
            st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
        ):  # fmt: skip
            raise _changed(item.shown)
        item.seen = _identity(linked)
        return
    original = item.was
    if original is None:
        try:
            with open(item.target, "rb") as f:
                original = f.read()
        except OSError as e:
            raise os_error(e, item.shown) from None
    item.backup = _stage(folder, item.shown, original, st, stat.S_IMODE(st.st_mode), shown)


def _discard(items: Sequence[_Pending]) -> None:
    for item in items:
        for name in (item.tmp, item.backup):
            if name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(name)
        item.tmp = item.backup = None


def _restore(items: Sequence[_Pending]) -> list[str]:
    """Put back every original a failed commit had already replaced; the copies that could
    not be put back are kept, and named."""
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
                kept.append(item.shown_beside(item.backup))
                item.backup = None
    return kept


class _Signals:
    """SIGINT, SIGTERM and SIGHUP held back (blocked, and recorded should another thread
    take one) from :meth:`hold` to :meth:`release`, which acts on them as they would have
    been acted on: a signal that arrives while files are written cannot leave some written
    and others not. Signals the process ignores stay ignored; off the main thread (where
    Python cannot set handlers) nothing is held."""

    def __init__(self) -> None:
        self.held: set[signal.Signals] = set()
        self.handlers: dict[signal.Signals, signal._HANDLER] = {}
        self.mask: set[int | signal.Signals] | None = None
        self.caught: list[int] = []

    def hold(self) -> None:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        for name in _HELD:
            sig = getattr(signal, name, None)
            if sig is None:
                continue  # pragma: no cover (POSIX has them all)
            before = signal.getsignal(sig)
            if before is None or before is signal.SIG_IGN:
                continue  # ignored, or a handler Python did not set: left as it is
            self.handlers[sig] = signal.signal(sig, self._catch)
            self.held.add(sig)
        self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, self.held)

    def _catch(self, signum: int, frame: object) -> None:
        self.caught.append(signum)

    def pending(self) -> int | None:
        """The first signal that arrived since :meth:`hold`, if any."""
        if self.caught:
            return self.caught[0]
        if not self.held:
            return None
        import signal

        waiting = [int(sig) for sig in signal.sigpending() if sig in self.held]
        return min(waiting) if waiting else None

    def release(self) -> None:
        """Put the handlers and the mask back: a signal held back is acted on now (the
        process may end here, or KeyboardInterrupt be raised)."""
        import signal

        handlers, caught, mask = self.handlers, self.caught, self.mask
        self.handlers, self.caught, self.mask, self.held = {}, [], None, set()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for number in caught:
            signal.raise_signal(number)


def _interrupted(sig: int) -> ComposeNetError:
    import signal

    return ComposeNetError(f"interrupted by {signal.Signals(sig).name}; nothing was written")


class _Folders:
    """The folders a write stages files in, each locked (flock) shared while the write
    runs. A folder no run holds is swept first: compose-net's temporary files in it were
    left by a run that ended before it could remove them (killed, or the machine stopped)."""

    def __init__(self) -> None:
        self.fds: dict[str, int] = {}

    def lock(
        self,
        folders: Sequence[str],
        also: Sequence[str] = (),
        stop: Callable[[], object] = lambda: None,
    ) -> None:
        """Lock ``folders`` (swept first where no other run holds them); sweep ``also``
        where no run holds it, without keeping a lock. A wait for a lock ends early when
        ``stop()`` returns something (a signal held back)."""
        import fcntl

        mine = set(folders)
        for folder in sorted(mine | set(also)):
            if folder in self.fds:
                continue
            try:
                fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError:
                continue  # a folder that cannot be listed cannot be swept, by any run
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pass  # another run writes here (or the file system has no such locks)
            else:
                _sweep(folder)
            if folder not in mine:
                os.close(fd)
                continue
            self.fds[folder] = fd
            self._share(folder, fd, stop)

    @staticmethod
    def _share(folder: str, fd: int, stop: Callable[[], object]) -> None:
        import fcntl
        import time

        deadline = time.monotonic() + _LOCK_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if stop() is not None:
                    return  # the caller acts on the signal
                if time.monotonic() > deadline:
                    raise ComposeNetError(
                        "another process holds a lock on this folder; nothing was written",
                        path=folder,
                    ) from None
                time.sleep(0.01)
            except OSError:
                return  # no locks on this file system: nothing to wait for

    def sync(self) -> None:
        """Make the renames durable: fsync each folder."""
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.fsync(fd)

    def unlock(self) -> None:
        fds, self.fds = self.fds, {}
        for fd in fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)  # releases the lock


def _sweep(folder: str) -> None:
    """Remove what interrupted runs left in ``folder``: compose-net's temporary files, and an
    earlier version's second hard links to files (the file itself keeps the data)."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if _is(_TEMP_NAME, entry.name) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                elif _is(_OLD_BACKUP_NAME, entry.name):
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                        os.unlink(entry.path)


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
    """Every file of a :func:`write_all` in its temporary file, none in place yet; the
    folders locked and the signals held until :meth:`commit` or :meth:`discard`."""

    def __init__(self, items: Sequence[_Pending], folders: _Folders, signals: _Signals) -> None:
        self.items = list(items)
        self._folders = folders
        self._signals = signals

    def _end(self) -> None:
        _discard(self.items)
        self._folders.unlock()
        self._signals.release()  # a held signal is acted on here

    def _abort_on_signal(self) -> None:
        sig = self._signals.pending()
        if sig is not None:
            self._end()
            raise _interrupted(sig)

    def commit(self) -> None:
        """Check that every file still holds what was read, then rename each temporary file
        over its target; should a rename fail, put every original back."""
        try:
            for item in self.items:  # the last look before the point of no return
                now = _now(item)
                if (None if now is None else _identity(now)) != item.seen:
                    raise _changed(item.shown)
            self._abort_on_signal()
            _step("checked")
            for n, item in enumerate(self.items, 1):
                assert item.tmp is not None
                try:
                    os.replace(item.tmp, item.target)
                except OSError as e:
                    kept = _restore(self.items)
                    err = os_error(e, item.shown, "cannot replace the file")
                    if kept:
                        err.message += f"; originals left as {', '.join(kept)}"
                    else:
                        err.message += "; no file was changed"
                    raise err from None
                item.tmp = None
                item.replaced = True
                _step(f"renamed-{n}")
            self._folders.sync()
            _step("committed")
        finally:
            self._end()

    def discard(self) -> None:
        """Remove the temporary files: nothing is written."""
        self._end()


def prepare_all(
    files: Sequence[Write | tuple[str, bytes]],
    *,
    outside_ok: bool = False,
    also: Sequence[str] = (),
) -> Prepared:
    """The first step of :func:`write_all`: check every file and write every temporary file.

    On a failure (or a held signal) the temporary files made so far are removed and nothing
    is replaced. ``also``: files read but not written, whose folders are swept too.
    """
    items: list[_Pending] = []
    seen: set[str] = set()
    for entry in files:
        path, data, was, name = Write(*entry)
        name = "" if name == path else name
        target = _target(path, outside_ok, name)
        if target in seen:
            raise ComposeNetError("the same file twice; nothing was written", path=name or path)
        seen.add(target)
        items.append(_Pending(path, target, data, was, name))
    signals = _Signals()
    folders = _Folders()
    prepared = Prepared(items, folders, signals)
    signals.hold()
    try:
        extra = [os.path.dirname(os.path.realpath(p)) or "." for p in also if p != "-"]
        folders.lock(
            [os.path.dirname(item.target) or "." for item in items], extra, signals.pending
        )
        _step("locked")
        with _file_size_errors():
            for item in items:
                prepared._abort_on_signal()
                _prepare(item, keep=len(items) > 1)
        prepared._abort_on_signal()
        _step("staged")
    except BaseException:
        prepared._end()
        raise
    return prepared


def check_all(
    paths: Sequence[str],
    *,
    outside_ok: bool = False,
    names: Mapping[str, str] | None = None,
) -> None:
    """What :func:`prepare_all` would refuse for ``paths``, found without writing anything
    (``harden --check`` says what the real run would say): the same refusals of each file,
    and a folder the user may not create the temporary file in. ``names``: how a file is
    shown, when not by its path."""
    seen: set[str] = set()
    for path in paths:
        name = "" if names is None or names.get(path, path) == path else names[path]
        shown = name or path
        target = _target(path, outside_ok, name)
        if target in seen:
            raise ComposeNetError("the same file twice; nothing was written", path=shown)
        seen.add(target)
        try:
            st: os.stat_result | None = os.stat(target)
        except FileNotFoundError:
            st = None
        if st is not None:
            _refuse_unwritable(shown, target, st)
        folder = os.path.dirname(target) or "."
        if not os.access(folder, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE):
            denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            where = (os.path.dirname(name) or ".") if name else folder
            raise os_error(denied, shown, f"cannot create a file in {where}")


#: os.access judges with the effective user, as the write itself does, where it can
_EFFECTIVE = os.access in os.supports_effective_ids


def write_all(
    files: Sequence[Write | tuple[str, bytes]],
    *,
    outside_ok: bool = False,
    also: Sequence[str] = (),
) -> None:
    """Write every file or none: one transaction.

    Each file is checked and written to a temporary file beside it (same owner, group and
    permission bits, set-id bits dropped, fsync'd) before any is renamed into place; a
    :class:`Write` whose ``was`` the file no longer holds is refused; the renames run with
    SIGINT, SIGTERM and SIGHUP held back, and should one fail, the originals are put back.
    Refused, with nothing written: a path through /dev or /proc; a file that is not
    regular, that nobody may write or the user cannot, that has other hard links, or that
    belongs to another user (root keeps the owner instead); a symlink to a file outside its
    folder, unless ``outside_ok``. ``also``: files read but not written, whose folders are
    swept of what interrupted runs left, as the folders written in are.
    """
    prepare_all(files, outside_ok=outside_ok, also=also).commit()


def write_atomic(path: str, data: bytes, *, outside_ok: bool = False) -> None:
    """Replace one file: :func:`write_all` of one."""
    write_all([(path, data)], outside_ok=outside_ok)
