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
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Self

from matplotlib.figure import Figure

from detente.report.cores import WORKERS_ENV, can_fork, default_workers
from detente.report.figures import figure_bytes

__all__ = [
    "MIN_PARALLEL_COST",
    "WORKERS_ENV",
    "FigureMaker",
    "PngPool",
    "can_fork",
    "default_workers",
    "longest_first",
    "png_of",
    "render_pngs",
]

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


class PngPool:
    """Forked worker processes drawing a list of figures, the costliest first.

    The workers are forked when the pool is made, with the figures in their memory (a task
    is an index, so no figure's data is pickled). A figure is handed to a worker only when
    one is free, so the figures not started yet can be taken back (:meth:`release`) and
    drawn elsewhere. Use it in a ``with`` block: leaving it waits for the figures being
    drawn and drops the others.
    """

    def __init__(
        self, makers: Sequence[FigureMaker], workers: int, costs: Sequence[float] | None = None
    ) -> None:
        global _FORKED
        costs = list(costs) if costs is not None else [1.0] * len(makers)
        self._waiting = deque(longest_first(costs))
        self._futures: dict[int, Future[bytes]] = {}
        self._index: dict[Future[bytes], int] = {}
        self._lock = threading.Lock()
        n = max(1, min(workers, len(makers)))
        self._pool = ProcessPoolExecutor(
            max_workers=n, mp_context=multiprocessing.get_context("fork")
        )
        with _POOL_LOCK:
            _FORKED = makers
            # frozen, the inherited objects are left alone by the workers' collector, so
            # their pages stay shared (unless the caller froze objects of its own: then left
            # as it is)
            freeze = gc.get_freeze_count() == 0
            if freeze:
                gc.freeze()
            try:  # the workers are forked at the first submit
                first = [self._start_next() for _ in range(n)]
            finally:
                if freeze:
                    gc.unfreeze()
                _FORKED = ()
        for future in first:
            if future is not None:
                threading.Thread(target=self._feed, args=(future,), daemon=True).start()

    def _start_next(self) -> Future[bytes] | None:
        """Hand the next figure to a worker; None when none is left."""
        with self._lock:
            if not self._waiting:
                return None
            k = self._waiting.popleft()
            try:
                future = self._pool.submit(_png_at, k)
            except Exception as exc:  # a broken or closed pool: the figure fails
                future = Future()
                future.set_exception(exc)
            self._futures[k] = future
            self._index[future] = k
            return future

    def _feed(self, future: Future[bytes] | None) -> None:
        """Keep one worker busy: the next figure when the last one is finished."""
        while future is not None:
            wait([future])
            future = self._start_next()

    def release(self) -> list[int]:
        """Take back the figures not handed to a worker yet (they will not be drawn here)."""
        with self._lock:
            taken = list(self._waiting)
            self._waiting.clear()
        return taken

    def png(self, k: int) -> bytes:
        """The PNG of figure ``k``, one :meth:`as_finished` gave (raises what drawing it
        raised)."""
        with self._lock:
            future = self._futures[k]
        return future.result()

    def as_finished(self) -> Iterator[int]:
        """The figures' indices as they are finished (not those released)."""
        seen: set[int] = set()
        while True:
            with self._lock:
                running = [f for k, f in self._futures.items() if k not in seen]
                left = bool(self._waiting)
            if not running and not left:
                return
            if not running:  # a worker's next figure is being handed over
                time.sleep(0.001)
                continue
            for future in wait(running, return_when=FIRST_COMPLETED).done:
                seen.add(self._index[future])
                yield self._index[future]

    def close(self) -> None:
        """Drop the figures not started and wait for the workers to end."""
        self.release()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    results: dict[int, bytes] = {}
    with PngPool(makers, workers, costs) as pool:
        for k in pool.as_finished():
            results[k] = pool.png(k)
            if progress is not None:
                progress(k)
    return [results[k] for k in range(len(makers))]
