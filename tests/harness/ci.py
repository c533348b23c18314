"""Skip-or-fail policy: outside CI a missing prerequisite skips, inside CI it fails."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """True when the CI environment variable is set to anything non-empty."""
    return bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip the current test when condition is false, or fail it when running in CI."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI is set: missing prerequisites are failures)", pytrace=False)
    pytest.skip(reason)
