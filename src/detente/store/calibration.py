"""A calibration's generations in the results store (tables ``calibration_generations`` and
``calibration_particles``; see :mod:`detente.store.duckdb`).

Each finished generation is written in one transaction: its diagnostics row and its
particles, which replace the previous generation's (generation 0, the prior design, is
kept: it is the prior the tables compare against). A calibration killed at any moment
therefore holds whole generations only, and :func:`load_generation` gives back exactly the
arrays the sampler had, so a resumed calibration continues with the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from detente.calibration.smc import Generation
from detente.store.duckdb import ResultStore

GENERATION_COLUMNS = (
    "generation", "beta", "ess", "acceptance", "step", "log_evidence", "evaluations", "seconds",
)


def save_generation(
    store: ResultStore, run_id: str, gen: Generation, log_probabilities: np.ndarray,
    seconds: float,
) -> None:
    """Store a finished generation (diagnostics and particles) in one transaction."""
    n = gen.z.shape[0]
    particles = pa.table(
        {
            "run_id": pa.array([run_id] * n, pa.string()),
            "generation": pa.array(np.full(n, gen.index, dtype=np.int32)),
            "particle": pa.array(np.arange(n, dtype=np.int32)),
            "weight": pa.array(gen.weights),
            "loglik": pa.array(gen.loglik),
            "z": pa.array(list(gen.z), pa.list_(pa.float64())),
            "log_probabilities": pa.array(list(log_probabilities), pa.list_(pa.float64())),
        }
    )
    row = [run_id, gen.index, gen.beta, gen.ess, gen.acceptance, gen.step, gen.log_evidence,
           gen.evaluations, seconds]
    with store.transaction() as con:
        con.execute("DELETE FROM calibration_generations WHERE run_id = ? AND generation >= ?",
                    [run_id, gen.index])
        con.execute("INSERT INTO calibration_generations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        con.execute("DELETE FROM calibration_particles WHERE run_id = ? AND generation > 0",
                    [run_id])
        con.register("particles_arrow", particles)
        con.execute("INSERT INTO calibration_particles SELECT * FROM particles_arrow")
        con.unregister("particles_arrow")


def generations(store: ResultStore, run_id: str) -> pd.DataFrame:
    """The run's generation diagnostics, in order."""
    with store.connect() as con:
        return con.execute(
            f"SELECT {', '.join(GENERATION_COLUMNS)} FROM calibration_generations "
            "WHERE run_id = ? ORDER BY generation",
            [run_id],
        ).df()


def load_generation(
    store: ResultStore, run_id: str, index: int | None = None
) -> tuple[Generation, np.ndarray] | None:
    """A stored generation (default: the latest; 0: the prior design) and its
    per-observation log probabilities, or None when it is not stored."""
    where = "" if index is None else " AND generation = ?"
    args: list[object] = [run_id] if index is None else [run_id, index]
    with store.connect() as con:
        head = con.execute(
            "SELECT generation, beta, ess, acceptance, step, log_evidence, evaluations "
            f"FROM calibration_generations WHERE run_id = ?{where} "
            "ORDER BY generation DESC LIMIT 1",
            args,
        ).fetchone()
        if head is None:
            return None
        table = con.execute(
            "SELECT weight, loglik, z, log_probabilities FROM calibration_particles "
            "WHERE run_id = ? AND generation = ? ORDER BY particle",
            [run_id, head[0]],
        ).df()
    if table.empty:
        return None
    gen = Generation(
        index=int(head[0]),
        beta=float(head[1]),
        z=np.stack([np.asarray(z, dtype=np.float64) for z in table["z"]]),
        loglik=table["loglik"].to_numpy(dtype=np.float64),
        weights=table["weight"].to_numpy(dtype=np.float64),
        ess=float(head[2]),
        acceptance=float(head[3]) if head[3] is not None else float("nan"),
        step=float(head[4]),
        log_evidence=float(head[5]),
        evaluations=int(head[6]),
    )
    logp = np.stack([np.asarray(x, dtype=np.float64) for x in table["log_probabilities"]])
    return gen, logp


__all__ = ["GENERATION_COLUMNS", "generations", "load_generation", "save_generation"]
