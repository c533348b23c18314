"""Which node a service lands on: placement constraints, x-compose-net, classic Swarm, --node."""

from __future__ import annotations

import textwrap

import pytest

from compose_net import document, source, yamltree
from compose_net.errors import ComposeNetError
from compose_net.resolvers import NodeResolver, inventory, placement
from compose_net.resolvers.inventory import Inventory

NODES = """\
nodes:
  n1:
    id: ww4dygwjs23uz3mwvukjy2k5f
    role: manager
    service: {ipv4: 10.176.0.11}
    labels: {name: n1, db: "true"}
  n2:
    id: lq9kgl33jmxeorqv1mf6vtb21
    role: worker
    service: {ipv4: 10.176.0.12}
    labels: {name: n2, zone: b}
  n3:
    id: 3p34xmvqa5mnuwtcvrov28f4f
    hostname: worker-three
    role: worker
    service: {ipv4: 10.176.0.13}
    labels: {name: n3, zone: b}
"""
#: n2 and n3 share an address: a service on either gets the same binding
TWINS = """\
nodes:
  a: {service: {ipv4: 10.1.0.1}, labels: {pool: x}}
  b: {service: {ipv4: 10.1.0.1}, labels: {pool: x}}
  c: {service: {ipv4: 10.1.0.3}}
"""
SINGLE = "nodes:\n  only: {service: {ipv4: 10.9.0.1}}\n"


def table(text: str) -> Inventory:
    return inventory.from_data(yamltree.to_plain(yamltree.compose(text, "inv.yaml")), "inv.yaml")


def service(body: str) -> document.Service:
    text = "services:\n  svc:\n    image: x\n    ports: ['80:80']\n" + textwrap.indent(
        textwrap.dedent(body), "    "
    )
    doc = document.load(source.decode("compose.yaml", text.encode()))
    return doc.services[0]


@pytest.mark.parametrize(
    ("body", "nodes", "cli_node", "expected"),
    (
        pytest.param(
            "deploy: {placement: {constraints: ['node.hostname == n2']}}",
            NODES,
            None,
            "n2",
            id="hostname-defaults-to-name",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.hostname==worker-three']}}",
            NODES,
            None,
            "n3",
            id="hostname-from-inventory",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.hostname == N2']}}",
            NODES,
            None,
            "n2",
            id="values-compare-case-insensitively",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.id == lq9kgl33jmxeorqv1mf6vtb21']}}",
            NODES,
            None,
            "n2",
            id="node-id",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.role == manager']}}",
            NODES,
            None,
            "n1",
            id="role",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.labels.db == true']}}",
            NODES,
            None,
            "n1",
            id="label",
        ),
        pytest.param(
            "deploy: {placement: {constraints: "
            "['node.labels.zone == b', 'node.hostname != worker-three']}}",
            NODES,
            None,
            "n2",
            id="constraints-intersect",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.hostname == n3']}}",
            NODES,
            None,
            "error:no node matches",
            id="hostname-is-not-the-node-name",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.labels.db != true', "
            "'node.labels.zone != b']}}",
            NODES,
            "n1",
            "error:does not include node 'n1'",
            id="missing-label-satisfies-not-equal",
        ),
        pytest.param(
            "deploy: {placement: {constraints: "
            "['engine.labels.ssd == true', 'node.hostname == n2']}}",
            NODES,
            None,
            "n2",
            id="unknown-attribute-does-not-narrow",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['engine.labels.ssd == true']}}",
            NODES,
            None,
            "error:cannot tell which node it runs on (3 nodes: n1, n2, n3)",
            id="only-unknown-attributes",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.labels.Name == n1']}}",
            NODES,
            None,
            "error:no node matches its placement (node.labels.Name == n1)",
            id="label-names-are-case-sensitive",
        ),
        pytest.param("x-compose-net: {node: n3}", NODES, None, "n3", id="x-compose-net"),
        pytest.param(
            "x-compose-net: {node: worker-three}", NODES, None, "n3", id="x-compose-net-by-hostname"
        ),
        pytest.param(
            "x-compose-net: {node: n9}",
            NODES,
            None,
            "error:x-compose-net.node: there is no node 'n9'",
            id="x-compose-net-unknown",
        ),
        pytest.param(
            "x-compose-net: {node: 7}",
            NODES,
            None,
            "error:x-compose-net.node must be a node name",
            id="x-compose-net-not-a-name",
        ),
        pytest.param(
            "environment: ['constraint:node==n2']", NODES, None, "n2", id="classic-swarm-list"
        ),
        pytest.param(
            "environment: {'constraint:node': '=n3'}", NODES, None, "n3", id="classic-swarm-mapping"
        ),
        pytest.param(
            "environment: ['constraint:node!=n1', 'constraint:node!=n2']",
            NODES,
            None,
            "n3",
            id="classic-swarm-not-equal",
        ),
        pytest.param(
            "environment: ['constraint:node==ww4dygwjs23uz3mwvukjy2k5f']",
            NODES,
            None,
            "n1",
            id="classic-swarm-by-id",
        ),
        pytest.param(
            "environment: ['TZ=UTC']",
            NODES,
            None,
            "error:cannot tell which node it runs on",
            id="unrelated-environment",
        ),
        pytest.param("", NODES, "n2", "n2", id="cli-node"),
        pytest.param(
            "deploy: {placement: {constraints: ['node.labels.zone == b']}}",
            NODES,
            "n3",
            "n3",
            id="cli-node-within-placement",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.hostname == n2']}}",
            NODES,
            "n1",
            "error:is placed by node.hostname == n2, which does not include node 'n1'",
            id="cli-node-contradicts-placement",
        ),
        pytest.param("", NODES, None, "error:cannot tell which node it runs on", id="unpinned"),
        pytest.param("", SINGLE, None, "only", id="unpinned-single-node"),
        pytest.param(
            "deploy: {mode: global}",
            NODES,
            None,
            "error:cannot tell which node",
            id="global-unpinned",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.labels.zone == b']}}",
            NODES,
            None,
            "error:matches several nodes with different addresses: n2 (10.176.0.12), "
            "n3 (10.176.0.13)",
            id="several-nodes-different-addresses",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.labels.pool == x']}}",
            TWINS,
            None,
            "a",
            id="several-nodes-same-address",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.hostname == n2', 'node.hostname == n3']}}",
            NODES,
            None,
            "error:no node matches",
            id="contradicting-constraints",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.hostname']}}",
            NODES,
            None,
            "error:invalid placement constraint 'node.hostname'",
            id="no-operator",
        ),
        pytest.param(
            "deploy: {placement: {constraints: ['node.hostname == ${NODE}']}}",
            NODES,
            None,
            "error:cannot tell which node",
            id="variable-constraint-is-not-read",
        ),
        pytest.param("<<: *place", NODES, None, "n2", id="placement-through-a-merge"),
    ),
)
def test_place(body: str, nodes: str, cli_node: str | None, expected: str) -> None:
    if "*place" in body:
        text = (
            "x-place: &place\n  deploy: {placement: {constraints: ['node.hostname == n2']}}\n"
            "services:\n  svc:\n    image: x\n    ports: ['80:80']\n    <<: *place\n"
        )
        svc = document.load(source.decode("compose.yaml", text.encode())).services[0]
    else:
        svc = service(body)
    inv = table(nodes)
    if expected.startswith("error:"):
        with pytest.raises(ComposeNetError) as info:
            placement.place(svc, inv, cli_node)
        assert expected[len("error:") :] in info.value.message
        assert info.value.line is not None
    else:
        assert placement.place(svc, inv, cli_node).node.name == expected


@pytest.mark.parametrize(
    ("text", "key", "op", "value"),
    (
        pytest.param("node.hostname==n1", "node.hostname", "==", "n1", id="no-spaces"),
        pytest.param("  node.labels.a.b  !=  x y ", "node.labels.a.b", "!=", "x y", id="spaces"),
        pytest.param("node.labels.k==a==b", "node.labels.k", "==", "a==b", id="first-operator"),
    ),
)
def test_parse_constraint(text: str, key: str, op: str, value: str) -> None:
    c = placement.parse_constraint(text)
    assert (c.key, c.op, c.value) == (key, op, value)


@pytest.mark.parametrize(
    "text",
    (
        pytest.param("node.hostname", id="no-operator"),
        pytest.param("==n1", id="no-key"),
        pytest.param("node.hostname==", id="no-value"),
        pytest.param("node hostname==n1", id="space-in-key"),
    ),
)
def test_parse_constraint_rejects(text: str) -> None:
    with pytest.raises(ComposeNetError, match="invalid placement constraint"):
        placement.parse_constraint(text)


@pytest.mark.parametrize(
    ("body", "expected"),
    (
        pytest.param("x-compose-net: {node: n2}", ("10.176.0.12", None), id="node-address"),
        pytest.param(
            "x-compose-net: {node: bare}",
            "error:services.svc runs on node bare",
            id="node-without-service-address",
        ),
    ),
)
def test_node_resolver_binds(body: str, expected: object) -> None:
    inv = table(NODES + "  bare: {public: {ipv4: 203.0.113.9}}\n")
    resolver = NodeResolver(inv)
    svc = service(body)
    if isinstance(expected, str):
        with pytest.raises(ComposeNetError, match=expected[len("error:") :]):
            resolver(svc)
    else:
        binds = resolver(svc)
        assert (binds.ipv4, binds.ipv6) == expected


def test_unknown_cli_node_is_refused_up_front() -> None:
    with pytest.raises(ComposeNetError, match="there is no node 'n7'"):
        NodeResolver(table(NODES), "n7")
