"""``detente`` and ``python -m detente``: the command line, interruptible from its first instant.

The console script enters here rather than in :mod:`detente.cli` so that a Ctrl-C while the
command line's own modules are still being imported (Typer, Rich, the command groups:
a few tenths of a second) exits 130 with one line, like an interrupt anywhere later
(:func:`detente.cli.main`), instead of printing a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import the command line and run it; an interrupt during the import exits 130."""
    try:
        from detente.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    cli_main()


if __name__ == "__main__":
    main()
