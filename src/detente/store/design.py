"""A strategy design's generations in the results store (tables ``design_generations`` and
``design_candidates``; see :mod:`detente.store.duckdb`).

A finished generation is written in one transaction: its row and all its candidates with
their scores. A design killed at any moment therefore holds whole generations only, and
:func:`load_generations` gives back exactly the candidates and scores the search had.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from detente.store.duckdb import ResultStore

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StoredGeneration:
    """One finished generation: unit coordinates, lever values and scores per candidate."""

    generation: int
    x: FloatArray
    levers: FloatArray
    scores: FloatArray
    evaluated: int
    seconds: float


def _column(rows: FloatArray) -> pa.Array:
    return pa.array([list(map(float, r)) for r in rows], pa.list_(pa.float64()))


def save_generation(store: ResultStore, run_id: str, gen: StoredGeneration) -> None:
    """Store a finished generation (its row and every candidate) in one transaction."""
    n = gen.x.shape[0]
    table = pa.table(
        {
            "run_id": pa.array([run_id] * n, pa.string()),
            "generation": pa.array(np.full(n, gen.generation, dtype=np.int32)),
            "candidate": pa.array(np.arange(n, dtype=np.int32)),
            "x": _column(gen.x),
            "levers": _column(gen.levers),
            "scores": _column(gen.scores),
        }
    )
    with store.transaction() as con:
        con.execute("DELETE FROM design_generations WHERE run_id = ? AND generation >= ?",
                    [run_id, gen.generation])
        con.execute("DELETE FROM design_candidates WHERE run_id = ? AND generation >= ?",
                    [run_id, gen.generation])
        con.execute("INSERT INTO design_generations VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, gen.generation, n, gen.evaluated, gen.seconds, dt.datetime.now()])
        con.register("design_arrow", table)
        con.execute("INSERT INTO design_candidates SELECT * FROM design_arrow")
        con.unregister("design_arrow")


def load_generations(store: ResultStore, run_id: str) -> list[StoredGeneration]:
    """The run's finished generations, in order (the first ``k`` without a gap)."""
    with store.connect() as con:
        heads = con.execute(
            "SELECT generation, evaluated, seconds FROM design_generations WHERE run_id = ? "
            "ORDER BY generation", [run_id]).fetchall()
        rows = con.execute(
            "SELECT generation, x, levers, scores FROM design_candidates WHERE run_id = ? "
            "ORDER BY generation, candidate", [run_id]).fetchall()
    by_gen: dict[int, list[tuple[list[float], list[float], list[float]]]] = {}
    for g, x, lv, sc in rows:
        by_gen.setdefault(int(g), []).append((x, lv, sc))
    out = []
    for i, (g, evaluated, seconds) in enumerate(heads):
        if int(g) != i or int(g) not in by_gen:
            break
        cands = by_gen[int(g)]
        out.append(StoredGeneration(
            int(g),
            np.array([c[0] for c in cands], dtype=np.float64),
            np.array([c[1] for c in cands], dtype=np.float64),
            np.array([c[2] for c in cands], dtype=np.float64),
            int(evaluated), float(seconds),
        ))
    return out


__all__ = ["StoredGeneration", "load_generations", "save_generation"]
