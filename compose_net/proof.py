"""The proof, before anything is written: the edited text means what the fixes intend.

As black checks its output, every edited text must

1. parse;
2. give the original's data except exactly the planned changes (:data:`Substitution`
   per edited node for Compose fixes, a list of (path, value) changes for the swarm
   strategies) — and, for Compose, no change outside ``ports`` lists and ``x-`` fields;
3. leave nothing to fix on a second run, and pass the target's schema (the callers check
   these with the same rules and schema ``check`` uses).

A failed proof is a :class:`~compose_net.errors.SafetyError`: nothing is written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from compose_net import bounds, document, rewrite, yamltree
from compose_net.document import Document
from compose_net.errors import ComposeNetError, SafetyError
from compose_net.fixes import Substitution
from compose_net.rewrite import Edit
from compose_net.source import Source
from compose_net.yamltree import Node

#: a key path into plain data
PlainPath = tuple[object, ...]
#: marks a planned deletion in a list of changes
DELETE = object()


def parse_edited(source: Source, edits: Sequence[Edit]) -> tuple[str, Document]:
    """Splice ``edits`` and parse the result; a text that does not parse is refused."""
    new_text = rewrite.apply(source.text, edits)
    try:
        return new_text, document.load(source._replace(text=new_text))
    except ComposeNetError as e:
        raise SafetyError(
            f"the edited file does not parse ({e.message}); nothing was written",
            path=source.path,
        ) from None


def expected_plain(node: Node, substitutions: Mapping[int, Substitution], budget: list[int]) -> Any:
    """Plain data of the original with the planned substitutions applied."""
    budget[0] -= 1
    if budget[0] < 0:
        raise bounds.NODES.error("aliases and merge keys expand the document to too many nodes")
    sub = substitutions.get(id(node))
    if sub is not None:
        if sub[0] == "scalar":
            return sub[1]
        if len(sub[1]) == 1:
            return sub[1][0]
    if yamltree.is_scalar(node):
        return yamltree.scalar_value(node)
    if yamltree.is_sequence(node):
        out: list[Any] = []
        for item in node.value:
            item_sub = substitutions.get(id(item))
            if item_sub is not None and item_sub[0] == "items":
                out.extend(item_sub[1])  # an entry that became several
            else:
                out.append(expected_plain(item, substitutions, budget))
        return out
    return {
        name: expected_plain(value, substitutions, budget)
        for name, _, value in yamltree.mapping_items(node)
    }


def first_difference(a: Any, b: Any, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{where}.{key}".lstrip(".")
            diff = first_difference(a[key], b[key], f"{where}.{key}")
            if diff:
                return diff
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where} (length {len(a)} != {len(b)})"
        for i, (x, y) in enumerate(zip(a, b)):
            diff = first_difference(x, y, f"{where}[{i}]")
            if diff:
                return diff
        return ""
    return "" if a == b and type(a) is type(b) else (where.lstrip(".") or "<root>")


def _changed_paths(a: Any, b: Any, where: PlainPath = ()) -> list[PlainPath]:
    """Every path where ``a`` and ``b`` differ (a list of another length differs as a whole)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[PlainPath] = []
        for key in set(a) | set(b):
            if key not in a or key not in b:
                out.append((*where, key))
            else:
                out.extend(_changed_paths(a[key], b[key], (*where, key)))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in _changed_paths(x, y, (*where, i))]
    return [] if a == b and type(a) is type(b) else [where]


def _is_port_path(path: PlainPath) -> bool:
    """A service's ports list (or inside it), or anything under a top-level ``x-`` field.

    Extension fields mean nothing to Compose until aliased; where they are aliased
    into anything but ``ports``, the change shows up at that path too and is refused.
    """
    if path and isinstance(path[0], str) and path[0].startswith("x-"):
        return True
    return len(path) >= 3 and path[0] == "services" and path[2] == "ports"


def dotted(path: PlainPath | str) -> str:
    if isinstance(path, str):
        return path
    return (
        "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "<root>"
    )


def expected_model(original: Any, changes: Sequence[tuple[PlainPath, Any]]) -> Any:
    """The original plain model with the planned changes applied (``DELETE`` removes)."""
    data = copy.deepcopy(original)
    for where, value in changes:
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        if value is DELETE:
            del parent[where[-1]]
        else:
            parent[where[-1]] = copy.deepcopy(value)
    return data


#: what an edited document must read as, and what its original read as (plain data)
Expected = tuple[Any, Any]


def expected_data(doc: Document, substitutions: Mapping[int, Substitution]) -> Expected:
    """The plain data the edited ``doc`` must give (the original with ``substitutions``),
    and the original's: all the proof needs of the original, whose nodes may then go."""
    expected = expected_plain(doc.root, substitutions, [yamltree.MAX_EXPANDED_NODES])
    return expected, yamltree.to_plain(doc.root, path=doc.name)


def prove_data(path: str, expected: Expected, new_doc: Document) -> None:
    """The edited document gives the expected data, and nothing outside ports lists and
    ``x-`` fields changed (``expected``: :func:`expected_data` of the original)."""
    want, original = expected
    actual = yamltree.to_plain(new_doc.root, path=path)
    diff: PlainPath | str = first_difference(want, actual)
    if not diff:
        diff = next((p for p in _changed_paths(original, actual) if not _is_port_path(p)), "")
    if diff:
        raise SafetyError(
            f"the rewrite would change more than the intended ports (at {dotted(diff)}); "
            "nothing was written",
            path=path,
        )


def prove_changes(
    doc: Document, new_doc: Document, changes: Sequence[tuple[PlainPath, Any]], what: str
) -> None:
    """The edited document equals the original with exactly ``changes``."""
    path = doc.name
    original = yamltree.to_plain(doc.root, path=path)
    diff = first_difference(
        expected_model(original, changes), yamltree.to_plain(new_doc.root, path=path)
    )
    if diff:
        raise SafetyError(
            f"the edit would change more than {what} intends (at {diff}); nothing was written",
            path=path,
        )

