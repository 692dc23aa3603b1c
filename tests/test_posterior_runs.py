"""``--posterior RUN``: experiments on states drawn from a stored calibration, and the report's
section "How well this model knows history".

One real (small) calibration of the flagship is made per test session (24 particles, 8
worlds, one move, observations up to 2002Q4: a few seconds); the experiments and reports
below read it as users would, from its run folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import CliResult
from detente.calibration.posterior import Posterior
from detente.errors import InputError
from detente.experiments import jobs
from detente.experiments.posterior_states import (
    check_posterior,
    posterior_source,
    states_phrase,
)
from detente.experiments.runner import ExperimentPlan
from detente.formatting import number
from detente.report.figures.reliability import reliability_chart, reliability_columns
from detente.report.html import render_report
from detente.report.rundir import load_run
from detente.scenario import load_scenario, uncertainties
from detente.store.duckdb import ResultStore

FLAGSHIP = "us-iran-2001"
STRATEGIES = ["containment", "moderate-engagement"]


@pytest.fixture(scope="session")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real calibrate run of the flagship, stored under its own output folder."""
    from detente.calibration.job import calibrate

    out = tmp_path_factory.mktemp("calibrated")
    return calibrate(
        FLAGSHIP, until="2002Q4", particles=24, worlds=8, moves=1, out=out, progress=False
    )


def _compare(out: Path, posterior: str | Path | None, **kw: Any) -> jobs.CompareResult:
    settings: dict[str, Any] = {"states": 12, "worlds": 4, "seed": 3, **kw}
    return jobs.compare(
        FLAGSHIP, strategies=STRATEGIES, out=out, posterior=posterior, progress=False, **settings
    )


@pytest.fixture(scope="module")
def on_posterior(calibrated: Any) -> jobs.CompareResult:
    return _compare(calibrated.run_dir.root, calibrated.run_id)


@pytest.fixture(scope="module")
def on_prior(calibrated: Any) -> jobs.CompareResult:
    return _compare(calibrated.run_dir.root, None)


def _particles(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "posterior.csv", index_col="particle")


def _one_line(result: CliResult, *words: str) -> None:
    assert result.exit_code == 2, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


# ---------------------------------------------------------------------------------------
# the states and the run's identity
# ---------------------------------------------------------------------------------------


def test_states_are_particles(calibrated: Any, on_posterior: jobs.CompareResult) -> None:
    particles = _particles(calibrated.run_dir.path)
    states = on_posterior.parameters
    assert list(states.columns) == [p.name for p in uncertainties(calibrated.scenario)]
    table = particles[list(states.columns)].to_numpy(dtype=float)
    for row in states.to_numpy(dtype=float):
        assert np.abs(table - row).max(axis=1).min() == 0.0  # this state is one particle


def test_prior_states_are_not_particles(calibrated: Any, on_prior: jobs.CompareResult) -> None:
    """The check above can fail: states from the scenario's ranges are no particle."""
    table = _particles(calibrated.run_dir.path)[list(on_prior.parameters.columns)].to_numpy()
    row = on_prior.parameters.to_numpy(dtype=float)[0]
    assert np.abs(table - row).max(axis=1).min() > 0


def test_run_records_the_posterior(
    calibrated: Any, on_posterior: jobs.CompareResult, on_prior: jobs.CompareResult
) -> None:
    sha = hashlib.sha256((calibrated.run_dir.path / "posterior.csv").read_bytes()).hexdigest()
    stored = json.loads((on_posterior.run_dir.path / "run.json").read_text())
    for payload in (on_posterior.payload, stored):
        assert payload["posterior_run_id"] == calibrated.run_id
        assert payload["posterior_sha256"] == sha
        assert payload["posterior_until"] == "2002-12-31"
        assert payload["sampler"] == "posterior"
    settings = ResultStore(on_posterior.payload["database"]).run_info(on_posterior.run_id)
    assert settings["settings"]["posterior_sha256"] == sha
    assert settings["settings"]["posterior_run_id"] == calibrated.run_id
    assert on_posterior.run_id != on_prior.run_id
    assert "posterior_run_id" not in on_prior.payload
    phrase = states_phrase(calibrated.run_id, "2002-12-31")
    assert phrase in on_posterior.summary
    assert phrase not in on_prior.summary


def test_run_id_names_the_posterior_and_keeps_prior_ids() -> None:
    sc = load_scenario(FLAGSHIP)
    states = pd.DataFrame({"parameters.noise": [0.1, 0.2]})
    plan = ExperimentPlan("compare", sc, states, ("containment",), 4, 0, {"sampler": "lhs"})
    same = ExperimentPlan("compare", sc, states, ("containment",), 4, 0, {"sampler": "sobol"})
    a = ExperimentPlan("compare", sc, states, ("containment",), 4, 0, {"posterior_sha256": "a"})
    b = ExperimentPlan("compare", sc, states, ("containment",), 4, 0, {"posterior_sha256": "b"})
    assert plan.run_id("m", "v") == same.run_id("m", "v")  # other settings stay informational
    assert len({plan.run_id("m", "v"), a.run_id("m", "v"), b.run_id("m", "v")}) == 3


def test_a_run_id_and_its_folder_give_the_same_states(calibrated: Any) -> None:
    by_id = posterior_source(calibrated.scenario, calibrated.run_id, calibrated.run_dir.root)
    by_folder = posterior_source(calibrated.scenario, calibrated.run_dir.path, None)
    assert by_id.settings == by_folder.settings
    assert by_id.folder == by_folder.folder == calibrated.run_dir.path.resolve()
    pd.testing.assert_frame_equal(
        by_id.draw(calibrated.scenario, 30, 5), by_folder.draw(calibrated.scenario, 30, 5)
    )


def test_explore_on_posterior(calibrated: Any) -> None:
    result = jobs.explore(
        FLAGSHIP,
        strategy="containment",
        outcome="dialogue > 9",
        states=24,
        worlds=4,
        seed=2,
        include=["parameters.*"],
        out=calibrated.run_dir.root,
        posterior=calibrated.run_id,
        progress=False,
    )
    assert result.payload["posterior_run_id"] == calibrated.run_id
    particles = _particles(calibrated.run_dir.path)
    states = pd.read_csv(result.run_dir.path / "parameters.csv", index_col="state")
    table = particles[list(states.columns)].to_numpy(dtype=float)
    for row in states.to_numpy(dtype=float):
        assert np.abs(table - row).max(axis=1).min() == 0.0
    assert all(str(c).startswith("parameters.") for c in result.box["uncertainty"])


# ---------------------------------------------------------------------------------------
# the command line and its errors
# ---------------------------------------------------------------------------------------


def test_cli_compare_says_where_states_come_from(calibrated: Any, run_cli: Any) -> None:
    out = calibrated.run_dir.root
    result = run_cli(
        "compare", FLAGSHIP, "--strategies", "containment", "--states", "4", "--worlds", "4",
        "--out", str(out), "--posterior", calibrated.run_id[:8],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "States drawn from the posterior of calibration run " + calibrated.run_id in text
    assert "(observations up to 2002-12-31)" in text


def test_cli_unknown_run(calibrated: Any, run_cli: Any) -> None:
    out = str(calibrated.run_dir.root)
    _one_line(
        run_cli("compare", FLAGSHIP, "--out", out, "--posterior", "no-such-run"),
        "--posterior no-such-run",
        "not a run here",
    )


def test_cli_run_of_another_kind(
    calibrated: Any, on_prior: jobs.CompareResult, run_cli: Any
) -> None:
    out = str(calibrated.run_dir.root)
    _one_line(
        run_cli("run", FLAGSHIP, "--quick", "--out", out, "--posterior", on_prior.run_id),
        "is a compare run",
    )


def _copy_run(calibrated: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "runs" / calibrated.run_id
    shutil.copytree(calibrated.run_dir.path, folder)
    return folder


def test_cli_posterior_of_another_scenario(calibrated: Any, tmp_path: Path, run_cli: Any) -> None:
    folder = _copy_run(calibrated, tmp_path)
    info = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**info, "scenario": "another-case"}))
    _one_line(
        run_cli("explore", FLAGSHIP, "--strategy", "containment", "--outcome",
                "dialogue > 9", "--posterior", str(folder)),
        "calibrated scenario 'another-case', not 'us-iran-2001'",
    )  # fmt: skip


def test_cli_posterior_over_other_uncertainties(
    calibrated: Any, tmp_path: Path, run_cli: Any
) -> None:
    folder = _copy_run(calibrated, tmp_path)
    table = pd.read_csv(folder / "posterior.csv")
    gone = [str(c) for c in table.columns[3:7]]
    table = table.drop(columns=gone).copy()
    table["actors[nobody].clout"] = 1.0
    table.to_csv(folder / "posterior.csv", index=False)
    result = run_cli("compare", FLAGSHIP, "--posterior", str(folder))
    _one_line(result, "missing 4 (", gone[0], ", ...)", "extra 1 (actors[nobody].clout)")


def test_check_posterior_accepts_its_own(calibrated: Any) -> None:
    check_posterior(calibrated.scenario, calibrated.posterior, "x")  # no error
    other = Posterior("other", calibrated.posterior.values, calibrated.posterior.weights)
    with pytest.raises(InputError, match="calibrated scenario 'other'"):
        check_posterior(calibrated.scenario, other, "x")


def test_sensitivity_refuses_a_posterior(run_cli: Any) -> None:
    result = run_cli(
        "sensitivity", FLAGSHIP, "--strategy", "containment", "--outcome", "rapprochement",
        "--posterior", "any-run",
    )  # fmt: skip
    _one_line(result, "--posterior", "Sobol and Morris", "correlated")


# ---------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------


def _history_html(run_dir: Path) -> str:
    """The run's report with only what the history section needs drawn (the scenario's
    structure, bargaining and comparison figures take seconds and are tested elsewhere)."""
    inputs, _ = load_run(run_dir)
    inputs.scenario = None
    inputs.comparison = inputs.drivers = inputs.quantiles = None
    inputs.forecasts, inputs.eum_rounds = {}, {}
    return render_report(inputs)


@pytest.fixture(scope="module")
def posterior_html(on_posterior: jobs.CompareResult) -> str:
    return _history_html(on_posterior.run_dir.path)


@pytest.fixture(scope="module")
def elsewhere(calibrated: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A copy of the calibration in a folder of its own, and a compare run that used it."""
    folder = _copy_run(calibrated, tmp_path_factory.mktemp("elsewhere"))
    return folder, _compare(tmp_path_factory.mktemp("out"), folder, states=4)


def test_report_history_section(calibrated: Any, posterior_html: str) -> None:
    html = posterior_html
    assert '<section id="history">' in html
    assert "How well this model knows history" in html
    assert f"calibration run <code>{calibrated.run_id}</code>" in html
    assert "2002-12-31" in html
    learned = pd.read_csv(calibrated.run_dir.path / "learned.csv")
    moved = learned[learned["moved"]]
    first = moved.iloc[0] if len(moved) else learned.iloc[0]
    assert f"<code>{first['parameter']}</code>" in html
    assert f"[{number(first['posterior_low'])}, {number(first['posterior_high'])}]" in html
    generations = pd.read_csv(calibrated.run_dir.path / "generations.csv")
    assert f'<td class="num">{number(generations["ess"].iloc[-1])}</td>' in html
    observations = pd.read_csv(calibrated.run_dir.path / "observations.csv")
    for _, row in observations.iterrows():
        assert row["observation"] in html
    assert "drawn from the posterior of calibration run" in html
    assert "each weighing the same" not in html  # the prior's caveat is replaced


def test_report_on_prior_has_no_history_section(on_prior: jobs.CompareResult) -> None:
    html = _history_html(on_prior.run_dir.path)
    assert '<section id="history">' not in html
    assert "drawn from the scenario's ranges (the prior)" in html


def test_report_of_the_calibration_itself(calibrated: Any) -> None:
    html = _history_html(calibrated.run_dir.path)
    assert '<section id="history">' in html
    assert '<section id="results">' not in html
    assert "This run calibrated the scenario on its observations up to" in html
    assert "detente hindcast" in html  # a calibration scores no forecasts


def test_report_when_the_posterior_folder_is_gone(calibrated: Any, elsewhere: Any) -> None:
    folder, result = elsewhere
    moved = folder.with_name("moved-away")
    folder.rename(moved)
    try:
        html = _history_html(result.run_dir.path)
    finally:
        moved.rename(folder)
    assert f"The folder of calibration run {calibrated.run_id}" in html
    assert "is no longer there" in html
    assert "<h3>What the data moved</h3>" not in html


def test_report_when_the_posterior_changed(elsewhere: Any) -> None:
    folder, result = elsewhere
    assert "is not the one" not in _history_html(result.run_dir.path)
    original = (folder / "posterior.csv").read_bytes()
    (folder / "posterior.csv").write_bytes(original + b"\n")
    try:
        html = _history_html(result.run_dir.path)
    finally:
        (folder / "posterior.csv").write_bytes(original)
    assert "is not the one this run drew its states from" in html


def _as_hindcast(calibrated: Any, tmp_path: Path) -> Path:
    """The calibration's folder with a hindcast's tables added (the layout the hindcast
    job documents: scores per forecaster and score, reliability bins)."""
    folder = _copy_run(calibrated, tmp_path)
    info = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**info, "kind": "hindcast"}))
    pd.DataFrame(
        {
            "forecaster": ["model", "prior", "persistence", "climatology"],
            "score": ["brier"] * 4,
            "mean": [0.213, 0.2471, 0.3012, 0.25],
            "difference": [0.0, -0.0341, -0.0882, -0.037],
            "difference_low": [0.0, -0.0712, -0.1523, -0.0911],
            "difference_high": [0.0, 0.0041, -0.0215, 0.0167],
        }
    ).to_csv(folder / "hindcast_scores.csv", index=False)
    pd.DataFrame(
        {
            "bin": [0, 1, 2],
            "mean_forecast": [0.1, 0.45, 0.8],
            "observed_frequency": [0.2, 0.5, 0.6],
            "count": [5, 4, 6],
        }
    ).to_csv(folder / "reliability.csv", index=False)
    return folder


def test_report_of_a_hindcast_has_scores_and_reliability(calibrated: Any, tmp_path: Path) -> None:
    html = _history_html(_as_hindcast(calibrated, tmp_path))
    assert "Forecasts after the cut-off against three references" in html
    for value in ("0.213", "-0.0341", "-0.152", "0.0167", "-0.0882", "persistence"):
        assert f">{value}<" in html
    assert 'id="fig-reliability"' in html


def test_reliability_chart_and_columns() -> None:
    frame = pd.DataFrame({"forecast": [0.2, 0.7], "observed": [0.0, 1.0], "n": [3, 2]})
    assert reliability_columns(frame) == ("forecast", "observed", "n", None)
    fig = reliability_chart(frame)
    assert [ax.get_label() for ax in fig.axes] == ["reliability"]
    with pytest.raises(ValueError, match="mean forecast column"):
        reliability_columns(pd.DataFrame({"p": [0.1]}))
