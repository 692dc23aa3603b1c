"""`detente run --quick` on the flagship with the real engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from detente.experiments.robustness import COMPARISON_COLUMNS, PAIRED_COLUMNS
from detente.experiments.runner import EngineUnavailableError, load_model


def test_run_quick_on_flagship(tmp_path: Path) -> None:
    try:
        load_model("detente.sim:summarize")
    except EngineUnavailableError:
        pytest.skip("simulation engine not available")
    out = tmp_path / "detente-out"
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "detente"),
            "run",
            "--quick",
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["scenario"] == "us-iran-2001"
    assert {"containment", "moderate-engagement", "dismantle-sanctions"} <= set(
        payload["strategies"]
    )
    run_dir = out / "runs" / payload["run_id"]
    assert (out / "latest").read_text().strip() == payload["run_id"]
    frame = pd.read_csv(run_dir / "comparison.csv")
    assert list(frame.columns) == COMPARISON_COLUMNS + PAIRED_COLUMNS
    ranked = frame.dropna(subset=["rank"])
    for _, group in ranked.groupby("outcome"):
        assert sorted(group["rank"].astype(int)) == list(range(1, len(group) + 1))
    summary = (run_dir / "summary.md").read_text()
    # one headline: a decisive first place, or the tie called a tie
    assert summary.count("ranks first on") + summary.count("No strategy is clearly first on **") == 1
    # fan charts across sampled states: stored in the database and as CSV
    traj = pd.read_csv(run_dir / "trajectories.csv")
    assert list(traj.columns) == ["strategy", "step", "date", "metric", "mean", "p05", "p25", "p50", "p75", "p95"]
    assert set(traj.strategy) == set(payload["strategies"])
    ordered = traj[["p05", "p25", "p50", "p75", "p95"]].to_numpy()
    assert (ordered[:, :-1] <= ordered[:, 1:] + 1e-9).all()
    assert "report.html" in {p.name for p in run_dir.iterdir()}
    assert (out / "report.html").read_bytes() == (run_dir / "report.html").read_bytes()
