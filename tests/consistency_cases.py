"""Run ``harden`` and then ``check`` on its result, in one folder and one environment, and say
where they disagree with each other or with what the real Compose binary publishes.

The contract every consistency test holds a case to:

(a) harden exits 0 exactly when check on the result exits 0 (1 when findings remain); when
    harden exits 2, every file is byte-identical to what it was;
(b) the (service, target, published port, protocol) set Compose renders is the same before and
    after harden: nothing invented, nothing lost;
(c) every failing finding check reports on the result is named in harden's output: one line
    that names its service and its port;
(d) when harden exits 0, Compose renders no port on all interfaces except those check lists
    as allowed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness import oracle

BIND = "10.0.0.5"
#: host_ip values Compose renders for a port that listens on every interface
ALL_INTERFACES = (None, "", "0.0.0.0", "::")
#: read once: in-process runs swap os.environ while other threads start Compose
PYTHONPATH = os.environ.get("PYTHONPATH", "")
#: one in-process run at a time (it changes the working folder and the environment)
_IN_PROCESS = threading.Lock()


@dataclass(frozen=True)
class Result:
    """What one compose-net command did."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


Runner = Callable[[Sequence[str], Path, Mapping[str, str]], Result]


def subprocess_runner(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Result:
    """``python -m compose_net ARGS`` as its own process."""
    proc = subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def inprocess_runner(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Result:
    """``compose_net.cli.main(ARGS)`` in this process, with cwd, environment and output swapped."""
    from compose_net.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _IN_PROCESS:
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        try:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(list(args))
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
    return Result(code, out.getvalue(), err.getvalue())


def base_env(home: Path) -> dict[str, str]:
    """A small, fixed process environment; PYTHONPATH is kept so the tree under test wins."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "DOCKER_CONFIG": str(home),
        "DOCKER_HOST": f"unix://{home}/no-engine.sock",
        "LC_ALL": "C.UTF-8",
        "NO_COLOR": "1",
    }
    if PYTHONPATH:
        env["PYTHONPATH"] = PYTHONPATH
    return env


@dataclass
class Case:
    """A folder, an environment and the arguments harden and check get.

    ``projects`` lists each project's files (relative to the folder). ``with_f`` passes the one
    project as ``-f A -f B``; otherwise every project's first file is a FILE argument, and no
    project at all means both tools find compose.yaml and its override themselves. ``raw``
    replaces all that with project options both tools get as they are (``-f``,
    ``--env-file``, ...), and ``cwd`` is the folder, inside the case's, they run in.
    """

    files: Mapping[str, str | bytes]
    projects: list[list[str]] = field(default_factory=lambda: [["compose.yaml"]])
    with_f: bool = False
    env: dict[str, str] = field(default_factory=dict)
    harden: list[str] = field(default_factory=lambda: ["--bind", BIND])
    common: list[str] = field(default_factory=list)
    #: options of check and ports only (``--read-outside`` where harden has ``--edit-outside``)
    readers: list[str] = field(default_factory=list)
    raw: list[str] | None = None
    cwd: str = "."
    #: options of ``docker-compose config`` itself (``--no-consistency``)
    compose_flags: list[str] = field(default_factory=list)

    def file_args(self) -> list[str]:
        if self.raw is not None:
            return list(self.raw)
        if self.with_f:
            (project,) = self.projects
            return [arg for name in project for arg in ("-f", name)]
        return [project[0] for project in self.projects]

    def compose_projects(self) -> list[list[str]]:
        """The ``-f`` arguments of each project, for the Compose binary."""
        if self.raw is not None:
            return [list(self.raw)]
        if not self.projects:
            return [[]]
        if self.with_f or len(self.projects) == 1:
            return [[arg for name in project for arg in ("-f", name)] for project in self.projects]
        return [["-f", project[0]] for project in self.projects]


@dataclass
class Outcome:
    """Everything one run produced, and every broken promise found in it."""

    harden: Result | None
    check: Result | None = None
    before: list[dict[str, Any]] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)
    compose_rejects: str = ""
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.harden is None:
            return f"not run: Compose rejects the input ({self.compose_rejects})"
        lines = [f"harden exit {self.harden.code}:", self.harden.text.rstrip()]
        if self.check is not None:
            lines.append(f"check exit {self.check.code}:")
            try:
                report = json.loads(self.check.out)
            except ValueError:
                lines.append(self.check.text.rstrip())
            else:
                lines += [f"  {f['rule']} {f['message']}" for f in report.get("findings", [])]
        return "\n".join(["; ".join(self.problems), *lines])


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".home" not in p.parts
    }


def compose_ports(
    binary: str,
    folder: Path,
    projects: Sequence[Sequence[str]],
    env: Mapping[str, str],
    flags: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], str]:
    """Every port Compose renders (with its project index and service), or its error."""
    ports: list[dict[str, Any]] = []
    for index, args in enumerate(projects):
        proc = oracle.run(  # once per run for the same files (tests/harness/oracle.py)
            [binary, "--profile", "*", *args, "config", "--format", "json", *flags],
            folder,
            env,
        )
        if proc.returncode != 0:
            return [], (proc.stderr.strip() or f"exit {proc.returncode}").splitlines()[-1]
        services = json.loads(proc.stdout).get("services") or {}
        for name, service in services.items():
            for port in service.get("ports") or []:
                ports.append({**port, "project": index, "service": name})
    return ports, ""


def published(ports: Sequence[Mapping[str, Any]]) -> set[tuple[Any, ...]]:
    """(project, service, target, published, protocol) of each port: what harden must keep."""
    return {
        (
            p["project"],
            p["service"],
            p["target"],
            str(p.get("published") or ""),
            p.get("protocol", "tcp"),
        )
        for p in ports
    }


Location = tuple[str, int, int]


def _port_entries(report: Mapping[str, Any], cwd: Path) -> dict[Location, list[tuple[str, ...]]]:
    """(file, line, column) -> [(service, published, target)] from ``ports --format json``.

    An entry can stand for several ports (a range) and several services (an anchor).
    """
    where: dict[Location, list[tuple[str, ...]]] = {}
    for file in report.get("files", []):
        for service, body in (file.get("services") or {}).items():
            for port in body.get("ports") or []:
                value = (service, str(port.get("published") or ""), str(port.get("target")))
                for loc in [port, *port.get("merges", [])]:
                    path = loc.get("file") or file["path"]
                    key = (str((cwd / path).resolve()), loc["line"], loc["column"])
                    where.setdefault(key, []).append(value)
    return where


def _token(word: str) -> str:
    return rf"(?<![\w-]){re.escape(word)}(?![\w-])"


def named(text: str, service: str | None, port: str | None) -> bool:
    """True when one line of text names the service (and the port, when there is one)."""
    for line in text.splitlines():
        if service is not None and not re.search(_token(service), line):
            continue
        if port is not None and not re.search(rf"(?<!\d){re.escape(port)}(?!\d)", line):
            continue
        return True
    return False


def _first_port(value: str) -> str | None:
    match = re.match(r"\d+", value)
    return match.group(0) if match else None


def run_case(
    case: Case,
    folder: Path,
    runner: Runner,
    compose_bin: str,
    *,
    skip_rejected: bool = False,
) -> Outcome:
    """Set the case up in folder, harden, check, and compare; Outcome.problems lists what broke.

    With skip_rejected, a case Compose refuses is not run at all (Outcome.harden is None).
    """
    write_files(folder, case.files)
    env = {**base_env(folder / ".home"), **case.env}
    projects = case.compose_projects()
    cwd = folder / case.cwd
    cwd.mkdir(parents=True, exist_ok=True)
    before, rejects = compose_ports(compose_bin, cwd, projects, env, case.compose_flags)
    if rejects and skip_rejected:
        return Outcome(harden=None, compose_rejects=rejects)
    original = snapshot(folder)
    files = case.file_args()
    harden = runner(["harden", *files, *case.harden, *case.common], cwd, env)
    outcome = Outcome(harden=harden, before=before, compose_rejects=rejects)
    problems = outcome.problems
    if harden.code not in (0, 1, 2):
        problems.append(f"harden exited {harden.code}")
        return outcome
    if harden.code == 2:
        if snapshot(folder) != original:
            problems.append("harden exited 2 but changed files")
        return outcome
    check = runner(["check", "--format", "json", *files, *case.common, *case.readers], cwd, env)
    outcome.check = check
    try:
        report = json.loads(check.out)
    except ValueError:
        problems.append(f"check exited {check.code} without a JSON report: {check.err.strip()}")
        return outcome
    failing = [f for f in report.get("findings", []) if f.get("severity") != "note"]
    # (a) one verdict
    if check.code != harden.code:
        rules = ", ".join(sorted({f["rule"] for f in failing})) or "no finding"
        problems.append(
            f"harden exited {harden.code} but check on its result exits {check.code} ({rules})"
        )
    # (b) nothing invented, nothing lost
    if snapshot(folder) == original:
        # nothing was written: Compose would read what it read before
        after, rejects_after = before, rejects
    else:
        after, rejects_after = compose_ports(compose_bin, cwd, projects, env, case.compose_flags)
    outcome.after = after
    if bool(rejects) != bool(rejects_after):
        problems.append(
            f"Compose reads the input: {not rejects}, the result: {not rejects_after} "
            f"({rejects or rejects_after})"
        )
    elif published(before) != published(after):
        lost = sorted(published(before) - published(after), key=str)
        new = sorted(published(after) - published(before), key=str)
        problems.append(f"published ports changed: lost {lost}, invented {new}")
    # (c) what remains is named
    located: dict[Location, list[tuple[str, ...]]] = {}
    if failing or report.get("allowed"):
        ports_args = ["ports", "--format", "json", *files, *case.readers]
        ports_report = runner(ports_args, cwd, env)
        if ports_report.code != 0:
            # ports, as Compose, refuses ${X:?} with X unset; check reads it as written
            ports_report = runner([*ports_args, "--no-interpolate"], cwd, env)
        if ports_report.code == 0:
            located = _port_entries(json.loads(ports_report.out), cwd)
        else:
            problems.append(f"ports cannot read what check reads: {ports_report.err.strip()}")
    for finding in failing:
        key = (str((cwd / finding["path"]).resolve()), finding["line"], finding["column"])
        service = finding.get("service") or Path(finding["path"]).name
        # the finding's service with each port its entry stands for, or the service alone
        candidates = [
            (service, _first_port(pub) or target)
            for svc, pub, target in located.get(key, [])
            if svc == service
        ] or [(service, None)]
        port = candidates[0][1]
        if not any(named(harden.text, svc, p) for svc, p in candidates):
            problems.append(
                f"check reports {finding['rule']} for {service} port {port} "
                "but harden's output does not name it"
            )
    # (d) a success leaves nothing on all interfaces that is not allowed
    if harden.code == 0 and not rejects_after:
        allowed = set()
        for item in report.get("allowed", []):
            key = (str((cwd / item["path"]).resolve()), item["line"], item["column"])
            if key in located:
                allowed.update((svc, pub) for svc, pub, _ in located[key])
            else:
                allowed.add((item.get("service"), None))
        for port in after:
            pub = str(port.get("published") or "")
            if port.get("host_ip") in ALL_INTERFACES and not (
                (port["service"], pub) in allowed or (port["service"], None) in allowed
            ):
                problems.append(
                    f"harden exited 0 but Compose publishes {port['service']} "
                    f"{pub or '(ephemeral)'}:{port['target']} on all interfaces"
                )
    return outcome


def pairwise(
    dimensions: Mapping[str, Sequence[str]],
    needed: Callable[[str, str, str, str], bool] = lambda *_: True,
) -> list[dict[str, str]]:
    """A small set of combinations holding every value, and every needed pair of values, once.

    Greedy and deterministic: each row starts from the first value or pair still missing and
    takes, dimension by dimension, the value that covers the most of what is still missing
    (on a tie, the value used least so far, so that rows vary).
    """
    names = list(dimensions)
    singles = {(name, value) for name in names for value in dimensions[name]}
    pairs = {
        (a, va, b, vb)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        for va in dimensions[a]
        for vb in dimensions[b]
        if needed(a, va, b, vb) and needed(b, vb, a, va)
    }
    rows: list[dict[str, str]] = []
    used = {(name, value): 0 for name in names for value in dimensions[name]}
    while pairs or singles:
        if pairs:
            a, va, b, vb = min(pairs, key=lambda p: (names.index(p[0]), names.index(p[2]), p))
            row = {a: va, b: vb}
        else:
            name, value = min(singles, key=lambda s: (names.index(s[0]), s))
            row = {name: value}
        for name in names:
            if name in row:
                continue

            def gain(
                value: str, name: str = name, row: dict[str, str] = row
            ) -> tuple[int, int, int]:
                covered = sum(
                    1
                    for other, ov in row.items()
                    if (other, ov, name, value) in pairs or (name, value, other, ov) in pairs
                )
                # ties go to the value used least so far, then to the first one
                return (
                    covered + ((name, value) in singles),
                    -used[(name, value)],
                    -dimensions[name].index(value),
                )

            row[name] = max(dimensions[name], key=gain)
        ordered = {name: row[name] for name in names}
        for i, x in enumerate(names):
            used[(x, ordered[x])] += 1
            singles.discard((x, ordered[x]))
            for y in names[i + 1 :]:
                pairs.discard((x, ordered[x], y, ordered[y]))
        rows.append(ordered)
    return rows
