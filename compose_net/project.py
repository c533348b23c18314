"""A whole Compose project: its files, includes, extends and env files, merged as Compose does.

:func:`load_project` takes a project the way ``docker compose`` does and gives the merged
view of its ports, each with the file, line and column that declare it:

* the files: the ``-f`` files in order; else ``COMPOSE_FILE`` (split on
  ``COMPOSE_PATH_SEPARATOR``); else the default names and their override file
  (:mod:`compose_net.discovery`). Relative paths start at the working directory;
* the project directory: ``--project-directory``, else the first file's folder;
* the variables: the environment over the ``--env-file`` files, else over the ``.env``
  of the project directory. Without ``-f`` and ``--project-directory``, Compose reads the
  working directory's ``.env`` first (it may set ``COMPOSE_FILE``), then the project
  directory's below it. ``COMPOSE_DISABLE_ENV_FILE`` turns the ``.env`` files off;
* each file's ``include:`` items are projects of their own: paths start at the including
  project's directory, the included project's directory is its ``project_directory`` or
  its first file's folder, and its variables are the including project's over its
  ``env_file`` files (else its own ``.env``). An included service may not also be
  defined by the including file;
* ``extends`` is resolved within each file, before files are merged; a top-level file's
  ``extends.file`` starts at its project's directory, a file read through ``extends`` at
  its own folder;
* a file of several YAML documents (``---``) is read as Compose reads it: each
  document in turn, as if it were a file of its own named next;
* files are merged in order: a service's ports are appended to those of the files
  before, ``!reset`` drops them and ``!override`` replaces them (on ``ports`` or on the
  whole service); then entries Compose counts as the same port are merged, the later
  one taking the earlier one's place (:func:`compose_net.model.unique`).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from compose_net import bounds, discovery, document, envfile, model, source, yamltree
from compose_net import paths as path_policy
from compose_net.document import Document
from compose_net.errors import ComposeNetError
from compose_net.interpolate import InterpolationError, Variables, has_variables, interpolate
from compose_net.source import Source

Reader = Callable[[str], Source]
How = Literal["file", "include", "extends"]
#: strconv.ParseBool's true values, as Compose reads COMPOSE_DISABLE_ENV_FILE
_TRUE = ("1", "t", "T", "TRUE", "true", "True")


class Declared(NamedTuple):
    """One port a project's service publishes, and the entry in a file that declares it."""

    #: the project's service that publishes it (the extending one, for an ``extends`` base)
    service: str
    port: model.Port
    document: Document
    #: Compose's unicity key: entries with equal keys are one port
    key: str

    @property
    def path(self) -> str:
        return self.document.path

    @property
    def name(self) -> str:
        """The file as it is shown (:attr:`compose_net.document.Document.name`)."""
        return self.document.name

    @property
    def where(self) -> str:
        pos = self.port.entry.position
        return f"{self.name}:{pos.line}:{pos.column}"


class Published(NamedTuple):
    """One port of the merged model: the entry whose object Compose keeps, and the
    earlier entries with the same key it replaced (in the first one's place)."""

    declared: Declared
    replaced: tuple[Declared, ...] = ()

    @property
    def port(self) -> model.Port:
        return self.declared.port


class ProjectFile(NamedTuple):
    """A file the project reads, with the variables and directory it is read with."""

    document: Document
    env: Mapping[str, str] | None
    #: the directory of the (included) project reading it
    directory: str
    how: How


@dataclass
class Project:
    """A project as Compose reads it: its directory, files, variables and documents."""

    directory: str
    #: the top-level files, as named or found
    files: list[str]
    env: Mapping[str, str] | None
    #: every file read, in the order it was first read
    documents: list[ProjectFile] = field(default_factory=list)
    #: service -> its ports as ``docker compose config`` prints them (services with ports)
    services: dict[str, list[Published]] = field(default_factory=dict)

    def declared(self) -> Iterator[Declared]:
        """Every entry that makes a published port, replaced duplicates included."""
        for ports in self.services.values():
            for published in ports:
                yield from published.replaced
                yield published.declared

    def scope(self) -> dict[DocKey, dict[str, set[str]]]:
        """:func:`doc_key` -> declaring service -> the project's services its ``ports`` feed.

        A list feeds the project whole or not at all (``!reset``, ``!override`` and
        ``extends`` act on lists), so this is what may be edited, document by document.
        """
        out: dict[DocKey, dict[str, set[str]]] = {}
        for declared in self.declared():
            per_doc = out.setdefault(doc_key(declared.document), {})
            per_doc.setdefault(declared.port.entry.service, set()).add(declared.service)
        return out

    def followed(self, doc: Document) -> bool:
        """Whether a later YAML document of the same file follows ``doc``: its ports
        are bound even where that document replaces them, so no document of a file
        keeps a public port."""
        return doc.index < self._last_index.get(file_key(doc.path), 0)

    @functools.cached_property
    def _last_index(self) -> dict[str, int]:
        """:func:`file_key` -> the index of the file's last YAML document."""
        out: dict[str, int] = {}
        for part in self.documents:
            key = file_key(part.document.path)
            out[key] = max(out.get(key, 0), part.document.index)
        return out


#: a YAML document of a file: the file's :func:`file_key` and the document's index
DocKey = tuple[str, int]


def reader(stdin: Source | None, outside: bool) -> Reader:
    """How a project reads its files when standard input was read already (``stdin``):
    ``-`` is that text, every other file is read as :func:`load_files` would."""
    other = source.read_anywhere if outside else source.read
    if stdin is None:
        return other

    def read(path: str) -> Source:
        return stdin if path == "-" else other(path)

    return read


def file_key(path: str) -> str:
    """What identifies a file: its real path (``-``: standard input)."""
    return path if path == "-" else _real(os.path.abspath(path))


@functools.lru_cache(maxsize=4096)
def _real(path: str) -> str:
    """An absolute path's real path, asked once (a project's every entry names its file)."""
    return os.path.realpath(path)


def doc_key(doc: Document) -> DocKey:
    """What identifies a YAML document in :meth:`Project.scope`."""
    return file_key(doc.path), doc.index


# --------------------------------------------------------------------------- the file list


def _env_disabled(environ: Mapping[str, str]) -> bool:
    return environ.get("COMPOSE_DISABLE_ENV_FILE", "") in _TRUE


def _folder_of(paths: Sequence[str]) -> str | None:
    first = next((p for p in paths if p != "-"), None)
    return None if first is None else (os.path.dirname(first) or ".")


def _env_folder(directory: str) -> str:
    """The folder to name an env file in: the working folder's ``.env`` is named ``.env``."""
    return "" if directory == "." else directory


def resolve(
    files: Sequence[str] | None,
    *,
    project_directory: str | None = None,
    env_files: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    outside: bool = False,
) -> tuple[list[str], str, dict[str, str]]:
    """(files, project directory, variables) as ``docker compose`` settles them; ``outside``:
    env files may be symlinks to files outside their project root (``--read-outside``)."""
    base = dict(os.environ if environ is None else environ)
    disabled = _env_disabled(base) and not env_files
    named = list(files or ())
    # the .env Compose reads before it knows the files (it may name them)
    early = project_directory or _folder_of(named) or "."
    env = (
        Variables(base)
        if disabled
        else envfile.load(_env_folder(early), env_files, base, outside=outside)
    )
    listed = discovery.from_environment(env)
    from_dot_env = env.get("COMPOSE_FILE") != base.get("COMPOSE_FILE")
    if listed and not (named or outside) and from_dot_env:
        # COMPOSE_FILE from a .env is the project's word, not the user's: it stays inside
        fence = path_policy.Fence(early)
        for path in listed:
            refused = fence.refusal(path, "COMPOSE_FILE (set in .env) names ")
            if refused is not None:
                raise ComposeNetError(refused)
    paths = named or listed or discovery.find(project_directory or ".")
    directory = project_directory or _folder_of(paths) or "."
    second = not (disabled or env_files or named or project_directory)
    if second and os.path.realpath(directory) != os.path.realpath(early):
        # the project's own .env, below the first
        env = envfile.load(_env_folder(directory), (), env, outside=outside)
    return paths, directory, env


# --------------------------------------------------------------------------- loading


def _join(folder: str, path: str) -> str:
    if os.path.isabs(path) or folder in ("", "."):
        return path
    return os.path.join(folder, path)


def _error(doc: Document, node: yamltree.Node, message: str) -> ComposeNetError:
    where = yamltree.position(node)
    return ComposeNetError(message, path=doc.name, line=where.line, column=where.column)


class _Definition:
    """How a file defines a service, read as plain data only when compared (an include
    whose service the file defines too): most projects never compare one."""

    __slots__ = ("_node", "_path", "_plain")

    def __init__(self, node: yamltree.Node, path: str) -> None:
        self._node, self._path = node, path
        self._plain: list[object] | None = None

    def plain(self) -> list[object]:
        if self._plain is None:
            self._plain = [yamltree.to_plain(self._node, path=self._path)]
        return self._plain

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Definition):
            return NotImplemented
        return other is self or self.plain() == other.plain()

    __hash__ = None  # type: ignore[assignment]


class _Services:
    """A (sub)project's services: their ports, and how each file defines them (as plain
    data, to tell an included service from a conflicting definition of the same name)."""

    __slots__ = ("definitions", "ports", "with_ports")

    def __init__(self) -> None:
        self.ports: dict[str, list[Declared]] = {}
        self.definitions: dict[str, _Definition] = {}
        #: services a ``ports:`` key gives ports to so far (a later ``ports:`` null keeps them)
        self.with_ports: set[str] = set()

    def add(self, other: _Services, conflict: Callable[[str], ComposeNetError]) -> None:
        """Import ``other``'s services; a name defined differently by both is a conflict."""
        for name, ports in other.ports.items():
            if name in self.definitions and self.definitions[name] != other.definitions[name]:
                raise conflict(name)
            self.ports.setdefault(name, []).extend(ports)
            self.definitions.setdefault(name, other.definitions[name])
        self.with_ports |= other.with_ports


class _Loader:
    def __init__(
        self,
        read: Reader,
        directory: str,
        named: Sequence[str],
        outside: bool,
        lenient: bool = False,
    ) -> None:
        self.read = read
        self.lenient = lenient
        self.docs: dict[str, list[Document]] = {}
        self.files: list[ProjectFile] = []
        #: files include: and extends: name are read inside this folder only, unless ``outside``
        self.fence = path_policy.Fence(None if outside else directory, named)
        #: the work of the whole project: each file (and env file) counted every time it is
        #: merged, so that a file included twice by a file included twice ... is paid for
        self.merged_files = bounds.Meter(bounds.PROJECT_FILES)
        self.merged_bytes = bounds.Meter(bounds.PROJECT_BYTES)
        self.sizes: dict[str, int] = {}
        #: the ports of the whole project, counted as they are made
        self.budget = model.Budget()

    def refuse_outside(self, path: str, what: str = "", shown: str | None = None) -> str | None:
        """Why ``path`` (named by include: or extends:, written ``shown``) is not read, or
        None when it may be."""
        return self.fence.refusal(path, what, shown)

    def documents(
        self,
        path: str,
        env: Mapping[str, str] | None,
        directory: str,
        how: How,
        name: str | None = None,
    ) -> list[Document]:
        """The YAML documents of a file, read once; ``name``: how it is shown, when not by
        its path (a path built from variables is shown as written)."""
        real = file_key(path)
        docs = self.docs.get(real)
        if docs is None:
            shown = path if name is None else name
            if how != "file":
                refused = self.refuse_outside(path, "", shown)
                if refused is not None:
                    raise ComposeNetError(refused)
            try:
                read = self.read(path).named(shown)
            except ComposeNetError as e:
                if e.path == path:  # the error of the file read: named as it is shown
                    e.path = shown
                raise
            self.sizes[real] = len(read.text)
            if how == "extends":  # read once, for its services: counted once
                self.spend(shown, len(read.text), None)
            docs = document.load_all(read)
            self.docs[real] = docs
            self.files.extend(ProjectFile(doc, env, directory, how) for doc in docs)
        return docs

    def strings(
        self, doc: Document, node: yamltree.Node, env: Mapping[str, str] | None, what: str
    ) -> list[str]:
        """A string or a list of strings, interpolated."""
        return [value for value, _ in self.paths(doc, node, env, what)]

    def paths(
        self, doc: Document, node: yamltree.Node, env: Mapping[str, str] | None, what: str
    ) -> list[tuple[str, str]]:
        """A string or a list of strings: each interpolated, and as written (what a message
        prints: a path built from variables is named by its variables, never by their
        values)."""
        items = node.value if yamltree.is_sequence(node) else [node]
        out: list[tuple[str, str]] = []
        for item in items:
            value = yamltree.to_plain(item, path=doc.name)
            if not isinstance(value, str):
                raise _error(doc, item, f"{what} must be a string or a list of strings")
            written = value
            if env is not None:
                try:
                    value = interpolate(value, env)
                except InterpolationError as e:
                    raise _error(doc, item, e.message) from None
                except bounds.Exceeded as e:
                    where = yamltree.position(item)
                    raise e.at(doc.name, where.line, where.column) from None
            out.append((value, written if has_variables(written) else value))
        return out

    def project(
        self,
        paths: Sequence[str],
        directory: str,
        env: Mapping[str, str] | None,
        how: How,
        chain: tuple[str, ...],
        site: tuple[Document, yamltree.Node] | None = None,
        shown: tuple[Sequence[str], str] | None = None,
    ) -> _Services:
        """The services of one (included) project, files merged in order.

        ``site``: the include item that names the files, where a bound stops the work.
        ``shown``: how the files and the directory are shown, when not by their paths (an
        include: whose paths variables built).
        """
        names, shown_dir = (paths, directory) if shown is None else shown
        merged = _Services()
        for path, name in zip(paths, names, strict=True):
            docs = self.documents(path, env, directory, how, name)
            self.spend(name, self.sizes.get(file_key(path), 0), site)
            for doc in docs:
                self.merge(merged, doc, (directory, shown_dir), env, chain)
        return merged

    def spend(
        self, path: str, size: int, site: tuple[Document, yamltree.Node] | None
    ) -> None:
        """Count one more file of ``size`` bytes merged; past a bound, say where."""
        over = None
        if self.merged_files.add(1):
            over = self.merged_files
        elif self.merged_bytes.add(size):
            over = self.merged_bytes
        if over is None:
            return
        bound = over.bound
        what = "files" if bound is bounds.PROJECT_FILES else "bytes"
        message = (
            f"the project merges more than {over.limit:,} {what}, each file counted every "
            f"time it is read (here: {path}; an include: read over and over?)"
        )
        if site is None:
            raise bound.error(message, path=path)
        doc, node = site
        where = yamltree.position(node)
        raise bound.error(
            f"include: {message}", path=doc.name, line=where.line, column=where.column
        )

    def merge(
        self,
        merged: _Services,
        doc: Document,
        folder: tuple[str, str],
        env: Mapping[str, str] | None,
        chain: tuple[str, ...],
    ) -> None:
        """Merge ``doc`` into ``merged``; ``folder``: the directory of its (included)
        project, and how that directory is shown."""
        directory, shown_dir = folder
        imported = self.includes(doc, folder, env, (*chain, file_key(doc.path)))
        own = _Services()
        sizes: dict[int, int] = {}
        for service in doc.services:
            yamltree.bound_expansion(service.node, path=doc.name, sizes=sizes)
            definition = _Definition(service.node, doc.name)
            own.definitions[service.name] = definition
            if imported.definitions.get(service.name, definition) != definition:
                message = f"services.{service.name} conflicts with imported resource"
                raise _error(doc, service.key_node, message)
        declared = model.declared_ports(
            doc,
            env,
            loader=self.extended(env),
            folder=("", "") if directory == "." else (directory, shown_dir),
            lenient=self.lenient,
            budget=self.budget,
        )
        services = yamltree.get(doc.root, "services")
        if services is not None and str(services.tag) in yamltree.COMPOSE_TAGS:
            merged.ports.clear()
            merged.with_ports.clear()
        ports = merged.ports
        # an included service the file also defines (identically) is both files' to edit
        for name, included in imported.ports.items():
            ports.setdefault(name, []).extend(included)
        merged.with_ports |= imported.with_ports
        for service in doc.services:
            mine = [
                Declared(service.name, port, self.docs_by_path(doc, port), key)
                for port, key in declared[service.name]
            ]
            tag = str(service.node.tag)
            ports_tag = "" if service.ports_node is None else str(service.ports_node.tag)
            _keep_null_ports(merged.with_ports, doc, service, declared[service.name])
            if tag == "!reset":
                ports.pop(service.name, None)
            elif tag == "!override" or ports_tag in yamltree.COMPOSE_TAGS:
                ports[service.name] = mine
            else:
                ports.setdefault(service.name, []).extend(mine)
        merged.definitions.update(imported.definitions)
        merged.definitions.update(own.definitions)

    def docs_by_path(self, doc: Document, port: model.Port) -> Document:
        """The YAML document that declares ``port``: ``doc``, or the document of the file
        ``extends`` read whose text holds the entry."""
        if port.path is None:
            return doc
        at = port.entry.node.start_mark.index
        docs = self.docs[file_key(port.path)]
        return next((d for d in reversed(docs) if d.root.start_mark.index <= at), docs[0])

    def extended(self, env: Mapping[str, str] | None) -> model.Loader:
        def load(path: str, name: str) -> list[Document]:
            return self.documents(path, env, os.path.dirname(path) or ".", "extends", name)

        return load

    def includes(
        self,
        doc: Document,
        folder: tuple[str, str],
        env: Mapping[str, str] | None,
        chain: tuple[str, ...],
    ) -> _Services:
        out = _Services()
        node = yamltree.get(doc.root, "include")
        if node is None or (yamltree.is_scalar(node) and yamltree.scalar_value(node) is None):
            return out
        if not yamltree.is_sequence(node):
            raise _error(doc, node, "include must be a list")
        if len(chain) > bounds.DEPTH.value():
            where = yamltree.position(node)
            raise bounds.DEPTH.error(
                f"include: nests more than {bounds.DEPTH.value():,} files ({chain[0]} includes "
                "a file that includes a file ...)",
                path=doc.name, line=where.line, column=where.column,
            )
        for item in node.value:

            def conflict(name: str, item: yamltree.Node = item) -> ComposeNetError:
                return _error(doc, item, f"services.{name} conflicts with imported resource")

            out.add(self.include(doc, item, folder, env, chain), conflict)
        return out

    def include(
        self,
        doc: Document,
        item: yamltree.Node,
        folder: tuple[str, str],
        env: Mapping[str, str] | None,
        chain: tuple[str, ...],
    ) -> _Services:
        """One ``include:`` item of ``doc``: its files, paths starting at ``folder`` (the
        including project's directory, and how it is shown). A file reached through a path
        variables built is shown as the path is written, and so are the files it names."""
        directory, shown_dir = folder
        project_directory: tuple[str, str] | None = None
        dir_node: yamltree.Node | None = None
        env_files: list[str] = []
        #: env file -> how it is shown
        env_names: dict[str, str] = {}
        if yamltree.is_mapping(item):
            path_node = yamltree.get(item, "path")
            if path_node is None:
                raise _error(doc, item, "include: an item needs a 'path'")
            paths = self.paths(doc, path_node, env, "include.path")
            dir_node = yamltree.get(item, "project_directory")
            if dir_node is not None:
                project_directory = self.paths(
                    doc, dir_node, env, "include.project_directory"
                )[0]
            env_node = yamltree.get(item, "env_file")
            if env_node is not None:
                for name, written in self.paths(doc, env_node, env, "include.env_file"):
                    if name == "/dev/null":
                        continue
                    path, shown = _join(directory, name), _join(shown_dir, written)
                    refused = self.refuse_outside(path, "env file ", shown)
                    if refused is not None:
                        raise _error(doc, env_node, f"include: {refused}")
                    if not os.path.isfile(path):
                        raise _error(doc, env_node, f"include: env file {shown} not found")
                    env_names[path] = shown
                    env_files.append(path)
        else:
            paths = self.paths(doc, item, env, "include")
        if not paths:
            raise _error(doc, item, "include: an item needs a 'path'")
        for path, written in paths:
            if "://" in path or path.startswith("git@"):
                raise _error(doc, item, f"include: remote resources are not supported ({written})")
        files = [(_join(directory, p), _join(shown_dir, w)) for p, w in paths]
        if any(file_key(f) in chain for f, _ in files):
            shown_files = ", ".join(w for _, w in files)
            raise _error(doc, item, f"include cycle: {shown_files} is already being read")
        for path, shown in files:
            refused = self.refuse_outside(path, "", shown)
            if refused is not None:
                raise _error(doc, item, f"include: {refused}")
            if not os.path.isfile(path):
                raise _error(doc, item, f"include: file {shown} not found")
        if project_directory is not None:
            sub = _join(directory, project_directory[0])
            sub_shown = _join(shown_dir, project_directory[1])
            refused = self.refuse_outside(sub, "project_directory ", sub_shown)
            if refused is not None:
                raise _error(doc, dir_node or item, f"include: {refused}")
        else:
            sub = os.path.dirname(files[0][0]) or "."
            sub_shown = os.path.dirname(files[0][1]) or "."
        if not env_files:
            env_names[os.path.join(sub, ".env")] = os.path.join(sub_shown, ".env")
        outside = self.fence.folder is None
        if env is not None:  # the env files are read for each include: they count too
            for name in env_files or [os.path.join(sub, ".env")]:
                with contextlib.suppress(OSError):
                    if os.path.isfile(name):
                        self.spend(env_names.get(name, name), os.path.getsize(name), (doc, item))
        sub_env = (
            None
            if env is None
            else envfile.load(sub, env_files, env, outside=outside, names=env_names)
        )
        files_read, names = [f for f, _ in files], [n for _, n in files]
        site = (doc, item)
        return self.project(files_read, sub, sub_env, "include", chain, site, (names, sub_shown))


def _keep_null_ports(
    with_ports: set[str],
    doc: Document,
    service: document.Service,
    declared: Sequence[tuple[model.Port, str]],
) -> None:
    """Follow which services have ports as Compose merges ``doc``: a ``ports:`` null over
    ports an earlier file or document gives, or the service's ``extends`` base gives, is
    dropped (``docker compose config`` keeps those ports); over none it stays, and Compose
    rejects it (``Document.kept_ports``)."""
    name, node = service.name, service.ports_node
    inherited = any(port.entry.service != name or port.path is not None for port, _ in declared)
    if str(service.node.tag) in yamltree.COMPOSE_TAGS:
        with_ports.discard(name)  # the service is replaced or dropped
    if node is None:
        if inherited:
            with_ports.add(name)
    elif str(node.tag) == "!reset":
        with_ports.discard(name)
    elif yamltree.is_scalar(node) and node.tag == yamltree.TAG_PREFIX + "null":
        if name in with_ports or inherited:
            doc.kept_ports.add(name)
            with_ports.add(name)
    else:
        with_ports.add(name)


def load_project(
    files: Sequence[str] | None = None,
    *,
    project_directory: str | None = None,
    env_files: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    interpolate: bool = True,
    read: Reader = source.read,
    outside: bool = False,
    lenient: bool = False,
) -> Project:
    """Load the project Compose would load; errors carry the file, line and column.

    ``files`` empty or None: ``COMPOSE_FILE`` or the default names. ``interpolate``
    False keeps variables as written (include paths are then taken as written too).
    ``read`` reads a file (tests and the proof of ``harden`` read texts from memory).
    A file ``include:`` or ``extends:`` names outside the project directory is refused
    unless it is one of the files or ``outside`` is true: a file a pull request can point
    anywhere must not read (and quote) the user's other files. ``lenient``: a port entry
    Compose rejects is kept, with no object, for ``check``'s rules to report (``ports``
    fails on it, as Compose does).
    """
    paths, directory, env = resolve(
        files,
        project_directory=project_directory,
        env_files=env_files,
        environ=environ,
        outside=outside,
    )
    return load_files(
        paths,
        directory,
        env if interpolate else None,
        read=read,
        outside=outside,
        lenient=lenient,
    )


def load_files(
    paths: Sequence[str],
    directory: str,
    env: Mapping[str, str] | None,
    *,
    read: Reader = source.read,
    outside: bool = True,
    lenient: bool = False,
) -> Project:
    """Load a project whose files, directory and variables are settled (:func:`resolve`).

    ``outside`` False refuses files outside ``directory`` that are not among ``paths``
    (:func:`load_project` does; a proof reading files already read may read them all).
    """
    if outside and read is source.read:
        read = source.read_anywhere
    loader = _Loader(read, directory, paths, outside, lenient)
    try:
        merged = loader.project(paths, directory, env, "file", ()).ports
    except bounds.Exceeded as e:  # the whole project fails: an error as any other
        raise e.error from None
    project = Project(directory, list(paths), env, loader.files)
    for name in sorted(merged):
        ports = _unique(merged[name])
        if ports:
            project.services[name] = ports
    return project


def _unique(declared: list[Declared]) -> list[Published]:
    """:func:`compose_net.model.unique`, keeping the entries each port replaced."""
    out: list[Published] = []
    where: dict[str, int] = {}
    for d in declared:
        i = where.get(d.key)
        if i is None:
            where[d.key] = len(out)
            out.append(Published(d))
        else:
            before = out[i]
            out[i] = Published(d, (*before.replaced, before.declared))
    return out


@dataclass(frozen=True)
class Spec:
    """A project as the command line names it: ``-f`` files, ``--project-directory``,
    ``--env-file`` files (all empty: ``COMPOSE_FILE`` or the default names)."""

    files: tuple[str, ...] = ()
    directory: str | None = None
    env_files: tuple[str, ...] = ()
    #: read files outside the project directory that include: and extends: name
    outside: bool = False

    @classmethod
    def of_file(
        cls,
        path: str,
        env_files: Sequence[str] = (),
        outside: bool = False,
        stdin_filename: str | None = None,
    ) -> Spec:
        """A FILE argument as a project of its own; standard input (``-``) is placed in the
        folder of ``stdin_filename`` when one is given, as if it were that file."""
        directory = None
        if path == "-" and stdin_filename is not None:
            directory = os.path.dirname(stdin_filename) or "."
        return cls((path,), directory, tuple(env_files), outside)

    def resolve(
        self, environ: Mapping[str, str] | None = None
    ) -> tuple[list[str], str, dict[str, str]]:
        """(files, project directory, variables): :func:`resolve` with these options."""
        return resolve(
            self.files,
            project_directory=self.directory,
            env_files=self.env_files,
            environ=environ,
            outside=self.outside,
        )

    def load(
        self,
        *,
        interpolate: bool = True,
        environ: Mapping[str, str] | None = None,
        read: Reader = source.read,
        lenient: bool = False,
    ) -> Project:
        return load_project(
            self.files,
            project_directory=self.directory,
            env_files=self.env_files,
            environ=environ,
            interpolate=interpolate,
            read=read,
            outside=self.outside,
            lenient=lenient,
        )
