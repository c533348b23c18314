"""Decide valid or invalid in one pass, without jsonschema; jsonschema explains the invalid.

Most files are valid, and for those a yes is all :mod:`compose_net.schema`
needs. :func:`decider` turns a compiled schema (``schema._compile``: local
references inlined, the variable escape compiled away) into nested Python
functions that answer exactly what jsonschema's validator built by
``schema._build`` answers (no errors or some errors), with the same extensions:
``composeNetCheck``, the ``compose-variable`` format, and values marked
:class:`~compose_net.schema.Unresolved` or :class:`~compose_net.schema.BadTemplate`
skipping the keywords that judge a string. Each subschema is compiled the first
time a value reaches it, so a small file pays only for the part of the schema
it uses. A value that meets a keyword not known here gets no answer (``None``),
and goes to jsonschema like every value after it.

Cost, measured on the corpus: importing jsonschema takes longer than deciding
every file of the corpus here, and a decision costs a fraction of jsonschema's
validation (docs/performance.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable, Final

Decide = Callable[[Any], bool]

#: keywords that never change the outcome ("then" and "else" are read with "if")
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "description",
        "title",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "errorMessage",
        "then",
        "else",
    },
)
#: keywords compiled together: one pass over an object's keys, one over a list's items
_OBJECT = ("properties", "patternProperties", "additionalProperties")
_ARRAY = ("prefixItems", "items")


class Unsupported(Exception):
    """The schema uses a keyword this module does not decide."""


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema judges it: ``True`` is not ``1``, ``1.0`` is ``1``."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return len(one) == len(two) and all(k in two and equal(v, two[k]) for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: The JSON Schema types a Python value of each type can be.
KINDS: Final[dict[type, frozenset[str]]] = {
    str: frozenset({"string"}),
    bool: frozenset({"boolean"}),
    int: frozenset({"integer", "number"}),
    type(None): frozenset({"null"}),
    dict: frozenset({"object"}),
    list: frozenset({"array"}),
}
_FLOAT_INTEGRAL = frozenset({"integer", "number"})
_FLOAT = frozenset({"number"})


class _Compiler:
    def __init__(
        self,
        root: Mapping[str, Any],
        markers: tuple[type, ...],
        checks: Mapping[str, Callable[[str], str | None]],
        formats: Mapping[str, Callable[[Any], bool]],
    ) -> None:
        self.root = root
        self.markers = frozenset(markers)
        self.checks = checks
        self.formats = formats
        self.done: dict[int, Decide] = {}
        #: (schema id, container id) judged valid during the current decision
        self.passed: set[tuple[int, int]] = set()

    # Subschemas are compiled on first use: ``lazy`` stands in until then.
    def lazy(self, schema: Any) -> Decide:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"a schema must be an object or a boolean, not {schema!r}")
        done = self.done.get(id(schema))
        if done is not None:
            return done
        slot: list[Decide] = []
        passed = self.passed

        def first(value: Any) -> bool:
            if not slot:
                slot.append(self.compile(schema))
                self.done[id(schema)] = slot[0]
            if type(value) is not list and type(value) is not dict:
                return slot[0](value)
            # a container shared by several places (an anchor's aliases) is judged once
            key = (id(schema), id(value))
            if key in passed:
                return True
            if slot[0](value):
                passed.add(key)
                return True
            return False

        return first

    def vet(self, schema: dict[str, Any]) -> None:
        """Refuse a keyword not known here (jsonschema would judge it, this module cannot)."""
        unknown = schema.keys() - _KEYWORDS.keys() - _ANNOTATIONS - {*_OBJECT, *_ARRAY}
        if unknown:
            raise Unsupported(f"keywords {sorted(unknown)}")

    def compile(self, schema: dict[str, Any]) -> Decide:
        self.vet(schema)
        parts = [_KEYWORDS[k](self, schema[k], schema) for k in schema if k in _KEYWORDS]
        if any(k in schema for k in _OBJECT):
            parts.append(_object(self, schema))
        if any(k in schema for k in _ARRAY):
            parts.append(_array(self, schema))
        parts = [p for p in parts if p is not _always]
        if not parts:
            return _always
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            a, b = parts
            return lambda value: a(value) and b(value)

        def all_of(value: Any) -> bool:
            for part in parts:  # noqa: SIM110 - a loop is faster than all() of a generator here
                if not part(value):
                    return False
            return True

        return all_of

    def string_keyword(self, test: Decide) -> Decide:
        """Keywords that judge a string let a marked value through, as schema._build does."""
        markers = self.markers

        def run(value: Any) -> bool:
            return type(value) in markers or test(value)

        return run


def _type(c: _Compiler, names: Any, schema: Any) -> Decide:
    allowed = frozenset([names] if isinstance(names, str) else names)
    markers = c.markers
    # the types a value may have at once: a check is one lookup
    passing = frozenset(t for t, kinds in KINDS.items() if not allowed.isdisjoint(kinds))

    def test(value: Any) -> bool:
        kind = type(value)
        if kind in passing or kind in markers:
            return True
        if kind in KINDS:
            return False
        if isinstance(value, float):
            kinds = _FLOAT_INTEGRAL if value.is_integer() else _FLOAT
        else:
            kinds = next((k for t, k in KINDS.items() if isinstance(value, t)), frozenset())
        return not allowed.isdisjoint(kinds)

    return test


def _enum(c: _Compiler, values: list[Any], schema: Any) -> Decide:
    strings = frozenset(v for v in values if isinstance(v, str))

    def test(value: Any) -> bool:
        if isinstance(value, str):
            return value in strings
        return any(equal(value, v) for v in values)

    return c.string_keyword(test)


def _const(c: _Compiler, expected: Any, schema: Any) -> Decide:
    return c.string_keyword(lambda value: equal(value, expected))


def _pattern(c: _Compiler, pattern: str, schema: Any) -> Decide:
    search = re.compile(pattern).search
    return c.string_keyword(lambda value: not isinstance(value, str) or bool(search(value)))


def _format(c: _Compiler, name: str, schema: Any) -> Decide:
    check = c.formats.get(name)
    if check is None:
        return _always  # jsonschema ignores formats its checker does not know
    return c.string_keyword(check)


def _min_length(c: _Compiler, limit: int, schema: Any) -> Decide:
    return c.string_keyword(lambda value: not isinstance(value, str) or len(value) >= limit)


def _max_length(c: _Compiler, limit: int, schema: Any) -> Decide:
    return c.string_keyword(lambda value: not isinstance(value, str) or len(value) <= limit)


def _compose_net_check(c: _Compiler, kind: str, schema: Any) -> Decide:
    check = c.checks[kind]
    return c.string_keyword(lambda value: not isinstance(value, str) or not check(value))


def _minimum(c: _Compiler, limit: Any, schema: Any) -> Decide:
    return lambda value: not _is_number(value) or value >= limit


def _maximum(c: _Compiler, limit: Any, schema: Any) -> Decide:
    return lambda value: not _is_number(value) or value <= limit


def _exclusive_minimum(c: _Compiler, limit: Any, schema: Any) -> Decide:
    return lambda value: not _is_number(value) or value > limit


def _exclusive_maximum(c: _Compiler, limit: Any, schema: Any) -> Decide:
    return lambda value: not _is_number(value) or value < limit


def _required(c: _Compiler, names: list[str], schema: Any) -> Decide:
    return lambda value: not isinstance(value, dict) or all(n in value for n in names)


def _min_properties(c: _Compiler, limit: int, schema: Any) -> Decide:
    return lambda value: not isinstance(value, dict) or len(value) >= limit


def _max_properties(c: _Compiler, limit: int, schema: Any) -> Decide:
    return lambda value: not isinstance(value, dict) or len(value) <= limit


def _min_items(c: _Compiler, limit: int, schema: Any) -> Decide:
    return lambda value: not isinstance(value, list) or len(value) >= limit


def _max_items(c: _Compiler, limit: int, schema: Any) -> Decide:
    return lambda value: not isinstance(value, list) or len(value) <= limit


def _unique_items(c: _Compiler, unique: bool, schema: Any) -> Decide:
    if not unique:
        return _always

    def test(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        return not any(equal(a, b) for i, a in enumerate(value) for b in value[i + 1 :])

    return test


def _object(c: _Compiler, schema: Any) -> Decide:
    """``properties``, ``patternProperties`` and ``additionalProperties`` in one pass."""
    named = {name: c.lazy(sub) for name, sub in schema.get("properties", {}).items()}
    patterns = [
        (re.compile(p).search, c.lazy(sub))
        for p, sub in schema.get("patternProperties", {}).items()
    ]
    extra = schema.get("additionalProperties", True)
    other = None if extra is True else c.lazy(extra)

    def test(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            check = named.get(key)
            matched = check is not None
            if check is not None and not check(item):
                return False
            for search, sub in patterns:
                if search(key):
                    matched = True
                    if not sub(item):
                        return False
            if not matched and other is not None and not other(item):
                return False
        return True

    return test


def _array(c: _Compiler, schema: Any) -> Decide:
    """``prefixItems`` and ``items`` in one pass."""
    prefix = [c.lazy(sub) for sub in schema.get("prefixItems", [])]
    rest = c.lazy(schema.get("items", True))
    start = len(prefix)

    def test(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        for check, item in zip(prefix, value):
            if not check(item):
                return False
        return rest is _always or all(rest(item) for item in value[start:])

    return test


def _property_names(c: _Compiler, sub: Any, schema: Any) -> Decide:
    check = c.lazy(sub)
    return lambda value: not isinstance(value, dict) or all(check(key) for key in value)


def _all_of(c: _Compiler, subs: list[Any], schema: Any) -> Decide:
    checks = [c.lazy(s) for s in subs]
    return lambda value: all(check(value) for check in checks)


def _any_of(c: _Compiler, subs: list[Any], schema: Any) -> Decide:
    checks = [c.lazy(s) for s in subs]
    return lambda value: any(check(value) for check in checks)


def _one_of(c: _Compiler, subs: list[Any], schema: Any) -> Decide:
    checks = [c.lazy(s) for s in subs]
    return c.string_keyword(lambda value: sum(1 for check in checks if check(value)) == 1)


def _not(c: _Compiler, sub: Any, schema: Any) -> Decide:
    check = c.lazy(sub)
    return c.string_keyword(lambda value: not check(value))


def _if(c: _Compiler, sub: Any, schema: Any) -> Decide:
    condition = c.lazy(sub)
    then = c.lazy(schema["then"]) if "then" in schema else _always
    otherwise = c.lazy(schema["else"]) if "else" in schema else _always
    return lambda value: then(value) if condition(value) else otherwise(value)


def _ref(c: _Compiler, ref: str, schema: Any) -> Decide:
    prefix = "#/$defs/"
    defs = c.root.get("$defs", {})
    if not ref.startswith(prefix) or ref[len(prefix) :] not in defs:
        raise Unsupported(f"reference {ref!r}")
    return c.lazy(defs[ref[len(prefix) :]])


_KEYWORDS: Final[dict[str, Callable[[_Compiler, Any, Any], Decide]]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "format": _format,
    "minLength": _min_length,
    "maxLength": _max_length,
    "composeNetCheck": _compose_net_check,
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": _exclusive_minimum,
    "exclusiveMaximum": _exclusive_maximum,
    "required": _required,
    "minProperties": _min_properties,
    "maxProperties": _max_properties,
    "minItems": _min_items,
    "maxItems": _max_items,
    "uniqueItems": _unique_items,
    "propertyNames": _property_names,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
    "$ref": _ref,
}


def decider(
    schema: Mapping[str, Any],
    *,
    markers: tuple[type, ...],
    checks: Mapping[str, Callable[[str], str | None]],
    formats: Mapping[str, Callable[[Any], bool]],
) -> Callable[[Any], bool | None]:
    """A function telling whether a value is valid: True, False, or None for "cannot tell".

    ``checks`` are the ``composeNetCheck`` functions (a message when the string is
    wrong), ``formats`` the format checks (True when the value conforms), and
    ``markers`` the string types that skip string keywords. None comes when a value
    reaches a part of ``schema`` with a keyword this module does not know; from then
    on every answer is None.
    """
    compiler = _Compiler(schema, markers, checks, formats)
    root: list[Decide] = []
    beyond: list[bool] = []

    def decide(value: Any) -> bool | None:
        if beyond:
            return None
        try:
            if not root:
                root.append(compiler.lazy(schema))
            return root[0](value)
        except Unsupported:
            beyond.append(True)
            return None
        finally:
            compiler.passed.clear()  # ids name other objects once the value is gone

    return decide
