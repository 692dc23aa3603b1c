"""detente: turn a foreign-policy argument into a model to run, question and stress-test.

The flow runs one way: scenario files -> :mod:`detente.scenario` -> engines
(:mod:`detente.bargaining`, :mod:`detente.sim`) -> :mod:`detente.experiments` ->
:mod:`detente.store` and :mod:`detente.runs` -> :mod:`detente.report` and the CLI.

``detente.open_run("detente-out")`` reads a stored run's tables as pandas objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detente.runs.run import Run

__version__ = "0.1.0"


def open_run(path_or_dir: str | Path | None = None, run_id: str | None = None) -> Run:
    """Open a stored run read-only; see :func:`detente.runs.run.open_run`."""
    from detente.runs.run import open_run as _open_run

    return _open_run(path_or_dir, run_id)


__all__ = ["__version__", "open_run"]
