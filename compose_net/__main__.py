from __future__ import annotations

from compose_net.entry import main

if __name__ == "__main__":
    raise SystemExit(main())
