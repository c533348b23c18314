"""libyaml's parser composing the node tree that ruamel.yaml composes, 20-30 times faster.

PyYAML's C binding (``yaml._yaml.CParser``) yields events with exact marks; this
module composes them into nodes with the attributes :mod:`compose_net.yamltree`
reads from ruamel's nodes, the members of its node Protocols (``id``, ``tag``,
``value``, ``start_mark``/``end_mark`` with ``index``/``line``/``column``, ``style``,
``flow_style``, ``anchor``, and ``ctag.handle`` for an explicit tag), equal to
ruamel's for the same text:

* plain scalars are typed with ruamel's YAML 1.2 resolver (libyaml's composer
  would use YAML 1.1, where ``22:22`` is an integer and ``on`` a boolean);
* a plain scalar's style is ``None`` (libyaml says ``""``);
* an empty value after ``key:`` sits where ruamel puts it: on the next token,
  unless a comment follows the colon and the next key is in the same mapping;
* at the end of a file without a final line break, marks stay on the last line.

Whatever this cannot mirror exactly makes :func:`compose_all` return ``None``,
and the caller parses with ruamel instead: any YAML error (so error messages
stay ruamel's), ``%TAG`` directives, verbatim (``!<...>``) tags, a byte order
mark, line breaks other than LF and CRLF, an empty scalar
as a whole document or inside a flow collection, an undefined alias. Nesting
deeper than ``max_depth`` is refused (:class:`TooDeep`, also :func:`too_deep` for a
text ruamel is to parse). The composer is iterative, so deep nesting cannot
overflow the C stack as PyYAML's own C composer does.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, NamedTuple, TypeVar, Union

if TYPE_CHECKING:
    # The nodes below satisfy yamltree's Protocols; yamltree imports this module lazily.
    from compose_net.yamltree import Mark as AnyMark
    from compose_net.yamltree import Node

try:  # PyYAML with libyaml; without it compose_all always returns None
    from yaml import YAMLError
    from yaml._yaml import CParser
    from yaml.events import (
        AliasEvent,
        DocumentEndEvent,
        DocumentStartEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without libyaml
    AVAILABLE = False

TAG_PREFIX = "tag:yaml.org,2002:"
STR_TAG = TAG_PREFIX + "str"
MERGE_TAG = TAG_PREFIX + "merge"
SEQ_TAG = TAG_PREFIX + "seq"
MAP_TAG = TAG_PREFIX + "map"


class Mark:
    """A position computed here, where libyaml's differs from ruamel's (0-based)."""

    __slots__ = ("column", "index", "line")

    def __init__(self, index: int, line: int, column: int) -> None:
        self.index = index
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"Mark(index={self.index}, line={self.line}, column={self.column})"


class Tag:
    """An explicit tag as written: ``handle`` is ``"!!"`` or ``"!"``."""

    __slots__ = ("handle",)

    def __init__(self, handle: str) -> None:
        self.handle = handle

    def __repr__(self) -> str:
        return f"Tag({self.handle!r})"


class ScalarNode:
    __slots__ = ("anchor", "ctag", "end_mark", "start_mark", "style", "tag", "value")
    id: Literal["scalar"] = "scalar"

    def __init__(
        self,
        tag: str,
        value: str,
        start_mark: AnyMark,
        end_mark: AnyMark,
        style: str | None,
        anchor: str | None,
        ctag: Tag | None,
    ) -> None:
        self.tag = tag
        self.value = value
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.style = style
        self.anchor = anchor
        self.ctag = ctag

    def __repr__(self) -> str:
        return f"ScalarNode(tag={self.tag!r}, value={self.value!r})"


_Item = TypeVar("_Item")


class _CollectionNode(Generic[_Item]):
    __slots__ = ("anchor", "ctag", "end_mark", "flow_style", "start_mark", "tag", "value")

    def __init__(
        self,
        tag: str,
        start_mark: AnyMark,
        flow_style: bool,
        anchor: str | None,
        ctag: Tag | None,
    ) -> None:
        self.tag = tag
        self.value: list[_Item] = []
        self.start_mark = start_mark
        self.end_mark: AnyMark = start_mark
        self.flow_style = flow_style
        self.anchor = anchor
        self.ctag = ctag

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tag={self.tag!r}, {len(self.value)} items)"


class SequenceNode(_CollectionNode["Node"]):
    __slots__ = ()
    id: Literal["sequence"] = "sequence"


class MappingNode(_CollectionNode["tuple[Node, Node]"]):
    __slots__ = ()
    id: Literal["mapping"] = "mapping"


#: the nodes built here, which this module may still change
_Built = Union[ScalarNode, SequenceNode, MappingNode]


# --------------------------------------------------------------------------- tags

class _Words:
    """A resolver whose pattern is a list of words: a set does it (no plain scalar ends
    with the line break that the pattern's ``$`` would also accept)."""

    __slots__ = ("words",)

    def __init__(self, *words: str) -> None:
        self.words = frozenset(words)

    def match(self, value: str) -> bool:
        return value in self.words


# ruamel.yaml's implicit resolvers for YAML 1.2, in its order, by first character.
_BOOL = _Words("true", "True", "TRUE", "false", "False", "FALSE")
_FLOAT = re.compile(
    r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)
_MERGE = _Words("<<")
_NULL = _Words("~", "null", "Null", "NULL", "")
_TIMESTAMP = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
_VALUE = _Words("=")
_YAML = _Words("!", "&", "*")

Resolvers = Mapping[str, tuple[tuple[str, Union[re.Pattern[str], _Words]], ...]]


def _resolvers() -> Resolvers:
    table: dict[str, list[tuple[str, re.Pattern[str] | _Words]]] = {}
    for tag, regex, first in (
        ("bool", _BOOL, "tTfF"),
        ("float", _FLOAT, "-+0123456789."),
        ("int", _INT, "-+0123456789"),
        ("merge", _MERGE, "<"),
        ("null", _NULL, ["~", "n", "N", ""]),
        ("timestamp", _TIMESTAMP, "0123456789"),
        ("value", _VALUE, "="),
        ("yaml", _YAML, "!&*"),
    ):
        for char in first:
            table.setdefault(char, []).append((TAG_PREFIX + tag, regex))
    return MappingProxyType({char: tuple(found) for char, found in table.items()})


#: the resolvers that may type a plain scalar, by its first character (a constant table)
_RESOLVERS: Final[Resolvers] = _resolvers()


def resolve_plain(value: str) -> str:
    """The tag ruamel.yaml (YAML 1.2) gives an untagged plain scalar."""
    for tag, regex in _RESOLVERS.get(value[:1], ()):
        if regex.match(value):
            return tag
    return STR_TAG


# --------------------------------------------------------------------------- composing


class _Unsupported(Exception):
    """The text needs ruamel: this module cannot promise ruamel's nodes for it."""


class TooDeep(Exception):
    """Collections nest deeper than allowed; ``line`` and ``column`` (0-based) are where
    the collection one level too deep starts."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"nesting deeper than allowed at {line + 1}:{column + 1}")
        self.line = line
        self.column = column


def too_deep(text: str, max_depth: int) -> TooDeep | None:
    """Where collections in ``text`` first nest deeper than ``max_depth``, or None (also
    when libyaml is missing or finds the text invalid first).

    One pass of libyaml's events with a counter: linear, and stopped at the first level too
    deep, so a text that ruamel's recursive composer (and its scanner, slower at each
    level of a flow collection) would take seconds over is refused at once.
    """
    if not AVAILABLE:
        return None
    try:
        parser = CParser(text)
    except UnicodeError:  # a lone surrogate: counted as any other character
        parser = CParser(text.encode("utf-8", "replace").decode("utf-8"))
    depth = 0
    try:
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is MappingStartEvent or kind is SequenceStartEvent:
                depth += 1
                if depth > max_depth:
                    mark = event.start_mark
                    return TooDeep(mark.line, mark.column)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
            elif kind is StreamEndEvent:
                return None
    except YAMLError:
        return None
    finally:
        parser.dispose()


_LINE_BREAKS_OTHER = ("\x85", "\u2028", "\u2029")
_GAP = re.compile(r"(?:[ \t]+|#[^\n]*|\r?\n)*")
_COMMENT = re.compile(r"[ \t]*#")
_DOCUMENT_MARKER = re.compile(r"(?:---|\.\.\.)(?:[ \t\r\n]|$)")


def mirrorable(text: str) -> bool:
    """False for texts whose ruamel nodes this module does not reproduce."""
    if text.startswith("\ufeff") or "%TAG" in text or "!<" in text:
        return False
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return False
    return not any(c in text for c in _LINE_BREAKS_OTHER)


class Composed(NamedTuple):
    documents: list[Node]
    #: True when no key repeats in a mapping, every key is a scalar, no node contains
    #: itself and no path through aliases can be deeper than ``max_depth``: what
    #: yamltree's structure check would find. False: run that check.
    checked: bool


class _SequenceFrame:
    """A sequence being composed, and the height of its children so far."""

    __slots__ = ("height", "node")
    mapping: Literal[False] = False

    def __init__(self, node: SequenceNode) -> None:
        self.node = node
        self.height = 0


class _MappingFrame:
    """A mapping being composed: also its key waiting for a value, the column of its
    first key and the key values seen."""

    __slots__ = ("height", "key", "key_column", "keys", "node")
    mapping: Literal[True] = True

    def __init__(self, node: MappingNode) -> None:
        self.node = node
        self.key: _Built | None = None
        self.key_column = -1
        self.keys: set[str] = set()
        self.height = 0


class _Composer:
    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.max_depth = max_depth
        self.anchors: dict[str, _Built] = {}
        self.checked = True
        end = len(text)
        self.eof: Mark | None = None
        if text and not text.endswith("\n"):
            # ruamel keeps the end on the last line; libyaml starts a new one
            start = text.rfind("\n") + 1
            self.eof = Mark(end, text.count("\n"), end - start)

    def mark(self, mark: AnyMark) -> AnyMark:
        eof = self.eof
        if eof is not None and mark.index == eof.index:
            return eof
        return mark

    def empty_value_mark(self, mark: AnyMark, key_column: int) -> AnyMark:
        """Where ruamel puts the empty value of ``key:`` in a block mapping.

        libyaml puts it just after the colon. ruamel puts it on the next token
        (past spaces, comments and line breaks), except when a comment follows the
        colon on its line and the next token is a key of the same mapping.
        """
        text = self.text
        at = mark.index
        if at == 0 or text[at - 1] != ":":
            return self.mark(mark)  # "? key" without a value: both use the next token
        gap = _GAP.match(text, at)
        assert gap is not None
        nxt = gap.end()
        if text.startswith("?", nxt) and text[nxt + 1 : nxt + 2] in ("", " ", "\t", "\r", "\n"):
            raise _Unsupported("an explicit key follows an empty value")
        breaks = text.count("\n", at, nxt)
        if breaks == 0:
            where = Mark(nxt, mark.line, mark.column + nxt - at)
        else:
            where = Mark(nxt, mark.line + breaks, nxt - text.rfind("\n", at, nxt) - 1)
        if nxt < len(text) and _COMMENT.match(text, at):
            same_mapping = where.column == key_column and not _DOCUMENT_MARKER.match(text, nxt)
            if same_mapping:
                return self.mark(mark)
        return self.mark(where)

    def compose(self, parser: Any) -> list[Node]:
        get = parser.get_event
        documents: list[Node] = []
        get()  # StreamStartEvent
        while True:
            event = get()
            if type(event) is StreamEndEvent:
                return documents
            assert type(event) is DocumentStartEvent
            self.anchors.clear()  # an anchor belongs to its document
            documents.append(self.document(get))

    def document(self, get: Callable[[], Any]) -> Node:
        """Compose one document's events, up to its end, into its root node.

        Written for speed: this loop runs once per event (scalars first).
        """
        anchors = self.anchors
        eof_mark = self.eof
        eof = eof_mark.index if eof_mark is not None else -1
        max_depth = self.max_depth
        resolvers = _RESOLVERS
        # One frame per open collection. The height of a collection is the longest
        # path below it, aliases followed: the root's height bounds the depth at
        # which yamltree's structure check meets a node.
        stack: list[_SequenceFrame | _MappingFrame] = []
        frame: _SequenceFrame | _MappingFrame | None = None
        opened: _SequenceFrame | _MappingFrame | None
        heights: dict[int, int] = {}
        root: Node | None = None
        while True:
            event = get()
            kind = type(event)
            node: _Built
            height = 0
            opened = None
            if kind is ScalarEvent:
                tag = event.tag
                value = event.value
                ctag = None
                if tag is None or tag == "!":
                    tag = STR_TAG
                    if event.implicit[0]:
                        for candidate, regex in resolvers.get(value[:1], ()):
                            if regex.match(value):
                                tag = candidate
                                break
                else:
                    ctag = Tag("!!" if tag.startswith(TAG_PREFIX) else "!")
                start = event.start_mark
                end = event.end_mark
                if end.index == eof:
                    end = eof_mark
                style = event.style or None
                node = ScalarNode(tag, value, start, end, style, event.anchor, ctag)
                if event.anchor is not None:
                    anchors[event.anchor] = node
                if not value and style is None and ctag is None and start.index == end.index:
                    if frame is None:
                        raise _Unsupported("an empty document")
                    if frame.node.flow_style:
                        raise _Unsupported("an empty scalar in a flow collection")
                    if frame.mapping and frame.key is not None:
                        where = self.empty_value_mark(start, frame.key_column)
                        node.start_mark = node.end_mark = where
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                tag = event.tag
                ctag = None
                mapping = kind is MappingStartEvent
                if tag is None or tag == "!":
                    tag = MAP_TAG if mapping else SEQ_TAG
                else:
                    ctag = Tag("!!" if tag.startswith(TAG_PREFIX) else "!")
                flow = bool(event.flow_style)
                if mapping:
                    node = MappingNode(tag, event.start_mark, flow, event.anchor, ctag)
                    opened = _MappingFrame(node)
                else:
                    node = SequenceNode(tag, event.start_mark, flow, event.anchor, ctag)
                    opened = _SequenceFrame(node)
                if event.anchor is not None:
                    anchors[event.anchor] = node
                if len(stack) >= max_depth:
                    mark = event.start_mark
                    raise TooDeep(mark.line, mark.column)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                assert frame is not None
                closed = frame.node
                end = event.end_mark
                if end.index == eof:
                    end = eof_mark
                closed.end_mark = end
                height = frame.height + 1 if closed.value else 0
                heights[id(closed)] = height
                stack.pop()
                frame = stack[-1] if stack else None
                if frame is not None and height > frame.height:
                    frame.height = height
                continue
            elif kind is AliasEvent:
                found = anchors.get(event.anchor)
                if found is None:
                    raise _Unsupported("an undefined alias")
                node = found
                height = heights.get(id(found), 0)
                if any(open_frame.node is found for open_frame in stack):
                    self.checked = False  # a node inside itself: yamltree says where
            elif kind is DocumentEndEvent:
                assert root is not None
                if heights.get(id(root), 0) > max_depth:
                    self.checked = False  # aliases make a path too deep: yamltree says where
                return root
            else:  # pragma: no cover - libyaml emits nothing else inside a document
                raise _Unsupported(f"unexpected event {event!r}")
            # attach the node to its parent
            if frame is None:
                root = node
            elif not frame.mapping:
                frame.node.value.append(node)
                if height > frame.height:
                    frame.height = height
            elif frame.key is None:
                if frame.key_column < 0:
                    frame.key_column = node.start_mark.column
                frame.key = node
                if height > frame.height:
                    frame.height = height
                if node.id != "scalar":
                    self.checked = False  # yamltree reports a key that is not a scalar
                elif node.tag != MERGE_TAG:
                    if node.value in frame.keys:
                        self.checked = False  # yamltree reports the duplicate key
                    frame.keys.add(node.value)
            else:
                frame.node.value.append((frame.key, node))
                frame.key = None
                if height > frame.height:
                    frame.height = height
            if opened is not None:
                frame = opened
                stack.append(frame)


def compose_all(text: str, *, max_depth: int = 1000) -> Composed | None:
    """The documents of ``text`` as ruamel.yaml would compose them, or None.

    None means: parse with ruamel (a YAML error, or a text this module does not
    mirror; see the module's description). An empty stream gives no documents.
    Nesting past ``max_depth`` raises :class:`TooDeep`, where it starts.
    """
    if not AVAILABLE or not mirrorable(text):
        return None
    try:
        parser = CParser(text)
    except UnicodeError:  # a lone surrogate: not text libyaml can read
        return None
    collecting = gc.isenabled()
    # Composing allocates a container per node and no garbage: a collection pass
    # triggered every few hundred nodes would rescan the whole growing tree
    # (a 2,000-service file composes 3 times faster without them).
    gc.disable()
    try:
        composer = _Composer(text, max_depth)
        documents = composer.compose(parser)
        return Composed(documents, composer.checked)
    except (YAMLError, _Unsupported):
        return None
    finally:
        if collecting:
            gc.enable()
        parser.dispose()
