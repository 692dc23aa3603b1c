"""A digest of the sources of some packages: which code a result came from.

One function, used wherever a stored result must say which code made it: a run's code
version (:func:`detente.experiments.runner.code_version`), a Dask worker's identity
(:func:`detente.experiments.executors.worker_identity`) and the figure cache's key
(:func:`detente.report.figure_cache.code_version`).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence
from pathlib import Path


def source_digest(packages: Sequence[str]) -> str:
    """SHA-256 (12 hex digits) of the ``.py``, ``.pyx`` and ``.pxd`` files of ``packages``.

    Each file counts by its path and content; a plain module (not a package) counts by its
    own file only. The ``.pyx`` and ``.pxd`` files are the engine's compiled kernels
    (:mod:`detente.sim.native`): model code too. Packages that cannot be imported are left
    out.
    """
    h = hashlib.sha256()
    for pkg in packages:
        try:
            mod = importlib.import_module(pkg)
        except ImportError:
            continue
        file = Path(getattr(mod, "__file__", "") or "")
        if not hasattr(mod, "__path__"):  # a module: its file alone
            h.update(f"{pkg}:{file.name}".encode())
            h.update(file.read_bytes())
            continue
        root = file.parent
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".pyx", ".pxd")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]
