"""Schema validation with errors that point at the line.

compose-net ships four JSON Schemas (``compose``, ``stack``, ``inventory``,
``config``) in the ``compose_net.schemas`` package. Validation works on plain
data; for a Compose file that is the YAML tree converted to JSON types (merge
keys applied, ``!reset`` attributes dropped) and then interpolated the way
Compose interpolates it, so ``"${PORT:-80}:80"`` is judged as ``"80:80"``.

Interpolation markers. :func:`interpolated` returns plain data in which two
kinds of strings are marked with a ``str`` subclass:

* :class:`Unresolved`: a value with a required variable (``${X:?msg}``) that is
  missing. Compose refuses to load the file without that variable, but the file
  itself is not wrong, and deploy-time variables are often absent where files
  are checked; so the validator accepts a marked value wherever it appears
  (every check is skipped for it) instead of judging a value nobody has.
* :class:`BadTemplate`: a value whose ``${...}`` syntax is broken. Compose
  rejects it whatever the environment; the validator reports it.

A variable that is merely unset is not marked: it becomes ``""`` (or its
default), exactly as in Compose, and the result is judged.

The schemas are written for any JSON Schema 2020-12 validator. Two keywords are
compose-net's own: ``composeNetCheck`` names a check done in Python (the port
model, addresses) and ``errorMessage`` gives the message for a failure (a string,
or one message per keyword). A ``${VARIABLE}`` escape (``if: variable``) lets
other tools accept values that still hold variables; here values are
interpolated first, so the escape is compiled away.

jsonschema is imported only when a validator is first needed, and each compiled
validator is kept for the life of the process.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Final, NamedTuple, Union

from compose_net import bounds, interpolate, ports, source, yamltree
from compose_net.errors import ComposeNetError
from compose_net.fastschema import KINDS as _KINDS
from compose_net.policy import addresses

if TYPE_CHECKING:
    from compose_net.document import Document

TARGETS = ("compose", "stack", "inventory", "config")
PathPart = Union[str, int]
Keyword = Callable[[Any, Any, Any, Any], Iterator[Any]]


class Violation(NamedTuple):
    """One schema error: where (keys and list indexes) and what is wrong."""

    path: tuple[str | int, ...]
    message: str


class Unresolved(str):
    """A string holding a required variable that has no value: accepted as is."""

    __slots__ = ()


class BadTemplate(str):
    """A string whose interpolation syntax Compose rejects."""

    __slots__ = ("error",)
    error: str

    def __new__(cls, text: str, error: str) -> BadTemplate:
        self = super().__new__(cls, text)
        self.error = error
        return self


class Interpolated(str):
    """A string some of whose characters variables filled (``traces``): a message about it
    names the variables and never quotes it. Validated as any other string."""

    __slots__ = ("traces",)
    traces: tuple[interpolate.Traced, ...]

    def __new__(cls, text: str, traces: tuple[interpolate.Traced, ...]) -> Interpolated:
        self = super().__new__(cls, text)
        self.traces = traces
        return self

    def names(self) -> str:
        """``${A}`` or ``${A} and ${B}``: the variables that filled it."""
        return interpolate.references(interpolate.names_in(self.traces))


_MARKERS = (Unresolved, BadTemplate)


def _holds_interpolated(value: object) -> bool:
    """Whether ``value`` is or holds a string variables filled (a message must not quote it)."""
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, Interpolated):
            return True
        if isinstance(item, (dict, list)) and id(item) not in seen:
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return False


# --------------------------------------------------------------------------- paths

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(path: Iterable[PathPart]) -> str:
    """``("services", "web", "ports", 1)`` -> ``services.web.ports[1]``.

    Keys that are not plain words are quoted: ``labels["com.example.a"]``. The
    empty path gives ``""``.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


# --------------------------------------------------------------------------- interpolation


def interpolated(data: object, env: Mapping[str, str]) -> object:
    """``data`` with every string value interpolated as Compose does (keys are not).

    Strings with a missing required variable come back as :class:`Unresolved`,
    strings with broken ``${...}`` syntax as :class:`BadTemplate`. A container that
    ``data`` holds in several places (an anchor's aliases) is interpolated once and
    shared the same way.
    """
    return _interpolated(data, env)[0]


def _interpolated(data: object, env: Mapping[str, str]) -> tuple[object, bool]:
    """:func:`interpolated`, and whether a string came back as a :class:`BadTemplate`
    (which :func:`_collect` would otherwise search the whole data for)."""
    done: dict[int, object] = {}
    bad = [False]

    def walk(value: object) -> object:
        if isinstance(value, str):
            out = _interpolate_text(value, env)
            if type(out) is BadTemplate:
                bad[0] = True
            return out
        if isinstance(value, dict):
            known = done.get(id(value))
            if known is None:
                known = done[id(value)] = {key: walk(item) for key, item in value.items()}
            return known
        if isinstance(value, list):
            known = done.get(id(value))
            if known is None:
                known = done[id(value)] = [walk(item) for item in value]
            return known
        return value

    try:
        return walk(data), bad[0]
    finally:
        done.clear()  # walk refers to itself: the cycle must not keep the data alive


def _interpolate_text(text: str, env: Mapping[str, str]) -> str:
    if "$" not in text:
        return text
    try:
        template = interpolate.parse(text)
    except interpolate.InterpolationError:
        return BadTemplate(text, f"invalid interpolation format in {text!r} (a literal $ is $$)")
    try:
        rendered, traces = interpolate.render_traced(template, env)
    except interpolate.InterpolationError:
        return Unresolved(text)
    return Interpolated(rendered, traces) if traces else rendered


def _has_bad_template(data: object) -> bool:
    stack = [data]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if type(node) is BadTemplate:
            return True
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(node.values() if isinstance(node, dict) else node)
    return False


def _template_errors(data: object, path: tuple[PathPart, ...]) -> Iterator[Violation]:
    if isinstance(data, BadTemplate):
        yield Violation(path, data.error)
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _template_errors(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _template_errors(item, (*path, index))


# --------------------------------------------------------------------------- YAML to data


def document_data(root: yamltree.Node, path: str = "<input>") -> Any:
    """Plain data of a Compose document: merges applied, ``!reset`` attributes dropped.

    Aliases are expanded under the same node budget as :func:`yamltree.to_plain`; an
    anchored node is converted once and its data shared by every alias of it (read only),
    each use still counted against the budget.
    """
    budget = [yamltree.MAX_EXPANDED_NODES]
    anchored: dict[int, tuple[Any, int]] = {}

    def convert(node: yamltree.Node) -> Any:
        if node.anchor is not None:
            known = anchored.get(id(node))
            if known is not None:
                budget[0] -= known[1]
                if budget[0] < 0:
                    raise yamltree.too_many_nodes(root, path, yamltree.MAX_EXPANDED_NODES)
                return known[0]
            before = budget[0]
            value = build(node)
            anchored[id(node)] = (value, before - budget[0])
            return value
        return build(node)

    def build(node: yamltree.Node) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise yamltree.too_many_nodes(root, path, yamltree.MAX_EXPANDED_NODES)
        if yamltree.is_scalar(node):
            return yamltree.scalar_value(node)
        if yamltree.is_sequence(node):
            return [convert(item) for item in node.value]
        out: dict[str, Any] = {}
        for name, _, value in yamltree.mapping_items(node):
            if str(value.tag) != "!reset":  # Compose removes the attribute
                out[name] = convert(value)
        return out

    try:
        return convert(root)
    finally:
        anchored.clear()  # convert refers to itself: the cycle must not keep the data alive


# --------------------------------------------------------------------------- checks


def _quoted(text: str) -> str:
    """``text`` quoted for a message; a string variables filled is named instead."""
    if isinstance(text, Interpolated):
        return f"from {text.names()}"
    return repr(text)


def _port_problem(text: str, *, swarm: bool) -> str | None:
    try:
        objects = ports.normalize_short(text)
    except ports.PortError as e:
        if isinstance(text, Interpolated):
            return f"invalid port: {ports.without_values(e, text.traces).message}"
        return f"invalid port {text!r}: {e.message}"
    where = "invalid port" if isinstance(text, Interpolated) else f"invalid port {text!r}"
    for obj in objects:
        published = str(obj.get("published", ""))
        if published and published.split("-")[0].lstrip("0") == "":
            return (
                f"{where}: host port 0 is not a port (1-65535); "
                "leave the host port out to let Docker choose one"
            )
    host_ip = ports.split_short(text).host_ip
    if swarm and host_ip and addresses.classify_text(host_ip) != "all-interfaces":
        return (
            f"{where}: docker stack deploy ignores the host IP and publishes "
            "on every interface of every node"
        )
    return None


def _published_problem(text: str) -> str | None:
    if text == "":
        return None
    start, _, end = text.partition("-")
    low = int(start) if start.isdigit() and len(start.lstrip("0")) <= 6 else -1
    high = int(end) if end.isdigit() and len(end.lstrip("0")) <= 6 else (low if not end else -1)
    if not 1 <= low <= high <= 65535:
        return (
            f"invalid published port {_quoted(text)}: "
            "expected a port or a range START-END between 1 and 65535"
        )
    return None


def _ip_problem(text: str, family: int | None = None) -> str | None:
    addr = addresses.parse_ip(text)
    if addr is None or text.startswith("[") or (family is not None and addr.version != family):
        kind = f"an IPv{family}" if family else "an IP"
        if isinstance(text, Interpolated):
            return f"the value from {text.names()} is not {kind} address"
        return f"{text!r} is not {kind} address"
    return None


def _cidr_problem(text: str) -> str | None:
    import ipaddress

    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError as e:
        if isinstance(text, Interpolated):
            return f"the value from {text.names()} is not a network in CIDR notation"
        return f"{text!r} is not a network in CIDR notation ({e})"
    return None


_CHECKS: Final[dict[str, Callable[[str], str | None]]] = {
    "port-short": lambda text: _port_problem(text, swarm=False),
    "port-short-swarm": lambda text: _port_problem(text, swarm=True),
    "published": _published_problem,
    "host-ip": _ip_problem,
    "ip": _ip_problem,
    "ipv4": lambda text: _ip_problem(text, 4),
    "ipv6": lambda text: _ip_problem(text, 6),
    "cidr": _cidr_problem,
}


# --------------------------------------------------------------------------- loading

def _schema_text(target: str) -> str:
    name = f"{target}.schema.json"
    # Read beside this module, without importlib.resources (it costs more to import than to
    # read): compose_net/schemas/ in an installed wheel, else the checkout's schemas/ (which
    # an editable install maps to compose_net.schemas; the module's own tree wins).
    here = Path(__file__).resolve().parent
    for folder in (here / "schemas", here.parent / "schemas"):
        if (folder / name).is_file():
            return source.read_packaged(str(folder / name))
    folder = Path(importlib.import_module("compose_net.schemas").__file__ or "").parent
    return source.read_packaged(str(folder / name))


def load_schema(target: str) -> dict[str, Any]:
    """The JSON Schema for ``target`` as shipped with compose-net."""
    if target not in TARGETS:
        raise ValueError(f"unknown schema target {target!r} (expected one of {', '.join(TARGETS)})")
    schema: dict[str, Any] = json.loads(_schema_text(target))
    return schema


@functools.cache
def _validator(target: str) -> Any:
    """The validator of a shipped schema, built once (a pure function of ``target``)."""
    return _build(load_schema(target))


# --------------------------------------------------------------------------- compiling

#: keywords that judge a string value itself (the others ignore strings, or descend)
_STRING_KEYWORDS = frozenset(
    {"type", "pattern", "format", "enum", "const", "minLength", "maxLength", "oneOf", "not"},
)
_ANNOTATIONS = frozenset({"description", "title", "$comment", "examples", "default"})
_DEFS = "#/$defs/"
_VARIABLE_REF = _DEFS + "variable"


def _compile(schema: dict[str, Any]) -> dict[str, Any]:
    """An equivalent of ``schema`` for interpolated data that validates faster.

    Local ``$ref``s are inlined (the schemas are not recursive), and the
    "still holds a variable" escape (``if: variable, else: S``) becomes ``S``:
    after interpolation no value holds a variable any more.
    """
    defs: dict[str, Any] = schema.get("$defs", {})
    done: dict[str, Any] = {}

    def resolve(name: str, active: tuple[str, ...]) -> Any:
        if name not in done:
            if name in active:
                raise ValueError(f"recursive schema definition {name!r}")
            done[name] = walk(defs[name], (*active, name))
        return done[name]

    def walk(node: Any, active: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(item, active) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS) and ref != _VARIABLE_REF:
            target = resolve(ref[len(_DEFS) :], active)
            rest = {
                k: walk(v, active) for k, v in node.items() if k != "$ref" and k not in _ANNOTATIONS
            }
            return {"allOf": [target], **rest} if rest else target
        out = {k: walk(v, active) for k, v in node.items() if k != "$defs"}
        if out.get("if") == {"$ref": _VARIABLE_REF} and "then" not in out:
            escaped = out.pop("else", {})
            del out["if"]
            if any(k in out for k in escaped):
                out.setdefault("allOf", []).append(escaped)
            else:
                out.update(escaped)
        return out

    compiled: dict[str, Any] = walk(schema, ())
    compiled["$defs"] = defs
    return compiled


_SIMPLE_KEYS = frozenset({"type"}) | _ANNOTATIONS


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _fast_keywords(original: Mapping[str, Keyword], error_type: Any) -> dict[str, Keyword]:
    """Faster ``properties``, ``additionalProperties``, ``items`` and ``pattern``.

    Most leaves of a Compose file are strings checked against ``{"type": "string"}``,
    and descending into such a subschema costs more than the check itself: these
    skip the descent when the subschema only names types and the value has one of
    them. ``pattern`` compiles each expression once. The errors are unchanged.
    """
    simple: dict[int, frozenset[str] | None] = {}

    def trivially_valid(subschema: Any, value: Any) -> bool:
        key = id(subschema)
        if key not in simple:
            named = subschema.get("type") if isinstance(subschema, dict) else None
            simple[key] = None
            if named is not None and subschema.keys() <= _SIMPLE_KEYS:
                simple[key] = frozenset([named] if isinstance(named, str) else named)
        allowed = simple[key]
        kinds = _KINDS.get(type(value))
        return allowed is not None and kinds is not None and not allowed.isdisjoint(kinds)

    def properties(validator: Any, props: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if not isinstance(instance, dict):
            return
        for name, subschema in props.items():
            if name in instance and not trivially_valid(subschema, instance[name]):
                yield from validator.descend(instance[name], subschema, path=name, schema_path=name)

    def additional(validator: Any, extra: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if not isinstance(extra, dict) or not isinstance(instance, dict):
            yield from original["additionalProperties"](validator, extra, instance, schema)
            return
        known = schema.get("properties", {})
        patterns = [_regex(p) for p in schema.get("patternProperties", ())]
        for name, value in instance.items():
            if name in known or any(p.search(name) for p in patterns):
                continue
            if not trivially_valid(extra, value):
                yield from validator.descend(value, extra, path=name)

    def items(validator: Any, subschema: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if not isinstance(subschema, dict) or not isinstance(instance, list):
            yield from original["items"](validator, subschema, instance, schema)
            return
        for index in range(len(schema.get("prefixItems", ())), len(instance)):
            if not trivially_valid(subschema, instance[index]):
                yield from validator.descend(instance[index], subschema, path=index)

    def pattern(validator: Any, regex: str, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, _MARKERS) or not isinstance(instance, str):
            return
        if not _regex(regex).search(instance):
            yield error_type(f"{instance!r} does not match {regex!r}")

    return {
        "properties": properties,
        "additionalProperties": additional,
        "items": items,
        "pattern": pattern,
    }


def _skip_markers(keyword: Keyword) -> Keyword:
    def run(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, _MARKERS):
            return
        errors = keyword(validator, value, instance, schema)
        if errors is not None:
            yield from errors

    return run


def _build(schema: dict[str, Any]) -> Any:
    jsonschema = importlib.import_module("jsonschema")
    error_type = jsonschema.ValidationError
    base = jsonschema.validators.validator_for(schema)

    def check(validator: Any, kind: str, instance: Any, subschema: Any) -> Iterator[Any]:
        if isinstance(instance, str) and not isinstance(instance, _MARKERS):
            problem = _CHECKS[kind](instance)
            if problem:
                yield error_type(problem)

    keywords = {
        name: _skip_markers(fn) for name, fn in base.VALIDATORS.items() if name in _STRING_KEYWORDS
    }
    keywords["composeNetCheck"] = check
    keywords.update(_fast_keywords(base.VALIDATORS, error_type))
    extended = jsonschema.validators.extend(base, keywords)
    formats = jsonschema.FormatChecker(formats=())
    for name, conforms in _FORMATS.items():
        formats.checks(name)(conforms)
    return extended(_compile(schema), format_checker=formats)


def _not_a_string(instance: object) -> bool:
    # Values arrive interpolated: text that still looks like ${...} came from a $$ escape.
    return not isinstance(instance, str)


_FORMATS: Final[dict[str, Callable[[Any], bool]]] = {"compose-variable": _not_a_string}


# --------------------------------------------------------------------------- fast decision

_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


@functools.cache
def _decider(target: str) -> Callable[[Any], bool | None] | None:
    """compose_net.fastschema's valid/invalid decision for ``target``, compiled once (a pure
    function of the shipped schema).

    None for a schema that is not 2020-12; the decision itself is None ("cannot tell")
    for a value reaching a keyword it does not know. Then jsonschema decides.
    """
    from compose_net import fastschema

    schema = load_schema(target)
    if schema.get("$schema") != _DRAFT_2020_12:
        return None
    return fastschema.decider(_compile(schema), markers=_MARKERS, checks=_CHECKS, formats=_FORMATS)


# --------------------------------------------------------------------------- errors


class _Found(NamedTuple):
    violation: Violation
    #: the error is about the key itself (an unknown key, a bad name): point at the key
    on_key: bool


_TYPE_NAMES: Final = {"object": "mapping", "array": "list"}
#: which error to keep when several fall on one place (lower first)
_PRIORITY: Final = {
    "composeNetCheck": 0,
    "propertyNames": 0,
    "additionalProperties": 0,
    "required": 1,
    "type": 2,
}


def _types(value: Any) -> str:
    names = [_TYPE_NAMES.get(t, t) for t in ([value] if isinstance(value, str) else value)]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return ("an " if text[0] in "aeiou" else "a ") + text


def _unknown_keys(error: Any) -> list[_Found]:
    import difflib  # an unknown key only: off the start-up path

    schema = error.schema
    known = schema.get("properties", {})
    patterns = [_regex(p) for p in schema.get("patternProperties", ())]
    path = tuple(error.absolute_path)
    out = []
    for key in error.instance:
        if key in known or any(p.search(key) for p in patterns):
            continue
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        out.append(_Found(Violation((*path, key), f"unknown key {key!r}{hint}"), True))
    return out


def _leaf(error: Any) -> Any:
    """Descend anyOf/oneOf errors to the branch that fits the value best."""
    best_match = importlib.import_module("jsonschema.exceptions").best_match
    while error.context:
        inner = best_match(error.context)
        if inner is None or inner is error:
            break
        error = inner
    return error


def _message(error: Any, custom: str | None) -> str:
    keyword, value = error.validator, error.validator_value
    if keyword == "composeNetCheck":
        return str(error.message)  # the checks name the variables themselves
    if custom:
        return custom
    if keyword == "pattern" and isinstance(error.instance, Interpolated):
        return f"the value from {error.instance.names()} is not valid here"
    if keyword in _MESSAGES:
        return _MESSAGES[keyword](error, value)
    if _holds_interpolated(error.instance):  # jsonschema's own message quotes the value
        return "is not valid here"
    return str(error.message)


_MESSAGES: Final[dict[str, Callable[[Any, Any], str]]] = {
    "type": lambda error, value: f"must be {_types(value)}",
    "required": lambda error, value: (
        "missing required key "
        + repr(next((name for name in value if name not in error.instance), value[0]))
    ),
    "enum": lambda error, value: "must be one of " + ", ".join(json.dumps(v) for v in value),
    "minimum": lambda error, value: f"must be at least {value}",
    "maximum": lambda error, value: f"must be at most {value}",
    "uniqueItems": lambda error, value: "must not list the same item twice",
    "pattern": lambda error, value: f"{error.instance!r} is not valid here",
    "not": lambda error, value: "is not allowed here",
}


def _describe(error: Any) -> list[_Found]:
    error = _leaf(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    custom = schema.get("errorMessage")
    if isinstance(custom, dict):  # one message per keyword, as ajv-errors has it
        custom = custom.get(error.validator)
    path: tuple[PathPart, ...] = tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        key = str(error.instance)
        return [_Found(Violation((*path, key), custom or f"invalid name {key!r}"), True)]
    if error.validator == "additionalProperties" and error.validator_value is False:
        return _unknown_keys(error)
    return [_Found(Violation(path, _message(error, custom)), False)]


def _relevance(error: Any) -> tuple[int, bool, int]:
    """Shallow errors first (they say the most is wrong), anyOf/oneOf last, own checks first.

    Among equals ``max`` keeps the first one met, the earliest in the file.
    """
    weak = error.validator in ("anyOf", "oneOf")
    return (-len(error.path), not weak, -_PRIORITY.get(error.validator, 3))


def _collect(data: object, target: str, bad: bool | None = None) -> list[_Found]:
    """What is wrong with ``data``; ``bad``: whether it holds a :class:`BadTemplate`, when
    known (None: searched for)."""
    if bad is None:
        bad = _has_bad_template(data)
    if not bad:
        decide = _decider(target)
        if decide is not None and decide(data) is True:
            return []  # valid: jsonschema is needed only to explain what is wrong
    validator = _validator(target)
    found: list[_Found] = []
    if bad:
        found.extend(_Found(v, False) for v in _template_errors(data, ()))
    errors = list(validator.iter_errors(data))
    if errors:
        best = max(errors, key=_relevance)
        errors.sort(key=lambda e: (e is not best, _PRIORITY.get(e.validator, 3)))
    seen = {(f.violation.path, f.on_key) for f in found}
    for error in errors:
        for item in _describe(error):
            where = (item.violation.path, item.on_key)
            if where not in seen:  # one error per place: the most specific one
                seen.add(where)
                found.append(item)
    return found


def validate(data: object, *, target: str = "compose") -> list[Violation]:
    """Check plain ``data`` against the ``target`` schema; the best error comes first.

    ``target`` is ``compose``, ``stack``, ``inventory`` or ``config``. Compose data
    should already be :func:`interpolated`; the markers it leaves are handled here.
    """
    return [found.violation for found in _collect(data, target)]


def _node_for(root: yamltree.Node, found: _Found) -> yamltree.Node:
    path = found.violation.path
    if found.on_key and path:
        parent = yamltree.locate(root, path[:-1])
        for name, key_node, _ in yamltree.mapping_items(parent):
            if name == str(path[-1]):
                return key_node
        return parent
    return yamltree.locate(root, path)


def check_document(doc: Document, *, target: str, env: Mapping[str, str]) -> list[ComposeNetError]:
    """Validate a loaded document; each error carries the file, line and column.

    The best error comes first, the others follow in file order.
    """
    try:
        data, bad = _interpolated(document_data(doc.root, doc.name), env)
    except bounds.Exceeded as e:
        raise e.at(doc.name) from None
    errors: list[ComposeNetError] = []
    for found in _collect(data, target, bad):
        where = yamltree.position(_node_for(doc.root, found))
        label = format_path(found.violation.path)
        message = f"{label}: {found.violation.message}" if label else found.violation.message
        errors.append(ComposeNetError(message, path=doc.name, line=where.line, column=where.column))
    errors[1:] = sorted(errors[1:], key=lambda e: (e.line or 0, e.column or 0))
    return errors
