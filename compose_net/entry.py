"""The ``compose-net`` console script: the CLI, or one line when its own imports fail."""

from __future__ import annotations

import gc
import sys


def main() -> int:
    # Importing the CLI makes thousands of objects (classes, functions, compiled schemas)
    # and no garbage: the cyclic collector would only rescan them, several times, at every
    # start (about 8 ms of CPU of a 120 ms start-up). It stays off until the run ends, as
    # while the command runs (compose_net.cli.main).
    collecting = gc.isenabled()
    gc.disable()
    try:
        from compose_net.cli import main as cli_main
    except ModuleNotFoundError as e:  # click or PyYAML removed after install
        from compose_net.errors import missing_module
        from compose_net.report import EXIT_ERROR

        print(f"compose-net: error: {missing_module(e)}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if collecting:
            gc.enable()
    code = cli_main()
    # The process ends here: the objects of the run need no search for cycles, which the
    # interpreter's shutdown would make over every one of them (seconds for a big file).
    gc.freeze()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
