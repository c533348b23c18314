"""Which port entries of a stack a strategy changes, and which it leaves as they are.

An entry is ``allowed`` to stay public (allow list, pragma), already ``pinned`` (host mode
on the nodes ``compose-net node-setup`` prepared), ``kept`` (its finding does not count),
or changed: ``unpublish`` (the unpublish and internal-network strategies) or ``host-mode``.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal

from compose_net import pragmas, stack
from compose_net.document import PortEntry, Service
from compose_net.errors import ComposeNetError
from compose_net.policy import allowances
from compose_net.policy.allowances import Allow

Strategy = Literal["unpublish", "internal-network", "host-mode"]
STRATEGIES: tuple[Strategy, ...] = ("unpublish", "internal-network", "host-mode")

Action = Literal["unpublish", "host-mode", "allowed", "pinned", "kept"]


@dataclass(frozen=True)
class StackDecision:
    """What happens to one port entry under the chosen strategy."""

    entry: PortEntry
    action: Action
    note: str = ""

    @property
    def label(self) -> str:
        return f"services.{self.entry.service}.ports[{self.entry.index}]"



def numbers(entry: PortEntry) -> tuple[str | None, str | None]:
    """(published, target) as written, without the protocol."""
    if entry.syntax == "short":
        spec = entry.short
        return spec.host_port or None, spec.container.partition("/")[0]
    published, target = entry.field_value("published"), entry.field_value("target")
    return (None if published is None else str(published)), (
        None if target is None else str(target)
    )


def decide(
    entry: PortEntry,
    service: Service,
    strategy: Strategy,
    *,
    allows: Sequence[Allow],
    comments: pragmas.Comments,
    path: str,
    only: AbstractSet[int] | None = None,
) -> StackDecision:
    """Whether an entry stays (allowed, already pinned host mode, not reported) or the
    strategy changes it. ``only``: the entries whose swarm-published finding counts (the
    fixes harden applies); None: every entry that is not allowed."""
    allowance = allowances.allowed(
        allows, comments.find(entry.node), entry.service, numbers(entry)
    )
    note = allowance.reason if allowance is not None else ""
    if note:
        if entry.syntax == "long" and "host_ip" in entry.fields:
            raise ComposeNetError(
                f"services.{entry.service}.ports[{entry.index}] is allowed to stay public but has "
                "host_ip, which docker stack deploy rejects: remove host_ip (swarm publishes the "
                "port on every node whatever it says)",
                path=path,
                line=entry.position.line,
                column=entry.position.column,
            )
        return StackDecision(entry, "allowed", note)
    if (
        strategy == "host-mode"
        and stack.publish_mode(entry) == "host"
        and "host_ip" not in entry.fields
        and stack.pinned_to_internal_binding(service)
    ):
        return StackDecision(entry, "pinned")
    if only is not None and id(entry.node) not in only:
        return StackDecision(entry, "kept")
    return StackDecision(entry, "host-mode" if strategy == "host-mode" else "unpublish")
