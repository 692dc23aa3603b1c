"""Compiled kernels of the simulation engine, built from Cython when detente is installed.

Each module compiles the per-world loops of one mechanism of :mod:`detente.sim.engine`
(docs/model.md names the section); the engine's function of the same name prepares the
arrays and calls it. They are compiled by ``pip install`` (setuptools runs Cython and the
C compiler), so no run pays a compile (docs/performance.md, "Compiled engine").
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray


def leaf(x: Any) -> NDArray[np.float64]:
    """A parameter as the kernels read it: a float64 vector of 1 value (shared by all
    worlds) or of one value per world (stacked states)."""
    return np.atleast_1d(np.asarray(x, dtype=np.float64))


NO_MASK = np.zeros((0, 0), dtype=np.uint8)
"""The empty mask :func:`mask` gives for ``None`` (no mask this step)."""


def mask(x: Any) -> NDArray[np.uint8]:
    """A bool mask as the kernels read it: the C-order ``uint8`` view; ``None``: empty."""
    if x is None:
        return NO_MASK
    return np.ascontiguousarray(x, dtype=bool).view(np.uint8)
