"""The path policy: which files compose-net may read and write, decided in one place.

compose-net runs on files a pull request controls, so a file must not make it read, quote
or overwrite anything else. Every path it reads or writes is judged here (docs/paths.md
lists the rules):

* **The project root** is the nearest folder at or above the files' folder that holds
  ``.git`` or ``.hg``; outside a repository, the files' own folder. A marker counts only in
  a folder no other user could have planted it in: the folder and the marker belong to the
  invoking user, to root or to the owner of the files' folder, and the folder is not
  writable by every user (``/tmp/.git`` is no root).
* **Special files** are never read or written: a FIFO, a device, a socket, a folder, or a
  path that goes through ``/dev`` or ``/proc``.
* **Symlinks** are followed only to a target inside the project root of the link; a link
  (or a symlinked folder) to a file elsewhere is *outside*: refused unless
  ``--read-outside`` (reads) or ``--edit-outside`` (rewrites) allows it.
* **Files a file names** (``include:`` paths, their ``env_file`` and
  ``project_directory``, ``extends: {file:}``) must lie inside the project directory
  (real paths compared) unless ``--read-outside`` (harden: ``--edit-outside``) allows it;
  the ``inventory:`` a configuration names, and the env files and certificates an
  inventory names, inside their own project root.
* **Configuration** is read only from a file no other user could have planted (the same
  owner rule as the root marker) and never above the project root.
* **Reports** (``check -o``) are written atomically beside their name, never through a
  symlink; rewrites go through the same atomic writer (:mod:`compose_net.source`).

Nothing here opens a file: :mod:`compose_net.source` reads and writes, after asking.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable

from compose_net.errors import ComposeNetError

ROOT_MARKERS = (".git", ".hg")
#: folders whose entries are not files a user wrote (``/dev/stdin``, ``/proc/self/fd/0``)
SPECIAL = ("/dev/", "/proc/")
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
READ_OPTION = "--read-outside"
EDIT_OPTION = "--edit-outside"
#: what a project's read outside its directory asks for (harden reads with --edit-outside too)
READ_OPTIONS = f"{READ_OPTION} (harden: {EDIT_OPTION})"


def kind(mode: int) -> str:
    """What a file that is not regular is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def inside(path: str, folder: str) -> bool:
    """Whether the real path of ``path`` lies in the real path of ``folder``."""
    real, fence = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([real, fence]) == fence


# --------------------------------------------------------------------------- the project root


def _owners(start: str) -> frozenset[int]:
    """Who may have made a root marker or a configuration the run trusts: the invoking user,
    root, and the owner of the folder the search starts in (a root running on a checkout
    another user owns trusts that user with the checkout, as with its files)."""
    owners = {os.geteuid(), 0}
    with contextlib.suppress(OSError):
        owners.add(os.stat(start).st_uid)
    return frozenset(owners)


def _planted(path: str, owners: Iterable[int]) -> str | None:
    """Why ``path`` (a marker or a configuration) may have been planted by another user,
    or None: it or its folder belongs to someone else, or its folder is writable by all."""
    allowed = set(owners)
    folder = os.path.dirname(path) or "."
    try:
        st_file, st_folder = os.lstat(path), os.stat(folder)
    except OSError:
        return None  # gone: nothing is read from it
    if st_file.st_uid not in allowed:
        return f"owned by another user (uid {st_file.st_uid})"
    if st_folder.st_uid not in allowed:
        return f"in a folder owned by another user (uid {st_folder.st_uid})"
    if st_folder.st_mode & stat.S_IWOTH:
        mode = stat.S_IMODE(st_folder.st_mode)
        return f"in a folder every user may write (mode {mode:04o})"
    return None


def _marked_root(start: str) -> str | None:
    """The nearest folder at or above the absolute ``start`` holding a root marker no other
    user could have planted, or None."""
    owners = _owners(start)
    current = start
    while True:
        for marker in ROOT_MARKERS:
            candidate = os.path.join(current, marker)
            if os.path.lexists(candidate) and _planted(candidate, owners) is None:
                return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def project_root(folder: str) -> str:
    """The nearest folder at or above ``folder`` holding ``.git`` or ``.hg`` that no other
    user could have planted (:func:`_planted`), else ``folder``.

    The walk is by name: a symlinked folder on the way is not followed back up to its target.
    """
    start = os.path.abspath(folder)
    found = _marked_root(start)
    return start if found is None else found


def _fence_of(folder: str) -> str:
    """The real folder a path in ``folder`` (absolute) must stay in: its project root; outside
    a repository, the folder itself, but never a symlinked folder named below the working
    folder (``out/report.txt`` with ``out`` a link to ``../victim`` stays in ``.``)."""
    found = _marked_root(folder)
    if found is not None:
        return os.path.realpath(found)
    cwd = os.getcwd()
    if os.path.commonpath([folder, cwd]) != cwd:
        return os.path.realpath(folder)
    current = cwd
    for part in os.path.relpath(folder, cwd).split(os.sep):
        if part in ("", "."):
            continue
        step = os.path.join(current, part)
        if os.path.islink(step):
            break
        current = step
    return os.path.realpath(current)


def planted_configuration(path: str, start: str) -> str | None:
    """Why the configuration file ``path`` is not read (another user could have planted
    it), or None when it may be read; ``start`` is the folder the search began in."""
    return _planted(path, _owners(os.path.abspath(start)))


# --------------------------------------------------------------------------- reading


def _special_hop(path: str) -> str | None:
    """The first of ``path`` and the links it goes through that lies in /dev or /proc."""
    current = os.path.abspath(path)
    for _ in range(40):
        if current.startswith(SPECIAL):
            return current
        if not os.path.islink(current):
            return None
        current = os.path.join(os.path.dirname(current), os.readlink(current))
        current = os.path.abspath(current)
    return None


def refuse_special(path: str) -> None:
    """A path through /dev or /proc (or a link to one) is refused: it is no file a user wrote,
    and reading it could block or never end."""
    hop = _special_hop(path)
    if hop is not None:
        what = "" if hop == os.path.abspath(path) else f"a link to {hop}, "
        raise ComposeNetError(
            f"{what}not a regular file: name the file itself, or - for standard input",
            path=path,
        )


def outside_root(path: str) -> tuple[str, str] | None:
    """(target, project root) when ``path`` is a symlink, or goes through a symlinked folder,
    to a file outside its project root (:func:`project_root`); else None."""
    target = os.path.realpath(path)
    lexical = os.path.abspath(path)
    if target == lexical:
        return None
    root = _fence_of(os.path.dirname(lexical))
    return None if os.path.commonpath([target, root]) == root else (target, root)


def check_read(path: str, *, outside_ok: bool = False, hint: str = "name the file itself") -> None:
    """Refuse to read ``path`` when it goes through /dev or /proc, or (unless ``outside_ok``)
    when it is a symlink to a file outside its project root. ``-`` is standard input."""
    if path == "-":
        return
    refuse_special(path)
    if outside_ok:
        return
    outside = outside_root(path)
    if outside is not None:
        target, root = outside
        raise ComposeNetError(
            f"a symlink to {target}, outside the project {root}: {hint}", path=path
        )


class Fence:
    """The folder files named by other files must lie in (real paths compared), unless
    the run allows reading outside it."""

    def __init__(
        self, folder: str | None, named: Iterable[str] = (), option: str = READ_OPTIONS
    ) -> None:
        #: None: every path is allowed (``--read-outside``)
        self.folder = None if folder is None else os.path.realpath(folder)
        self.named = {os.path.realpath(p) for p in named if p != "-"}
        self.option = option

    def refusal(self, path: str, what: str = "", shown: str | None = None) -> str | None:
        """Why ``path`` is not read, or None when it may be (``what``: how it was named;
        ``shown``: the path as printed, when variables built it)."""
        if self.folder is None or path == "-":
            return None
        real = os.path.realpath(path)
        if real in self.named or os.path.commonpath([real, self.folder]) == self.folder:
            return None
        named = "" if what else "name it with -f, or "
        printed = path if shown is None else shown
        return f"{what}{printed} is outside the project directory and is not read: {named}pass " + (
            self.option
        )


def named_by(path: str, base: str, origin: str, key: str, option: str) -> str:
    """``path`` as a file ``origin`` names (relative to ``base``), which must lie inside
    the project root of ``origin``: a configuration or an inventory in a repository does
    not make compose-net read the user's other files."""
    full = os.path.join(base, os.path.expanduser(path))
    root = project_root(os.path.dirname(os.path.abspath(origin)) or ".")
    if not inside(full, root):
        shown, real_root = os.path.normpath(full), os.path.realpath(root)
        raise ComposeNetError(
            f"{key}: {shown} is outside the project {real_root} and is not read: {option}",
            path=origin,
        )
    return full


# --------------------------------------------------------------------------- writing


def check_write(path: str, *, outside_ok: bool = False) -> str:
    """The file a rewrite of ``path`` replaces (a symlink's target), which must be inside the
    project root unless ``outside_ok``: a symlink, or a symlinked folder, in a repository must
    not make compose-net rewrite a file elsewhere."""
    refuse_special(path)
    outside = None if outside_ok else outside_root(path)
    if outside is not None:
        target, root = outside
        raise ComposeNetError(
            f"a symlink to {target}, outside the project {root}: pass {EDIT_OPTION} to "
            "rewrite it; nothing was written",
            path=path,
        )
    return os.path.realpath(path)


def check_report(path: str) -> None:
    """A report (``-o``) is written to the name given, never through a symlink (dangling or
    not), never into a special file or a folder, and never through a symlinked folder to
    outside the project root."""
    refuse_special(path)
    if os.path.islink(path):
        raise ComposeNetError(
            "a symlink: a report is never written through one; remove it or name another "
            "file; nothing was written",
            path=path,
        )
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise ComposeNetError(f"{kind(mode)}, not a regular file; nothing was written", path=path)
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise ComposeNetError(f"no folder {folder}; nothing was written", path=path)
    outside = outside_root(path)
    if outside is not None:
        target, root = outside
        raise ComposeNetError(
            f"goes through a symlinked folder to {target}, outside the project {root}: "
            "name a file inside it; nothing was written",
            path=path,
        )
