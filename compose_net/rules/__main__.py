"""``python -m compose_net.rules``: print the rules' documentation as Markdown."""

from __future__ import annotations

import sys

from compose_net.rules import markdown

sys.stdout.write(markdown())
