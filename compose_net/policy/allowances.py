"""Ports meant to stay public, and findings silenced on purpose: the one place that decides.

A port is *allowed* by ``--allow SERVICE[:PORT]``, by the configuration's ``allow:`` list
or by ``# compose-net: allow reason`` on the entry's lines; an allowed port is neither
reported by ``check`` nor rewritten by ``harden``. ``# compose-net: ignore[RULE]`` silences
one rule's finding (any rule), and changes nothing either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple

from compose_net.errors import ComposeNetError
from compose_net.pragmas import Pragma


class Allow(NamedTuple):
    """A port meant to be public: a service, optionally one host or container port."""

    service: str
    port: str | None = None
    reason: str = ""

    @classmethod
    def parse(cls, text: str, reason: str = "") -> Allow:
        service, _, port = text.partition(":")
        if not service:
            raise ComposeNetError(f"invalid allow entry {text!r}: expected SERVICE or SERVICE:PORT")
        return cls(service, port or None, reason)

    def matches(self, service: str, published: str | None, target: str | None) -> bool:
        if self.service not in (service, "*"):
            return False
        return self.port is None or self.port in (published, target)

    def __str__(self) -> str:
        return self.service + (f":{self.port}" if self.port else "")


def service_names(service: str, stack: str | None) -> list[str]:
    """What an entry's SERVICE may name for a swarm service: the service, also without its
    stack's prefix (``web`` for ``shop_web`` of stack ``shop``)."""
    names = [service]
    if stack and service.startswith(f"{stack}_"):
        names.append(service[len(stack) + 1:])
    return names


def allowing(
    allows: Sequence[Allow], names: Sequence[str], published: str | None, target: str | None
) -> Allow | None:
    """The first entry that makes a port (host ``published``, container ``target``) of what
    ``names`` name meant to be public, if any."""
    for allow in allows:
        if any(allow.matches(name, published, target) for name in names):
            return allow
    return None


Source = Literal["inSource", "external"]


class Allowance(NamedTuple):
    """Why a finding does not count. ``source``: SARIF's words for where it was decided."""

    kind: Literal["allow", "ignore"]
    source: Source
    reason: str


def allowed(
    allows: Sequence[Allow],
    pragmas: Iterable[Pragma],
    service: str | None,
    ports: tuple[str | None, str | None] | None,
) -> Allowance | None:
    """Is a port (``ports``: published, target) or a whole service (``ports`` None) allowed?"""
    if service is not None:
        for allow in allows:
            if ports is None:
                if allow.port is None and allow.matches(service, None, None):
                    return Allowance("allow", "external", allow.reason or f"allowed by {allow}")
            elif allow.matches(service, *ports):
                return Allowance("allow", "external", allow.reason or f"allowed by {allow}")
    for pragma in pragmas:
        if pragma.kind == "allow":
            return Allowance("allow", "inSource", pragma.reason or "allowed by an inline comment")
    return None


def ignored(pragmas: Iterable[Pragma], rule_id: str, rule_name: str) -> Allowance | None:
    """Is the rule's finding silenced by ``# compose-net: ignore`` (all rules or this one)?"""
    for pragma in pragmas:
        if pragma.kind != "ignore":
            continue
        if not pragma.rules or any(
            ref.upper() == rule_id or ref.lower() == rule_name for ref in pragma.rules
        ):
            return Allowance("ignore", "inSource", pragma.reason or "ignored by an inline comment")
    return None
