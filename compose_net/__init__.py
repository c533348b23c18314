"""compose-net: keep published Compose ports off public interfaces."""

from __future__ import annotations

__version__ = "0.1.0"
