"""Work that could grow faster than the input: each row finishes under a CPU and memory
limit, as root and as ``nobody``, with its result or one line that names the bound.

The classes: values that expand each other (in ``.env``, through the environment, in the
Compose file's strings), a project that reads its files over and over (includes that
include twice, one file under many project directories, ``extends`` fan-out), port ranges
(written, through variables, through aliases and ``extends``, across includes) and
nesting (flow, block, unclosed, through aliases). Each row: the files, the command, the
environment, the exit code and what the first line of standard error holds.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field

import pytest
from harness import bounded

#: CPU seconds and bytes of address space each run may use: a start-up and linear work
#: fit, the growth these rows provoke does not
CPU_SECONDS = 5
LIMITS = bounded.Limits(memory=400 * 1024 * 1024, cpu=CPU_SECONDS + 1)

PORT = 'services:\n  web:\n    image: nginx\n    ports: ["${IP:-}:80:80"]\n'
CHECK = ("check", "--no-config")
HARDEN_CHECK = ("harden", "--no-config", "--bind", "10.0.0.5", "--check")
HARDEN = ("harden", "--no-config", "--bind", "10.0.0.5")
PORTS = ("ports",)
VALIDATE = ("validate",)

Files = dict[str, bytes]


def env_multiplying(first: int = 1000, second: int = 1000, third: int = 240) -> bytes:
    """``A=xxxxxxxx``, ``B=${A}`` x first, ``C=${B}`` x second, ``D=${C}`` x third: a few
    KB that would expand to 1.9 GB."""
    return (
        b"A=xxxxxxxx\nB=" + b"${A}" * first + b"\nC=" + b"${B}" * second
        + b"\nD=" + b"${C}" * third + b"\n"
    )  # fmt: skip


def env_nested_defaults(levels: int = 8) -> bytes:
    """Each value repeats the one before 8 times inside a default: ``${UNSET:-${V0}...}``."""
    lines = [b"V0=xxxxxxxx"]
    for i in range(1, levels + 1):
        lines.append(b"V%d=${UNSET:-%s}" % (i, b"${V%d}" % (i - 1) * 8))
    return b"\n".join(lines) + b"\n"


def labels_repeating(name: str, repeats: int = 50, labels: int = 100) -> bytes:
    reference = "${" + name + "}"
    body = "".join(f'      l{i}: "' + reference * repeats + '"\n' for i in range(labels))
    return (
        "services:\n  web:\n    image: nginx\n    labels:\n" + body
        + '    ports: ["${IP:-}:80:80"]\n'
    ).encode()  # fmt: skip


def service(name: str, port: str) -> str:
    return f"  {name}:\n    image: nginx\n    ports: [{port}]\n"


def doubling_includes(files: int, fan_out: int = 2, pad: int = 2000) -> Files:
    """f0 includes f1 ``fan_out`` times, f1 includes f2 ... (fan_out ** files reads)."""
    out: Files = {}
    for i in range(files):
        include = "include:\n" + f"  - f{i + 1}.yml\n" * fan_out if i + 1 < files else ""
        text = include + f'x-pad: "{"p" * pad}"\nservices:\n' + service(f"s{i}", f'"{1000 + i}:80"')
        out[f"f{i}.yml"] = text.encode()
    return out


def one_file_many_directories(copies: int, services: int) -> Files:
    big = "services:\n" + "".join(
        service(f"s{i}", f'"{i + 1}:80"') + f'    environment: {{A: "{"a" * 150}"}}\n'
        for i in range(services)
    )
    out: Files = {"big.yml": big.encode()}
    out["compose.yaml"] = (
        "include:\n"
        + "".join(f"  - path: big.yml\n    project_directory: d{i}\n" for i in range(copies))
    ).encode()
    return out


def include_env_file_repeated(copies: int, env_bytes: int) -> Files:
    env = b"".join(b"K%d=v\n" % i for i in range(env_bytes // 8))
    return {
        "x.yml": service("web", '"${IP:-}:80:80"').join(["services:\n", ""]).encode(),
        "big.env": env,
        "compose.yaml": (
            "include:\n"
            + "".join(
                f"  - path: x.yml\n    project_directory: d{i}\n    env_file: big.env\n"
                for i in range(copies)
            )
        ).encode(),
    }


def extends_fan_out(chain: int, fan: int, *, other_file: bool = False) -> Files:
    base = 'services:\n  s0:\n    image: nginx\n    ports: ["80"]\n' + "".join(
        f"  s{i}:\n    extends: s{i - 1}\n" for i in range(1, chain)
    )
    target = f"{{file: base.yml, service: s{chain - 1}}}" if other_file else f"s{chain - 1}"
    fan_text = "".join(f"  f{i}:\n    extends: {target}\n" for i in range(fan))
    if other_file:
        return {"base.yml": base.encode(), "compose.yaml": ("services:\n" + fan_text).encode()}
    return {"compose.yaml": (base + fan_text).encode()}


def ranges(count: int, spec: str = '"1-65535:1-65535"') -> bytes:
    return ("services:\n" + "".join(service(f"s{i}", spec) for i in range(count))).encode()


def aliased_ranges(count: int) -> bytes:
    head = 'x-ports: &p ["1-65535:1-65535"]\nservices:\n'
    body = "".join(f"  s{i}:\n    image: nginx\n    ports: *p\n" for i in range(count))
    return (head + body).encode()


def ranges_extended(count: int) -> bytes:
    head = 'services:\n  b:\n    image: nginx\n    ports: ["1-30000:1-30000"]\n'
    return (head + "".join(f"  s{i}:\n    extends: b\n" for i in range(count))).encode()


def ranges_included(count: int) -> Files:
    """``count`` files of one range of 30,000 each, included by one file."""
    out: Files = {
        f"r{i}.yml": ("services:\n" + service(f"r{i}", '"1-30000:1-30000"')).encode()
        for i in range(count)
    }
    out["compose.yaml"] = ("include:\n" + "".join(f"  - r{i}.yml\n" for i in range(count))).encode()
    return out


def nested(opening: str, closing: str, levels: int) -> bytes:
    return (
        'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n    labels: '
        + opening * levels + "1" + closing * levels + "\n"
    ).encode()  # fmt: skip


def block_nested(levels: int, item: str = "- ") -> bytes:
    lines = "".join(" " * (6 + 2 * i) + item + "\n" for i in range(levels))
    head = 'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n    labels:\n'
    return (head + lines).encode()


def block_mapping_nested(levels: int) -> bytes:
    lines = "".join(" " * (6 + 2 * i) + f"k{i}:\n" for i in range(levels))
    return (
        'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n    x-deep:\n' + lines
    ).encode()


def billion_laughs() -> bytes:
    lines = ["x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    tail = '\nservices:\n  web:\n    image: nginx\n    ports: ["80:80"]\n'
    return ("\n".join(lines) + tail).encode()


@dataclass(frozen=True)
class Case:
    files: Files
    argv: tuple[str, ...]
    code: int
    #: text the first line of standard error holds ("" for none: standard error is empty,
    #: or holds check's summary only)
    message: str
    env: dict[str, str] = field(default_factory=dict)
    #: the file named last on the command line
    target: str = "compose.yaml"


def _c(
    files: Files | bytes,
    argv: tuple[str, ...],
    code: int,
    message: str,
    *,
    env: dict[str, str] | None = None,
    target: str = "compose.yaml",
) -> Case:
    named = files if isinstance(files, dict) else {"compose.yaml": files}
    return Case(named, argv, code, message, env or {}, target)


ENV_EXPANSION = "COMPOSE_NET_MAX_ENV_EXPANSION=N"
EXPANSION = "COMPOSE_NET_MAX_EXPANSION=N"
PROJECT_FILES = "COMPOSE_NET_MAX_PROJECT_FILES=N"
PROJECT_BYTES = "COMPOSE_NET_MAX_PROJECT_BYTES=N"
RANGE_PORTS = "COMPOSE_NET_MAX_RANGE_PORTS=N"
DEPTH = "COMPOSE_NET_MAX_DEPTH=N"
BIG_VALUE = "x" * 100_000

CASES = {
    # ------------------------------------------------------------------ expansion
    "env-multiplying-1.9-GB": _c(
        {"compose.yaml": PORT.encode(), ".env": env_multiplying()}, PORTS, 2,
        f".env:4: the values expand too far, each ${{VARIABLE}} repeating the ones before "
        f"(bound: characters an env file's values expand to; raise it with {ENV_EXPANSION}",
    ),
    "env-multiplying-check": _c(
        {"compose.yaml": PORT.encode(), ".env": env_multiplying(500, 2000, 10)}, CHECK, 2,
        ".env:4: the values expand too far",
    ),
    "env-multiplying-harden": _c(
        {"compose.yaml": PORT.encode(), ".env": env_multiplying(100, 100, 10_000)}, HARDEN, 2,
        ".env:4: the values expand too far",
    ),
    "env-nested-defaults": _c(
        {"compose.yaml": PORT.encode(), ".env": env_nested_defaults(9)}, PORTS, 2,
        ".env:8: the values expand too far",
    ),
    "env-from-the-environment": _c(
        {"compose.yaml": PORT.encode(), ".env": b"A=" + b"${BIG}" * 200 + b"\n"}, PORTS, 2,
        ".env:1: the values expand too far", env={"BIG": BIG_VALUE},
    ),
    "env-file-after-env-file": _c(
        {"compose.yaml": PORT.encode(), "a.env": b"A=" + b"x" * 100_000 + b"\n",
         "b.env": b"B=" + b"${A}" * 200 + b"\n"},
        ("ports", "--env-file", "a.env", "--env-file", "b.env", "compose.yaml"), 2,
        "b.env:1: the values expand too far",
    ),
    "env-within-the-bound": _c(
        {"compose.yaml": PORT.encode(), ".env": env_multiplying(10, 10, 10)}, PORTS, 0, "",
    ),
    "env-bound-lowered": _c(
        {"compose.yaml": PORT.encode(), ".env": env_multiplying(10, 10, 10)}, PORTS, 2,
        "now 1000)", env={"COMPOSE_NET_MAX_ENV_EXPANSION": "1000"},
    ),
    "compose-strings-repeat-a-dotenv-value-validate": _c(
        {"compose.yaml": labels_repeating("C"), ".env": env_multiplying(1000, 1000, 0)},
        VALIDATE, 2, "compose.yaml: the ${VARIABLES} substitute too much text",
    ),
    "compose-strings-repeat-a-dotenv-value-check": _c(
        {"compose.yaml": labels_repeating("C"), ".env": env_multiplying(1000, 1000, 0)},
        CHECK, 2, EXPANSION,
    ),
    "compose-strings-repeat-a-dotenv-value-harden": _c(
        {"compose.yaml": labels_repeating("C"), ".env": env_multiplying(1000, 1000, 0)},
        HARDEN, 2, EXPANSION,
    ),
    "port-repeats-an-environment-variable": _c(
        ('services:\n  web:\n    image: nginx\n    ports: ["'
         + "${BIG}" * 700 + ':80"]\n').encode(),
        PORTS, 2, "substitute too much text", env={"BIG": BIG_VALUE},
    ),
    "port-repeats-a-variable-in-many-services": _c(
        ("services:\n" + "".join(
            service(f"s{i}", '"${BIG}${BIG}${BIG}${BIG}:80"') for i in range(200)
        )).encode(),
        CHECK, 2, EXPANSION, env={"BIG": BIG_VALUE},
    ),
    "compose-expansion-bound-lowered": _c(
        labels_repeating("A", 10, 10), VALIDATE, 2, "now 500)",
        env={"A": "y" * 10, "COMPOSE_NET_MAX_EXPANSION": "500"},
    ),
    # ------------------------------------------------------------------ includes
    "includes-doubling-19-files-check": _c(
        doubling_includes(19), (*CHECK, "f0.yml"), 2,
        "include: the project merges more than 1,000 files", target="f0.yml",
    ),
    "includes-doubling-19-files-harden": _c(
        doubling_includes(19), (*HARDEN, "f0.yml"), 2, PROJECT_FILES, target="f0.yml",
    ),
    "includes-fan-out-4-deep-7": _c(
        doubling_includes(7, fan_out=4, pad=10), (*PORTS, "f0.yml"), 2, PROJECT_FILES,
        target="f0.yml",
    ),
    "includes-fan-out-10-deep-4": _c(
        doubling_includes(4, fan_out=10, pad=10), (*PORTS, "f0.yml"), 2, PROJECT_FILES,
        target="f0.yml",
    ),
    "includes-within-the-bound": _c(
        doubling_includes(8, pad=10), (*CHECK, "f0.yml"), 1, "", target="f0.yml",
    ),
    "one-file-many-project-directories": _c(
        one_file_many_directories(100, 1000), CHECK, 2,
        f"big.yml; an include: read over and over?) (bound: bytes of the files a project "
        f"merges, counting repeats; raise it with {PROJECT_BYTES}",
        env={"COMPOSE_NET_MAX_PROJECT_BYTES": "2000000"},
    ),
    "one-env-file-many-includes": _c(
        include_env_file_repeated(100, 200_000), PORTS, 2, PROJECT_BYTES,
        env={"COMPOSE_NET_MAX_PROJECT_BYTES": "2000000"},
    ),
    "project-files-bound-lowered": _c(
        doubling_includes(5, pad=10), (*PORTS, "f0.yml"), 2, "now 20)",
        env={"COMPOSE_NET_MAX_PROJECT_FILES": "20"}, target="f0.yml",
    ),
    "extends-fan-out-over-a-chain": _c(
        extends_fan_out(190, 5000), PORTS, 0, "",
    ),
    "extends-fan-out-over-a-chain-check": _c(
        extends_fan_out(190, 3000), CHECK, 1, "",
    ),
    "extends-fan-out-from-another-file": _c(
        extends_fan_out(190, 3000, other_file=True), PORTS, 0, "",
    ),
    # ------------------------------------------------------------------ port ranges
    **{
        f"seven-full-ranges-{name}": _c(
            ranges(7), argv, 2,
            f"compose.yaml:7:13: the file has port ranges that add more than 65,536 ports "
            f"once ranges are expanded (bound: ports that port ranges add to a project; raise "
            f"it with {RANGE_PORTS}",
        )
        for name, argv in (("ports", PORTS), ("check", CHECK), ("harden-check", HARDEN_CHECK),
                           ("harden", HARDEN), ("ports-json", ("ports", "--format", "json")))
    },
    "ranges-through-an-alias": _c(aliased_ranges(7), HARDEN_CHECK, 2, RANGE_PORTS),
    "ranges-through-variables": _c(
        ranges(7, '"${R:-1-65535}:${R:-1-65535}"'), HARDEN_CHECK, 2,
        "the project has port ranges that add more than 65,536 ports",
    ),
    "ranges-through-the-environment": _c(
        ranges(7, '"${R}:${R}"'), CHECK, 2, RANGE_PORTS, env={"R": "1-65535"},
    ),
    "ranges-through-extends": _c(ranges_extended(7), HARDEN_CHECK, 2, RANGE_PORTS),
    "ranges-across-includes": _c(ranges_included(4), PORTS, 2, RANGE_PORTS),
    # within the bound, a range costs its expansion still: half the bound, as CI machines vary
    "a-range-within-the-bound-harden-check": _c(
        ranges(1, '"30001-62000:30001-62000"'), HARDEN_CHECK, 1, ""
    ),
    "a-range-within-the-bound-check": _c(ranges(1, '"30001-62000:30001-62000"'), CHECK, 1, ""),
    "long-syntax-published-range-is-one-port": _c(
        ranges(7, '{target: 80, published: "1-65535"}'), HARDEN_CHECK, 1, "",
    ),
    "ranges-bound-raised": _c(
        ranges(2), PORTS, 0, "", env={"COMPOSE_NET_MAX_RANGE_PORTS": "131070"},
    ),
    # ------------------------------------------------------------------ nesting
    **{
        f"nested-{name}": _c(
            text, argv, 2,
            f"collections nest too deep: more than 200 levels (bound: levels of nesting; "
            f"raise it with {DEPTH}",
        )
        for name, text, argv in (
            ("flow-sequences-10-KB", nested("[", "]", 10_000), CHECK),
            ("flow-sequences-unclosed", nested("[", "", 100_000), PORTS),
            ("flow-mappings", nested("{a: ", "}", 5_000), HARDEN),
            ("flow-mixed", nested("[{a: ", "}]", 3_000), VALIDATE),
            ("block-sequences", block_nested(3_000), CHECK),
            ("block-mappings", block_mapping_nested(3_000), PORTS),
            ("after-a-bom-and-cr-lines",
             b"\xef\xbb\xbf" + nested("[", "]", 10_000).replace(b"\n", b"\r"), CHECK),
        )
    },
    "nested-within-the-bound": _c(nested("[", "]", 190), CHECK, 1, ""),
    "billion-laughs": _c(billion_laughs(), CHECK, 2, "COMPOSE_NET_MAX_NODES=N"),
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(case: Case, user: tuple[str, str] | None) -> None:
    with bounded.open_folder() as d:
        for name, data in case.files.items():
            (d / name).write_bytes(data)
        for i in range(200):  # the project directories rows name
            (d / f"d{i}").mkdir()
        account = bounded.nobody() if user is not None else None
        for path in [d, *d.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
            if account is not None:  # nobody's project, as a checkout would be
                os.chown(path, account.pw_uid, account.pw_gid)
        argv = case.argv if case.argv[-1].endswith((".yml", ".yaml")) else (
            *case.argv, case.target
        )
        before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
        started = _cpu()
        proc = bounded.run(argv, cwd=d, limits=LIMITS, env=case.env, user=user)
        spent = _cpu() - started
        err = proc.stderr.decode(errors="replace")
        assert "Traceback" not in err and "internal error" not in err, err[-2000:]
        assert proc.returncode == case.code, (proc.returncode, err[-2000:])
        assert spent < CPU_SECONDS, spent
        lines = err.splitlines()
        if case.message:
            assert lines and lines[0].startswith("compose-net: error: "), err[-2000:]
            assert case.message in lines[0], err[-2000:]
            summary = lines[1:] == [] or (
                case.argv[0] == "check" and len(lines) == 2 and "not checked" in lines[1]
            )
            assert summary, err[-2000:]  # one line, and check's summary
        else:
            assert "error:" not in err, err[-2000:]
        if case.code == 2:
            assert {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("case", [pytest.param(c, id=i) for i, c in CASES.items()])
def test_bounded_as_root(case: Case) -> None:
    _run(case, None)


#: the rows run as nobody too: one of each class, and each command
AS_NOBODY = (
    "env-multiplying-1.9-GB", "env-from-the-environment",
    "compose-strings-repeat-a-dotenv-value-check",
    "includes-doubling-19-files-harden", "one-file-many-project-directories",
    "extends-fan-out-over-a-chain", "seven-full-ranges-harden-check", "ranges-through-variables",
    "a-range-within-the-bound-harden-check", "nested-flow-sequences-10-KB",
    "nested-block-sequences", "billion-laughs",
)  # fmt: skip


@pytest.mark.parametrize("name", AS_NOBODY)
def test_bounded_as_nobody(name: str, as_nobody: tuple[str, str]) -> None:
    _run(CASES[name], as_nobody)


def test_every_bound_is_named_once_with_its_variable() -> None:
    """Each bound has one variable, and the rows above reach the new ones."""
    from compose_net import bounds

    variables = [b.variable for b in bounds.ALL]
    assert len(set(variables)) == len(variables)
    reached = " ".join(c.message for c in CASES.values())
    for bound in (bounds.ENV_EXPANSION, bounds.EXPANSION, bounds.PROJECT_FILES,
                  bounds.PROJECT_BYTES, bounds.RANGE_PORTS, bounds.DEPTH):  # fmt: skip
        assert f"{bound.variable}=N" in reached or bound.what in reached, bound.variable

