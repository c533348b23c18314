"""A host IP taken from a variable that can leave the port public.

Compose fills `${BIND_IP}` from the environment and the project's `.env`.
When the variable is unset or empty, the host IP is empty, and an empty host
IP means *all interfaces*: `"${BIND_IP}:80:80"` on a node that lacks the
variable publishes port 80 to the world without a word of warning.

This rule reports a host IP built from variables when any of these is a
wildcard or public address:

* the value with every variable unset (no default, an empty default, or a
  public default such as `${BIND_IP:-0.0.0.0}`);
* the value with every variable set but empty (`${BIND_IP-127.0.0.1}` and
  `${BIND_IP?}` only protect against an unset variable);
* the value in the environment `check` runs in, when that environment sets
  the variables.

The same goes for a variable that holds the address and the port together
(`"${DB_PORT:-127.0.0.1:5432}:5432"`): its value decides the host IP.

A required variable (`${BIND_IP:?message}`) is fine: Compose refuses to
start without it. So is a safe default with `:-`. In long syntax an empty
`host_ip` is an error to Compose, not the wildcard, so there only a
wildcard or public value counts.

Finding:

```yaml
services:
  web:
    image: nginx
    ports:
      - "${BIND_IP}:8080:80"             # CN003: unset means every interface
      - "${BIND_IP:-0.0.0.0}:8081:80"    # CN003: the default is the wildcard
```

No finding:

```yaml
services:
  web:
    image: nginx
    ports:
      - "${BIND_IP:-127.0.0.1}:8080:80"
      - "${BIND_IP:?set BIND_IP to this node's internal address}:8081:80"
```

Fix: give the variable a safe default (`${BIND_IP:-127.0.0.1}`) or make it
required (`${BIND_IP:?...}`); `compose-net harden --bind-var BIND_IP` writes
the required form.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from compose_net import addresses, interpolate
from compose_net.errors import ComposeNetError
from compose_net.findings import Finding, Severity
from compose_net.ports import split_short
from compose_net.rules.context import Context

ID = "CN003"
NAME = "variable-host-ip"
SEVERITY: Severity = "error"


def _names(template: interpolate.Template) -> list[str]:
    out: list[str] = []
    for part in template:
        if isinstance(part, interpolate.Var):
            out.append(part.name)
            out.extend(_names(part.arg))
    return list(dict.fromkeys(out))


def _unsafe(value: str | None, long: bool) -> bool:
    if value is None or (long and not value):
        return False
    return addresses.classify_text(value) in ("all-interfaces", "public")


def _value(text: str, env: Mapping[str, str], whole_entry: bool) -> str | None:
    """The host IP ``text`` gives in ``env`` (with ``whole_entry``: a whole short entry)."""
    try:
        value = interpolate.interpolate(text, env)
    except ComposeNetError:
        return None
    return (split_short(value).host_ip or "") if whole_entry else value


def _describe(value: str) -> str:
    kind = addresses.classify_text(value)
    if kind == "all-interfaces":
        return "all interfaces" if not value else f"{value}, all interfaces"
    return f"the public address {value}"


def problem(
    text: str, env: Mapping[str, str] | None, *, long: bool = False, whole_entry: bool = False,
) -> str | None:
    """Why the host IP template ``text`` can be unsafe; None when it cannot.

    In long syntax an empty ``host_ip`` is not the wildcard: Compose refuses it.
    With ``whole_entry``, ``text`` is a whole short-syntax entry whose variables
    supply the host IP (``"${SQL_PORT:-127.0.0.1:13306}:3306"``).
    """
    try:
        names = _names(interpolate.parse(text))
    except ComposeNetError:
        return None  # an invalid template: invalid-port (CN009) reports it
    shown = ", ".join(names)
    verb = "is" if len(names) == 1 else "are"
    unset = _value(text, {}, whole_entry)
    if unset is not None and _unsafe(unset, long):
        return f"is {_describe(unset)} when {shown} {verb} unset"
    empty = _value(text, dict.fromkeys(names, ""), whole_entry)
    if empty is not None and _unsafe(empty, long):
        return f"is {_describe(empty)} when {shown} {verb} set but empty"
    if env is not None and any(name in env for name in names):
        here = _value(text, env, whole_entry)
        if here is not None and _unsafe(here, long):
            return f"is {_describe(here)} in this environment"
    return None


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.target == "stack":
        return
    for item in ctx.entries:
        if item.error is not None or not (item.exposure == "variable" or item.ip_from_variable):
            continue
        entry = item.entry
        if item.ip_from_variable:
            assert entry.text is not None
            text, source = entry.text, "a variable"
        else:
            assert entry.written_host_ip is not None
            text = source = entry.written_host_ip
        why = problem(text, ctx.env, long=entry.syntax == "long", whole_entry=item.ip_from_variable)
        if why is None:
            continue
        name = _names(interpolate.parse(text))[0]
        yield ctx.finding(
            entry.node,
            f"{item.label} {item.display} takes its host IP from {source}, which {why}",
            f"give the variable a safe default (${{{name}:-127.0.0.1}}) or make it required "
            f"(${{{name}:?message}}), e.g. with `compose-net harden --bind-var {name}`",
            entry=entry, exposure=item.exposure,
        )
