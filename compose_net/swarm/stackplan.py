"""A stack plan while it is computed: its edits, model changes and messages, and the
document facts every strategy's edits need (how often a node is used, the indentation
step, the plain model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compose_net import bounds, proof, rewrite, yamltree
from compose_net.document import Document, PortEntry, Service
from compose_net.rewrite import Edit, refuse
from compose_net.swarm.decide import StackDecision, Strategy
from compose_net.yamltree import MappingNode, Node, SequenceNode

PlainPath = tuple[str, ...]

#: A model change: the value at a path (``DELETE``: the key goes away).
DELETE: Any = proof.DELETE


@dataclass(frozen=True)
class Message:
    """A note for the user about the plan, at an entry of the original file.

    ``kept`` notes are about ports that stay public: they are shown even when quiet.
    """

    line: int
    column: int
    text: str
    kept: bool = False



@dataclass
class StackPlan:
    path: str
    strategy: Strategy
    network: str
    decisions: list[StackDecision] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    #: (path in the plain model, new value or DELETE), applied in order for the proof
    changes: list[tuple[PlainPath, Any]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def changed(self) -> list[StackDecision]:
        return [d for d in self.decisions if d.action in ("unpublish", "host-mode")]



def use_counts(root: Node, path: str) -> dict[int, int]:
    """How many times each node is reached from the root (aliases and merges count again)."""
    counts: dict[int, int] = {}
    budget = yamltree.MAX_EXPANDED_NODES
    todo = [root]
    while todo:
        node = todo.pop()
        budget -= 1
        if budget < 0:
            raise bounds.NODES.error(
                "aliases and merge keys expand the document to too many nodes", path=path
            )
        counts[id(node)] = counts.get(id(node), 0) + 1
        if yamltree.is_mapping(node):
            todo.extend(value for _, _, value in yamltree.mapping_items(node))
        elif yamltree.is_sequence(node):
            todo.extend(node.value)
    return counts


class Context:
    def __init__(self, doc: Document, strategy: Strategy, network: str) -> None:
        self.doc = doc
        self.path = doc.name
        self.text = doc.source.text
        self.lines = self.text.split("\n")
        self.uses = use_counts(doc.root, doc.name)
        self.plain: dict[str, Any] = yamltree.to_plain(doc.root, path=doc.name)
        self.step = indent_step(doc)
        self.plan = StackPlan(doc.name, strategy, network)

    def single(self, node: Node, what: str) -> None:
        """Refuse to edit a node that more than one place uses (anchor/alias, merge key)."""
        if self.uses.get(id(node), 0) > 1:
            raise refuse(
                f"{what} is shared through an anchor or a merge key; compose-net edits only text "
                "used in one place: write it out where it is used",
                self.path,
                node,
            )

    def message(self, entry: PortEntry, text: str, *, kept: bool = False) -> None:
        pos = entry.position
        self.plan.messages.append(Message(pos.line, pos.column, text, kept))


def indent_step(doc: Document) -> int:
    """The document's indentation step, from its first service (2 when there is none)."""
    services = yamltree.get(doc.root, "services")
    if yamltree.is_mapping(services) and not services.flow_style and services.value:
        first_key = services.value[0][0]
        parent = next(k for k, v in doc.root.value if v is services)
        step = first_key.start_mark.column - parent.start_mark.column
        if step > 0:
            return int(step)
    return 2


def owned_pair(mapping: MappingNode, key: str) -> int | None:
    """Index of ``key`` among a mapping's own pairs (not merged in), or None."""
    for i, (k, _) in enumerate(mapping.value):
        if yamltree.is_scalar(k) and k.tag != yamltree.MERGE_TAG and k.value == key:
            return i
    return None


def ports_node(service: Service) -> SequenceNode:
    assert yamltree.is_sequence(service.ports_node), "a service with entries has a ports list"
    return service.ports_node


def service_mapping(service: Service) -> MappingNode:
    assert yamltree.is_mapping(service.node), "a service with entries is a mapping"
    return service.node


def display(entry: PortEntry, text: str) -> str:
    """The entry as written (a scalar's own text), for messages."""
    node = entry.node
    if entry.syntax == "short" and rewrite.in_line(text, node):
        return str(text[node.start_mark.index : node.end_mark.index])
    if entry.syntax == "short":
        return rewrite.quote(str(entry.text), '"')
    return rewrite.flow_text({k: yamltree.to_plain(v) for k, v in entry.fields.items()})


def require_format(ctx: Context, needs: str) -> None:
    """Refuse when the file's ``version`` predates what the edit writes (file format 3.2)."""
    version = ctx.plain.get("version")
    if version is None:
        return
    text = repr(version) if isinstance(version, float) else str(version)
    if text in ("3.0", "3.1"):
        node = yamltree.get(ctx.doc.root, "version")
        assert node is not None  # the plain data has it
        raise refuse(
            f"version {text} is older than file format 3.2, which {needs} needs: raise the "
            "version to 3.2 or later, or remove it",
            ctx.path,
            node,
        )
