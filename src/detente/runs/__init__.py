"""Runs: every artifact of an experiment run in one folder keyed by the run's id.

:class:`~detente.runs.directory.RunDir` owns the folder (the experiment jobs write through
it, atomically); :func:`open_run` gives users and the report read-only access to a run's
tables as pandas objects. See ``docs/experiments.md`` ("Run directories").
"""

from detente.runs.directory import DEFAULT_ROOT, RunDir, find_run, latest_id, run_ids
from detente.runs.run import Run, open_run

__all__ = ["DEFAULT_ROOT", "Run", "RunDir", "find_run", "latest_id", "open_run", "run_ids"]
