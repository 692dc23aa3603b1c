"""Hindcast (issue 11 item 3): scores by hand, the references, the seeded paired bootstrap,
the posterior blind to every observation after the cut-off, and the command end to end."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr

from detente.experiments.sampling import sample_states
from detente.history import observe
from detente.history.forecasts import PERSISTENCE_SUFFIX, at_cutoff, hindcast_ensembles
from detente.history.hindcast import (
    climatology,
    paired_differences,
    record_probability,
    reliability,
    score_forecasts,
    value_target,
)
from detente.history.hindcast_job import MIN_HELD_OUT, hindcast
from detente.scenario import load_scenario
from detente.scenario.schema import Observation

FIXTURE = Path(__file__).parent / "data" / "mini-history.yaml"
MINI = {"particles": 8, "worlds": 4, "moves": 1, "progress": False}
HELD = """scenario: mini-history
observations:
  - {id: late-talks, date: 2004-06-01, expression: "in_force('e-talks')", observed: true,
     error: 0.1, judgment: "fixture"}
  - {id: late-terror, date: 2005-03-01, expression: "level('terror')", observed: {low: 40,
     high: 70}, error: 2, judgment: "fixture"}
"""


def _ob(expression: str, observed: Any, error: float, **when: Any) -> Observation:
    return Observation.model_validate(
        {"id": "o", "expression": expression, "observed": observed, "error": error,
         "judgment": "test", **(when or {"date": dt.date(2004, 1, 1)})}
    )


# -- scores against hand-computed values ------------------------------------------------


@pytest.mark.parametrize(("observed", "brier", "log"), [
    (True, 0.3**2, -math.log(0.7)),
    (False, 0.7**2, -math.log(0.3)),
])
def test_event_scores_include_the_flip_error(observed: bool, brier: float, log: float) -> None:
    # 3 of 4 worlds hold (p = 0.75), flip error 0.1: q = 0.9 * 0.75 + 0.1 * 0.25 = 0.7
    ob = _ob("legislature_reform_majority", observed, 0.1)
    table = score_forecasts([ob], ["binary"], {"model": np.array([[1.0], [1.0], [1.0], [0.0]])}, 0)
    row = table.iloc[0]
    assert row["probability"] == pytest.approx(0.7)
    assert row["brier"] == pytest.approx(brier)
    assert row["log"] == pytest.approx(log)
    assert math.isnan(row["crps"])


def test_record_probability() -> None:
    assert record_probability(1.0, 0.02) == pytest.approx(0.98)
    assert record_probability(0.0, 0.1) == pytest.approx(0.1)


def test_crps_of_an_exact_value_is_the_ensemble_crps_by_hand() -> None:
    # members 0, 1, 2 against 1: E|X - y| - E|X - X'| / 2 = 2/3 - (8/9) / 2 = 2/9
    ob = _ob("reform_share", {"low": 1, "high": 1}, 0.0)
    table = score_forecasts([ob], ["value"], {"model": np.array([[0.0], [1.0], [2.0]])}, 0)
    assert table.iloc[0]["crps"] == pytest.approx(2 / 9)
    assert math.isnan(table.iloc[0]["brier"])
    # scaled by the range the prior gives the expression (here 0 to 4): 2/9 / 4
    scaled = score_forecasts(
        [ob], ["value"],
        {"model": np.array([[0.0], [1.0], [2.0]]), "prior": np.array([[0.0], [4.0], [1.0]])}, 0,
    )
    assert scaled.iloc[0]["crps_scaled"] == pytest.approx(2 / 9 / 4)


def test_interval_is_scored_against_its_midpoint_with_its_spread_as_noise() -> None:
    ob = _ob("level('terror')", {"low": 10, "high": 20}, 3.0)
    target, sd = value_target(ob)
    assert target == 15
    assert sd == pytest.approx(math.sqrt(9 + 25 / 3))
    assert value_target(_ob("level('terror')", 68, 5.0)) == (68, 5.0)


def test_value_forecasts_carry_the_observation_noise() -> None:
    # An ensemble all at the truth, observed with sd 1: CRPS of N(0, 1) at 0, not 0.
    ob = _ob("level('terror')", 0.0, 1.0)
    table = score_forecasts([ob], ["value"], {"model": np.zeros((20000, 1))}, 3)
    exact = float(sr.crps_normal(0.0, 0.0, 1.0))
    assert table.iloc[0]["crps"] == pytest.approx(exact, rel=0.03)
    assert table.iloc[0]["noise_sd"] == 1.0


def test_climatology_is_a_coin_for_events_and_the_prior_range_midpoint_for_values() -> None:
    prior = np.array([[0.0, 2.0], [1.0, 10.0], [1.0, 4.0]])
    np.testing.assert_array_equal(climatology(["binary", "value"], prior), [[0.5, 6.0]])
    ob = _ob("legislature_reform_majority", False, 0.2)
    table = score_forecasts([ob], ["binary"], {"climatology": np.array([[0.5]])}, 0)
    assert table.iloc[0]["probability"] == pytest.approx(0.5)


# -- the references on simulated worlds -------------------------------------------------


def test_persistence_reads_each_expression_at_the_cutoff_step() -> None:
    sc = load_scenario(FIXTURE)
    assert sc.history is not None
    cutoff = dt.date(2002, 12, 31)
    later = [ob for ob in sc.history.observations if ob.last > cutoff]
    states = sample_states(sc, 3, seed=1, history=True)
    prior = sample_states(sc, 3, seed=2, history=True)
    kinds, ens = hindcast_ensembles(sc, "west-as-followed", later, cutoff, states, prior, 4, 5)
    assert set(ens) == {"model", "prior", "persistence", "climatology"}
    assert ens["model"].shape == ens["persistence"].shape == (12, len(later))
    copies = at_cutoff(later, cutoff)
    assert all(c.id.endswith(PERSISTENCE_SUFFIX) and c.date == cutoff and c.window is None
               for c in copies)
    # the same expressions, dated at the cut-off by hand, state by state
    from detente.experiments.chunks import state_seed

    by_hand = np.concatenate([
        observe(sc, "west-as-followed", 4, state_seed(5, i), values=row,
                observations=[ob.model_copy(update={"date": cutoff, "window": None})
                              for ob in later])["value"].to_numpy()
        for i, row in enumerate(states.to_dict("records"))
    ])
    np.testing.assert_array_equal(ens["persistence"], by_hand)
    assert not np.array_equal(ens["persistence"], ens["model"])
    # the prior forecaster meets the prior's states, not the posterior's
    assert not np.array_equal(ens["prior"], ens["model"])
    assert kinds == ["binary", "value", "binary"]


# -- the bootstrap ----------------------------------------------------------------------


def _table(model: np.ndarray, ref: np.ndarray) -> pd.DataFrame:
    rows = []
    for name, scores in (("model", model), ("prior", ref)):
        for i, s in enumerate(scores):
            rows.append({"observation": f"o{i}", "kind": "binary", "forecaster": name,
                         "brier": s, "log": s, "crps": np.nan, "crps_scaled": np.nan})
    return pd.DataFrame(rows)


def test_bootstrap_is_paired_over_observations_and_seeded() -> None:
    rng = np.random.default_rng(0)
    model = rng.uniform(0, 1, 20)  # wide spread between observations ...
    ref = model + 0.1 + rng.normal(0, 0.005, 20)  # ... a steady gap within each
    table = _table(model, ref)
    a = paired_differences(table, seed=1)
    row = a[(a.forecaster == "prior") & (a.score == "brier")].iloc[0]
    assert row["difference"] == pytest.approx(np.mean(model - ref))
    # paired: the interval is as narrow as the gap's own noise, not the spread of the scores
    assert row["low"] < row["difference"] < row["high"]
    assert row["high"] - row["low"] < 0.01
    assert pd.testing.assert_frame_equal(a, paired_differences(table, seed=1)) is None
    b = paired_differences(table, seed=2)
    assert not np.allclose(a["low"].dropna(), b["low"].dropna())
    assert math.isnan(a[a.forecaster == "model"].iloc[0]["difference"])


def test_reliability_bins_by_hand() -> None:
    table = pd.DataFrame({
        "kind": ["binary"] * 4, "forecaster": ["model"] * 4,
        "probability": [0.05, 0.15, 0.9, 0.95], "target": [0.0, 1.0, 1.0, 1.0],
    })
    rel = reliability(table, bins=5)
    assert rel["bin"].tolist() == [0, 4]
    assert rel["count"].tolist() == [2, 2]
    assert rel["mean_forecast"].tolist() == pytest.approx([0.1, 0.925])
    assert rel["observed_frequency"].tolist() == pytest.approx([0.5, 1.0])


# -- the posterior never sees an observation after the cut-off --------------------------


def _variant(tmp_path: Path, name: str, changes: list[tuple[str, str]], held: str) -> Path:
    text = FIXTURE.read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    folder = tmp_path / name
    folder.mkdir()
    (folder / "s.yaml").write_text(text)
    (folder / "held.yaml").write_text(held)
    return folder


def _hindcast(folder: Path) -> tuple[bytes, str, Any]:
    res = hindcast(folder / "s.yaml", cutoff="2002Q4", heldout=folder / "held.yaml",
                   out=folder / "out", **MINI)  # type: ignore[arg-type]
    return (res.run_dir.path / "posterior.csv").read_bytes(), res.payload["calibration_run_id"], res


AFTER = [  # every observation of the fixture after 2002Q4, changed
    ('expression: "in_force(\'e-talks\')", observed: false,', 'expression: "in_force(\'e-talks\')", observed: true,'),
    ("observed: {low: 0.2, high: 0.6}", "observed: {low: 0.3, high: 0.5}"),
    ('expression: "legislature_reform_majority", observed: true', 'expression: "legislature_reform_majority", observed: false'),
]


def test_changing_observations_after_the_cutoff_leaves_the_posterior_bit_identical(
    tmp_path: Path,
) -> None:
    base = _variant(tmp_path, "base", [], HELD)
    after = _variant(tmp_path, "after", AFTER,
                     HELD.replace("observed: true", "observed: false").replace("low: 40", "low: 5"))
    before = _variant(tmp_path, "before", [("observed: 68", "observed: 20")], HELD)
    post, cal_id, res = _hindcast(base)
    post_after, cal_after, res_after = _hindcast(after)
    post_before, cal_before, _ = _hindcast(before)
    assert post_after == post
    assert cal_after == cal_id
    assert post_before != post
    assert cal_before != cal_id
    # the forecasts did see the changed records (so the test changed something they read)
    assert not res.forecasts["target"].equals(res_after.forecasts["target"])
    # and the copied posterior is the calibration's own file
    assert post == (res.calibration.run_dir.path / "posterior.csv").read_bytes()
    assert len(res.observations) == 5
    assert any("only 5 observations" in w and str(MIN_HELD_OUT) in w for w in res.warnings)


# -- the command ------------------------------------------------------------------------


def test_hindcast_cli_flagship_json(run_cli: Any, tmp_path: Path) -> None:
    res = run_cli("hindcast", "us-iran-2001", "--cutoff", "2003Q4", "--particles", "8",
                  "--worlds", "2", "--moves", "1", "--out", str(tmp_path), "--json")
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["kind"] == "hindcast"
    assert payload["cutoff"] == "2003-12-31"
    assert payload["calibration_run_id"].startswith("cal-")
    assert len(payload["observations_forecast"]) >= MIN_HELD_OUT
    assert payload["warnings"] == []
    run = Path(payload["run_dir"])
    for name in ("posterior.csv", "prior.csv", "generations.csv", "learned.csv",
                 "observations.csv", "hindcast_forecasts.csv", "hindcast_scores.csv",
                 "reliability.csv", "reliability.png", "run.json"):
        assert (run / name).is_file(), name
    scores = pd.read_csv(run / "hindcast_scores.csv")
    assert set(scores["forecaster"]) == {"model", "prior", "persistence", "climatology"}
    assert set(scores["score"]) == {"brier", "log", "crps", "crps_scaled"}
    assert {s["forecaster"] for s in payload["scores"]} == set(scores["forecaster"])
    # the hindcast's posterior is usable as --posterior
    from detente.calibration.stored import load_posterior

    assert load_posterior(run).run_id == payload["run_id"]


def test_hindcast_cli_table_and_warning(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "held.yaml").write_text(HELD)
    res = run_cli("hindcast", str(FIXTURE), "--cutoff", "2002Q4", "--heldout",
                  str(tmp_path / "held.yaml"), "--particles", "8", "--worlds", "4",
                  "--moves", "1", "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.stderr
    assert "warning: only 5 observations after the cut-off 2002-12-31" in res.stderr
    assert "late-terror" in res.stdout and "difference" in res.stdout
    assert "reliability.png" in res.stdout
    tables = [line for line in res.stdout.splitlines()
              if not line.startswith(("reliability diagram:", "files:"))]  # paths may be long
    assert max(len(line) for line in tables) <= 80


def test_bad_heldout_file_is_one_line_exit_2_before_any_calibration(
    run_cli: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "held.yaml"
    bad.write_text(HELD.replace("observed: true", "observed: 3"))
    res = run_cli("hindcast", str(FIXTURE), "--cutoff", "2002Q4", "--heldout", str(bad),
                  "--out", str(tmp_path / "out"))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"error: {bad}:") and "observations[0].observed" in lines[0]
    assert not (tmp_path / "out").exists()


def test_no_observation_after_the_cutoff_is_one_line(run_cli: Any, tmp_path: Path) -> None:
    res = run_cli("hindcast", str(FIXTURE), "--cutoff", "2005Q2", "--out", str(tmp_path))
    assert res.exit_code == 2
    assert "no observation after the cut-off 2005-06-30" in res.stderr
    bad = run_cli("hindcast", str(FIXTURE), "--cutoff", "2003Q5", "--out", str(tmp_path))
    assert bad.exit_code == 2 and "--cutoff" in bad.stderr


def test_forecast_batches_give_the_same_members_on_a_dask_cluster() -> None:
    """The forecasts' batches run through the evaluators like calibration's: a two-worker
    cluster returns exactly the in-process members, in the same order."""
    from detente.experiments.executors import DaskEvaluator
    from detente.experiments.sampling import sample_states
    from detente.history.forecasts import BATCH, simulate_observations
    from detente.scenario import load_scenario

    sc = load_scenario("us-iran-2001")
    assert sc.history is not None
    obs = list(sc.history.observations[:4])
    states = sample_states(sc, BATCH + 3, seed=2, history=True)  # two batches, one partial
    here = simulate_observations(sc, "us-as-followed", states, 3, 7, obs)
    with DaskEvaluator("local", n_workers=2, processes=False) as ev:
        there = simulate_observations(sc, "us-as-followed", states, 3, 7, obs, ev)
    np.testing.assert_array_equal(here["value"].to_numpy(), there["value"].to_numpy())
    assert here["value"].shape == ((BATCH + 3) * 3, 4)
