"""Figures of a report drawn ahead of it, taken by the report by cache key.

A report's structure chart, position maps and expected-utility rounds depend on its
scenario alone, so they can be drawn before the run's results exist: ``detente run``
starts them while it simulates (:mod:`detente.report.background`). The report takes them
by cache key (:func:`~detente.report.figure_cache.figure_key`, :func:`~detente.report.html.
scenario_figures`): the key covers the figure's function, its arguments and the drawing
code, so a figure taken from here is the one the report would draw, byte for byte; a
figure whose key is not promised (or whose drawing failed) is drawn as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Protocol, Self

from detente.report.figure_cache import figure_key
from detente.report.figure_pool import FigureMaker, PngPool


class Predrawn(Protocol):
    """Figures drawn elsewhere, by cache key."""

    def keys(self) -> frozenset[str]:
        """The keys of the figures promised (they may not be finished yet)."""
        ...

    def release(self) -> frozenset[str]:
        """Stop drawing the figures not started yet; their keys (the caller draws them)."""
        ...

    def collect(self) -> dict[str, bytes]:
        """Every promised figure that was finished, by key (waits for the ones started)."""
        ...


class PoolDrawn:
    """Figures being drawn by a :class:`~detente.report.figure_pool.PngPool` started now.

    Use it in a ``with`` block: leaving it ends the pool (figures not started are dropped).
    """

    def __init__(self, makers: Sequence[FigureMaker], workers: int) -> None:
        keyed = [(key, make) for make in makers if (key := figure_key(make)) is not None]
        self._keys = [key for key, _ in keyed]
        self._pool = PngPool([make for _, make in keyed], workers) if keyed else None

    def keys(self) -> frozenset[str]:
        """The keys of the figures being drawn."""
        return frozenset(self._keys)

    def release(self) -> frozenset[str]:
        """Stop drawing the figures no worker has started; their keys."""
        if self._pool is None:
            return frozenset()
        return frozenset(self._keys[k] for k in self._pool.release())

    def collect(self) -> dict[str, bytes]:
        """The figures, by key, once all those not released are drawn; one whose drawing
        failed is left out (the report draws it, and says what went wrong)."""
        out: dict[str, bytes] = {}
        if self._pool is None:
            return out
        for k in self._pool.as_finished():
            with contextlib.suppress(Exception):
                out[self._keys[k]] = self._pool.png(k)
        return out

    def close(self) -> None:
        """End the pool."""
        if self._pool is not None:
            self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
