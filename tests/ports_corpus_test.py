"""``compose-net ports`` on the whole corpus, against Compose's own normalisation.

The corpus (``shared/corpus``, see its README) stores what docker-compose 2.40.3
prints for every file (``oracle/``), run in an empty project with no variables.
Here:

* the real console script runs once over every file Compose accepts, with no
  variables either, and each service's ports must equal the stored objects
  (host_ip, target, published, protocol, mode, and name/app_protocol): all of
  them, counted and compared with the expected total;
* a deterministic sample of 40 files goes through the binary again, live, set up
  the way the oracle was made, to show the stored oracle is still what the binary
  prints, and compose-net agrees on the same temp projects;
* ``--no-interpolate`` is checked against the oracle's second run where Compose
  could parse the entries as written;
* the corpus is read only: its files hash the same before and after.

One accepted file is left out: ``jimsgarage/Immich__docker-compose.yml`` extends a
service from ``hwaccel.yml``, which the oracle copied from the repository and the
corpus does not hold. Without it Compose rejects the file, and so does compose-net
(``test_missing_extends_target``).
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness import require

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SCRIPT = Path(sys.executable).parent / "compose-net"
#: Accepted by Compose with interpolation and no variables (the oracle's 606), less Immich.
EXPECTED_FILES = 605
EXPECTED_PORTS = 1509
SAMPLE = 40
OURS = ("line", "column", "exposure", "file", "merges")


def _rows() -> list[dict[str, Any]]:
    """Every corpus file with its oracle record and manifest row, in SUMMARY order."""
    manifest = {
        row["local_path"]: row
        for row in csv.DictReader((CORPUS / "MANIFEST.tsv").open(), delimiter="\t")
    }
    rows = []
    for row in csv.DictReader((CORPUS / "oracle" / "SUMMARY.tsv").open(), delimiter="\t"):
        rel = row["path"]
        oracle = CORPUS / "oracle" / Path(rel).relative_to("files").with_suffix(".json")
        rows.append({"rel": rel, "oracle": json.loads(oracle.read_text()), **manifest[rel]})
    return rows


def _outside_corpus(row: dict[str, Any]) -> bool:
    """The oracle needed a file copied from the repository, which the corpus lacks."""
    return any(m.startswith("copied from repo") for m in row["oracle"]["materialized"])


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    require(CORPUS.is_dir(), f"the corpus is not at {CORPUS}")
    return _rows()


@pytest.fixture(scope="module")
def accepted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["oracle"]["ok"] and not _outside_corpus(r)]


def _digest() -> str:
    sha = hashlib.sha256()
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file():
            sha.update(str(path.relative_to(CORPUS)).encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


@pytest.fixture(scope="module", autouse=True)
def digest_before() -> str:
    return _digest() if CORPUS.is_dir() else ""


def _run_script(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script, with no variables in its environment."""
    require(SCRIPT.is_file(), f"the compose-net console script is not at {SCRIPT}")
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _printed(data: dict[str, Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """path -> service -> Compose's objects, from ``compose-net ports --format json``."""
    return {
        f["path"]: {
            name: [{k: v for k, v in port.items() if k not in OURS} for port in service["ports"]]
            for name, service in f["services"].items()
        }
        for f in data["files"]
    }


@pytest.fixture(scope="module")
def ports_json(accepted: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Any:
    paths = [str(CORPUS / r["rel"]) for r in accepted]
    proc = _run_script(["ports", "--format", "json", *paths], tmp_path_factory.mktemp("run"))
    return proc.returncode, _printed(json.loads(proc.stdout)), proc.stderr


def test_every_accepted_file_matches_the_oracle(
    accepted: list[dict[str, Any]],
    ports_json: Any,
) -> None:
    code, printed, err = ports_json
    assert (code, err) == (0, "")
    mismatched = []
    n_ports = 0
    for row in accepted:
        want = row["oracle"]["ports"]
        got = printed[str(CORPUS / row["rel"])]
        n_ports += sum(len(v) for v in want.values())
        if got != want:
            mismatched.append(row["rel"])
    n_got = sum(len(v) for services in printed.values() for v in services.values())
    print(
        f"\ncorpus: {len(accepted) - len(mismatched)}/{len(accepted)} files, "
        f"{n_got}/{n_ports} ports equal to docker-compose config",
    )
    assert mismatched == []
    assert (len(accepted), n_ports, n_got, len(printed)) == (
        EXPECTED_FILES,
        EXPECTED_PORTS,
        EXPECTED_PORTS,
        EXPECTED_FILES,
    )


def test_missing_extends_target(
    rows: list[dict[str, Any]], compose_bin: str, tmp_path: Path
) -> None:
    left_out = [r for r in rows if r["oracle"]["ok"] and _outside_corpus(r)]
    assert [r["rel"] for r in left_out] == ["files/jimsgarage/Immich__docker-compose.yml"]
    project = _project(tmp_path, left_out[0])
    proc = _run_script(["ports", str(project)], tmp_path)
    assert (
        proc.returncode,
        "cannot extend 'hwaccel': file hwaccel.yml not found" in proc.stderr,
    ) == (
        2,
        True,
    ), proc.stderr
    assert _compose(compose_bin, project, left_out[0])[0] is None


# --------------------------------------------------------------------------- live sample


def _project(root: Path, row: dict[str, Any]) -> Path:
    """The file in ``<root>/a/b/proj`` under its repository name, placeholders made, as
    make_oracle.py sets it up."""
    folder = root / "a" / "b" / "proj"
    folder.mkdir(parents=True)
    name = os.path.basename(row["path_in_repo"].split("#", 1)[0])
    if not re.search(r"\.ya?ml$", name):
        name = "compose.yaml"
    shutil.copyfile(CORPUS / row["rel"], folder / name)
    for item in row["oracle"]["materialized"]:
        what, _, rel = item.partition(": ")
        if what == "empty placeholder":
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).touch()
    return folder / name


def _compose(binary: str, path: Path, row: dict[str, Any]) -> tuple[Any, str]:
    home = path.parent.parent.parent.parent / "home"
    home.mkdir(exist_ok=True)
    flags = [f for f in row["oracle"]["flags"] if f != "--no-interpolate"]
    proc = subprocess.run(
        [binary, "--profile", "*", "-f", path.name, "config", "--format", "json", *flags],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "DOCKER_CONFIG": str(home / ".docker"),
            "DOCKER_HOST": f"unix://{home}/no-daemon.sock",
        },
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        return None, proc.stderr
    services = json.loads(proc.stdout).get("services") or {}
    return {name: s["ports"] for name, s in sorted(services.items()) if s.get("ports")}, ""


def _sample(accepted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(accepted, key=lambda r: r["rel"])
    step = len(ordered) / SAMPLE
    return [ordered[int(i * step)] for i in range(SAMPLE)]


def test_live_sample_still_matches(
    accepted: list[dict[str, Any]],
    compose_bin: str,
    tmp_path: Path,
) -> None:
    sample = _sample(accepted)

    def one(i: int) -> tuple[Path, Any, str]:
        path = _project(tmp_path / str(i), sample[i])
        got, err = _compose(compose_bin, path, sample[i])
        return path, got, err

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        live = list(pool.map(one, range(len(sample))))
    assert [(r["rel"], got) for r, (_, got, _) in zip(sample, live)] == [
        (r["rel"], r["oracle"]["ports"]) for r in sample
    ]
    proc = _run_script(["ports", "--format", "json", *(str(p) for p, _, _ in live)], tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    printed = _printed(json.loads(proc.stdout))
    assert [printed[str(path)] for path, _, _ in live] == [got for _, got, _ in live]
    print(f"\ncorpus live sample: {len(sample)} files, docker-compose = oracle = compose-net")


# --------------------------------------------------------------------------- --no-interpolate


def _published_as_string(port: dict[str, Any]) -> dict[str, Any]:
    """compose config --no-interpolate keeps ``published: 8080`` an integer; compose-net
    prints published ports as strings in both modes."""
    if isinstance(port.get("published"), int):
        return {**port, "published": str(port["published"])}
    return port


def _raw(ports: list[Any]) -> bool:
    """Compose left the list as written: it could not parse an entry without its variables."""
    return any(not isinstance(p, dict) for p in ports)


def test_no_interpolate_matches_where_compose_parses(
    rows: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    chosen = [r for r in rows if r["oracle"]["no_interpolate"]["ok"] and not _outside_corpus(r)]
    paths = [str(CORPUS / r["rel"]) for r in chosen]
    proc = _run_script(["ports", "--no-interpolate", "--format", "json", *paths], tmp_path)
    printed = _printed(json.loads(proc.stdout))
    refused = sorted(r["rel"] for r in chosen if str(CORPUS / r["rel"]) not in printed)
    # refused only where Compose, too, could not read an entry (it kept the list raw)
    assert refused == sorted(
        r["rel"]
        for r in chosen
        if r["rel"] in refused
        and any(_raw(v) for v in r["oracle"]["no_interpolate"]["ports"].values())
    )
    assert refused == ["files/lint-fixtures-dclint/tests__mocks__docker-compose.correct.yml"]
    compared = 0
    for row in chosen:
        if row["rel"] in refused:
            continue
        got = printed[str(CORPUS / row["rel"])]
        for name, ports in row["oracle"]["no_interpolate"]["ports"].items():
            if _raw(ports):
                continue
            assert (row["rel"], name, got.get(name)) == (
                row["rel"],
                name,
                [_published_as_string(p) for p in ports],
            )
            compared += 1
    print(f"\ncorpus --no-interpolate: {compared} services equal to docker-compose config")
    assert compared > 800


# --------------------------------------------------------------------------- read only


def test_corpus_untouched(digest_before: str) -> None:
    require(CORPUS.is_dir(), f"the corpus is not at {CORPUS}")
    assert _digest() == digest_before
