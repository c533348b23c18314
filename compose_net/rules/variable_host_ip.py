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

from collections.abc import Iterator

from compose_net import interpolate
from compose_net.findings import Finding, Severity
from compose_net.policy import exposure as policy
from compose_net.rules.context import Context

ID = "CN003"
NAME = "variable-host-ip"
SEVERITY: Severity = "error"


def check(ctx: Context) -> Iterator[Finding]:
    if ctx.target == "stack":
        return
    for item in ctx.entries:
        if item.error is not None or not (item.exposure == "variable" or item.ip_from_variable):
            continue
        verdict = item.verdict
        if not verdict.exposed:
            continue
        entry = item.entry
        if item.ip_from_variable:
            assert entry.text is not None
            text, source = entry.text, "a variable"
        else:
            assert entry.written_host_ip is not None
            text = source = entry.written_host_ip
        name = policy.names(interpolate.parse(text))[0]
        yield ctx.finding(
            entry.node,
            f"{item.label} {item.display} takes its host IP from {source}, which is "
            f"{verdict.describe()} {verdict.when}",
            f"give the variable a safe default (${{{name}:-127.0.0.1}}) or make it required "
            f"(${{{name}:?message}}), e.g. with `compose-net harden --bind-var {name}`",
            entry=entry, exposure=item.exposure, fix=ctx.bind_fix(item, "safe"),
        )
