"""compose_net.fastschema decides exactly what jsonschema decides, keyword by keyword and on
the corpus; jsonschema is left to explain what is wrong.

Each row is a schema fragment, a value and whether it is valid. The expectation is
written down, and jsonschema (built by ``schema._build``, with compose-net's own
keyword, format and markers) must agree with it too, so a row can catch either side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness import require

from compose_net import document, fastschema, schema, source
from compose_net.errors import ComposeNetError
from compose_net.schema import BadTemplate, Unresolved

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
MARKED = Unresolved("${PORT:?set PORT}")
BROKEN = BadTemplate("${PORT", "invalid interpolation format")
VARIABLE = {"$defs": {"variable": {"type": "string", "format": "compose-variable"}}}

ROWS: list[tuple[str, dict[str, Any], Any, bool]] = [
    # (id, schema fragment, value, valid)
    ("integer-int", {"type": "integer"}, 80, True),
    ("integer-integral-float", {"type": "integer"}, 80.0, True),
    ("integer-float", {"type": "integer"}, 80.5, False),
    ("integer-bool", {"type": "integer"}, True, False),
    ("integer-string", {"type": "integer"}, "80", False),
    ("integer-marked-string", {"type": "integer"}, MARKED, True),
    ("integer-broken-template", {"type": "integer"}, BROKEN, True),
    ("number-bool", {"type": "number"}, False, False),
    ("number-float", {"type": "number"}, 1.5, True),
    ("string-or-null-null", {"type": ["string", "null"]}, None, True),
    ("string-or-null-int", {"type": ["string", "null"]}, 1, False),
    ("object-list", {"type": "object"}, [], False),
    ("array-list", {"type": "array"}, [1], True),
    ("enum-member", {"enum": ["host", "ingress"]}, "host", True),
    ("enum-other", {"enum": ["host", "ingress"]}, "x", False),
    ("enum-marked", {"enum": ["host", "ingress"]}, MARKED, True),
    ("enum-bool-is-not-one", {"enum": [1]}, True, False),
    ("enum-float-is-int", {"enum": [1]}, 1.0, True),
    ("enum-list", {"enum": [[1, "a"]]}, [1, "a"], True),
    ("const-false-is-not-zero", {"const": False}, 0, False),
    ("const-false", {"const": False}, False, True),
    ("pattern-match", {"pattern": "^a"}, "abc", True),
    ("pattern-search-not-anchored", {"pattern": "b"}, "abc", True),
    ("pattern-no-match", {"pattern": "^a"}, "xa", False),
    ("pattern-number", {"pattern": "^a"}, 5, True),
    ("pattern-marked", {"pattern": "^a"}, MARKED, True),
    ("format-variable-text", {"format": "compose-variable"}, "${X}", False),
    ("format-variable-number", {"format": "compose-variable"}, 3, True),
    ("format-variable-marked", {"format": "compose-variable"}, MARKED, True),
    ("format-unknown", {"format": "email"}, "not an address", True),
    ("min-length", {"minLength": 2}, "a", False),
    ("min-length-marked", {"minLength": 2}, Unresolved("x"), True),
    ("max-length", {"maxLength": 2}, "abc", False),
    ("check-port", {"composeNetCheck": "port-short"}, "8080:80", True),
    ("check-port-out-of-range", {"composeNetCheck": "port-short"}, "99999:80", False),
    ("check-port-marked", {"composeNetCheck": "port-short"}, MARKED, True),
    ("check-ip", {"composeNetCheck": "ip"}, "10.0.0.300", False),
    ("minimum", {"minimum": 1}, 0, False),
    ("minimum-bool-ignored", {"minimum": 1}, False, True),
    ("maximum", {"maximum": 65535}, 70000, False),
    ("maximum-string-ignored", {"maximum": 1}, "70000", True),
    ("exclusive-minimum", {"exclusiveMinimum": 1}, 1, False),
    ("exclusive-maximum", {"exclusiveMaximum": 1}, 0.5, True),
    ("required-missing", {"required": ["image"]}, {}, False),
    ("required-present", {"required": ["image"]}, {"image": "x"}, True),
    ("required-not-an-object", {"required": ["image"]}, [], True),
    ("min-properties", {"minProperties": 1}, {}, False),
    ("max-properties", {"maxProperties": 1}, {"a": 1, "b": 2}, False),
    ("properties-known-and-extension",
     {"properties": {"a": {"type": "integer"}}, "patternProperties": {"^x-": {}},
      "additionalProperties": False}, {"a": 1, "x-y": 2}, True),
    ("properties-unknown-key",
     {"properties": {"a": {}}, "patternProperties": {"^x-": {}}, "additionalProperties": False},
     {"b": 1}, False),
    ("properties-pattern-also-applies-to-known",
     {"properties": {"xa": {}}, "patternProperties": {"^x": {"type": "string"}}}, {"xa": 1},
     False),
    ("additional-schema", {"additionalProperties": {"type": "string"}}, {"b": 1}, False),
    ("property-value", {"properties": {"a": {"type": "string"}}}, {"a": 1}, False),
    ("property-names", {"propertyNames": {"pattern": "^[a-z]+$"}}, {"A": 1}, False),
    ("prefix-then-items", {"prefixItems": [{"type": "string"}], "items": {"type": "integer"}},
     ["a", 1, 2], True),
    ("prefix-then-items-wrong-item",
     {"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, ["a", "b"], False),
    ("prefix-wrong-first", {"prefixItems": [{"type": "string"}]}, [1], False),
    ("items-false-after-prefix", {"prefixItems": [{}], "items": False}, ["a", 1], False),
    ("items-false-within-prefix", {"prefixItems": [{}], "items": False}, ["a"], True),
    ("unique-one-and-true", {"uniqueItems": True}, [1, True], True),
    ("unique-one-and-one-point-zero", {"uniqueItems": True}, [1, 1.0], False),
    ("unique-equal-mappings", {"uniqueItems": True}, [{"a": 1}, {"a": 1}], False),
    ("min-items", {"minItems": 1}, [], False),
    ("max-items", {"maxItems": 1}, [1, 2], False),
    ("all-of", {"allOf": [{"type": "string"}, {"minLength": 2}]}, "a", False),
    ("any-of", {"anyOf": [{"type": "integer"}, {"minLength": 2}]}, "ab", True),
    ("one-of-two-match", {"oneOf": [{"type": "string"}, {"minLength": 1}]}, "a", False),
    ("one-of-one-matches", {"oneOf": [{"type": "string"}, {"type": "integer"}]}, 1, True),
    ("one-of-marked", {"oneOf": [{"type": "string"}, {"minLength": 1}]}, MARKED, True),
    ("not", {"not": {"type": "string"}}, "a", False),
    ("not-marked", {"not": {"type": "string"}}, MARKED, True),
    ("if-then", {"if": {"type": "string"}, "then": {"minLength": 2}, "else": {"minimum": 5}},
     "a", False),
    ("if-else", {"if": {"type": "string"}, "then": {"minLength": 2}, "else": {"minimum": 5}},
     7, True),
    ("then-without-if-ignored", {"then": {"type": "string"}}, 1, True),
    ("variable-reference-else", {**VARIABLE, "if": {"$ref": "#/$defs/variable"},
                                 "then": {"type": "string"}, "else": {"type": "integer"}},
     "x", False),
    ("variable-reference-integer", {**VARIABLE, "if": {"$ref": "#/$defs/variable"},
                                    "then": {"type": "string"}, "else": {"type": "integer"}},
     5, True),
    ("boolean-schema-false", {"properties": {"a": False}}, {"a": 1}, False),
    ("annotations-only", {"description": "x", "errorMessage": "y", "default": 1}, None, True),
]


def _full(fragment: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": DRAFT, **fragment}


def _decide(full: dict[str, Any], value: Any) -> bool | None:
    decide = fastschema.decider(schema._compile(full), markers=schema._MARKERS,
                                checks=schema._CHECKS, formats=schema._FORMATS)
    return decide(value)


@pytest.mark.parametrize(
    ("fragment", "value", "valid"), [pytest.param(s, v, ok, id=i) for i, s, v, ok in ROWS]
)
def test_keyword(fragment: dict[str, Any], value: Any, valid: bool) -> None:
    full = _full(fragment)
    errors = list(schema._build(full).iter_errors(value))
    assert (not errors) is valid  # jsonschema agrees with the table
    assert _decide(full, value) is valid


@pytest.mark.parametrize(
    ("fragment", "value"),
    [
        pytest.param({"contains": {"type": "string"}}, ["a"], id="contains"),
        pytest.param({"properties": {"a": {"multipleOf": 2}}}, {"a": 3}, id="nested-multipleOf"),
        pytest.param({"$ref": "other.json"}, 1, id="remote-reference"),
    ],
)
def test_beyond_it_the_answer_is_none(fragment: dict[str, Any], value: Any) -> None:
    decide = fastschema.decider(schema._compile(_full(fragment)), markers=schema._MARKERS,
                                checks=schema._CHECKS, formats=schema._FORMATS)
    assert decide(value) is None
    assert decide(value) is None  # and it stays so


def test_a_value_that_never_meets_the_unknown_keyword_is_decided() -> None:
    full = _full({"properties": {"a": {"multipleOf": 2}, "b": {"type": "string"}}})
    assert _decide(full, {"b": 1}) is False


def _corpus_data() -> list[tuple[str, Any]]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    out = []
    for row in manifest.read_text(encoding="utf-8").splitlines()[1:]:
        rel = row.split("\t")[0]
        try:
            doc = document.load(source.read(str(CORPUS / rel)))
        except ComposeNetError:
            continue
        out.append((rel, schema.interpolated(schema.document_data(doc.root, rel), {})))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("target", "least_valid"), [("compose", 600), ("stack", 400)])
def test_corpus_decisions_are_jsonschemas(target: str, least_valid: int) -> None:
    data = _corpus_data()
    require(bool(data), f"the corpus is not at {CORPUS}")
    decide, validator = schema._decider(target), schema._validator(target)
    assert decide is not None
    valid = 0
    for rel, value in data:
        expected = not list(validator.iter_errors(value))
        assert decide(value) is expected, rel
        valid += expected
    assert valid >= least_valid
