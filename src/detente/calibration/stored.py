"""Read a stored posterior back from a calibration or hindcast run's folder."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd

from detente.calibration.posterior import Posterior
from detente.errors import InputError
from detente.runs.directory import RunDir, find_run

POSTERIOR_KINDS = ("calibrate", "hindcast")
POSTERIOR_CSV = "posterior.csv"


def posterior_from_dir(run: RunDir, source: str = "--posterior") -> Posterior:
    """The posterior stored in ``run`` (a ``calibrate`` or ``hindcast`` run)."""
    info = run.stored_info()
    kind = str(info.get("kind", ""))
    if kind not in POSTERIOR_KINDS:
        raise InputError.single(
            source,
            f"run {run.run_id} is a {kind or 'unknown'} run; a posterior comes from a "
            "'detente calibrate' or 'detente hindcast' run",
        )
    path = run.path / POSTERIOR_CSV
    if not path.is_file():
        raise InputError.single(source, f"run {run.run_id} has no {POSTERIOR_CSV} (the run "
                                "did not finish); resume it with --resume")
    data = path.read_bytes()
    table = pd.read_csv(io.BytesIO(data), index_col="particle")
    weights = table.pop("weight").to_numpy(dtype=np.float64)
    table = table.drop(columns=["loglik"])
    if not np.isclose(weights.sum(), 1.0) or (weights < 0).any():
        raise InputError.single(f"{path}", "weights must be non-negative and sum to 1")
    return Posterior(
        scenario_id=str(info.get("scenario", "")),
        values=table.astype(np.float64),
        weights=weights / weights.sum(),
        run_id=run.run_id,
        content_sha256=hashlib.sha256(data).hexdigest(),
        until=str(info.get("until", "")),
    )


def load_posterior(ref: str | Path | None = None, out: str | Path | None = None) -> Posterior:
    """The posterior of run ``ref`` (an id or unique prefix under ``out``, or a run folder).

    Raises
    ------
    InputError
        Unknown run, a run of another kind, a run without a stored posterior.
    """
    if ref is not None and Path(ref).is_dir():
        run = find_run(ref)
    else:
        run = find_run(out, None if ref is None else str(ref))
    return posterior_from_dir(run)


__all__ = ["POSTERIOR_KINDS", "load_posterior", "posterior_from_dir"]
