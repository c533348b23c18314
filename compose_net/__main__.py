from __future__ import annotations

from compose_net.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
