"""check's verdict and harden's action, side by side, one port entry per row.

Each row holds one service ``web`` with the entry, and says what ``check`` reports about it
(its failing rule ids, ``allowed``, or ``clean``) and what ``harden`` does to it:

| action | the file afterwards | harden exits | check on the result |
| --- | --- | --- | --- |
| rewritten | the row's ``after`` | 0 | clean |
| unchanged | as it was (nothing to do) | 0 | clean |
| allowed | as it was | 0 | allowed |
| kept public | as it was | 1, naming service and port | the same rules |
| left | the row's ``after`` | 1, naming service and port | the row's ``remains`` |
| unpublished, internal network, host mode | the row's ``after`` | 0 | clean |
| refused | as it was | 2 | (not run) |

Rows run for the Compose target and for ``--target stack`` with each ``--stack-strategy``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from consistency_cases import BIND, Result, base_env, inprocess_runner, named, write_files

OK_ACTIONS = ("rewritten", "unchanged", "unpublished", "internal network", "host mode")


@dataclass(frozen=True)
class Entry:
    #: the ``ports:`` items of service web, as written
    ports: tuple[str, ...]
    #: more lines of the service (indented four spaces)
    extra: str = ""
    #: options both commands get
    common: tuple[str, ...] = ()
    #: options of harden only
    harden: tuple[str, ...] = ("--bind", BIND)
    #: None for the Compose target, else the --stack-strategy of --target stack
    strategy: str | None = None
    #: for an entry harden leaves: what check still reports (default: what it reported)
    remains: str | None = None

    def check_args(self) -> list[str]:
        target = ["--target", "stack"] if self.strategy else []
        return ["--no-config", *target, *self.common]

    def harden_args(self) -> list[str]:
        strategy = ["--stack-strategy", self.strategy] if self.strategy else []
        return [*self.check_args(), *strategy, *self.harden]


def compose_file(ports: tuple[str, ...], extra: str = "") -> str:
    items = "".join(f"      - {p}\n" for p in ports)
    return (
        "services:\n  web:\n    image: nginx\n" + extra + (f"    ports:\n{items}" if ports else "")
    )


def verdict(report: Result) -> str:
    """The failing rule ids of check's JSON report, else ``allowed`` or ``clean``."""
    data = json.loads(report.out)
    failing = sorted({f["rule"] for f in data["findings"] if f["severity"] != "note"})
    if failing:
        return ",".join(failing)
    return "allowed" if data["allowed"] else "clean"


UNPUBLISHED = "services:\n  web:\n    image: nginx\n"
JOINED = (
    "services:\n  web:\n    image: nginx\n    networks:\n      - default\n      - internal\n"
    "networks:\n  internal:\n    driver: overlay\n    attachable: true\n"
)
HOST_MODE_8080 = (
    "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n"
    "        published: 8080\n        mode: host\n    deploy:\n      placement:\n"
    '        constraints:\n          - "node.labels.compose-net.host-binding == internal"\n'
)

#: (id, entry, check's verdict, harden's action, the file after harden where it changes)
TABLE: list[tuple[str, Entry, str, str, str | None]] = [
    # --- Compose target ---------------------------------------------------------------------
    ("compose-short", Entry(('"8080:80"',)), "CN001", "rewritten", '"10.0.0.5:8080:80"'),
    ("compose-bare", Entry(("5000",)), "CN001", "rewritten", '"10.0.0.5::5000"'),
    (
        "compose-wildcard-v4",
        Entry(('"0.0.0.0:443:443"',)),
        "CN001",
        "rewritten",
        '"10.0.0.5:443:443"',
    ),
    (
        "compose-wildcard-v6-with-v6-bind",
        Entry(('"[::]:8443:8443"',), harden=("--bind", BIND, "--bind", "fd00::10")),
        "CN001",
        "rewritten",
        '"[fd00::10]:8443:8443"',
    ),
    ("compose-unquoted", Entry(("22:22",)), "CN001,CN008", "rewritten", '"10.0.0.5:22:22"'),
    (
        "compose-range-udp",
        Entry(('"9000-9002:9000-9002/udp"',)),
        "CN001",
        "rewritten",
        '"10.0.0.5:9000-9002:9000-9002/udp"',
    ),
    (
        "compose-long",
        Entry(("target: 80\n        published: 8080",)),
        "CN001",
        "rewritten",
        "target: 80\n        published: 8080\n        host_ip: 10.0.0.5",
    ),
    (
        "compose-variable-unset",
        Entry(('"${BIND_IP}:8084:84"',)),
        "CN003",
        "rewritten",
        '"${BIND_IP:-10.0.0.5}:8084:84"',
    ),
    (
        "compose-variable-port",
        Entry(('"${PORT:-8089}:89"',)),
        "CN001",
        "rewritten",
        '"10.0.0.5:${PORT:-8089}:89"',
    ),
    ("compose-public", Entry(('"203.0.113.7:80:80"',)), "CN002", "kept public", None),
    (
        "compose-public-rewrite",
        Entry(('"203.0.113.7:80:80"',), harden=("--bind", BIND, "--rewrite-public")),
        "CN002",
        "rewritten",
        '"10.0.0.5:80:80"',
    ),
    ("compose-loopback", Entry(('"127.0.0.1:8081:81"',)), "clean", "unchanged", None),
    ("compose-private", Entry(('"10.0.0.9:8082:82"',)), "clean", "unchanged", None),
    ("compose-safe-default", Entry(('"${IP:-127.0.0.1}:8088:88"',)), "clean", "unchanged", None),
    (
        "compose-allow-flag",
        Entry(('"8080:80"',), common=("--allow", "web:8080")),
        "allowed",
        "allowed",
        None,
    ),
    (
        "compose-allow-pragma",
        Entry(('"443:443"  # compose-net: allow public TLS',)),
        "allowed",
        "allowed",
        None,
    ),
    (
        "compose-host-network",
        Entry(('"8080:80"',), extra="    network_mode: host\n", remains="CN004"),
        "CN001,CN004",
        "left",
        '"10.0.0.5:8080:80"',
    ),
    (
        "compose-v6-wildcard-v4-bind",
        Entry(('"[::]:8443:8443"',)),
        "CN001",
        "rewritten",
        '"10.0.0.5:8443:8443"',
    ),
    # --- stack target, each strategy ---------------------------------------------------------
    (
        "stack-unpublish",
        Entry(('"8080:80"',), strategy="unpublish", harden=()),
        "CN005",
        "unpublished",
        UNPUBLISHED,
    ),
    (
        "stack-unpublish-loopback",
        Entry(('"127.0.0.1:8081:81"',), strategy="unpublish", harden=()),
        "CN005,CN010",
        "unpublished",
        UNPUBLISHED,
    ),
    (
        "stack-unpublish-range",
        Entry(('"9000-9002:9000-9002/udp"',), strategy="unpublish", harden=()),
        "CN005",
        "unpublished",
        UNPUBLISHED,
    ),
    (
        "stack-unpublish-allowed",
        Entry(('"8080:80"',), common=("--allow", "web"), strategy="unpublish", harden=()),
        "allowed",
        "allowed",
        None,
    ),
    (
        "stack-internal-network",
        Entry(('"8080:80"',), strategy="internal-network", harden=()),
        "CN005",
        "internal network",
        JOINED,
    ),
    (
        "stack-host-mode",
        Entry(('"8080:80"',), strategy="host-mode", harden=()),
        "CN005",
        "host mode",
        HOST_MODE_8080,
    ),
    (
        "stack-host-mode-range",
        Entry(('"80-81:80-81"',), strategy="host-mode", harden=()),
        "CN005",
        "refused",
        None,
    ),
    (
        "stack-host-mode-allowed",
        Entry(('"8080:80"',), common=("--allow", "web"), strategy="host-mode", harden=()),
        "allowed",
        "allowed",
        None,
    ),
]

#: Rows that fail on main today, with the disagreement each shows.
XFAIL: dict[str, str] = {}


def _expected_after(entry: Entry, action: str, after: str | None) -> str:
    before = compose_file(entry.ports, entry.extra)
    if after is None:
        return before
    if after.startswith("services:"):
        return after
    return compose_file((after,), entry.extra)


@pytest.mark.parametrize(
    ("entry", "expected_verdict", "action", "after"),
    [
        pytest.param(
            entry,
            verdict_,
            action,
            after,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=XFAIL[name])] if name in XFAIL else [],
        )
        for name, entry, verdict_, action, after in TABLE
    ],
)
def test_check_and_harden_side_by_side(
    tmp_path: Path, entry: Entry, expected_verdict: str, action: str, after: str | None
) -> None:
    name = "stack.yml" if entry.strategy else "compose.yaml"
    write_files(tmp_path, {name: compose_file(entry.ports, entry.extra)})
    env = base_env(tmp_path / ".home")

    def check() -> Result:
        args = ["check", "--format", "json", *entry.check_args(), name]
        return inprocess_runner(args, tmp_path, env)

    # the check column
    assert verdict(check()) == expected_verdict
    # the harden column
    harden = inprocess_runner(["harden", *entry.harden_args(), name], tmp_path, env)
    result = (tmp_path / name).read_text(encoding="utf-8")
    assert result == _expected_after(entry, action, after), harden.text
    if action == "refused":
        assert harden.code == 2, harden.text
        return
    afterwards = verdict(check())
    if action in OK_ACTIONS:
        assert (harden.code, afterwards) == (0, "clean"), harden.text
    elif action == "allowed":
        assert (harden.code, afterwards) == (0, "allowed"), harden.text
    else:
        # kept public or left: harden says so, check still fails on what is left
        assert (harden.code, afterwards) == (1, entry.remains or expected_verdict), harden.text
        port = next(p for p in entry.ports[0].replace('"', "").split(":") if p.isdigit())
        # a service-wide finding (host networking) names the service, not a port
        service_wide = afterwards == "CN004"
        assert named(harden.text, "web", None if service_wide else port), harden.text
