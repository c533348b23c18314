from __future__ import annotations

from pathlib import Path

import pytest
from rule_cases import lint, positions, run

RULE = "CN006"


def two(a: str, b: str) -> str:
    """Service a publishes ``a`` (line 4), service b publishes ``b`` (line 7)."""
    return (
        f"services:\n  a:\n    image: x\n    ports: [{a}]\n  b:\n    image: x\n    ports: [{b}]\n"
    )


@pytest.mark.parametrize(
    "text",
    (
        pytest.param(two('"10.0.0.5:80:80"', '"10.0.0.6:80:80"'), id="different-addresses"),
        pytest.param(two('"80:80"', '"80:80/udp"'), id="different-protocols"),
        pytest.param(two('"[::]:80:80"', '"10.0.0.6:80:80"'), id="ipv6-wildcard-vs-ipv4"),
        pytest.param(two('"0.0.0.0:80:80"', '"[fd00::6]:80:80"'), id="ipv4-wildcard-vs-ipv6"),
        pytest.param(two('"8000-9000:80"', '"8080:80"'), id="host-range-lets-docker-choose"),
        pytest.param(two('"80"', '"80"'), id="random-host-ports"),
        pytest.param(two('"8080:80"', '"8081:80"'), id="different-ports"),
        pytest.param(
            "services:\n  a:\n    image: x\n    ports: ['80:80', '80:80']\n",
            id="same-service-same-port-merged",
        ),
        pytest.param(two('"${IP_A:?}:80:80"', '"${IP_B:?}:80:80"'), id="different-variables"),
    ),
)
def test_noop(tmp_path: Path, text: str) -> None:
    assert lint(tmp_path, text, rule=RULE) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param(two('"80:80"', '"80:8080"'), [(7, 13, "b")], id="both-all-interfaces"),
        pytest.param(two('"80:80"', '"127.0.0.1:80:80"'), [(7, 13, "b")], id="all-vs-loopback"),
        pytest.param(
            two('"0.0.0.0:80:80"', '"10.0.0.6:80:80"'), [(7, 13, "b")], id="ipv4-wildcard"
        ),
        pytest.param(two('"[::]:80:80"', '"[fd00::6]:80:80"'), [(7, 13, "b")], id="ipv6-wildcard"),
        pytest.param(
            two('"10.0.0.5:80:80"', '"10.0.0.5:80:80"'), [(7, 13, "b")], id="same-address"
        ),
        pytest.param(
            two('"53:53/udp"', "{target: 53, published: 53, protocol: udp}"),
            [(7, 13, "b")],
            id="long-and-short-udp",
        ),
        pytest.param(two('"9000-9002:9000-9002"', '"9001:80"'), [(7, 13, "b")], id="range-overlap"),
        pytest.param(
            two('"${PORT:-8080}:80"', '"8080:80"'), [(7, 13, "b")], id="interpolated-port"
        ),
        pytest.param(two('"${IP:?}:80:80"', '"${IP:?}:80:80"'), [(7, 13, "b")], id="same-variable"),
        pytest.param(
            "services:\n  base:\n    image: x\n    ports: ['80:80']\n  child:\n    extends: base\n",
            [(4, 13, "child")],
            id="extends-publishes-the-base-port-again",
        ),
    ),
)
def test_finding(tmp_path: Path, text: str, expected: list[tuple[int, int, str]]) -> None:
    assert lint(tmp_path, text, rule=RULE) == expected


def test_message_points_at_the_first(tmp_path: Path) -> None:
    result = run(tmp_path, {"compose.yaml": two('"80:80"', '"127.0.0.1:80:80"')}, rule=RULE)
    assert [f.message for f in result.findings] == [
        f'services.b.ports[0] "127.0.0.1:80:80" publishes host port 80/tcp on 127.0.0.1, '
        f"which services.a.ports[0] ({tmp_path / 'compose.yaml'}:4:13) already publishes "
        "on every interface",
    ]


def test_stack_target_ignores_host_ips(tmp_path: Path) -> None:
    text = two('"10.0.0.5:80:80"', '"10.0.0.6:80:80"')
    assert lint(tmp_path, text, rule=RULE, target="stack") == [(7, 13, "b")]


ONE = "services:\n  a:\n    image: x\n    ports: ['8080:80']\n"
OTHER = "services:\n  b:\n    image: x\n    ports: ['8080:80']\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    (
        pytest.param(
            {"compose.yaml": ONE, "compose.override.yaml": OTHER},
            [("compose.override.yaml", 4, 13, "b")],
            id="two-files-one-folder",
        ),
        pytest.param(
            {"compose.yaml": ONE, "compose.override.yaml": ONE},
            [],
            id="override-repeats-the-same-service-port",
        ),
        pytest.param(
            {"one/compose.yaml": ONE, "two/compose.yaml": OTHER}, [], id="two-folders-two-projects"
        ),
    ),
)
def test_across_files(
    tmp_path: Path, files: dict[str, str], expected: list[tuple[str, int, int, str]]
) -> None:
    assert positions(run(tmp_path, files, rule=RULE), tmp_path) == expected


def _nodes(table: dict[str, set[str]]) -> object:
    def addresses_for(doc: object) -> dict[str, frozenset[str]]:
        del doc
        return {name: frozenset(addrs) for name, addrs in table.items()}

    return addresses_for


TWO_WEBS = (
    "services:\n  a:\n    image: x\n    ports: ['8080:80']\n"
    "  b:\n    image: x\n    ports: ['8080:80']\n"
)


@pytest.mark.parametrize(
    ("table", "expected"),
    (
        pytest.param(None, [(7, 13, "b")], id="placement-unknown-one-host"),
        pytest.param({"a": {"10.0.0.5"}, "b": {"10.0.0.6"}}, [], id="different-nodes"),
        pytest.param({"a": {"10.0.0.5"}, "b": {"10.0.0.5"}}, [(7, 13, "b")], id="same-node"),
        pytest.param({"a": {"10.0.0.5"}}, [(7, 13, "b")], id="one-unplaced-counts-as-same"),
    ),
)
def test_nodes_from_an_inventory(
    tmp_path: Path, table: dict[str, set[str]] | None, expected: list[tuple[int, int, str]]
) -> None:
    options = {} if table is None else {"addresses_for": _nodes(table)}
    result = run(tmp_path, {"compose.yaml": TWO_WEBS}, rule=RULE, **options)
    assert positions(result) == expected
