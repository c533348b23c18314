"""harden and check tell one truth: the nine cases of issue 12 and a generated matrix.

Every row sets up a folder, runs ``compose-net harden`` and then ``compose-net check`` on its
result as separate processes in that folder and environment, and asks the real Compose binary
what is published before and after. The promises checked for every row are listed in
consistency_cases.py. COMPOSE_NET_LONG=1 runs the full pairwise matrix instead of the
shorter covering set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from consistency_cases import BIND, Case, pairwise, run_case, subprocess_runner

pytestmark = pytest.mark.compose

LONG = os.environ.get("COMPOSE_NET_LONG") == "1"


def service(name: str, *ports: str, extra: str = "") -> str:
    """A service with an image and these ``ports:`` items (each already indented text)."""
    body = "".join(f"      - {p}\n" for p in ports)
    return f"  {name}:\n    image: nginx\n{extra}    ports:\n{body}"


def compose(*services: str) -> str:
    return "services:\n" + "".join(services)


@dataclass
class Row:
    case: Case
    #: harden's exit code as issue 12 asks for it; None where only the promises decide
    code: int | None


NINE = {
    "row1-env-wildcard": Row(
        Case(
            files={
                "compose.yaml": compose(service("web", '"${HOST_IP}:8443:443"')),
                ".env": "HOST_IP=0.0.0.0\n",
            }
        ),
        None,
    ),
    "row2-dash-default": Row(
        Case(files={"compose.yaml": compose(service("web", '"${BIND-127.0.0.1}:83:83"'))}),
        0,
    ),
    "row3-internal-networks": Row(
        Case(
            files={
                "compose.yaml": compose(service("web", '"8080:80"')),
                ".compose-net.yaml": 'internal-networks: ["203.0.113.0/24"]\n',
            },
            harden=["--bind", "203.0.113.5"],
        ),
        0,
    ),
    "row4-merged-duplicate": Row(
        Case(
            files={"compose.yaml": compose(service("web", '"8080:80"', '"8080:80"'))},
            harden=["--bind", BIND, "--remap-conflicts"],
        ),
        0,
    ),
    "row5-separate-projects": Row(
        Case(
            files={
                "a/compose.yaml": compose(service("web", '"8000:8000"')),
                "b/compose.yaml": compose(service("mail", '"8000:8000"', '"127.0.0.1:8025:8025"')),
            },
            projects=[["a/compose.yaml"], ["b/compose.yaml"]],
            harden=["--bind", BIND, "--remap-conflicts"],
        ),
        0,
    ),
    "row6-host-network": Row(
        Case(
            files={
                "compose.yaml": compose(
                    service("web", '"8080:80"', extra="    network_mode: host\n")
                )
            }
        ),
        1,
    ),
    "row7-v4-v6-collision": Row(
        Case(
            files={
                "compose.yaml": compose(
                    service("web", '"0.0.0.0:8080:80"'), service("api", '"[::]:8080:80"')
                )
            }
        ),
        1,
    ),
    "row8-public-kept": Row(
        Case(files={"compose.yaml": compose(service("web", '"203.0.113.7:80:80"', '"8080:8080"'))}),
        1,
    ),
    "row9-disjoint-profiles": Row(
        Case(
            files={
                "compose.yaml": compose(
                    service("ollama-cpu", '"11434:11434"', extra="    profiles: [cpu]\n"),
                    service("ollama-gpu", '"11434:11434"', extra="    profiles: [gpu]\n"),
                )
            },
            harden=["--bind", BIND, "--remap-conflicts"],
        ),
        0,
    ),
    # found by the corpus test: a host-network service that publishes nothing
    "host-network-without-ports": Row(
        Case(
            files={"compose.yaml": "services:\n  web:\n    image: nginx\n    network_mode: host\n"}
        ),
        1,
    ),
}

#: Rows that fail on main today, each with the bug it shows.
NINE_XFAIL: dict[str, str] = {}


def _param(rows: Mapping[str, Row], xfail: Mapping[str, str]) -> list[object]:
    return [
        pytest.param(
            row,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=xfail[name])] if name in xfail else [],
        )
        for name, row in rows.items()
    ]


@pytest.mark.parametrize("row", _param(NINE, NINE_XFAIL))
def test_issue_rows(row: Row, tmp_path: Path, compose_bin: str) -> None:
    outcome = run_case(row.case, tmp_path, subprocess_runner, compose_bin)
    assert not outcome.compose_rejects, outcome.compose_rejects
    assert not outcome.problems, outcome.describe()
    if row.code is not None:
        assert outcome.harden.code == row.code, outcome.describe()


# --- the generated matrix -------------------------------------------------------------------

#: Port entries as the fixtures write them: (lines of the list item, uses the IP variable).
FORMS: dict[str, tuple[tuple[str, ...], bool]] = {
    "short": (('"6379:6379"',), False),
    "bare": (("5000",), False),
    "single-quoted": (("'8080:80'",), False),
    "unquoted": (("22:22",), False),
    "wildcard-v4": (('"0.0.0.0:443:443"',), False),
    "wildcard-v6": (('"[::]:8443:8443"',), False),
    "empty-ip": (('":9000:9000"',), False),
    "range": (('"9090-9091:8080-8081"',), False),
    "host-range": (('"8000-8010:80"',), False),
    "udp": (('"53:53/udp"',), False),
    "sctp": (('"5060:5060/SCTP"',), False),
    "long": (("target: 80", "published: 8080"), False),
    "long-wildcard": (("target: 443", 'published: "8443"', "host_ip: 0.0.0.0"), False),
    "long-v6-wildcard": (
        ("target: 53", "published: 5353", "protocol: udp", 'host_ip: "::"'),
        False,
    ),
    "flow-long": (("{target: 81, published: 8081}",), False),
    "public": (('"203.0.113.7:80:80"',), False),
    "long-public": (("target: 443", "host_ip: 198.51.100.4"), False),
    "private": (('"10.0.0.9:8082:82"',), False),
    "loopback": (('"127.0.0.1:8081:81"',), False),
    "loopback-v6": (('"[::1]:8083:83"',), False),
    "variable-port": (('"${PORT:-8089}:89"',), False),
    "var": (('"${IP}:8084:84"',), True),
    "var-colon-dash": (('"${IP:-0.0.0.0}:8085:85"',), True),
    "var-dash": (('"${IP-127.0.0.1}:8086:86"',), True),
    "var-required": (('"${IP:?set IP}:8087:87"',), True),
    "var-safe-default": (('"${IP:-127.0.0.1}:8088:88"',), True),
    "long-var": (("target: 90", "published: 8090", 'host_ip: "${IP:-0.0.0.0}"'), True),
}

#: the value of IP in the environment of both tools and of Compose
VALUES: dict[str, str | None] = {
    "unset": None,
    "empty": "",
    "wildcard": "0.0.0.0",
    "internal": "10.0.0.7",
    "public": "203.0.113.9",
}
#: where IP is set: the project's .env file, or the process environment
CHANNELS = ("dotenv", "process")
CONFIGS = ("none", "internal-networks", "allow-config", "allow-flag", "pragma")
NETWORK_MODES = ("default", "host")
PROFILES = ("none", "one", "disjoint")
LAYOUTS = ("file", "f-project", "discovered", "separate")

DIMENSIONS = {
    "form": tuple(FORMS),
    "value": tuple(VALUES),
    "channel": CHANNELS,
    "config": CONFIGS,
    "network": NETWORK_MODES,
    "profiles": PROFILES,
    "layout": LAYOUTS,
}


def _needed(a: str, va: str, b: str, vb: str, *, long: bool = LONG) -> bool:
    """The pairs a covering set must hold: the environment matters to variable forms only."""
    if a == "form":
        if b == "value":
            return FORMS[va][1]
        # The shorter run holds each form once, every variable form with every value, and
        # every pair of the other dimensions.
        return long and b != "channel"
    return not (a == "value" and va == "unset" and b == "channel")


def _item(form: str, pragma: bool) -> str:
    lines, _ = FORMS[form]
    comment = "  # compose-net: allow meant to be public" if pragma else ""
    first, *rest = lines
    if not rest:
        return first + comment
    # a long entry carries the comment on its last line
    text = "\n".join([first, *(f"        {line}" for line in rest)])
    return text + comment


def build(combo: Mapping[str, str]) -> Case:
    """The folder, environment and arguments of one combination."""
    item = _item(combo["form"], combo["config"] == "pragma")
    extra = "    network_mode: host\n" if combo["network"] == "host" else ""
    services = []
    if combo["profiles"] == "none":
        services.append(service("web", item, extra=extra))
    elif combo["profiles"] == "one":
        services.append(service("web", item, extra=extra + "    profiles: [debug]\n"))
    else:
        services.append(service("web", item, extra=extra + "    profiles: [cpu]\n"))
        services.append(service("web-gpu", item, extra=extra + "    profiles: [gpu]\n"))
    text = compose(*services)

    folders = [""]
    layout = combo["layout"]
    files: dict[str, str] = {}
    case = Case(files=files)
    if layout == "file":
        files["compose.yaml"] = text
    elif layout == "f-project":
        files["compose.yaml"] = compose(service("web", '"127.0.0.1:7000:7000"'))
        # the override adds the entry (and the mode and profiles, which it may set too)
        files["override.yaml"] = text.replace("    image: nginx\n", "")
        if combo["profiles"] == "disjoint":
            files["compose.yaml"] += service("web-gpu", '"127.0.0.1:7001:7001"')
        case.projects = [["compose.yaml", "override.yaml"]]
        case.with_f = True
    elif layout == "discovered":
        files["compose.yaml"] = text
        files["compose.override.yaml"] = "services:\n  web:\n    ports:\n" + (
            '      - "127.0.0.1:7002:7002"\n'
        )
        case.projects = []
    else:
        folders = ["a/", "b/"]
        for folder in folders:
            files[f"{folder}compose.yaml"] = text
        case.projects = [["a/compose.yaml"], ["b/compose.yaml"]]

    value = VALUES[combo["value"]]
    if value is not None and combo["channel"] == "dotenv":
        for folder in folders:
            files[f"{folder}.env"] = f"IP={value}\n"
    elif value is not None:
        case.env["IP"] = value

    config = combo["config"]
    # the configuration is looked for up to the project's root: each project has its own
    if config == "internal-networks":
        for folder in folders:
            files[f"{folder}.compose-net.yaml"] = 'internal-networks: ["203.0.113.0/24"]\n'
        case.harden = ["--bind", "203.0.113.5"]
    elif config == "allow-config":
        for folder in folders:
            files[f"{folder}.compose-net.yaml"] = "allow:\n  - web\n"
    elif config == "allow-flag":
        case.common = ["--allow", "web"]
    return case


def _combos(long: bool = LONG) -> list[dict[str, str]]:
    return pairwise(DIMENSIONS, lambda *pair: _needed(*pair, long=long))


COMBOS = _combos()

#: Combinations that fail on main, grouped by what breaks (rows of the full pairwise run
#: included): none since harden applies check's own fixes and checks its result again.
MATRIX_BUGS: dict[str, tuple[str, ...]] = {}
MATRIX_XFAIL = {combo: bug for bug, combos in MATRIX_BUGS.items() for combo in combos}


def _combo_id(combo: Mapping[str, str]) -> str:
    """The values joined by dashes; the channel is left out where IP is unset."""
    return "-".join(
        combo[name] for name in DIMENSIONS if not (name == "channel" and combo["value"] == "unset")
    )


def test_matrix_covers_every_dimension() -> None:
    print(
        f"\nconsistency matrix: {len(COMBOS)} rows"
        f" ({'full pairwise' if LONG else 'covering set'}) of "
        + " x ".join(f"{len(v)} {k}" for k, v in DIMENSIONS.items())
    )
    ids = [_combo_id(combo) for combo in COMBOS]
    assert len(set(ids)) == len(ids)
    every = {_combo_id(combo) for long in (False, True) for combo in _combos(long)}
    assert not set(MATRIX_XFAIL) - every, "MATRIX_BUGS names rows that no run has"
    for name, values in DIMENSIONS.items():
        assert {combo[name] for combo in COMBOS} == set(values), name
    for form, (_, uses_variable) in FORMS.items():
        if uses_variable:
            assert {c["value"] for c in COMBOS if c["form"] == form} == set(VALUES), form
    for value in VALUES:
        if value != "unset":
            assert {c["channel"] for c in COMBOS if c["value"] == value} == set(CHANNELS), value


@pytest.mark.parametrize(
    "combo",
    [
        pytest.param(
            combo,
            id=_combo_id(combo),
            marks=(
                [pytest.mark.xfail(strict=True, reason=MATRIX_XFAIL[_combo_id(combo)])]
                if _combo_id(combo) in MATRIX_XFAIL
                else []
            ),
        )
        for combo in COMBOS
    ],
)
def test_matrix(combo: dict[str, str], tmp_path: Path, compose_bin: str) -> None:
    outcome = run_case(build(combo), tmp_path, subprocess_runner, compose_bin)
    # Compose refuses ${IP:?...} when IP is unset or empty, and nothing else here
    refused = combo["form"] == "var-required" and combo["value"] in ("unset", "empty")
    assert bool(outcome.compose_rejects) == refused, outcome.compose_rejects
    assert not outcome.problems, outcome.describe()
