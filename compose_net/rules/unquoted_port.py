"""An unquoted `a:b` port value.

Compose reads YAML 1.2, where `- 22:22` is the string `"22:22"`. YAML 1.1
readers (PyYAML, and every tool built on it, Compose v1 included) read an
unquoted `22:22` as a base-60 number: 1342. The Compose specification says
to always quote `HOST:CONTAINER` for that reason.

The rule reports every plain (unquoted) port entry that contains a colon.
When a YAML 1.1 reader would really turn it into a number (each part after
the first below 60, like `22:22` or `3000:30`), the finding is a warning; a
value that stays a string everywhere (`8080:80`) gets a note, which does not
fail the check.

Finding:

```yaml
services:
  ssh:
    image: sshd
    ports:
      - 22:22        # CN008 warning: YAML 1.1 reads 1342
      - 8080:80      # CN008 note: quote it anyway
```

No finding:

```yaml
services:
  ssh:
    image: sshd
    ports:
      - "22:22"
      - '8080:80'
      - 80
```

Fix: quote the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from compose_net import yamltree
from compose_net.findings import Finding, Severity
from compose_net.rules.context import Context

ID = "CN008"
NAME = "unquoted-port"
SEVERITY: Severity = "warning"

#: YAML 1.1's sexagesimal int and float (yaml.org/type/int.html, float.html)
_BASE60_INT = re.compile(r"[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+")
_BASE60_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*")


def yaml11_number(text: str) -> int | float | None:
    """What a YAML 1.1 reader makes of the plain scalar ``text``; None when it stays a string
    (or when it is too long to be a port: int() of thousands of digits is refused)."""
    if len(text) > 100:
        return None
    if _BASE60_INT.fullmatch(text):
        digits, value = text.lstrip("+-").replace("_", ""), 0
        for part in digits.split(":"):
            value = value * 60 + int(part)
        return -value if text.startswith("-") else value
    if _BASE60_FLOAT.fullmatch(text):
        whole, _, frac = text.lstrip("+-").replace("_", "").rpartition(".")
        number: float = 0
        for part in whole.split(":"):
            number = number * 60 + int(part)
        number += float("0." + frac) if frac else 0.0
        return -number if text.startswith("-") else number
    return None


def check(ctx: Context) -> Iterator[Finding]:
    seen: set[int] = set()
    for item in ctx.entries:
        entry = item.entry
        node = entry.node
        if entry.syntax != "short" or not yamltree.is_scalar(node) or node.style is not None:
            continue
        if id(node) in seen:
            continue  # one entry shared through an anchor is one value to quote
        seen.add(id(node))
        text = str(node.value)
        if ":" not in text:
            continue
        number = yaml11_number(text)
        if number is not None:
            message = f"{item.label} {text} is not quoted: YAML 1.1 reads it as the number {number}"
            severity: Severity = "warning"
        else:
            message = f"{item.label} {text} is not quoted; the Compose specification wants quotes"
            severity = "note"
        fix = None
        if severity == "warning":
            owner = ctx.services.get(item.base or entry.service)
            if owner is not None:
                from compose_net.fixes import Fix  # a finding's fix: off the start-up path

                fix = Fix(entry, owner.ports_node, "safe", "quote it")
        yield ctx.finding(
            node, message, f'quote it: "{text}"', entry=entry, severity=severity, fix=fix
        )
