"""Compiled kernels of the simulation engine, built from Cython when detente is installed.

Each module compiles the per-world loops of one mechanism of :mod:`detente.sim.engine`
(docs/model.md names the section); the engine's function of the same name prepares the
arrays and calls it. They are compiled by ``pip install`` (setuptools runs Cython and the
C compiler), so no run pays a compile (docs/performance.md, "Compiled engine").
"""

import importlib.machinery
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.errors import InstallError


def _unbuilt() -> list[str]:
    """The kernels whose ``.pyx`` source has no compiled module beside it."""
    here = Path(__file__).parent
    built = {p.name.split(".")[0] for suffix in importlib.machinery.EXTENSION_SUFFIXES
             for p in here.glob(f"*{suffix}")}
    return sorted(p.stem for p in here.glob("*.pyx") if p.stem not in built)


if _unbuilt():
    raise InstallError(
        f"detente's compiled kernels are not built ({', '.join(_unbuilt())} in "
        f"{Path(__file__).parent}): install detente with `pip install -e .` (it needs a C "
        "compiler and the Python headers)"
    )


def leaf(x: Any) -> NDArray[np.float64]:
    """A parameter as the kernels read it: a float64 vector of 1 value (shared by all
    worlds) or of one value per world (stacked states)."""
    return np.asarray(x, dtype=np.float64).reshape(-1)


def leaf_rows(values: Any) -> NDArray[np.float64]:
    """Several parameters as one C-order ``[m, k]`` array, column ``j`` the ``j``-th of
    ``values`` (each a scalar or a :func:`leaf`): one row shared by all worlds, or one per
    world when any of them has a value per world. A kernel then reads one row per world."""
    columns = [leaf(x) for x in values]
    m = max(x.shape[0] for x in columns)
    return np.ascontiguousarray(np.stack([np.broadcast_to(x, (m,)) for x in columns], axis=1))


NO_MASK = np.zeros((0, 0), dtype=np.uint8)
"""The empty mask :func:`mask` gives for ``None`` (no mask this step)."""


def mask(x: Any) -> NDArray[np.uint8]:
    """A bool mask as the kernels read it: the C-order ``uint8`` view; ``None``: empty."""
    if x is None:
        return NO_MASK
    return np.ascontiguousarray(x, dtype=bool).view(np.uint8)
