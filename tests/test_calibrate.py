"""``detente calibrate``: the job on the flagship, its store, resume, executors and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente.calibration import job as calibration_job
from detente.calibration import load_posterior, parse_cutoff
from detente.calibration.job import calibrate
from detente.errors import InputError
from detente.experiments.executors import DaskEvaluator
from detente.scenario import load_scenario
from detente.store import calibration as stored
from detente.store.duckdb import ResultStore

SMALL = {"particles": 12, "worlds": 4, "moves": 1, "seed": 5, "progress": False}
UNTIL = "2002Q2"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> calibration_job.CalibrationResult:
    out = tmp_path_factory.mktemp("cal")
    return calibrate("us-iran-2001", until=UNTIL, out=out, **SMALL)  # type: ignore[arg-type]


def test_a_calibration_stores_its_posterior_and_diagnostics(
    finished: calibration_job.CalibrationResult,
) -> None:
    r = finished
    files = {p.name for p in r.run_dir.path.iterdir()}
    assert {"posterior.csv", "prior.csv", "generations.csv", "learned.csv",
            "observations.csv", "run.json", "scenario.yaml"} <= files
    cutoff = parse_cutoff(UNTIL)
    sc = load_scenario("us-iran-2001")
    assert sc.history is not None
    expected = [ob.id for ob in sc.history.observations if ob.last <= cutoff]
    assert r.payload["observations_used"] == expected
    assert r.observations["observation"].tolist() == expected
    assert r.generations["beta"].iloc[-1] == 1.0
    assert np.isclose(r.posterior.weights.sum(), 1.0)
    # the store holds the same generations, and the latest particles bit for bit
    store = ResultStore(r.run_dir.root / "results.duckdb")
    pd.testing.assert_frame_equal(stored.generations(store, r.run_id), r.generations)
    last = stored.load_generation(store, r.run_id)
    assert last is not None
    np.testing.assert_array_equal(last[0].weights, r.posterior.weights)
    loaded = load_posterior(r.run_id, r.run_dir.root)
    np.testing.assert_array_equal(loaded.values.to_numpy(), r.posterior.values.to_numpy())
    assert loaded.content_sha256 == r.posterior.content_sha256 and loaded.until == "2002-06-30"
    info = json.loads((r.run_dir.path / "run.json").read_text())
    assert info["kind"] == "calibrate" and info["run_id"] == r.run_id


def test_resume_after_an_interruption_gives_the_same_posterior(
    finished: calibration_job.CalibrationResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = stored.save_generation
    calls = {"n": 0}

    def interrupted(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)  # type: ignore[arg-type]
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(stored, "save_generation", interrupted)
    with pytest.raises(KeyboardInterrupt):
        calibrate("us-iran-2001", until=UNTIL, out=tmp_path, **SMALL)  # type: ignore[arg-type]
    monkeypatch.setattr(stored, "save_generation", real)
    again = calibrate("us-iran-2001", until=UNTIL, out=tmp_path, resume=True, **SMALL)  # type: ignore[arg-type]
    assert again.run_id == finished.run_id
    assert (again.run_dir.path / "posterior.csv").read_bytes() == (
        finished.run_dir.path / "posterior.csv"
    ).read_bytes()


def test_a_dask_cluster_gives_the_same_posterior(
    finished: calibration_job.CalibrationResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        calibration_job, "make_evaluator",
        lambda scheduler=None: DaskEvaluator("local", n_workers=2, processes=False),
    )
    other = calibrate("us-iran-2001", until=UNTIL, out=tmp_path, scheduler="local", **SMALL)  # type: ignore[arg-type]
    assert other.run_id == finished.run_id
    np.testing.assert_array_equal(other.posterior.values.to_numpy(),
                                  finished.posterior.values.to_numpy())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"until": "2003Q5"}, "--until: expected a date such as 2003Q4"),
        ({"until": "2003-02-30"}, "is not a real date"),
        ({"until": "1999"}, "no observation ends on or before it"),
        ({"until": "2003", "particles": 3}, "--particles must be at least 8"),
        ({"until": "2003", "strategy": "no-such"}, "unknown strategy"),
    ],
)
def test_bad_calibration_requests_are_one_line_errors(
    kwargs: dict[str, object], message: str, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as exc:
        calibrate("us-iran-2001", out=tmp_path, **{**SMALL, **kwargs})  # type: ignore[arg-type]
    assert message in str(exc.value)
    assert not (tmp_path / "runs").exists()


def test_a_scenario_without_history_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="has no observations"):
        calibrate(Path(__file__).parent / "data" / "mini-system.yaml", until="2003",
                  out=tmp_path, **SMALL)  # type: ignore[arg-type]


def test_the_cli_prints_what_the_data_taught(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = run_cli("calibrate", "us-iran-2001", "--until", UNTIL, "--particles", "12",
                  "--worlds", "4", "--moves", "1", "--seed", "5", "--out", str(tmp_path))
    assert res.exit_code == 0, res.stderr
    assert "Probability of each record" in res.stdout and "What the data taught" in res.stdout
    assert "actors[" in res.stdout or "0 of" in res.stdout  # names keep their brackets
    bad = run_cli("calibrate", "us-iran-2001", "--until", "soon", "--out", str(tmp_path))
    assert bad.exit_code == 2
    assert bad.stderr.strip().count("\n") == 0 and "--until" in bad.stderr
    js = run_cli("calibrate", "us-iran-2001", "--until", UNTIL, "--particles", "12",
                 "--worlds", "4", "--moves", "1", "--seed", "5", "--out", str(tmp_path),
                 "--resume", "--json")
    assert json.loads(js.stdout)["kind"] == "calibrate"
