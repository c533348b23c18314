"""``compose-net addr``: this host's addresses, classified, or the one address to bind to."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from compose_net.errors import ComposeNetError
from compose_net.report import EXIT_OK
from compose_net.resolvers import local
from compose_net.resolvers.local import Choice, InterfaceAddress, Kind

if TYPE_CHECKING:
    from compose_net.commands import other_options


def parse_words(words: Sequence[str]) -> tuple[Kind | None, int | None]:
    """``[public|service] [ipv4|ipv6]`` in either order."""
    kind: Kind | None = None
    family: int | None = None
    for word in words:
        low = word.lower()
        if low in local.KINDS and kind is None:
            kind = "public" if low == "public" else "service"
        elif low in local.FAMILIES and family is None:
            family = local.FAMILIES[low]
        else:
            raise ComposeNetError(
                f"unexpected argument {word!r}: expected [public|service] [ipv4|ipv6]"
            )
    return kind, family


def table(items: Sequence[InterfaceAddress]) -> str:
    rows = [("INTERFACE", "FAMILY", "ADDRESS", "CLASS")]
    rows += [(i.interface, f"ipv{i.family}", f"{i.address}/{i.prefixlen}", i.klass) for i in items]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    return "".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n" for r in rows)


def run(
    words: Sequence[str],
    *,
    interface: str | None = None,
    cidr: str | None = None,
    fmt: str = "text",
    items: Sequence[InterfaceAddress] | None = None,
    internal: Sequence[str] | None = None,
) -> int:
    """``internal``: CIDRs that count as internal besides the private ranges (None: the
    ``internal-networks`` of the configuration of the current folder)."""
    kind, family = parse_words(words)
    choice = Choice.parse(interface, cidr)
    if items is None:
        networks = (
            local.configured_networks() if internal is None else local.internal_networks(internal)
        )
        items = local.host_addresses(networks)
    if kind is not None and family is not None:
        address = local.select(items, kind, family, choice)
        if fmt == "json":
            _json({"class": kind, "family": f"ipv{family}", "address": address})
        else:
            sys.stdout.write(address + "\n")
        return EXIT_OK
    if kind is not None:
        ipv4, ipv6 = local.select_families(items, kind, choice)
        if fmt == "json":
            _json({"class": kind, "ipv4": ipv4, "ipv6": ipv6})
        else:
            sys.stdout.write("".join(f"{a}\n" for a in (ipv4, ipv6) if a))
        return EXIT_OK
    shown = [i for i in items if choice.matches(i) and (family is None or i.family == family)]
    if fmt == "json":
        _json({"addresses": [i.as_json() for i in shown]})
    else:
        sys.stdout.write(table(shown))
    return EXIT_OK


def main(opts: other_options.Addr) -> int:
    """The command line's ``addr``."""
    return run(opts.words, interface=opts.interface, cidr=opts.cidr, fmt=opts.fmt)


def _json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")
