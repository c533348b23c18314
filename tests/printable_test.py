"""The one escape of everything printed for a person."""

from __future__ import annotations

import io

import pytest

from compose_net import printable


@pytest.mark.parametrize(
    ("text", "expected"),
    (
        pytest.param("plain text: 80:80", "plain text: 80:80", id="printable-unchanged"),
        pytest.param("a\rb", "a\\rb", id="carriage-return"),
        pytest.param("a\nb", "a\\nb", id="line-feed-in-one-line"),
        pytest.param("\x1b]0;t\x07\x1b[2J", "\\x1b]0;t\\x07\\x1b[2J", id="escape-sequences"),
        pytest.param("\x7f\x85\x9b", "\\x7f\\x85\\x9b", id="del-and-c1"),
        pytest.param("a\u202eb\u200bc", "a\\u202eb\\u200bc", id="format-characters"),
        pytest.param("w\udc80", "w\\udc80", id="lone-surrogate"),
        pytest.param("tab\there", "tab\\there", id="tab"),
        pytest.param("é 世界 \\x1b", "é 世界 \\x1b", id="unicode-and-backslash-kept"),
    ),
)
def test_escape(text: str, expected: str) -> None:
    assert printable.escape(text) == expected
    assert printable.escape(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("function", "text", "expected"),
    (
        pytest.param(printable.lines, "a\x1b\nb\r\n", "a\\x1b\nb\\r\n", id="lines-keep-lf-only"),
        pytest.param(
            printable.diff, "+a\tb\r\n c\rd\n", "+a\tb\r\n c\\rd\n", id="diff-keeps-crlf-tab"
        ),
        pytest.param(printable.diff, "-x\x1b[8m", "-x\\x1b[8m", id="diff-no-final-break"),
    ),
)
def test_multi_line(function: object, text: str, expected: str) -> None:
    assert callable(function)
    assert function(text) == expected


def test_stream_escapes_and_raw_does_not() -> None:
    under = io.StringIO()
    stream = printable.wrap(under)
    assert printable.wrap(stream) is stream
    stream.write("a\x1b[2Jb\n")
    printable.raw(stream).write("\x1b[31mred\x1b[0m\n")
    assert under.getvalue() == "a\\x1b[2Jb\n\x1b[31mred\x1b[0m\n"


class _Marker(str):
    """A str subclass, as the findings' markers are."""


class _Count(int):
    pass


@pytest.mark.parametrize(
    "data",
    (
        pytest.param({}, id="empty-object"),
        pytest.param([], id="empty-array"),
        pytest.param({"a": [], "b": {}, "c": ()}, id="empty-inside"),
        pytest.param([1, 2.5, True, False, None, "x"], id="scalars"),
        pytest.param(["é 世界", "\x00\x1b\n\t\"\\", "\ud800", "\u2028"], id="escaped-strings"),
        pytest.param([float("nan"), float("inf"), -float("inf"), -0.0, 1e300, 1 / 3], id="floats"),
        pytest.param({3: "int", 2.5: "float", True: "true", None: "null", False: ()},
                     id="keys-json-converts"),
        pytest.param({_Marker("k"): _Marker("v"), "n": _Count(7)}, id="str-and-int-subclasses"),
        pytest.param({"files": [{"services": {"s": {"ports": [{"published": "80"}]}}}]},
                     id="nested"),
        pytest.param((1, (2, ())), id="tuples-are-arrays"),
        pytest.param("top-level string", id="top-level-scalar"),
    ),
)
def test_indented_json_is_json_dumps(data: object) -> None:
    """indented_json writes what json.dumps(data, indent=2) writes, character for character."""
    import json

    assert printable.indented_json(data) == json.dumps(data, indent=2)
    out = io.StringIO()
    printable.write_json(out, data)
    assert out.getvalue() == json.dumps(data, indent=2) + "\n"


@pytest.mark.parametrize(
    "data",
    (
        pytest.param({"a": object()}, id="unknown-value"),
        pytest.param({(1, 2): 3}, id="tuple-key"),
    ),
)
def test_indented_json_refuses_what_json_refuses(data: object) -> None:
    import json

    with pytest.raises(TypeError) as ours:
        printable.write_json(io.StringIO(), data)
    with pytest.raises(TypeError) as theirs:
        json.dumps(data, indent=2)
    assert str(ours.value) == str(theirs.value)
