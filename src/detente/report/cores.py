"""How many processes may draw a report's figures, whether they can be forked, and how a
report tells its progress.

Kept apart from :mod:`detente.report.figure_pool` so that asking costs no import of
matplotlib (``detente run`` asks before it decides where its report is built).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable

ReportProgress = Callable[[str, int], None]
"""``progress(figure_id, total)``: called as each figure of the report is drawn."""

WORKERS_ENV = "DETENTE_REPORT_WORKERS"
"""Caps the processes drawing figures (``1``: draw in the calling process)."""


def can_fork() -> bool:
    """Whether worker processes can be forked (POSIX); elsewhere figures are drawn in-process."""
    return "fork" in multiprocessing.get_all_start_methods()


def default_workers() -> int:
    """Workers to use: ``$DETENTE_REPORT_WORKERS`` if set, else the CPUs this process may use."""
    text = os.environ.get(WORKERS_ENV, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
