"""Every reason agrees with its finding: a host IP built from a variable, with the variable
unset, set but empty and set, in ``.env``.

The finding (check) and harden's reason for not fixing it (when it cannot) must tell one
story: a variable the finding calls empty is never said to hold an address, a reason that
sends the user to ``.env`` is given only where the variable's own value is the problem
(a new default in the file cannot help), and whatever harden fixes, check accepts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

UNSET = None

#: (ports entry, variable's value in .env or UNSET, outcome): "fixed" (harden fixes it and
#: check then passes), "env" (the fix belongs in .env), "file" (the file must be rewritten by
#: hand: no default can fix it), "clean" (nothing to report)
CASES = [
    ('"${V}:80:80"', UNSET, "fixed"),
    ('"${V}:80:80"', "", "fixed"),
    ('"${V}:80:80"', "8.8.8.8", "env"),
    ('"${V}:80:80"', "10.1.1.1", "fixed"),
    ('"${V:-0.0.0.0}:80:80"', UNSET, "fixed"),
    ('"${V:-0.0.0.0}:80:80"', "", "fixed"),
    ('"${V:-0.0.0.0}:80:80"', "0.0.0.0", "env"),
    ('"${V:-0.0.0.0}:80:80"', "10.1.1.1", "fixed"),
    ('"${V-0.0.0.0}:80:80"', "", "fixed"),
    ('"${V-0.0.0.0}:80:80"', UNSET, "fixed"),
    ('"${V:-10.0.0.7}:80:80"', UNSET, "clean"),
    ('"${V:-10.0.0.7}:80:80"', "", "clean"),
    ('"${V:-10.0.0.7}:80:80"', "8.8.8.8", "env"),
    ('"${V:+0.0.0.0}:80:80"', "1", "file"),
    ('"${V:+0.0.0.0}:80:80"', UNSET, "file"),
    ("{target: 80, published: 80, host_ip: '${V:-0.0.0.0}'}", "", "fixed"),
    ("{target: 80, published: 80, host_ip: '${V:-0.0.0.0}'}", UNSET, "fixed"),
    ("{target: 80, published: 80, host_ip: '${V:-0.0.0.0}'}", "203.0.113.1", "env"),
    ("{target: 80, published: 80, host_ip: '${V}'}", "0.0.0.0", "env"),
]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compose_net", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def _state(value: str | None) -> str:
    return "unset" if value is None else ("empty" if value == "" else "set")


@pytest.mark.parametrize(
    ("entry", "value", "outcome"),
    [pytest.param(e, v, o, id=f"{e}-{_state(v)}") for e, v, o in CASES],
)
def test_reason_agrees_with_finding(
    tmp_path: Path, entry: str, value: str | None, outcome: str
) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(f"services:\n  web:\n    image: x\n    ports:\n      - {entry}\n")
    if value is not None:
        (tmp_path / ".env").write_text(f"V={value}\n")
    checked = _run("check", "--no-config", "--format", "json", "compose.yaml", cwd=tmp_path)
    findings = json.loads(checked.stdout)["findings"]
    hardened = _run("harden", "--no-config", "--bind", "10.0.0.5", "--stdout", "compose.yaml",
                    cwd=tmp_path)
    reasons = [line for line in hardened.stderr.splitlines() if "not fixed:" in line]
    if outcome == "clean":
        assert (checked.returncode, findings, hardened.returncode) == (0, [], 0)
        return
    assert checked.returncode == 1 and findings, checked.stderr
    messages = " ".join(f["message"] for f in findings)
    for reason in reasons:
        why = reason.split("not fixed:", 1)[1]
        if "V is set but empty" in messages:
            assert "V is set to" not in why, reason  # one story: empty is not an address
        if "change it there" in why:
            assert value, reason  # only a value of its own belongs in .env
    if outcome in ("env", "file"):
        assert hardened.returncode == 1
        assert len(reasons) == 1, hardened.stderr
        assert ("in .env: change it there" in reasons[0]) == (outcome == "env"), reasons[0]
        return
    assert (hardened.returncode, reasons) == (0, []), hardened.stderr
    compose.write_text(hardened.stdout)
    again = _run("check", "--no-config", "--format", "json", "compose.yaml", cwd=tmp_path)
    assert again.returncode == 0, again.stdout
