"""compose-net: keep published Compose ports off public interfaces."""

from __future__ import annotations

# The one place the version is written: pyproject.toml, --version and the SARIF driver read it
# here. A release is tagged v<version> (CHANGELOG.md); recipes pin that tag or a commit.
__version__ = "0.1.0"
