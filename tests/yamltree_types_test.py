"""Both composers' nodes have what yamltree's node Protocols declare.

mypy checks the code against the Protocols and checks that fastyaml's nodes satisfy
them; ruamel.yaml's nodes are untyped and cast where they enter, so this test is what
keeps that cast honest (a ruamel.yaml release that renamed or retyped a member fails here).
"""

from __future__ import annotations

from typing import Protocol

import pytest

from compose_net import fastyaml, yamltree

TEXT = """\
x-base: &base
  image: "nginx:1.27"
  restart: always
services:
  web:
    <<: *base
    ports:
      - '8080:80'
      - !!str 9090:90
      - {target: 443, published: 8443, host_ip: 127.0.0.1}
    command: [a, "b", 'c']
    environment:
      EMPTY:
      FOLDED: >
        one
        two
      LITERAL: |
        line
    labels: !override
      - a=b
  db: !reset null
"""


def test_the_text_is_composed_by_both() -> None:
    assert fastyaml.compose_all(TEXT) is not None


def _members(protocol: type) -> set[str]:
    return {
        name
        for cls in protocol.__mro__
        if cls not in (object, Protocol)
        for name, member in vars(cls).items()
        if isinstance(member, property)
    }


def _check_mark(mark: object) -> None:
    for name in _members(yamltree.Mark):
        assert type(getattr(mark, name)) is int, name


def _nodes(root: yamltree.Node) -> list[yamltree.Node]:
    out: list[yamltree.Node] = []
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        if yamltree.is_sequence(node):
            todo.extend(node.value)
        elif yamltree.is_mapping(node):
            for key, value in node.value:
                todo += [key, value]
    return out


@pytest.mark.parametrize("parser", ["fast", "ruamel"])
def test_nodes_have_the_protocol_members(parser: yamltree.Parser) -> None:
    protocols = {
        "scalar": yamltree.ScalarNode,
        "sequence": yamltree.SequenceNode,
        "mapping": yamltree.MappingNode,
    }
    kinds = set()
    for node in _nodes(yamltree.compose(TEXT, "file.yml", parser=parser)):
        kinds.add(node.id)
        for name in _members(protocols[node.id]):
            assert hasattr(node, name), (node, name)
        assert type(node.tag) is str
        assert node.anchor is None or type(node.anchor) is str
        ctag = node.ctag
        if ctag is not None:
            assert ctag.handle in (None, "!", "!!")
        _check_mark(node.start_mark)
        _check_mark(node.end_mark)
        if yamltree.is_scalar(node):
            assert type(node.value) is str
            assert node.style in (None, "'", '"', "|", ">")
            continue
        assert node.flow_style in (None, True, False)
        if yamltree.is_mapping(node):
            assert all(type(pair) is tuple and len(pair) == 2 for pair in node.value)
    assert kinds == {"scalar", "sequence", "mapping"}


def test_a_span_needs_no_node() -> None:
    class Point:
        line, column = 2, 4

    class Span:
        start_mark = end_mark = Point()

    assert yamltree.position(Span()) == yamltree.Position(3, 5)
    assert yamltree.own_end_mark(Span()) is Span.end_mark
