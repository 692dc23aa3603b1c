"""Shard files: a distributed run's per-world rows, written by the workers themselves.

On a Dask cluster, sending every per-world row back to the client makes the client's one
writer the bottleneck. Instead each task writes its chunks' rows to one Parquet file in
the run's shard folder (``<database folder>/shards/<run id>/``), and sends back only which
chunks the file holds; the client then loads the file into the database with DuckDB's
``read_parquet``, in the same transaction as the chunks' done markers
(:meth:`detente.store.duckdb.ResultStore.write_chunks`), and deletes it.

Guarantees
----------
- A shard is written under a temporary name (starting with ``.``) and renamed when
  complete, so a worker killed while writing leaves no file with a shard's name; a shard's
  row count is checked against its chunks before it is loaded.
- A shard's name is a hash of the chunks it holds, so a task retried after its worker died
  finds the shard its first attempt wrote and does not compute it again; shards left by an
  interrupted client are loaded when the run resumes, and chunks already in the database
  are never loaded twice.
- Workers write shards only where the client said to: the client puts a token file in the
  folder and passes the token with the tasks. A worker that does not see the token (a
  machine without the shared file system, a folder it may not write) sends its rows back
  instead, as without shards; the numbers are the same either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from detente.errors import InputError
from detente.fileio import atomic_target, make_dirs

SHARDS_DIR = "shards"
"""Folder beside the database holding one folder of shards per running run."""
TOKEN_FILE = ".detente-shards"
SUFFIX = ".parquet"
_CHUNKS_KEY = b"detente.chunks"

ChunkKey = tuple[int, str, int]
ChunkRecord = tuple[int, str, int, int, float]
"""``(state, strategy, world_start, world_count, seconds)``."""


def shard_folder(database: Path, run_id: str) -> Path:
    """The shard folder of a run stored in ``database``."""
    return database.parent / SHARDS_DIR / run_id


def prepare(folder: Path) -> str | None:
    """Create ``folder`` with a fresh token file; the token, or None when it cannot be written
    (then tasks send their rows back)."""
    token = secrets.token_hex(16)
    try:
        make_dirs(folder)
        with atomic_target(folder / TOKEN_FILE) as tmp:
            tmp.write_text(token)
    except (InputError, OSError):
        return None
    return token


def sees(folder: Path, token: str) -> bool:
    """True when this process sees the client's shard folder (its token file)."""
    try:
        return (folder / TOKEN_FILE).read_text() == token
    except (OSError, UnicodeDecodeError):
        return False


def shard_name(keys: Sequence[ChunkKey]) -> str:
    """File name of the shard holding the chunks ``keys`` (a hash of them)."""
    text = json.dumps(sorted([int(a), str(b), int(c)] for a, b, c in keys))
    return hashlib.sha256(text.encode()).hexdigest()[:24] + SUFFIX


def write(
    path: Path,
    chunks: Sequence[ChunkRecord],
    outcomes: Sequence[dict[str, np.ndarray]],
) -> None:
    """Write the rows ``[state, strategy, world, metric...]`` of ``chunks`` atomically.

    Raises
    ------
    InputError
        When the system refuses the write (nothing is left under the shard's name).
    """
    counts = np.array([c[3] for c in chunks], dtype=np.int64)
    metrics = list(dict.fromkeys(m for o in outcomes for m in o))
    columns: dict[str, object] = {
        "state": np.repeat(np.array([c[0] for c in chunks], dtype=np.int64), counts),
        "strategy": np.repeat(np.array([c[1] for c in chunks], dtype=object), counts),
        "world": np.concatenate([np.arange(c[2], c[2] + c[3]) for c in chunks]),
    }
    for m in metrics:
        columns[m] = np.concatenate(
            [
                np.asarray(o[m], dtype=float).reshape(-1) if m in o else np.full(c[3], np.nan)
                for c, o in zip(chunks, outcomes, strict=True)
            ]
        )
    table = pa.table(columns).replace_schema_metadata(
        {_CHUNKS_KEY: json.dumps([list(c) for c in chunks]).encode()}
    )
    with atomic_target(path) as tmp:
        pq.write_table(table, tmp)


def read_chunks(path: Path) -> list[ChunkRecord] | None:
    """The chunks a complete shard holds, or None for a file that is not a whole shard."""
    try:
        meta = pq.read_metadata(path)
        raw = (meta.metadata or {}).get(_CHUNKS_KEY)
        chunks = [
            (int(a), str(b), int(c), int(d), float(e)) for a, b, c, d, e in json.loads(raw or b"")
        ]
    except (OSError, ValueError, TypeError, pa.ArrowException):
        return None
    if not chunks or meta.num_rows != sum(c[3] for c in chunks):
        return None
    return chunks


def metric_columns(path: Path) -> list[str]:
    """The metric columns of a shard (every column but ``state``, ``strategy``, ``world``)."""
    return [n for n in pq.read_schema(path).names if n not in ("state", "strategy", "world")]


def leftovers(folder: Path) -> list[Path]:
    """Complete shards in ``folder`` (temporary files of killed writers are not listed)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*" + SUFFIX) if not p.name.startswith("."))


def remove(paths: Sequence[Path]) -> None:
    """Delete loaded shards (one that is already gone is fine)."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def clear(folder: Path) -> None:
    """Delete a run's shard folder and, when it is then empty, the shards folder."""
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()
