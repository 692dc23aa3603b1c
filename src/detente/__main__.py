"""``detente`` and ``python -m detente``: the command line, interruptible from its first instant.

The console script enters here rather than in :mod:`detente.cli` so that a Ctrl-C while the
command line's own modules are still being imported (Typer, Rich, the command groups:
a few tenths of a second) exits 130 with one line, like an interrupt anywhere later
(:func:`detente.cli.main`), instead of printing a traceback.

When the command is over, every object still alive is frozen out of the garbage
collector's reach (:func:`gc.freeze`): the interpreter's shutdown then no longer walks the
hundreds of thousands of objects of NumPy, pandas, SciPy and matplotlib looking for cycles
(0.3 s of ``detente run --quick``, docs/performance.md). Shutdown still runs the ``atexit``
handlers and every finalizer reached by reference counting; only cyclic garbage left at
exit is no longer collected, which the operating system reclaims with the process.
"""

from __future__ import annotations

import gc
import sys


def main() -> None:
    """Import the command line and run it; an interrupt during the import exits 130."""
    try:
        from detente.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    try:
        cli_main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
