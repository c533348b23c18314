"""Harden a swarm stack file: every published port is public under ``docker stack deploy``.

Swarm ignores host IPs (a short-syntax IP is dropped, ``host_ip`` is rejected), so the
only ways to keep a port off public interfaces change how it is published:

* ``unpublish``: remove the publication; services on the service's overlay networks
  still reach it by name (``svc:port``) or task (``tasks.svc:port``);
* ``internal-network``: remove the publication and put the service on an attachable
  overlay network that internal clients join;
* ``host-mode``: publish in host mode (long syntax, ``mode: host``) and pin the service
  with a placement constraint to nodes labelled by ``compose-net node-setup``, whose
  ``docker_gwbridge`` binds host-mode ports to the node's internal IPv4 address.

Ports that are allowed to be public (allow list, ``# compose-net: allow``) are kept.
``plan`` computes minimal text edits and the model changes they must make;
``harden_stack_text`` applies and proves them (the new text parses, its model is the
original's plus exactly those changes, a second run changes nothing) before anything
may be written. Whatever a strategy cannot do with certainty is refused.

Which entries change is decided in ``swarm.decide``; the edits are made by
``swarm.unpublish`` (unpublish, internal-network) and ``swarm.hostmode`` (host-mode),
into the plan ``swarm.stackplan`` holds.
"""


from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from compose_net import document, model, pragmas, proof, rewrite
from compose_net.document import Document
from compose_net.errors import ComposeNetError, SafetyError
from compose_net.policy.allowances import Allow
from compose_net.source import Source
from compose_net.swarm.decide import STRATEGIES, Strategy, decide
from compose_net.swarm.hostmode import host_mode
from compose_net.swarm.stackplan import DELETE, Context, StackPlan, display, require_format
from compose_net.swarm.unpublish import (
    define_network,
    join_network,
    networks_of,
    reach,
    unpublish,
)

__all__ = [
    "DEFAULT_NETWORK",
    "DELETE",
    "STRATEGIES",
    "StackPlan",
    "StackResult",
    "Strategy",
    "apply",
    "harden_stack_text",
    "plan",
    "prove",
    "refuse_second_run",
]

DEFAULT_NETWORK = "internal"


def plan(
    doc: Document,
    strategy: Strategy,
    *,
    allows: Sequence[Allow] = (),
    network: str = DEFAULT_NETWORK,
    only: AbstractSet[int] | None = None,
) -> StackPlan:
    """Decide every entry and compute the edits and model changes; nothing is applied here.

    ``only``: the ids of the entry nodes to change (the fixes of the swarm-published findings
    that count); None: every entry not allowed to stay public."""
    if strategy not in STRATEGIES:
        raise ComposeNetError(
            f"unknown stack strategy {strategy!r}: expected {', '.join(STRATEGIES)}"
        )
    ctx = Context(doc, strategy, network)
    comments = pragmas.Comments(ctx.lines, doc.root)
    joined = False
    for service in doc.services:
        if not service.ports:
            continue
        decisions = [
            decide(
                e, service, strategy, allows=allows, comments=comments, path=doc.name,
                only=only,
            )
            for e in service.ports
        ]
        ctx.plan.decisions += decisions
        changing = [d for d in decisions if d.action in ("unpublish", "host-mode")]
        for d in decisions:
            if d.action == "allowed":
                why = "" if d.entry.written_host_ip is None else "; swarm ignores its host IP"
                ctx.message(
                    d.entry,
                    f"{d.label} {display(d.entry, ctx.text)} stays published on every node: "
                    f"{d.note}{why}",
                    kept=True,
                )
        if not changing:
            continue
        if strategy == "host-mode":
            host_mode(ctx, service, decisions)
            continue
        unpublish(ctx, service, changing)
        if strategy == "internal-network":
            join_network(ctx, service, network)
            joined = True
        for d in changing:
            if strategy == "internal-network":
                how = (
                    f"{service.name} joined the attachable overlay network {network}: reach it "
                    f"at {reach(service, d.entry)} from services on that network or from "
                    f"containers run with --network <stack>_{network}"
                )
            else:
                nets = ", ".join(networks_of(service))
                how = (
                    f"services on its overlay network ({nets}) reach it at "
                    f"{reach(service, d.entry)}"
                )
            ctx.message(
                d.entry,
                f"{d.label} {display(d.entry, ctx.text)} is no longer published; " + how,
            )
    if joined:
        require_format(ctx, "an attachable overlay network")
        define_network(ctx, network)
    ctx.plan.edits = rewrite.merge_deletions(ctx.text, ctx.plan.edits)
    ctx.plan.messages.sort(key=lambda m: (m.line, m.column))
    return ctx.plan


@dataclass(frozen=True)
class StackResult:
    plan: StackPlan
    text: str
    document: Document


def harden_stack_text(
    source: Source,
    strategy: Strategy,
    *,
    allows: Sequence[Allow] = (),
    network: str = DEFAULT_NETWORK,
) -> StackResult:
    """Plan, apply and prove; raises ComposeNetError/SafetyError, never returns a bad text."""
    doc = document.load(source)
    model.document_ports(doc, None)  # every entry must be one Compose accepts
    return prove(doc, plan(doc, strategy, allows=allows, network=network), allows=allows)


def prove(doc: Document, the_plan: StackPlan, *, allows: Sequence[Allow] = ()) -> StackResult:
    """Apply a plan's edits and prove the result before anyone may write it.

    The new text must parse, its model must equal the original's with exactly the
    plan's changes, and planning again must find nothing to do.
    """
    result = apply(doc, the_plan)
    if result.text != doc.source.text:
        again = plan(result.document, the_plan.strategy, allows=allows, network=the_plan.network)
        refuse_second_run(again, doc.name)
    return result


def apply(doc: Document, the_plan: StackPlan) -> StackResult:
    """Splice a plan's edits; the new text must parse and its model must equal the
    original's with exactly the plan's changes (:mod:`compose_net.proof`)."""
    if not the_plan.edits:
        return StackResult(the_plan, doc.source.text, doc)
    new_text, new_doc = proof.parse_edited(doc.source, the_plan.edits)
    proof.prove_changes(doc, new_doc, the_plan.changes, f"the {the_plan.strategy} strategy")
    return StackResult(the_plan, new_text, new_doc)


def refuse_second_run(again: StackPlan, path: str) -> None:
    """Planning again on the result must find nothing to do."""
    if again.edits:
        raise SafetyError(
            "a second run would change the file again; nothing was written", path=path
        )
