"""Reuse a report's figures whose inputs and drawing code did not change.

Drawing the figures is most of the time ``detente report`` takes, and a run's stored
results never change, so the PNG of each figure is kept in the run's folder
(``runs/<run id>/figures/<key>.png``) and reused the next time the run is reported. The key
is a SHA-256 over

- the drawing code: every ``.py`` file of the installed ``detente`` package, and the
  versions of Python, matplotlib, NumPy, pandas and Pillow (a changed figure function,
  style, helper or library draws afresh);
- the figure: the function and every argument it is called with, in a canonical form
  (:func:`canonical`): a data frame by its columns, dtypes, index and values, a scenario by
  its full JSON, numbers by their exact ``repr``.

A figure another run of the same output folder stored under the same key is copied from
there (runs of one scenario share its structure and bargaining figures). Whatever changes
what a figure shows changes its key, so a stored PNG is never stale; an
argument without a canonical form (:class:`UncacheableError`) makes the figure be drawn every
time rather than risk a wrong hit. Each file is written atomically; a folder that cannot
be written leaves the report as it is, drawn without the cache, and figures no longer used
by the run's report are removed when it is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import os
import platform
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from detente.source_digest import source_digest

CACHE_DIR = "figures"
"""The folder of a run (next to its ``report.html``) holding its figures' PNGs."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"


class UncacheableError(TypeError):
    """An argument of a figure has no canonical form: the figure is drawn, not cached."""


@functools.lru_cache(maxsize=1)
def code_version() -> bytes:
    """Digest of the drawing code: the package's Python sources and the library versions."""
    import matplotlib
    import PIL

    import detente

    digest = hashlib.sha256()
    for name, version in (
        ("python", platform.python_version()),
        ("matplotlib", matplotlib.__version__),
        ("numpy", np.__version__),
        ("pandas", pd.__version__),
        ("pillow", PIL.__version__),
    ):
        digest.update(f"{name}={version}\n".encode())
    root = Path(detente.__file__).parent
    if next(root.rglob("*.py"), None) is None:  # nothing tells one build from another
        raise UncacheableError("the detente package has no readable sources")
    digest.update(f"detente={source_digest(('detente',))}\n".encode())
    return digest.digest()


def canonical(value: Any, out: Callable[[bytes], None]) -> None:
    """Feed a canonical encoding of ``value`` to ``out`` (equal encodings: equal values).

    Raises
    ------
    UncacheableError
        For a type with no canonical form here.
    """
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        out(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, (np.generic,)):
        out(f"np.{value.dtype.str}:{value.item()!r};".encode())
    elif isinstance(value, enum.Enum):
        out(f"enum:{type(value).__qualname__}.{value.name};".encode())
    elif isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        out(f"{type(value).__name__}:{value.isoformat()};".encode())
    elif isinstance(value, pd.DataFrame):
        out(f"frame:{value.shape!r};".encode())
        _index(value.index, out)
        for name in value.columns:
            canonical(name, out)
            canonical(value[name], out)
    elif isinstance(value, pd.Series):
        out(f"series:{value.dtype};".encode())
        _index(value.index, out)
        kind = value.dtype.kind if isinstance(value.dtype, np.dtype) else "O"
        if kind in "biufcmM":  # plain numbers, booleans and times: their exact bits
            canonical(value.to_numpy(), out)
        else:
            canonical(value.to_list(), out)
    elif isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            canonical(value.tolist(), out)
        else:
            out(f"array:{value.dtype.str}:{value.shape!r};".encode())
            out(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, BaseModel):
        out(f"model:{type(value).__module__}.{type(value).__qualname__};".encode())
        out(value.model_dump_json().encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out(f"dataclass:{type(value).__module__}.{type(value).__qualname__}(".encode())
        for f in dataclasses.fields(value):
            out(f"{f.name}=".encode())
            canonical(getattr(value, f.name), out)
        out(b")")
    elif isinstance(value, Mapping):
        out(f"map:{len(value)}{{".encode())
        for k, v in value.items():  # in order: the order of a mapping can change a figure
            canonical(k, out)
            canonical(v, out)
        out(b"}")
    elif isinstance(value, (list, tuple)):
        out(f"{type(value).__name__}:{len(value)}[".encode())
        for v in value:
            canonical(v, out)
        out(b"]")
    elif isinstance(value, functools.partial):
        canonical(value.func, out)
        canonical(value.args, out)
        canonical(dict(sorted(value.keywords.items())), out)
    elif callable(value) and hasattr(value, "__qualname__") and "<" not in value.__qualname__:
        out(f"function:{value.__module__}.{value.__qualname__};".encode())
    else:
        raise UncacheableError(f"no canonical form for {type(value).__qualname__}")


def _index(index: pd.Index, out: Callable[[bytes], None]) -> None:
    if isinstance(index, pd.RangeIndex):
        out(f"range:{index.start}:{index.stop}:{index.step};".encode())
    else:
        canonical(pd.Series(index.to_numpy()), out)


def figure_key(make: Callable[[], Any]) -> str | None:
    """The cache key of one figure (hex SHA-256), or None when it cannot be cached."""
    digest = hashlib.sha256()
    try:
        digest.update(code_version())
        canonical(make, digest.update)
    except (UncacheableError, OSError):
        return None
    return digest.hexdigest()


def _is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE) and data.endswith(PNG_END)


def _read_png(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if _is_png(data) else None


@dataclasses.dataclass(frozen=True)
class FigureCache:
    """The PNGs of one run's report, by key, in ``directory``.

    ``peers`` are the figure folders of other runs (the run's neighbours in ``OUT/runs/``):
    a figure found there under the same key, so from the same inputs and code (the
    scenario's structure and bargaining figures, when runs share a scenario), is copied
    instead of drawn.
    """

    directory: Path
    peers: tuple[Path, ...] = ()

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.png"

    def get(self, key: str | None) -> bytes | None:
        """The stored PNG of ``key``, or None (no key, not stored, or not a whole PNG)."""
        if key is None:
            return None
        data = _read_png(self.path(key))
        if data is not None:
            return data
        for peer in self.peers:
            data = _read_png(peer / f"{key}.png")
            if data is not None:
                self.put(key, data)
                return data
        return None

    def put(self, key: str | None, png: bytes) -> None:
        """Store a PNG (atomically); a folder that cannot be written is left as it is."""
        if key is None:
            return
        from detente.errors import InputError
        from detente.fileio import write_bytes_atomic

        with contextlib.suppress(InputError, OSError):
            write_bytes_atomic(self.path(key), png)

    def keep_only(self, keys: Iterable[str | None]) -> None:
        """Remove the stored PNGs of any other key (figures the report no longer shows)."""
        keep = {f"{k}.png" for k in keys if k is not None}
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for entry in entries:
            if entry.name.endswith(".png") and entry.name not in keep:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
