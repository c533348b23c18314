"""Whether a host IP leaves a port reachable from outside: the one place that decides it.

A host IP is judged as Compose will fill it in. Written literally, its address class
decides (:mod:`compose_net.policy.addresses`, with the configuration's
``internal-networks``). Built from variables, every way the variables can stand is
considered, because each happens on some node: every variable unset, every variable set
but empty, and the values the project's environment (the process environment over
``.env``) gives them. The port is exposed when any of these is every interface or a
public address; the verdict names the first such case, and says how the entry can be
fixed without losing the variable.

``check`` reports these verdicts (rules CN001-CN003) and ``harden`` fixes exactly what
they report, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from compose_net import interpolate
from compose_net.errors import ComposeNetError
from compose_net.policy.addresses import (
    INTERNAL_NETWORKS,
    AddressClass,
    Network,
    classify,
    parse_ip,
    unmapped,
)
from compose_net.ports import split_short

Exposure = Literal["all-interfaces", "public", "private", "loopback", "variable"]
UNSAFE: tuple[AddressClass, ...] = ("all-interfaces", "public")


@dataclass(frozen=True)
class Environment:
    """What a host IP is judged against: the project's variables and internal networks."""

    #: the project's variables: the process environment over ``.env`` (None: unknown)
    values: Mapping[str, str] | None = None
    #: networks that count as internal (the private ranges and ``internal-networks``)
    internal: tuple[Network, ...] = INTERNAL_NETWORKS
    #: variable -> where its value comes from, for messages (".env", "the environment")
    origins: Mapping[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> str:
        return self.origins.get(name, "the environment")


def classify_text(text: str | None, env: Environment) -> AddressClass | None:
    """The class of a literal host IP ("" / None: every interface); None if not an address."""
    if not text:
        return "all-interfaces"
    addr = parse_ip(text)
    return None if addr is None else classify(addr, env.internal)


def written(text: str | None, env: Environment) -> Exposure | None:
    """Exposure of a host IP as written ('variable' when it holds variables); None if invalid."""
    if text is not None and interpolate.has_variables(text):
        return "variable"
    return classify_text(text, env)


def family(text: str) -> int | None:
    """4 or 6 for a literal address, else None."""
    addr = parse_ip(text)
    return None if addr is None else unmapped(addr).version


Fixable = Literal["bind", "default", "no"]


class Verdict(NamedTuple):
    """What a host IP means in every environment it can meet."""

    #: the worst class a value can take: "all-interfaces" or "public" when exposed
    worst: AddressClass | None
    #: when that happens, for a message: "" (always), "when X is unset", ...
    when: str
    #: the host IP in that case, when it is an address ("" for every interface)
    value: str | None
    #: how it can be fixed: "bind" replaces the host IP with the node's address,
    #: "default" keeps the variable and gives it a safe default, "no" cannot be fixed
    #: in the Compose file (``reason`` says why)
    fixable: Fixable = "bind"
    reason: str = ""
    #: the variable a "default" fix keeps, and its safe default when it has one
    variable: str | None = None
    safe_default: str | None = None
    #: ``value`` came from the environment or an env file: a message never quotes it
    from_values: bool = False

    @property
    def exposed(self) -> bool:
        return self.worst in UNSAFE

    def describe(self) -> str:
        """``all interfaces`` / ``the public address X``, as the value reads."""
        if self.worst == "all-interfaces":
            if not self.value or self.from_values:
                return "all interfaces"
            return f"{self.value}, all interfaces"
        return "a public address" if self.from_values else f"the public address {self.value}"


SAFE = Verdict(None, "", None, "no")


def names(template: interpolate.Template) -> list[str]:
    """The variables of a template, nested defaults included, each once, in order."""
    out: list[str] = []
    for part in template:
        if isinstance(part, interpolate.Var):
            out.append(part.name)
            out.extend(names(part.arg))
    return list(dict.fromkeys(out))


def _value(text: str, values: Mapping[str, str], whole_entry: bool) -> str | None:
    """The host IP ``text`` gives with ``values`` (None: Compose refuses, e.g. ``${X:?}``)."""
    try:
        value = interpolate.interpolate(text, values)
    except ComposeNetError:
        return None
    return (split_short(value).host_ip or "") if whole_entry else value


def _unsafe(value: str | None, long: bool, env: Environment) -> AddressClass | None:
    if value is None or (long and not value):
        return None  # refused by Compose: an empty long-syntax host_ip is an error, not "all"
    kind = classify_text(value, env)
    return kind if kind in UNSAFE else None


def host_ip(
    text: str | None, env: Environment, *, long: bool = False, whole_entry: bool = False
) -> Verdict:
    """The verdict on a host IP as written (None: no host IP, which is every interface).

    With ``whole_entry``, ``text`` is a whole short-syntax entry whose variables supply the
    host IP (``"${SQL_PORT:-127.0.0.1:13306}:3306"``).
    """
    if text is None or not interpolate.has_variables(text):
        if whole_entry:
            return SAFE
        kind = classify_text(text, env)
        if kind is None or kind not in UNSAFE:
            return SAFE
        return Verdict(kind, "", text or "")
    try:
        template = interpolate.parse(text)
    except ComposeNetError:
        return SAFE  # an invalid template: invalid-port (CN009) reports it
    found = names(template)
    shown = ", ".join(found)
    verb = "is" if len(found) == 1 else "are"
    cases: list[tuple[str, Mapping[str, str]]] = []
    values = env.values
    in_env = [name for name in found if values is not None and name in values]
    if values is not None and in_env:
        origins = sorted({env.origin(name) for name in in_env})
        what = ", ".join(
            f"{name} is set but empty" if values[name] == "" else f"{name} is set"
            for name in in_env
        )
        cases.append((f"in this environment ({what} in {' and '.join(origins)})", values))
    cases.append((f"when {shown} {verb} unset", {}))
    cases.append((f"when {shown} {verb} set but empty", dict.fromkeys(found, "")))
    for when, case in cases:
        value = _value(text, case, whole_entry)
        kind = _unsafe(value, long, env)
        if kind is None:
            continue
        verdict = Verdict(kind, when, value, from_values=case is values)
        return _with_fix(verdict, template, text, env, long, whole_entry)
    return SAFE


def _with_fix(
    verdict: Verdict,
    template: interpolate.Template,
    text: str,
    env: Environment,
    long: bool,
    whole_entry: bool,
) -> Verdict:
    """How an exposed host IP built from variables can be fixed."""
    if whole_entry:
        return verdict._replace(
            fixable="no",
            reason="a variable holds the address and the port together; split it into a "
            "host IP variable and a port variable",
        )
    if len(template) != 1 or not isinstance(template[0], interpolate.Var):
        return verdict._replace(
            fixable="no", reason="the host IP mixes variables and text; write it as one variable"
        )
    var = template[0]
    if var.op in (":+", "+"):
        return verdict._replace(
            fixable="no",
            reason=f"${{{var.name}{var.op}...}} gives the host IP only when {var.name} is set; "
            f"write it as ${{{var.name}:-ADDRESS}} or as the address itself",
        )
    values = env.values or {}
    if var.name in values and _own_value(var, values):
        here = _value(text, values, False)
        unsafe = _unsafe(here, long, env)
        if unsafe is not None:  # its value is not quoted: it may be a secret's neighbour
            what = (
                "an empty value" if not here
                else "a public address" if unsafe == "public" else "an address of every interface"
            )  # fmt: skip
            return verdict._replace(
                fixable="no",
                reason=f"{var.name} is set to {what} in {env.origin(var.name)}: change it there",
            )
    default = interpolate.default_of(text)
    safe = None
    if default and not interpolate.has_variables(default):
        kind = classify_text(default, env)
        if kind in ("private", "loopback"):
            safe = default
    return verdict._replace(fixable="default", variable=var.name, safe_default=safe)


def _own_value(var: interpolate.Var, values: Mapping[str, str]) -> bool:
    """Whether ``var`` gives its own, non-empty value in ``values``: only then does the fix
    belong where the variable is set. An empty value (``${X:-...}`` with X empty takes its
    default) or a replacement (``${X:+...}``) is fixed by the file's ``${X:-ADDRESS}``."""
    return bool(values.get(var.name)) and var.op not in (":+", "+")
