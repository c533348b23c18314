"""One frozen invocation object per command (compose_net.commands.options), built from
click's parsed values in one place per command (compose_net.cli): every option lands in its
field with its type, none is left out, and ``check --fix`` asks harden for what check was
asked."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from compose_net import cli as cli_module
from compose_net.cli import Parsed, cli, invocation
from compose_net.commands import options, other_options
from compose_net.errors import ComposeNetError
from compose_net.unit import NodeSource


def built(args: list[str]) -> object:
    """The object the command ``args[0]`` would run with, from click's values for ``args``."""
    name, rest = args[0], args[1:]
    command = cli.commands[name]
    with command.make_context(name, rest) as ctx:
        builder: Callable[[Parsed], object] = getattr(cli_module, name.replace("-", "_") + "_of")
        return invocation(ctx.params, builder)


SOURCE = ["--resolve", "docker", "--interface", "eth1", "--cidr", "10.0.0.0/8",
          "--docker-image", "alpine", "--inventory", "nodes.yaml"]
SOURCE_VALUE = NodeSource("docker", "nodes.yaml", "eth1", "10.0.0.0/8", "alpine")
PROJECT = ["-f", "a.yaml", "-f", "b.yaml", "--project-directory", "proj", "--read-outside",
           "--env-file", "x.env", "--env-file", "y.env"]
PROJECT_VALUE = options.Inputs((), ("a.yaml", "b.yaml"), "proj", True, ("x.env", "y.env"))

CASES = [
    pytest.param(["ports"], other_options.Ports(), id="ports-defaults"),
    pytest.param(
        ["ports", *PROJECT, "--format", "json", "--no-interpolate", "--show-values",
         "--stdin-filename", "p/c.yaml"],
        other_options.Ports(dataclasses.replace(PROJECT_VALUE, stdin_filename="p/c.yaml"), "json",
                      interpolate=False, show_values=True),
        id="ports-all",
    ),
    pytest.param(["check"], options.Check(), id="check-defaults"),
    pytest.param(
        ["check", "a.yaml", "-", "--format", "sarif", "-o", "r.sarif", "--target", "stack",
         "--select", "CN001", "--select", "CN002,CN003", "--ignore", "CN004",
         "--allow", "web:80", "--env-file", "x.env", "--no-config", "--node", "n1",
         "--no-color", "-v", "--fix", "--unsafe-fixes", "--rewrite-public",
         "--remap-conflicts", "--bind", "10.0.0.5", "--bind", "fd00::5", "--bind-var", "IP",
         "--exit-zero", "-q", "--fail-on", "error", "--statistics", *SOURCE,
         "--stdin-filename", "p/c.yaml"],
        options.Check(
            inputs=options.Inputs(("a.yaml", "-"), env_files=("x.env",),
                                  stdin_filename="p/c.yaml"),
            report=options.Report("sarif", "r.sarif", False, True),
            verdict=options.Verdict("error", True, True, True),
            target="stack",
            selects=("CN001", "CN002,CN003"),
            ignores=("CN004",),
            allows=("web:80",),
            no_config=True,
            node_source=dataclasses.replace(SOURCE_VALUE, node="n1"),
            fixes=options.Fixes(("10.0.0.5", "fd00::5"), "IP", True, True),
            fix=True,
            unsafe_fixes=True,
        ),
        id="check-all",
    ),
    pytest.param(["check", "--color", "--list-rules", "--explain", "CN001"],
                 options.Check(report=options.Report(color=True), list_rules=True,
                               explain="CN001"),
                 id="check-rules"),
    pytest.param(["harden"], options.Harden(), id="harden-defaults"),
    pytest.param(
        ["harden", *PROJECT, "--edit-outside", "--bind", "10.0.0.5", "--bind-var", "IP",
         "--allow", "web", "--rewrite-public", "-o", "out.yaml", "--stdout", "--diff",
         "--check", "--target", "compose", "--no-config", "-q", "-v", "--node", "n2",
         "--remap-conflicts", "--stack-strategy", "internal-network", "--stack-network",
         "back", *SOURCE, "--stdin-filename", "p/c.yaml"],
        options.Harden(
            inputs=dataclasses.replace(PROJECT_VALUE, stdin_filename="p/c.yaml"),
            node_source=dataclasses.replace(SOURCE_VALUE, node="n2"),
            fixes=options.Fixes(("10.0.0.5",), "IP", True, True),
            allows=("web",),
            target="compose",
            no_config=True,
            edit_outside=True,
            output="out.yaml",
            to_stdout=True,
            diff=True,
            check=True,
            quiet=True,
            verbose=True,
            stack_strategy="internal-network",
            stack_network="back",
        ),
        id="harden-all",
    ),
    pytest.param(["validate"], other_options.Validate(), id="validate-defaults"),
    pytest.param(["validate", *PROJECT, "--target", "stack"],
                 other_options.Validate(PROJECT_VALUE, "stack"), id="validate-all"),
    pytest.param(["addr"], other_options.Addr(), id="addr-defaults"),
    pytest.param(["addr", "service", "ipv4", "--interface", "eth0", "--cidr", "10.0.0.0/8",
                  "--format", "json"],
                 other_options.Addr(("service", "ipv4"), "eth0", "10.0.0.0/8", "json"),
                 id="addr-all"),
    pytest.param(["server"], other_options.Server(), id="server-defaults"),
    pytest.param(["server", "--stdio"], other_options.Server(stdio=True), id="server-stdio"),
    pytest.param(["nodes"], other_options.Nodes(), id="nodes-defaults"),
    pytest.param(["nodes", "--format", "yaml", *SOURCE],
                 other_options.Nodes(SOURCE_VALUE, "yaml"), id="nodes-all"),
    pytest.param(["node-setup"], other_options.NodeSetup(), id="node-setup-defaults"),
    pytest.param(["node-setup", "--node", "n3", "--format", "json", *SOURCE],
                 other_options.NodeSetup(dataclasses.replace(SOURCE_VALUE, node="n3"), "json"),
                 id="node-setup-all"),
    pytest.param(["audit"], other_options.Audit(), id="audit-defaults"),
    pytest.param(
        ["audit", "--format", "json", "-o", "a.json", "--watch", "--metrics-listen",
         "127.0.0.1:9779", "--project", "shop", "--file", "c.yaml", "--env-file", "x.env",
         "--nodes", "--jobs", "3", "--node-timeout", "2.5", *SOURCE],
        other_options.Audit("json", "a.json", True, "127.0.0.1:9779", "shop", "c.yaml", ("x.env",),
                      other_options.Fleet(True, 3, 2.5), SOURCE_VALUE),
        id="audit-all",
    ),
    pytest.param(["probe"], other_options.Probe(), id="probe-defaults"),
    pytest.param(
        ["probe", "203.0.113.10", "a.yaml", "b.yaml", "--from-docker", "--project", "shop",
         "--timeout", "0.5", "--concurrency", "8", "--format", "json", "--env-file", "x.env",
         "--nodes", "--jobs", "2", "--node-timeout", "1", "--inventory", "n.yaml",
         "--internal"],
        other_options.Probe("203.0.113.10", ("a.yaml", "b.yaml"), True, "shop", 0.5, 8, "json",
                      ("x.env",), other_options.Fleet(True, 2, 1.0), NodeSource(inventory="n.yaml"),
                      internal=True),
        id="probe-all",
    ),
]


@pytest.mark.parametrize(("args", "expected"), CASES)
def test_click_values_become_one_object(args: list[str], expected: object) -> None:
    assert built(args) == expected


def test_every_command_has_rows() -> None:
    covered = {case.values[0][0] for case in CASES}  # type: ignore[index]
    assert covered == set(cli.commands)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["check", "--fix"],
            options.Harden(report_remaining=False),
            id="defaults",
        ),
        pytest.param(
            ["check", "--fix", "a.yaml", "--bind", "10.0.0.5", "--allow", "web",
             "--target", "compose", "--no-config", "-q", "-v", "--node", "n1",
             "--resolve", "local", "--rewrite-public", "--stdin-filename", "p/c.yaml",
             "--format", "json", "--exit-zero"],
            options.Harden(
                inputs=options.Inputs(("a.yaml",), stdin_filename="p/c.yaml"),
                node_source=NodeSource(resolve="local", node="n1"),
                fixes=options.Fixes(("10.0.0.5",), rewrite_public=True),
                allows=("web",),
                target="compose",
                no_config=True,
                quiet=True,
                verbose=True,
                report_remaining=False,
            ),
            id="what-harden-takes",
        ),
        pytest.param(
            ["check", "--fix", "--unsafe-fixes"],
            options.Harden(fixes=options.Fixes(rewrite_public=True, remap_conflicts=True),
                           report_remaining=False),
            id="unsafe-fixes-both",
        ),
        pytest.param(
            ["check", "--fix", "--remap-conflicts"],
            options.Harden(fixes=options.Fixes(remap_conflicts=True), report_remaining=False),
            id="one-unsafe-fix",
        ),
    ],
)
def test_check_fix_asks_harden_for_the_same(args: list[str], expected: options.Harden) -> None:
    check = built(args)
    assert isinstance(check, options.Check)
    assert check.fixing(report_remaining=False) == expected


@pytest.mark.parametrize(
    ("read", "value", "message"),
    [
        pytest.param(Parsed.flag, None, "x: NoneType, not bool", id="flag-none"),
        pytest.param(Parsed.flag, 1, "x: int, not bool", id="flag-int"),
        pytest.param(Parsed.maybe_flag, "yes", "x: str, not bool or None", id="maybe-flag"),
        pytest.param(Parsed.text, None, "x: NoneType, not str", id="text-none"),
        pytest.param(Parsed.maybe_text, 5, "x: int, not str or None", id="maybe-text"),
        pytest.param(Parsed.texts, ["a"], "x: list, not a tuple of str", id="texts-list"),
        pytest.param(Parsed.texts, ("a", 1), "x: tuple, not a tuple of str", id="texts-mixed"),
        pytest.param(Parsed.integer, None, "x: NoneType, not int", id="integer-none"),
        pytest.param(Parsed.maybe_integer, True, "x: bool, not int or None", id="integer-bool"),
        pytest.param(Parsed.maybe_integer, 2.0, "x: float, not int or None", id="integer-float"),
        pytest.param(Parsed.number, 2, "x: int, not float", id="number-int"),
        pytest.param(Parsed.maybe_number, "2", "x: str, not float or None", id="number-str"),
    ],
)
def test_a_value_of_another_type_is_refused(
    read: Callable[[Parsed, str], object], value: object, message: str
) -> None:
    with pytest.raises(TypeError) as raised:
        read(Parsed({"x": value}), "x")
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("read", "value"),
    [
        pytest.param(Parsed.flag, False, id="flag"),
        pytest.param(Parsed.maybe_flag, None, id="maybe-flag"),
        pytest.param(Parsed.text, "a", id="text"),
        pytest.param(Parsed.maybe_text, None, id="maybe-text"),
        pytest.param(Parsed.texts, ("a", "b"), id="texts"),
        pytest.param(Parsed.integer, 3, id="integer"),
        pytest.param(Parsed.maybe_integer, None, id="maybe-integer"),
        pytest.param(Parsed.number, 0.5, id="number"),
        pytest.param(Parsed.maybe_number, None, id="maybe-number"),
    ],
)
def test_a_value_of_its_type_is_taken(
    read: Callable[[Parsed, str], object], value: object
) -> None:
    assert read(Parsed({"x": value}), "x") == value


@pytest.mark.parametrize(
    ("params", "build", "message"),
    [
        pytest.param({"a": True, "b": "x"}, lambda p: p.flag("a"), "options not read: b",
                     id="one-left-out"),
        pytest.param({}, lambda p: p.flag("a"), "a: no such option, or read twice",
                     id="no-such-option"),
        pytest.param({"a": True}, lambda p: (p.flag("a"), p.flag("a")),
                     "a: no such option, or read twice", id="read-twice"),
        pytest.param({"a": "fatal"}, lambda p: p.choice("a", ("error", "warning")),
                     "a: str, not error or warning", id="not-a-choice"),
    ],
)
def test_every_value_is_read_once(
    params: dict[str, object], build: Callable[[Parsed], object], message: str
) -> None:
    with pytest.raises(TypeError) as raised:
        invocation(params, build)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["check", "--docker-image", "alpine"], id="check"),
        pytest.param(["harden", "--docker-image", "alpine", "--resolve", "local"], id="harden"),
        pytest.param(["nodes", "--docker-image", "alpine"], id="nodes"),
        pytest.param(["node-setup", "--docker-image", "alpine"], id="node-setup"),
        pytest.param(["audit", "--docker-image", "alpine", "--resolve", "local"], id="audit"),
    ],
)
def test_docker_image_needs_resolve_docker(args: list[str]) -> None:
    with pytest.raises(ComposeNetError) as raised:
        built(args)
    assert raised.value.message == "--docker-image is for --resolve docker"


@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, id=k.__name__) for k in (
        options.Inputs, options.Fixes, options.Report, options.Verdict, other_options.Fleet,
        other_options.Ports, other_options.Validate, options.Harden, options.Check,
        other_options.Audit, other_options.Probe, other_options.Nodes, other_options.NodeSetup,
        other_options.Addr, other_options.Server,
    )],
)
def test_the_objects_are_frozen(kind: type[object]) -> None:
    made = kind()
    field = dataclasses.fields(made)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, field, None)
