"""Render a report's figures to PNG bytes, in parallel processes when that pays.

Drawing and encoding the figures is most of the time ``detente run --quick`` spends on its
report (docs/performance.md). Each figure is independent, so :func:`render_pngs` hands them
to a pool of forked worker processes, which start at once with matplotlib already loaded
and need no ``if __name__ == "__main__"`` guard in the caller's script (``spawn`` and
``forkserver`` need one, and start slower: 6.6 s against 5.0 s for the quick run's report
on 2 cores). Where fork is unavailable (Windows) the figures are drawn in-process. The
children only draw with matplotlib's Agg backend. The same inputs give the same bytes
whichever process draws them: Agg output depends only on the figure and the fixed style,
DPI and metadata of :func:`detente.report.figures.figure_bytes`.

``$DETENTE_REPORT_WORKERS`` caps the workers (``1``: draw in this process).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from matplotlib.figure import Figure

from detente.report.figures import figure_bytes

WORKERS_ENV = "DETENTE_REPORT_WORKERS"
MIN_PARALLEL_COST = 1.0
"""The pool is used only when the figures other than the costliest cost at least this much
together (in the units of :func:`render_pngs`'s ``costs``, 1 for a figure without one: about
a position map, 0.45 s on the machine of docs/performance.md); starting and feeding the
workers costs 0.1-0.3 s, more than a few small figures take."""

FigureMaker = Callable[[], Figure]
"""A callable drawing one figure (a ``functools.partial`` of a figure function, so that the
figure cache can key it: :mod:`detente.report.figure_cache`)."""


def png_of(make: FigureMaker) -> bytes:
    """Draw one figure and encode it as PNG."""
    return figure_bytes(make(), "png")


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


_FORKED: Sequence[FigureMaker] = ()
"""The figures of the pool being started: forked workers inherit them, so a task is an index
(no figure's data is pickled, only the PNG comes back)."""
_POOL_LOCK = threading.Lock()


def _png_at(k: int) -> bytes:
    return png_of(_FORKED[k])


def longest_first(costs: Sequence[float]) -> list[int]:
    """Indices by decreasing cost (ties in the order given): the longest figures start first,
    so that no worker is left drawing a long one alone at the end."""
    return sorted(range(len(costs)), key=lambda k: -costs[k])


def render_pngs(
    makers: Sequence[FigureMaker],
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    costs: Sequence[float] | None = None,
) -> list[bytes]:
    """PNG bytes of each figure, in the order given.

    Parameters
    ----------
    makers : sequence of callables
        Each draws one figure.
    workers : int
        Processes to draw with (``1``: in this process).
    progress : callable, optional
        Called with the index of each figure as it is finished.
    costs : sequence of float, optional
        Rough relative drawing time of each figure (default 1 each): workers take the
        costliest first, and a few cheap figures are drawn in this process.
    """
    workers = min(workers, len(makers))
    costs = list(costs) if costs is not None else [1.0] * len(makers)
    worth_it = bool(costs) and sum(costs) - max(costs) >= MIN_PARALLEL_COST
    if workers <= 1 or not worth_it or not can_fork():
        out = []
        for k, make in enumerate(makers):
            out.append(png_of(make))
            if progress is not None:
                progress(k)
        return out
    global _FORKED
    order = longest_first(costs)
    context = multiprocessing.get_context("fork")
    results: list[bytes | None] = [None] * len(makers)
    with _POOL_LOCK:
        _FORKED = makers
        # frozen, the inherited objects are left alone by the workers' collector, so their
        # pages stay shared (unless the caller froze objects of its own: then left as it is)
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(_png_at, k): k for k in order}
                if freeze:  # the workers were forked at the first submit
                    gc.unfreeze()
                    freeze = False
                for future in as_completed(futures):
                    k = futures[future]
                    results[k] = future.result()
                    if progress is not None:
                        progress(k)
        finally:
            if freeze:
                gc.unfreeze()
            _FORKED = ()
    return [r for r in results if r is not None]
