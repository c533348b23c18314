"""``check`` over the corpus of 710 real compose files, against ``docker-compose config``.

The oracle (``shared/corpus/oracle``) holds, for each file, the port objects the
real Compose binary printed with an empty environment. A port is on all
interfaces when its ``host_ip`` is absent, ``""``, ``0.0.0.0`` or ``::``.

``check`` reports entries (a line and column in the file), Compose prints
objects (a range entry gives one object per port, and an entry inherited
through ``extends`` is printed under every service that inherits it). So the
comparison is made per port object: each entry that all-interfaces (CN001) or
variable-host-ip (CN003) reports is normalised with the same empty
environment, and its objects that are on all interfaces are attributed to the
finding's service. Compose prints a port that a service lists twice once, so
each service's objects are compared as a set. The two sets must be equal for
every file Compose accepts; files it rejects are left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from harness import require

from compose_net import document, model, source
from compose_net.commands import check

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ALL_INTERFACES = (None, "", "0.0.0.0", "::")

Key = tuple[str, str]  # (service, the object as canonical JSON)


def _corpus() -> Path:
    require((CORPUS / "oracle" / "SUMMARY.tsv").is_file(), f"the corpus is not at {CORPUS}")
    return CORPUS


def _key(service: str, obj: dict[str, Any]) -> Key:
    return service, json.dumps(obj, sort_keys=True)


def _oracle(path: str) -> dict[str, Any]:
    relative = Path(path).relative_to("files").with_suffix(".json")
    data: dict[str, Any] = json.loads((CORPUS / "oracle" / relative).read_text(encoding="utf-8"))
    return data


def _found(path: Path, result: Any) -> tuple[set[Key], int]:
    """The all-interfaces objects of the reported entries, and how many entries were reported."""
    doc = document.load(source.read(str(path)))
    entries = {(e.position.line, e.position.column): e for e in doc.entries()}
    found: set[Key] = set()
    for finding in result.findings:
        entry = entries[(finding.line, finding.column)]
        objects = model.normalize_entry(entry, {})
        if finding.rule == "CN001":
            assert all(obj.get("host_ip") in ALL_INTERFACES for obj in objects), finding
        for obj in objects:
            if obj.get("host_ip") in ALL_INTERFACES:
                found.add(_key(str(finding.service), dict(obj)))
    return found, len(result.findings)


def test_all_interfaces_agrees_with_compose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = _corpus()
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("", encoding="utf-8")
    # the Compose reading is what the oracle shows: a file that looks like a swarm stack is
    # checked with --target stack by default (its ports are CN005 there, proved against
    # `docker stack config` in tests/swarm/stack_auto_test.py)
    opts = check.Options(
        target="compose",
        select=("CN001", "CN003"),
        environ={},
        env_files=(str(empty_env),),
        use_config=False,
    )
    rows = (corpus / "oracle" / "SUMMARY.tsv").read_text(encoding="utf-8").splitlines()[1:]
    files = excluded = outside = entries = 0
    expected_total = found_total = without_host_ip = 0
    disagreements: list[str] = []
    for row in rows:
        path = row.split("\t")[0]
        oracle = _oracle(path)
        if not oracle["ok"]:
            excluded += 1
            continue
        if any(m.startswith("copied from repo") for m in oracle["materialized"]):
            # Compose read it with a file from its repository (extends: {file:}) that the
            # corpus does not hold; check reads that file as Compose does, so it cannot here
            outside += 1
            continue
        files += 1
        expected = {
            _key(service, obj)
            for service, objects in oracle["ports"].items()
            for obj in objects
            if obj.get("host_ip") in ALL_INTERFACES
        }
        without_host_ip += len(
            {
                _key(service, obj)
                for service, objects in oracle["ports"].items()
                for obj in objects
                if "host_ip" not in obj
            }
        )
        result = check.check_paths([str(corpus / path)], opts)
        if result.errors:
            disagreements.append(f"{path}: not checked: {result.errors[0]}")
            continue
        found, reported = _found(corpus / path, result)
        entries += reported
        expected_total += len(expected)
        found_total += len(found)
        if found != expected:
            disagreements.append(
                f"{path}: missed {sorted(expected - found)[:3]}, "
                f"extra {sorted(found - expected)[:3]}"
            )
    with capsys.disabled():
        print(
            f"\ncorpus: {files} files Compose accepts ({excluded} it rejects and {outside} it "
            "read with a file from its repository, left out); "
            f"Compose shows {expected_total} distinct port objects on all interfaces "
            f"({without_host_ip} without host_ip), check finds {found_total} "
            f"from {entries} reported entries; "
            f"{files - len(disagreements)} of {files} files agree exactly"
        )
    assert disagreements == []
    # the corpus as its README describes it: 606 files Compose accepts, one of them (Immich)
    # with a file copied from its repository
    assert (files, outside, excluded) == (605, 1, 104)
    assert found_total == expected_total > 1000
