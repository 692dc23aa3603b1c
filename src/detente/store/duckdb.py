"""The results store: an embedded DuckDB database, safe to interrupt and to share.

Tables
------
``runs``
    One row per run: ``run_id`` (a hash of everything that determines the numbers: scenario
    content, sampled states, strategies, worlds, seed, model and code version), status,
    scenario id and hash, code version, seed, settings (JSON).
``parameters``
    The sampled states: ``(run_id, state, name, value)``.
``summaries``
    Per-world outcome summaries: ``(run_id, state, strategy, world, <one column per
    metric>)``; metric columns are added as models report them.
``chunks``
    Done markers ``(run_id, state, strategy, world_start, world_count, seconds, finished)``.
    A chunk's marker is inserted *in the same transaction* as its summary rows, so a run
    killed at any moment (even ``kill -9``) holds either all of a chunk or none of it, and
    ``--resume`` recomputes exactly the chunks without a marker. Rows computed on a Dask
    cluster may arrive as Parquet shard files the workers wrote (:mod:`detente.store.shards`):
    they are read with ``read_parquet`` in that same transaction, and deleted after it.
``trajectories``
    Optional per-step quantiles ``(run_id, strategy, step, date, metric, mean, p05..p95)``.
``calibration_generations``
    One row per finished generation of a calibration (:mod:`detente.calibration`):
    ``(run_id, generation, beta, ess, acceptance, step, log_evidence, evaluations,
    seconds)``.
``calibration_particles``
    The particles of a calibration's latest finished generation: ``(run_id, generation,
    particle, weight, loglik, z, log_probabilities)`` (``z``: standard-normal coordinates,
    one per uncertainty in the run's order; ``log_probabilities``: one per observation).
    A generation's particles replace the previous ones in the same transaction as its
    ``calibration_generations`` row, so ``--resume`` continues from the last finished
    generation with the same numbers.
``design_generations``
    One row per finished generation of a strategy design (:mod:`detente.design`):
    ``(run_id, generation, candidates, evaluated, seconds, finished)`` (``evaluated``: the
    candidates simulated, the others repeated an earlier candidate's levers).
``design_candidates``
    Every candidate of those generations: ``(run_id, generation, candidate, x, levers,
    scores)`` (``x``: the search's unit coordinates, ``levers``: the parameter values, in
    the run's lever order; ``scores``: the robustness score of each objective metric, in the
    run's metric order). A generation's candidates are inserted in the same transaction as
    its ``design_generations`` row, so ``--resume`` replays whole generations only
    (:mod:`detente.store.design`).

Concurrency
-----------
DuckDB lets one process at a time open a database file for writing. Every access here
takes an exclusive ``fcntl`` lock on a sidecar file (``results.duckdb.lock``, see
:mod:`detente.store.lock`), opens the database, does its work in one transaction and
closes it again (:meth:`ResultStore.session` keeps one connection and the lock for a short
group of accesses), so concurrent runs take turns instead of failing or corrupting the file;
a connection refused by a process outside this protocol (e.g. the DuckDB shell) is retried.
A wait longer than half a second is announced on stderr with the holder's pid and command;
after ``timeout`` seconds (``$DETENTE_LOCK_TIMEOUT``, default 300) it ends in an error.

Faults
------
Every failure of the file or the system is an :class:`~detente.errors.InputError` of one
line naming the database (see :mod:`detente.store.faults`): a path that cannot hold a
database is refused when the store is created; a file that is not DuckDB's, damaged,
truncated or written by an incompatible version is refused before anything is written to
it; a DuckDB database with other tables is refused rather than given a schema; disk full
or a write refused by the system rolls back the open transaction only, so chunks
committed before stay and ``--resume`` continues from them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from numpy.typing import NDArray

from detente.errors import InputError
from detente.fileio import atomic_target, check_output_dir, make_dirs, shown
from detente.store import shards
from detente.store.faults import check_database_header, check_database_path, database_error
from detente.store.lock import (
    NOTICE_AFTER,
    exclusive,
    lock_timeout,
    say_on_stderr,
    timeout_error,
    waiting_notice,
)

DEFAULT_DB = Path("detente-out") / "results.duckdb"
RESERVED = frozenset({"run_id", "state", "strategy", "world"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    kind VARCHAR,
    status VARCHAR,
    created TIMESTAMP,
    updated TIMESTAMP,
    scenario_id VARCHAR,
    scenario_hash VARCHAR,
    code_version VARCHAR,
    model VARCHAR,
    seed BIGINT,
    n_states INTEGER,
    worlds INTEGER,
    strategies VARCHAR,
    settings VARCHAR
);
CREATE TABLE IF NOT EXISTS parameters (
    run_id VARCHAR, state INTEGER, name VARCHAR, value DOUBLE
);
CREATE TABLE IF NOT EXISTS summaries (
    run_id VARCHAR, state INTEGER, strategy VARCHAR, world INTEGER
);
CREATE TABLE IF NOT EXISTS chunks (
    run_id VARCHAR, state INTEGER, strategy VARCHAR, world_start INTEGER,
    world_count INTEGER, seconds DOUBLE, finished TIMESTAMP,
    PRIMARY KEY (run_id, state, strategy, world_start)
);
CREATE TABLE IF NOT EXISTS trajectories (
    run_id VARCHAR, strategy VARCHAR, step INTEGER, date VARCHAR, metric VARCHAR,
    mean DOUBLE, p05 DOUBLE, p25 DOUBLE, p50 DOUBLE, p75 DOUBLE, p95 DOUBLE
);
CREATE TABLE IF NOT EXISTS calibration_generations (
    run_id VARCHAR, generation INTEGER, beta DOUBLE, ess DOUBLE, acceptance DOUBLE,
    step DOUBLE, log_evidence DOUBLE, evaluations BIGINT, seconds DOUBLE,
    PRIMARY KEY (run_id, generation)
);
CREATE TABLE IF NOT EXISTS calibration_particles (
    run_id VARCHAR, generation INTEGER, particle INTEGER, weight DOUBLE, loglik DOUBLE,
    z DOUBLE[], log_probabilities DOUBLE[]
);
CREATE TABLE IF NOT EXISTS design_generations (
    run_id VARCHAR, generation INTEGER, candidates INTEGER, evaluated INTEGER,
    seconds DOUBLE, finished TIMESTAMP,
    PRIMARY KEY (run_id, generation)
);
CREATE TABLE IF NOT EXISTS design_candidates (
    run_id VARCHAR, generation INTEGER, candidate INTEGER, x DOUBLE[], levers DOUBLE[],
    scores DOUBLE[]
);
"""

TABLES = (
    "runs",
    "parameters",
    "summaries",
    "chunks",
    "trajectories",
    "calibration_generations",
    "calibration_particles",
    "design_generations",
    "design_candidates",
)


def quote(name: str) -> str:
    """Quote an identifier for SQL (metric ids may hold ``-`` or ``.``)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class RunInfo:
    """What identifies and describes a run (one row of ``runs``)."""

    run_id: str
    kind: str
    scenario_id: str
    scenario_hash: str
    code_version: str
    model: str
    seed: int
    n_states: int
    worlds: int
    strategies: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkResult:
    """The per-world outcomes of one chunk (one state, one strategy, a range of worlds)."""

    state: int
    strategy: str
    world_start: int
    world_count: int
    outcomes: Mapping[str, NDArray[np.float64]]
    seconds: float = 0.0
    steps: tuple[tuple[str, ...], Mapping[str, NDArray[np.float32]]] | None = None
    """Not stored: the dates and the metrics per step of the chunk's first worlds, when
    the run asked for them (``run``'s fan charts, :mod:`detente.experiments.trajectories`)."""
    shard: str | None = None
    """The shard file holding the chunk's rows when a worker wrote them there
    (:mod:`detente.store.shards`; ``outcomes`` is then empty)."""

    @property
    def key(self) -> tuple[int, str, int]:
        """``(state, strategy, world_start)``: the chunk's identity within a run."""
        return self.state, self.strategy, self.world_start


def _summary_rows(
    run_id: str, results: Sequence[ChunkResult], metrics: Sequence[str]
) -> pd.DataFrame:
    """The summaries rows of ``results`` as one frame, built column by column (one array
    per column for all chunks, not a frame per chunk); a metric a chunk lacks is NaN there.

    Raises
    ------
    ValueError
        When a chunk has a number of values other than its world count.
    """
    counts = np.array([r.world_count for r in results], dtype=np.int64)
    columns: dict[str, Any] = {
        "run_id": np.full(int(counts.sum()), run_id, dtype=object),
        "state": np.repeat(np.array([r.state for r in results], dtype=np.int64), counts),
        "strategy": np.repeat(np.array([r.strategy for r in results], dtype=object), counts),
        "world": np.concatenate(
            [np.arange(r.world_start, r.world_start + r.world_count) for r in results]
        ),
    }
    for m in metrics:
        parts = []
        for r in results:
            value = r.outcomes.get(m)
            part = (
                np.full(r.world_count, np.nan)
                if value is None
                else np.asarray(value, dtype=float).reshape(-1)
            )
            if part.shape != (r.world_count,):
                raise ValueError(
                    f"chunk {r.key}: {part.shape[0]} values of {m!r} for {r.world_count} worlds"
                )
            parts.append(part)
        columns[m] = np.concatenate(parts)
    return pd.DataFrame(columns)


class ResultStore:
    """Access to one results database file.

    Parameters
    ----------
    path : path
        The DuckDB file (created with its directory on first write).
    timeout : float
        Seconds to wait for the database when another process holds it.
    """

    def __init__(
        self,
        path: str | Path = DEFAULT_DB,
        timeout: float | None = None,
        notify: Callable[[str], None] = say_on_stderr,
    ) -> None:
        self.path = Path(path)
        check_database_path(self.path)
        self.timeout = lock_timeout(timeout)
        self.notify = notify
        self._schema_ready = False
        self._session: duckdb.DuckDBPyConnection | None = None
        self._session_thread: int | None = None

    # -- connections -----------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive, short-lived connection (file lock held while it is open).

        Raises
        ------
        InputError
            When the file is not a usable results database (not DuckDB, damaged, written
            by an incompatible version, not detente's), the disk refuses a write, or
            another process holds the database for longer than the timeout.
        """
        if self._session is not None and self._session_thread == threading.get_ident():
            yield self._session
            return
        make_dirs(self.path.parent)
        with exclusive(self.path, self.timeout, self.notify) as deadline:
            check_database_header(self.path)
            try:
                con = self._open(deadline)
                try:
                    if not self._schema_ready:
                        self._check_foreign(con)
                        con.execute(_SCHEMA)
                        self._schema_ready = True
                    yield con
                finally:
                    with contextlib.suppress(duckdb.Error):  # committed work is in the WAL
                        con.close()
            except duckdb.Error as exc:
                problem = database_error(self.path, exc)
                if problem is None:
                    raise
                raise problem from None

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Hold one connection (and the file lock) for several accesses of this thread.

        Inside, every method uses that connection instead of opening its own (opening costs
        12 ms however small the database: most of what the store took in ``detente run
        --quick``); each keeps its own transaction, so a failure still rolls back only its
        work. Other processes wait for the whole session, so keep it short. Sessions nest
        (the inner one is the outer one's).
        """
        if self._session is not None and self._session_thread == threading.get_ident():
            yield
            return
        with self.connect() as con:
            self._session, self._session_thread = con, threading.get_ident()
            try:
                yield
            finally:
                self._session = self._session_thread = None

    def _check_foreign(self, con: duckdb.DuckDBPyConnection) -> None:
        """Refuse a DuckDB database that holds tables but not a results store's."""
        tables = {str(r[0]) for r in con.execute("SHOW TABLES").fetchall()}
        if tables and "runs" not in tables:
            listed = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise InputError.single(
                shown(self.path),
                f"is a DuckDB database but not a detente results store (its tables: {listed}); "
                "expected one written by detente, or a new file",
            )

    def _open(self, deadline: float) -> duckdb.DuckDBPyConnection:
        delay = 0.02
        told = False
        start = time.monotonic()
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                pid = re.search(r"PID (\d+)", str(exc))
                holder = f"another program (pid {pid[1]})" if pid else "another program"
                if time.monotonic() > deadline:
                    raise timeout_error(self.path, holder, self.timeout) from None
                if not told and time.monotonic() - start >= min(NOTICE_AFTER, self.timeout):
                    self.notify(waiting_notice(self.path, holder, self.timeout))
                    told = True
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction, committed on success, rolled back on error."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                with contextlib.suppress(duckdb.Error):  # a failed database may refuse it
                    con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # -- runs ------------------------------------------------------------------------------
    def run_status(self, run_id: str) -> str | None:
        """The run's status (``running``/``done``) or None when the store has no such run."""
        if not self.path.exists():
            return None
        with self.connect() as con:
            row = con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return None if row is None else str(row[0])

    def start_run(self, info: RunInfo, parameters: pd.DataFrame, resume: bool) -> int:
        """Register a run and its sampled states; returns how many chunks are already done.

        With ``resume`` an existing run with the same id keeps its finished chunks; without
        it the old rows are deleted and the run starts afresh.
        """
        now = dt.datetime.now()
        long = parameters.reset_index(names="state").melt(
            id_vars="state", var_name="name", value_name="value"
        )
        long.insert(0, "run_id", info.run_id)
        with self.transaction() as con:
            exists = con.execute(
                "SELECT count(*) FROM runs WHERE run_id = ?", [info.run_id]
            ).fetchone()
            if exists and exists[0] and resume:
                con.execute(
                    "UPDATE runs SET status = CASE WHEN status = 'done' THEN 'done' "
                    "ELSE 'running' END, updated = ? WHERE run_id = ?",
                    [now, info.run_id],
                )
                done = con.execute(
                    "SELECT count(*) FROM chunks WHERE run_id = ?", [info.run_id]
                ).fetchone()
                return int(done[0]) if done else 0
            for table in TABLES:
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [info.run_id])
            con.execute(
                "INSERT INTO runs VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    info.run_id,
                    info.kind,
                    now,
                    now,
                    info.scenario_id,
                    info.scenario_hash,
                    info.code_version,
                    info.model,
                    info.seed,
                    info.n_states,
                    info.worlds,
                    json.dumps(list(info.strategies)),
                    json.dumps(dict(info.settings), sort_keys=True, default=str),
                ],
            )
            con.register("params_df", long)
            con.execute("INSERT INTO parameters SELECT run_id, state, name, value FROM params_df")
            con.unregister("params_df")
        return 0

    def finish_run(self, run_id: str) -> None:
        """Mark a run complete."""
        with self.transaction() as con:
            con.execute(
                "UPDATE runs SET status = 'done', updated = ? WHERE run_id = ?",
                [dt.datetime.now(), run_id],
            )

    def runs(self) -> pd.DataFrame:
        """All runs, newest first."""
        if not self.path.exists():
            return pd.DataFrame()
        with self.connect() as con:
            return con.execute("SELECT * FROM runs ORDER BY created DESC").df()

    def run_info(self, run_id: str) -> dict[str, Any]:
        """The ``runs`` row of a run as a dict (KeyError when absent)."""
        with self.connect() as con:
            frame = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).df()
        if frame.empty:
            raise KeyError(run_id)
        row: dict[str, Any] = {str(k): v for k, v in frame.iloc[0].to_dict().items()}
        row["strategies"] = json.loads(row["strategies"])
        row["settings"] = json.loads(row["settings"])
        return row

    # -- chunks ----------------------------------------------------------------------------
    def done_chunks(self, run_id: str) -> set[tuple[int, str, int]]:
        """Keys ``(state, strategy, world_start)`` of the run's finished chunks."""
        if not self.path.exists():
            return set()
        with self.connect() as con:
            rows = con.execute(
                "SELECT state, strategy, world_start FROM chunks WHERE run_id = ?", [run_id]
            ).fetchall()
        return {(int(a), str(b), int(c)) for a, b, c in rows}

    def write_chunks(self, run_id: str, results: Sequence[ChunkResult]) -> int:
        """Store finished chunks atomically (rows and done markers in one transaction).

        A chunk's rows come with it (``outcomes``) or from its shard file (``shard``), read
        with ``read_parquet``; shard files are deleted once committed. Chunks already
        marked done (by a concurrent run of the same id, or a shard loaded before) are
        skipped, so no world is ever stored twice; a chunk whose shard is missing or not
        whole is not stored (it has no marker, so it is computed again). Returns the number
        of chunks written.
        """
        held: dict[str, set[tuple[int, str, int]]] = {}
        for f in {r.shard for r in results if r.shard is not None}:
            chunks = shards.read_chunks(Path(f))
            held[f] = {(a, b, c) for a, b, c, _, _ in chunks or ()}
        results = [r for r in results if r.shard is None or r.key in held[r.shard]]
        if not results:
            return 0
        with self.transaction() as con:
            states = sorted({r.state for r in results})
            have = {
                (int(a), str(b), int(c))
                for a, b, c in con.execute(
                    "SELECT state, strategy, world_start FROM chunks "
                    "WHERE run_id = ? AND state BETWEEN ? AND ?",
                    [run_id, states[0], states[-1]],
                ).fetchall()
            }
            written = self._insert_rows(con, run_id, results, have)
        shards.remove(sorted({Path(r.shard) for r in results if r.shard is not None}))
        return written

    def _insert_rows(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: str,
        results: Sequence[ChunkResult],
        have: set[tuple[int, str, int]],
    ) -> int:
        """Insert the rows and done markers of the chunks not in ``have`` (in ``con``'s
        transaction), each chunk once: shard by shard, then the rows that came back."""
        inline = [r for r in results if r.shard is None]
        files = sorted({r.shard for r in results if r.shard is not None})
        metrics = list(dict.fromkeys(m for r in inline for m in r.outcomes))
        for f in files:
            metrics.extend(m for m in shards.metric_columns(Path(f)) if m not in metrics)
        bad = [m for m in metrics if m in RESERVED]
        if bad:
            raise ValueError(f"metric names {bad} clash with the summaries table's columns")
        cols = {str(c[0]) for c in con.execute("DESCRIBE summaries").fetchall()}
        for m in metrics:
            if m not in cols:
                con.execute(f"ALTER TABLE summaries ADD COLUMN {quote(m)} DOUBLE")
        claimed = set(have)
        written = 0
        for f in files:
            mine = self._unclaimed([r for r in results if r.shard == f], claimed)
            if not mine:
                continue
            # Rows of chunks already marked done are left out: the shard can hold chunks
            # that another shard or an earlier batch stored.
            con.execute(
                "INSERT INTO summaries BY NAME SELECT ?::VARCHAR AS run_id, s.* "
                "FROM read_parquet(?) AS s WHERE NOT EXISTS (SELECT 1 FROM chunks AS c "
                "WHERE c.run_id = ? AND c.state = s.state AND c.strategy = s.strategy "
                "AND s.world >= c.world_start AND s.world < c.world_start + c.world_count)",
                [run_id, f, run_id],
            )
            written += self._mark(con, run_id, mine)
        fresh = self._unclaimed(inline, claimed)
        if fresh:
            frame = _summary_rows(
                run_id, fresh, list(dict.fromkeys(m for r in fresh for m in r.outcomes))
            )
            con.register("batch_df", frame)
            con.execute("INSERT INTO summaries BY NAME SELECT * FROM batch_df")
            con.unregister("batch_df")
            written += self._mark(con, run_id, fresh)
        if written:
            con.execute(
                "UPDATE runs SET updated = ? WHERE run_id = ?", [dt.datetime.now(), run_id]
            )
        return written

    @staticmethod
    def _unclaimed(
        results: Sequence[ChunkResult], claimed: set[tuple[int, str, int]]
    ) -> list[ChunkResult]:
        """The results whose chunk is not in ``claimed``, each chunk once; claims them."""
        out = []
        for r in results:
            if r.key not in claimed:
                claimed.add(r.key)
                out.append(r)
        return out

    @staticmethod
    def _mark(con: duckdb.DuckDBPyConnection, run_id: str, done: Sequence[ChunkResult]) -> int:
        """Insert the done markers of ``done``; returns how many."""
        marks = pd.DataFrame(
            {
                "run_id": run_id,
                "state": [r.state for r in done],
                "strategy": [r.strategy for r in done],
                "world_start": [r.world_start for r in done],
                "world_count": [r.world_count for r in done],
                "seconds": [r.seconds for r in done],
                "finished": dt.datetime.now(),
            }
        )
        con.register("marks_df", marks)
        con.execute("INSERT INTO chunks BY NAME SELECT * FROM marks_df")
        con.unregister("marks_df")
        return len(done)

    def load_shards(self, run_id: str, folder: Path) -> int:
        """Store the complete shards a run left in ``folder`` (an interrupted client, or
        tasks that finished after it stopped listening); returns the chunks stored.

        A file that is not a whole shard is deleted: its chunks have no marker, so they
        are computed again.
        """
        found: list[ChunkResult] = []
        for path in shards.leftovers(folder):
            chunks = shards.read_chunks(path)
            if chunks is None:
                shards.remove([path])
                continue
            found.extend(
                ChunkResult(a, b, c, d, {}, e, shard=str(path)) for a, b, c, d, e in chunks
            )
        return self.write_chunks(run_id, found)

    # -- reading ---------------------------------------------------------------------------
    def metric_names(self, run_id: str) -> list[str]:
        """Metric columns holding at least one value for this run, in column order."""
        with self.connect() as con:
            cols = [str(c[0]) for c in con.execute("DESCRIBE summaries").fetchall()]
            metrics = [c for c in cols if c not in RESERVED]
            if not metrics:
                return []
            counts = con.execute(
                "SELECT "
                + ", ".join(f"count({quote(m)})" for m in metrics)
                + " FROM summaries WHERE run_id = ?",
                [run_id],
            ).fetchone()
        return [m for m, c in zip(metrics, counts or (), strict=False) if c]

    def count_summaries(self, run_id: str) -> int:
        """Number of per-world rows stored for a run."""
        with self.connect() as con:
            row = con.execute(
                "SELECT count(*) FROM summaries WHERE run_id = ?", [run_id]
            ).fetchone()
        return int(row[0]) if row else 0

    def summaries(self, run_id: str) -> pd.DataFrame:
        """Per-world rows ``[state, strategy, world, metric...]``, sorted."""
        metrics = self.metric_names(run_id)
        cols = ", ".join(["state", "strategy", "world", *[quote(m) for m in metrics]])
        with self.connect() as con:
            return con.execute(
                f"SELECT {cols} FROM summaries WHERE run_id = ? ORDER BY state, strategy, world",
                [run_id],
            ).df()

    def state_means(self, run_id: str) -> pd.DataFrame:
        """Each cell's mean over its worlds: ``[state, strategy, worlds, metric...]``.

        Missing values (a world where the outcome is undefined, e.g. no reciprocated move)
        are left out of the mean.
        """
        metrics = self.metric_names(run_id)
        aggs = ", ".join(f"avg({quote(m)}) AS {quote(m)}" for m in metrics)
        with self.connect() as con:
            return con.execute(
                f"SELECT state, strategy, count(*) AS worlds{', ' + aggs if aggs else ''} "
                "FROM summaries WHERE run_id = ? GROUP BY state, strategy ORDER BY state, strategy",
                [run_id],
            ).df()

    def parameters(self, run_id: str) -> pd.DataFrame:
        """The sampled states, one row per state (index ``state``), columns in sampling order."""
        with self.connect() as con:
            long = con.execute(
                "SELECT state, name, value, rowid FROM parameters WHERE run_id = ? ORDER BY rowid",
                [run_id],
            ).df()
        if long.empty:
            return pd.DataFrame(index=pd.RangeIndex(0, name="state"))
        order = list(dict.fromkeys(long["name"]))
        wide = long.pivot(index="state", columns="name", values="value")[order]
        wide.columns.name = None
        wide = wide.sort_index()
        wide.index = wide.index.astype("int64")
        return wide

    def write_trajectories(self, run_id: str, frame: pd.DataFrame) -> None:
        """Store per-step quantiles ``[strategy, step, date, metric, mean, p05..p95]``."""
        data = frame.copy()
        data.insert(0, "run_id", run_id)
        with self.transaction() as con:
            con.execute("DELETE FROM trajectories WHERE run_id = ?", [run_id])
            con.register("traj_df", data)
            con.execute("INSERT INTO trajectories BY NAME SELECT * FROM traj_df")
            con.unregister("traj_df")

    # -- export ----------------------------------------------------------------------------
    def export_parquet(self, out_dir: str | Path, run_id: str | None = None) -> list[Path]:
        """Write each table (optionally one run's rows) to ``out_dir/<table>.parquet``.

        Files are written under temporary names and renamed, so a failed export never
        leaves a half-written Parquet file behind.
        """
        out = check_output_dir(out_dir)  # created only once there is something to write
        written: list[Path] = []
        with self.connect() as con:
            if run_id is None and not con.execute("SELECT run_id FROM runs LIMIT 1").fetchall():
                raise InputError.single(
                    shown(self.path), "holds no runs, so there is nothing to export; run an "
                    "experiment first"
                )
            for table in TABLES:
                target = out / f"{table}.parquet"
                where = " WHERE run_id = ?" if run_id is not None else ""
                params = [run_id] if run_id is not None else []
                rel = con.sql(f"SELECT * FROM {table}{where}", params=params).to_arrow_table()
                with atomic_target(target) as tmp:
                    pq.write_table(rel, tmp)
                written.append(target)
        return written
