"""YAML text to a node tree with exact positions, and from nodes to plain data.

``compose`` gives nodes with character offsets, line/column marks and quote
styles, and aliases are the same node object as their anchor. ruamel.yaml is
the parser of record; by default the nodes come from libyaml through
:mod:`compose_net.fastyaml`, which composes the same nodes 20-30 times faster
and hands every text it cannot mirror exactly (errors included) to ruamel.
``parser="ruamel"`` makes ruamel parse a text itself. Nothing here ever serialises YAML.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, Protocol, Union, cast, overload

from compose_net import bounds
from compose_net.errors import ComposeNetError

if TYPE_CHECKING:
    from typing_extensions import TypeIs

Path = tuple[Union[str, int], ...]


# --------------------------------------------------------------------------- node types
#
# What this package reads from a node, as Protocols: ruamel.yaml's nodes (untyped
# upstream; cast once, in _compose_ruamel) and compose_net.fastyaml's both have it.
# Every member is read-only here: nodes are shared (aliases), nothing edits them.


class Point(Protocol):
    """A 0-based line and column."""

    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...


class Mark(Point, Protocol):
    """A 0-based position in the text: a node's start or end."""

    @property
    def index(self) -> int: ...


class Span(Protocol):
    """Where a finding points: a node, or a stand-in with the lines and columns only."""

    @property
    def start_mark(self) -> Point: ...
    @property
    def end_mark(self) -> Point: ...


class Tag(Protocol):
    """A tag as written: ``handle`` is ``"!!"`` or ``"!"`` for an explicit one, else None."""

    @property
    def handle(self) -> str | None: ...


class _NodeBase(Protocol):
    @property
    def tag(self) -> str: ...
    @property
    def ctag(self) -> Tag | None: ...
    @property
    def anchor(self) -> str | None: ...
    @property
    def start_mark(self) -> Mark: ...
    @property
    def end_mark(self) -> Mark: ...


class ScalarNode(_NodeBase, Protocol):
    @property
    def id(self) -> Literal["scalar"]: ...
    @property
    def value(self) -> str: ...
    @property
    def style(self) -> str | None:
        """None for a plain scalar, else ``'``, ``"``, ``|`` or ``>``."""


class SequenceNode(_NodeBase, Protocol):
    @property
    def id(self) -> Literal["sequence"]: ...
    @property
    def value(self) -> Sequence[Node]: ...
    @property
    def flow_style(self) -> bool | None: ...


class MappingNode(_NodeBase, Protocol):
    @property
    def id(self) -> Literal["mapping"]: ...
    @property
    def value(self) -> Sequence[tuple[Node, Node]]:
        """(key node, value node) pairs in the order written, merge keys included."""

    @property
    def flow_style(self) -> bool | None: ...


Node = Union[ScalarNode, SequenceNode, MappingNode]
CollectionNode = Union[SequenceNode, MappingNode]

TAG_PREFIX = "tag:yaml.org,2002:"
MERGE_TAG = TAG_PREFIX + "merge"
#: Compose's own merge tags, valid on any collection or scalar.
COMPOSE_TAGS = ("!reset", "!override")
#: Plain data may not expand past this many nodes (alias bombs): bounds.NODES.
MAX_EXPANDED_NODES = bounds.NODES.value()
#: Nesting, aliases followed: bounds.DEPTH.
MAX_DEPTH = bounds.DEPTH.value()

Parser = Literal["fast", "ruamel"]


class Position(NamedTuple):
    """1-based line and column of a node."""

    line: int
    column: int


def position(node: Span) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def is_mapping(node: Node | None) -> TypeIs[MappingNode]:
    return node is not None and node.id == "mapping"


def is_sequence(node: Node | None) -> TypeIs[SequenceNode]:
    return node is not None and node.id == "sequence"


def is_scalar(node: Node | None) -> TypeIs[ScalarNode]:
    return node is not None and node.id == "scalar"


class EmptyFile(ComposeNetError):
    """A file of no YAML document, or of comments only."""


def compose(text: str, path: str, *, parser: Parser = "fast") -> Node:
    """Parse ``text`` into its single document's root node.

    Rejects what Compose rejects or what cannot be edited safely: syntax errors,
    several documents (:func:`compose_all` reads them), duplicate keys, YAML 1.1
    directives, nesting past ``MAX_DEPTH``. Errors carry the file, line and column.
    ``parser``: libyaml through :mod:`compose_net.fastyaml` (``"fast"``, handing to ruamel
    what it cannot mirror) or ruamel alone; both give the same nodes.
    """
    return single(compose_all(text, path, parser=parser), path)


def single(nodes: Sequence[Node], path: str) -> Node:
    """The root of a file's one YAML document (``nodes``: its documents' roots); a file of
    several is refused."""
    if len(nodes) > 1:
        where = position(nodes[1])
        raise ComposeNetError(
            "several YAML documents in one file are not supported here",
            path=path,
            line=where.line,
            column=where.column,
        )
    return nodes[0]


def compose_all(text: str, path: str, *, parser: Parser = "fast") -> list[Node]:
    """Parse ``text`` into the root node of each of its documents (``---``), in order.

    A file of one document that holds nothing (only comments) is refused as empty; an
    empty document among several is kept (a null scalar) for the caller to refuse, as
    Compose refuses every document that is not a mapping. Each call parses: what keeps
    the nodes of a file's text is the caller (:class:`compose_net.source.Parsed`).
    """
    if parser not in ("fast", "ruamel"):
        raise ValueError(f"unknown YAML parser {parser!r}")
    if re.match(r"\s*%YAML\s+1\.[01]\b", text):
        raise ComposeNetError(
            "YAML 1.1 documents are not supported (remove the %YAML directive)",
            path=path,
            line=1,
            column=1,
        )
    return _compose_all(text, path, parser)


def _compose_all(text: str, path: str, chosen: Parser) -> list[Node]:
    documents: Sequence[Node | None] | None = None
    checked = False
    from compose_net import fastyaml

    try:
        if chosen == "fast":
            composed = fastyaml.compose_all(text, max_depth=MAX_DEPTH)
            if composed is not None:
                documents, checked = composed
        if documents is None:
            # ruamel composes recursively, and its scanner pays for every open flow
            # collection at each token: deep nesting is refused before it starts
            deep = fastyaml.too_deep(text, MAX_DEPTH)
            if deep is not None:
                raise deep
    except fastyaml.TooDeep as e:
        raise bounds.DEPTH.error(
            f"collections nest too deep: more than {MAX_DEPTH:,} levels",
            path=path,
            line=e.line + 1,
            column=e.column + 1,
        ) from None
    if documents is None:
        documents = _compose_ruamel(text, path)
    nodes = [n for n in documents if n is not None]
    if not nodes:
        raise EmptyFile("empty compose file", path=path)
    if not checked:
        for root in nodes:
            _check_structure(root, path)
    return nodes


def _compose_ruamel(text: str, path: str) -> list[Node | None]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError

    yaml = YAML()
    try:
        with warnings.catch_warnings():
            # a reused anchor is legal YAML (the later one wins): no warning on stderr
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            # ruamel.yaml's nodes are untyped: here they become the Protocols above
            return cast("list[Node | None]", list(yaml.compose_all(text)))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        raise ComposeNetError(
            f"invalid YAML: {problem}",
            path=path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except RecursionError:
        raise ComposeNetError("invalid YAML: nesting is too deep", path=path) from None
    except YAMLError as e:
        where = getattr(e, "position", None)  # a ReaderError: the character's offset
        line = column = None
        if isinstance(where, int) and 0 <= where <= len(text):
            line = text.count("\n", 0, where) + 1
            column = where - (text.rfind("\n", 0, where) + 1) + 1
        message = f"invalid YAML: {e}".splitlines()[0]
        if isinstance(where, int):
            reason = getattr(e, "reason", "")
            character = getattr(e, "character", None)
            if isinstance(character, int):
                message = f"invalid YAML: unacceptable character {chr(character)!r}: {reason}"
        raise ComposeNetError(message, path=path, line=line, column=column) from None


def _check_structure(root: Node, path: str) -> None:
    """Duplicate keys, depth and recursive aliases; each node is walked once."""
    done: set[int] = set()
    active: set[int] = set()
    # (node, depth, leaving): a node is "active" while its children are walked.
    stack: list[tuple[Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, leaving = stack.pop()
        if leaving:
            active.discard(id(node))
            done.add(id(node))
            continue
        if id(node) in active:
            where = position(node)
            raise ComposeNetError(
                "recursive alias: a node contains itself",
                path=path,
                line=where.line,
                column=where.column,
            )
        if id(node) in done:
            continue
        if depth > MAX_DEPTH:
            where = position(node)
            raise ComposeNetError(
                "nesting is too deep", path=path, line=where.line, column=where.column
            )
        active.add(id(node))
        stack.append((node, depth, True))
        if is_mapping(node):
            keys: set[object] = set()
            for key, value in node.value:
                if is_scalar(key) and key.tag != MERGE_TAG:
                    if key.value in keys:
                        where = position(key)
                        raise ComposeNetError(
                            f"duplicate key {key.value!r}",
                            path=path,
                            line=where.line,
                            column=where.column,
                        )
                    keys.add(key.value)
                elif not is_scalar(key):
                    where = position(key)
                    raise ComposeNetError(
                        "a mapping key must be a scalar",
                        path=path,
                        line=where.line,
                        column=where.column,
                    )
                stack.append((key, depth + 1, False))
                stack.append((value, depth + 1, False))
        elif is_sequence(node):
            stack.extend((item, depth + 1, False) for item in node.value)


# --------------------------------------------------------------------------- lookups


def mapping_items(node: Node | None) -> list[tuple[str, Node, Node]]:
    """(key, key node, value node) of a mapping, merge keys resolved as YAML does.

    Explicit keys win over merged ones; among merged mappings the first wins.
    """
    if not is_mapping(node):
        return []
    return _mapping_items(node, set())


def _mapping_items(node: MappingNode, merged_once: set[int]) -> list[tuple[str, Node, Node]]:
    """``mapping_items``; a mapping merged a second time adds nothing (its keys are all
    seen by then), so it is skipped: merge-key bombs cost one visit per mapping."""
    out: list[tuple[str, Node, Node]] = []
    seen: set[str] = set()
    merges: list[Node] = []
    for key, value in node.value:
        scalar = key.id == "scalar"
        if key.tag == MERGE_TAG or (scalar and key.value == "<<" and key.style is None):
            if is_sequence(value):
                merges.extend(value.value)
            else:
                merges.append(value)
            continue
        name = str(key.value) if scalar else repr(key)
        if name not in seen:
            seen.add(name)
            out.append((name, key, value))
    for merged in merges:
        if id(merged) in merged_once or not is_mapping(merged):
            continue
        merged_once.add(id(merged))
        for item in _mapping_items(merged, merged_once):
            if item[0] not in seen:
                seen.add(item[0])
                out.append(item)
    return out


def _is_collection(node: Node | Span) -> TypeIs[CollectionNode]:
    return getattr(node, "id", "scalar") != "scalar"


@overload
def own_end_mark(node: Node) -> Mark: ...
@overload
def own_end_mark(node: Span) -> Point: ...
def own_end_mark(node: Node | Span) -> Point:
    """The end mark of a node's own text.

    A block collection's end mark sits on the token after it (often the next
    entry's line, past blank lines and comments); its own text ends with its
    last child. A key written with no value ends with the key. Of a span that
    is not a node, its end.
    """
    while _is_collection(node) and not node.flow_style and node.value:
        if node.id == "mapping":
            key, value = node.value[-1]
            if is_scalar(value) and value.start_mark.index == value.end_mark.index:
                return key.end_mark
            node = value
        else:
            node = node.value[-1]
    return node.end_mark


def get(node: Node | None, key: str) -> Node | None:
    """The value of ``key`` in a mapping (merge keys resolved), None when absent."""
    if not is_mapping(node):
        return None
    merged = False
    for k, value in node.value:  # explicit keys first, as mapping_items yields them
        if k.id != "scalar":
            continue
        if k.tag == MERGE_TAG or (k.value == "<<" and k.style is None):
            merged = True
        elif str(k.value) == key:
            return value
    if merged:
        for name, _, value in mapping_items(node):
            if name == key:
                return value
    return None


def locate(root: Node, path: Path) -> Node:
    """The deepest node along ``path`` (keys and indexes), for error positions."""
    node = root
    for part in path:
        child = None
        if isinstance(part, int) and is_sequence(node):
            if 0 <= part < len(node.value):
                child = node.value[part]
        elif is_mapping(node):
            for name, key, value in mapping_items(node):
                if name == str(part):
                    child = value if value.start_mark.index != value.end_mark.index else key
                    break
        if child is None:
            return node
        node = child
    return node


# --------------------------------------------------------------------------- plain data

_PLAIN_CONSTANTS: Final[dict[str, object]] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_DATE_START = re.compile(r"[0-9]{4}-")
_BASES: Final = {"0x": (16, "0123456789abcdefABCDEF"), "0o": (8, "01234567"), "0b": (2, "01")}


def _go_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)``, then ``ParseUint`` for larger values.

    Base prefixes 0x/0o/0b (any case), and a bare leading ``0`` means octal.
    """
    body = text
    negative = body[:1] == "-"
    if body[:1] in "+-":
        body = body[1:]
    base, allowed = 10, "0123456789"
    if body[:2].lower() in _BASES:
        base, allowed = _BASES[body[:2].lower()]
        body = body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, allowed = 8, "01234567"
        body = body[1:]
    if not body or any(c not in allowed for c in body):
        return None
    if len(body.lstrip("0")) > 64:  # past 64 bits in any base (and int() of it is slow)
        return None
    value = int(body, base)
    if negative:
        value = -value
    if -(2**63) <= value < 2**63 or (text[:1] not in "+-" and value < 2**64):
        return value
    return None


@functools.lru_cache(maxsize=1 << 16)
def resolve_plain(text: str) -> object:
    """Type an untagged plain scalar as Compose's YAML reader (go-yaml v3) does.

    Its rules are neither YAML 1.1 nor quite 1.2: ``0120`` is octal (80), ``080``
    is a float, ``0x50``/``0o120``/``0b1010000`` and ``1_000`` are integers, while
    ``yes``/``on``/``22:22`` are strings. Timestamps stay text. A pure function of the
    text, memoized (keys and values repeat within a file and across files).
    """
    return _resolve_plain(text)


def _resolve_plain(text: str) -> object:
    if text in _PLAIN_CONSTANTS:
        return _PLAIN_CONSTANTS[text]
    first = text[:1]
    if first == ".":
        return float(text) if _DOT_FLOAT.fullmatch(text) else text
    if not first or first not in "+-0123456789" or _DATE_START.match(text):
        return text
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return number
    if _FLOAT.fullmatch(plain):
        real = float(plain)
        # Go's ParseFloat refuses a value out of range, and go-yaml keeps the text
        return text if math.isinf(real) else real
    return text


def _explicitly_tagged(node: ScalarNode) -> bool:
    ctag = node.ctag
    return ctag is not None and ctag.handle is not None


def scalar_value(node: ScalarNode) -> object:
    """The plain value of a scalar node, as Compose's YAML reader types it.

    Untagged plain scalars follow :func:`resolve_plain`; quoted ones are strings;
    an explicit core tag (``!!int "80"``) converts the text; Compose's own tags and
    unknown tags leave it a string.
    """
    tag = node.tag
    if type(tag) is not str:
        tag = str(tag)
    text: str = node.value
    style = node.style
    if style == ">" and "\a" in text:
        text = text.replace("\a", "")  # ruamel marks where it folded a line; YAML has no \a
    if tag in COMPOSE_TAGS or not tag.startswith(TAG_PREFIX):
        return text
    explicit = _explicitly_tagged(node)
    if style is None and not explicit:
        return resolve_plain(text)
    if not explicit:
        return text
    kind = tag[len(TAG_PREFIX) :]
    if kind in ("null", "bool", "int", "float"):
        value = resolve_plain(text)
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value
    return text


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit


def to_plain(node: Node, *, path: str = "<input>", limit: int | None = None) -> Any:
    """Plain Python data (dict, list, str, int, float, bool, None), merges applied.

    Aliases are expanded; an expansion past ``limit`` nodes (default: bounds.NODES)
    is refused instead of eating the machine's memory.
    """
    if limit is None:
        limit = MAX_EXPANDED_NODES
    try:
        return _plain(node, _Budget(limit), path)
    except _OverBudget:
        raise too_many_nodes(node, path, limit) from None


class _OverBudget(Exception):
    pass


def bound_expansion(
    node: Node, *, path: str = "<input>", sizes: dict[int, int] | None = None
) -> None:
    """Refuse ``node`` when :func:`to_plain` would expand it past bounds.NODES, without
    building the data: an anchored node is counted once (``sizes`` keeps its count, for
    the other nodes of a document that alias it)."""
    try:
        _expanded(node, MAX_EXPANDED_NODES, {} if sizes is None else sizes)
    except _OverBudget:
        raise too_many_nodes(node, path, MAX_EXPANDED_NODES) from None


def _expanded(node: Node, limit: int, sizes: dict[int, int]) -> int:
    """The nodes ``node`` expands to (:func:`bound_expansion`); past ``limit``: _OverBudget."""
    if node.anchor is not None:
        known = sizes.get(id(node))
        if known is not None:
            return known
    total = 1
    if node.id == "sequence":
        for child in node.value:
            total += _expanded(child, limit, sizes)
            if total > limit:
                raise _OverBudget
    elif node.id == "mapping":
        for _, _, value in _mapping_items(node, set()):
            total += _expanded(value, limit, sizes)
            if total > limit:
                raise _OverBudget
    if node.anchor is not None:
        sizes[id(node)] = total
    return total


def too_many_nodes(node: Node, path: str, limit: int) -> ComposeNetError:
    """The error for data past ``limit`` nodes: too big as written, or through aliases?"""
    seen: set[int] = set()
    stack = [node]
    while stack and len(seen) <= limit:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if item.id == "mapping":
            for key, value in item.value:
                stack.append(key)
                stack.append(value)
        elif item.id == "sequence":
            stack.extend(item.value)
    where = position(node)
    if len(seen) > limit:
        message = f"the document has more than {limit:,} nodes"
    else:
        message = (
            f"aliases and merge keys expand the document to more than {limit:,} nodes "
            "(an alias bomb?)"
        )
    return bounds.NODES.error(message, path=path, line=where.line, column=where.column)


def _plain(node: Node, budget: _Budget, path: str) -> Any:
    budget.left -= 1
    if budget.left < 0:
        raise _OverBudget
    if node.id == "scalar":
        return scalar_value(node)
    if node.id == "sequence":
        return [_plain(item, budget, path) for item in node.value]
    out: dict[str, Any] = {}
    if _has_merge_keys(node):
        for name, _, value in mapping_items(node):
            out[name] = _plain(value, budget, path)
        return out
    for key, value in node.value:  # no merges: the keys as written, the first one wins
        name = str(key.value) if key.id == "scalar" else repr(key)
        if name not in out:
            out[name] = _plain(value, budget, path)
    return out


def _has_merge_keys(node: MappingNode) -> bool:
    return any(
        k.tag == MERGE_TAG or (k.id == "scalar" and k.value == "<<" and k.style is None)
        for k, _ in node.value
    )
