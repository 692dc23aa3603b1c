"""The experiment commands on a user's own scenario (synthetic model via $DETENTE_MODEL)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import invoke_cli
from detente.experiments.robustness import COMPARISON_COLUMNS, PAIRED_COLUMNS


def cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """Run ``detente ARGS`` in-process; return (exit code, stdout, stderr)."""
    result = invoke_cli(args, capsys, monkeypatch)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def scenario(synthetic_scenario: str) -> str:
    return synthetic_scenario


def test_compare_json_and_files(scenario: str, tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    code, stdout, _ = cli(
        [
            "compare",
            scenario,
            "--states",
            "16",
            "--worlds",
            "64",
            "--seed",
            "2",
            "--json",
            "--out",
            str(out),
            "--threshold",
            "cost<=0.3",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0
    payload = json.loads(stdout)
    assert payload["strategies"] == ["containment", "engagement", "dismantle"]
    assert payload["thresholds"] == {"rapprochement": "rapprochement >= 0.4", "cost": "cost <= 0.3"}
    run_dir = out / "runs" / payload["run_id"]
    assert (out / "latest").read_text().strip() == payload["run_id"]
    assert json.loads((run_dir / "run.json").read_text()) == payload  # --json prints run.json
    frame = pd.read_csv(run_dir / "comparison.csv")
    assert list(frame.columns) == COMPARISON_COLUMNS + PAIRED_COLUMNS
    assert set(frame.outcome) == {"rapprochement", "cost", "reformist_share"}
    cost = frame[frame.outcome == "cost"].set_index("strategy")
    assert cost.loc["containment", "rank"] == 1  # boldness costs in the synthetic model
    assert frame[frame.outcome == "reformist_share"]["rank"].isna().all()
    assert (run_dir / "summary.md").read_text().startswith("# Synthetic two-country test scenario")
    assert (out / "results.duckdb").exists()
    # Same seed, same numbers: a rerun (fresh) reproduces the comparison exactly.
    code, stdout2, _ = cli(
        [
            "compare",
            scenario,
            "--states",
            "16",
            "--worlds",
            "64",
            "--seed",
            "2",
            "--json",
            "--threshold",
            "cost<=0.3",
            "--db",
            str(tmp_path / "other.duckdb"),
        ],
        capsys,
        monkeypatch,
    )
    again = json.loads(stdout2)
    assert again["comparison"] == payload["comparison"]
    # without --out the run's folder goes beside the database given with --db
    assert (tmp_path / "runs" / again["run_id"] / "comparison.csv").is_file()


def test_compare_table_output(scenario: str, capsys, monkeypatch) -> None:
    code, stdout, _ = cli(
        [
            "compare",
            scenario,
            "--states",
            "8",
            "--worlds",
            "32",
            "--strategies",
            "engagement,containment",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert "rapprochement (maximize; satisficing >= 0.4)" in stdout
    assert "which strategy holds up?" in stdout
    assert Path("detente-out/results.duckdb").exists()
    latest = Path("detente-out/latest").read_text().strip()
    assert Path("detente-out/runs", latest, "comparison.csv").is_file()
    assert f"files: detente-out/runs/{latest}/" in stdout


def test_bad_input_one_line_each_exit_2_nothing_written(
    scenario: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    out = tmp_path / "bad"
    code, _, err = cli(
        ["compare", scenario, "--strategies", "engagment,nope", "--out", str(out)],
        capsys,
        monkeypatch,
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert "unknown strategy 'engagment'" in lines[0] and 'did you mean "engagement"' in lines[0]
    assert "unknown strategy 'nope'" in lines[1]
    assert not out.exists()
    code, _, err = cli(
        ["compare", scenario, "--threshold", "cots<=1", "--threshold", "x=1", "--out", str(out)],
        capsys,
        monkeypatch,
    )
    assert code == 2 and len(err.strip().splitlines()) == 2 and not out.exists()
    code, _, err = cli(["compare", scenario, "--states", "0"], capsys, monkeypatch)
    assert code == 2 and "--states must be at least 1" in err
    code, _, err = cli(
        ["explore", scenario, "--strategy", "engagement", "--outcome", "__import__('os')"],
        capsys,
        monkeypatch,
    )
    assert code == 2 and "not allowed" in err
    code, _, err = cli(
        ["explore", scenario, "--strategy", "engagement", "--outcome", "rapprochment < 1"],
        capsys,
        monkeypatch,
    )
    assert code == 2 and 'did you mean "rapprochement"' in err
    code, _, err = cli(["compare", scenario, "--scheduler", "bogus"], capsys, monkeypatch)
    assert code == 2 and "scheduler" in err


def test_explore_finds_low_reciprocity(scenario: str, tmp_path: Path, capsys, monkeypatch) -> None:
    code, stdout, _ = cli(
        [
            "explore",
            scenario,
            "--strategy",
            "engagement",
            "--outcome",
            "cost > 0.3",
            "--states",
            "300",
            "--worlds",
            "16",
            "--json",
            "--out",
            str(tmp_path / "x"),
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0
    payload = json.loads(stdout)
    box = {b["uncertainty"]: b for b in payload["box"]}
    # Engagement's cost is 0.5 * (1 - reciprocity) + noise: it exceeds 0.3 when
    # reciprocity is below about 0.4.
    assert "parameters.reciprocity" in box
    assert box["parameters.reciprocity"]["high"] == pytest.approx(0.4, abs=0.1)
    assert payload["box_stats"]["density"] >= 0.8
    traj = pd.read_csv(tmp_path / "x" / "runs" / payload["run_id"] / "prim_trajectory.csv")
    assert list(traj.columns) == ["step", "coverage", "density", "mass", "n_restricted"]


def test_explore_judges_each_restriction(scenario: str, tmp_path: Path, capsys, monkeypatch) -> None:
    args = ["explore", scenario, "--strategy", "engagement", "--outcome", "cost > 0.3",
            "--states", "120", "--worlds", "16", "--density", "0.95", "--resamples", "10",
            "--out", str(tmp_path / "x")]
    code, stdout, _ = cli(args, capsys, monkeypatch)
    assert code == 0
    lines = stdout.splitlines()
    header = next(line for line in lines if "quasi-p" in line)
    assert "stability" in header
    # reciprocity decides the cost; the sampled 'irrelevant' input has no effect at all
    row = next(line for line in lines if line.lstrip().startswith("parameters.reciprocity"))
    assert "<0.001" in row and "100%" in row and "weak" not in row
    row = next(line for line in lines if line.lstrip().startswith("parameters.irrelevant"))
    assert row.rstrip().endswith("weak")
    assert "of 10 bootstrap resamples" in stdout and "may be noise:" in stdout
    run_dir = tmp_path / "x" / "runs" / (tmp_path / "x" / "latest").read_text().strip()
    box = pd.read_csv(run_dir / "prim_box.csv").set_index("uncertainty")
    assert list(box.columns[-2:]) == ["quasi_p", "stability"]
    assert box.loc["parameters.reciprocity", "quasi_p"] < 0.001
    info = json.loads((run_dir / "run.json").read_text())
    assert info["resampling"]["resamples"] == 10
    assert "parameters.irrelevant" in info["resampling"]["weak"]
    assert {b["uncertainty"]: b["stability"] for b in info["box"]} == box["stability"].to_dict()
    # The report shows the judgement stored in prim_box.csv (edited here: it must not
    # recompute it) and names the weak restrictions.
    box.loc["parameters.reciprocity", "stability"] = 0.2
    box.reset_index().to_csv(run_dir / "prim_box.csv", index=False)
    assert cli(["report", str(run_dir)], capsys, monkeypatch)[0] == 0
    html = (run_dir / "report.html").read_text()
    assert "Kept by resamples" in html and "<tr><td>parameters.irrelevant</td>" in html
    assert "<td class=\"num\">20%</td><td>weak</td>" in html
    weak = ["parameters.reciprocity", *info["resampling"]["weak"]]
    assert f"possibly noise: {', '.join(weak)}.</p>" in html
    code, _, err = cli([*args[:-2], "--resamples", "-1"], capsys, monkeypatch)
    assert code == 2 and err.strip().splitlines() == [
        "error: <command line>: --resamples must lie in 0..1000, got -1"
    ]


def test_sensitivity_sobol_and_morris(scenario: str, capsys, monkeypatch) -> None:
    code, stdout, _ = cli(
        [
            "sensitivity",
            scenario,
            "--strategy",
            "engagement",
            "--outcome",
            "cost",
            "--n",
            "64",
            "--worlds",
            "32",
            "--json",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0
    payload = json.loads(stdout)
    idx = pd.DataFrame(payload["indices"]).set_index("parameter")
    assert list(idx.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert idx["ST"].idxmax() == "parameters.reciprocity"
    assert any("small" in w for w in payload["warnings"])
    code, stdout, _ = cli(
        [
            "sensitivity",
            scenario,
            "--strategy",
            "engagement",
            "--outcome",
            "cost",
            "--method",
            "morris",
            "--n",
            "10",
            "--worlds",
            "16",
            "--json",
            "--include",
            "parameters.*",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0
    morris = pd.DataFrame(json.loads(stdout)["indices"])
    assert list(morris.columns) == ["parameter", "mu_star", "mu_star_conf", "sigma"]
    assert morris["parameter"].iloc[0] == "parameters.reciprocity"
    assert len(morris) == 4


def test_run_quick_and_export(scenario: str, tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "run-out"
    code, stdout, _ = cli(["run", scenario, "--quick", "--out", str(out)], capsys, monkeypatch)
    assert code == 0
    run_dir = out / "runs" / (out / "latest").read_text().strip()
    for name in ("comparison.csv", "run.json", "summary.md", "scenario.yaml", "report.html"):
        assert (run_dir / name).exists(), name
    assert (out / "results.duckdb").exists()
    assert (out / "report.html").read_bytes() == (run_dir / "report.html").read_bytes()
    assert "ranks first on" in stdout
    code, stdout, _ = cli(
        ["export", "--db", str(out / "results.duckdb"), "--out", str(tmp_path / "pq")],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert (tmp_path / "pq" / "summaries.parquet").exists()
    code, _, err = cli(
        ["export", "--db", str(tmp_path / "none.duckdb"), "--out", "x"], capsys, monkeypatch
    )
    assert code == 2 and "no such results database" in err


def test_run_discovery_is_consistent_with_its_files(scenario: str, tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "run-out"
    code, stdout, _ = cli(
        ["run", scenario, "--states", "80", "--worlds", "16", "--out", str(out)], capsys, monkeypatch
    )
    assert code == 0
    out = out / "runs" / (out / "latest").read_text().strip()
    disc = json.loads((out / "run.json").read_text())["discovery"]
    cases_share = disc["share_of_states"] if disc.get("cases") == "falls short" else 1 - disc["share_of_states"]
    if disc.get("box"):
        # PRIM explains the rarer class, on the model parameters, at the step it selected
        assert cases_share <= 0.5
        assert "selected_step" in disc
        box = pd.read_csv(out / "prim_box.csv")
        assert len(box) and all(str(u).startswith("parameters.") for u in box.uncertainty)
        assert {"quasi_p", "stability"} <= set(box.columns)
        assert disc["resampling"]["resamples"] == 50
        assert disc["resampling"]["restrictions"] == len(box)
        assert "quasi-p" in stdout and "of resamples" in stdout
        traj = pd.read_csv(out / "prim_trajectory.csv")
        chosen = traj[traj.step == disc["selected_step"]].iloc[0]
        assert chosen.density == pytest.approx(disc["density"])
        assert chosen.density > min(cases_share, 1 - cases_share)
    else:
        assert not (out / "prim_box.csv").exists(), "a box was stored without a discovery"
        assert "Scenario discovery skipped" in stdout or disc.get("note") is None


@pytest.mark.parametrize("command", [["compare"], ["explore", "--strategy", "engagement",
                                                   "--outcome", "cost > 0.3"]])
def test_sampler_with_posterior_is_refused(
    command: list[str], scenario: str, capsys, monkeypatch
) -> None:
    code, _, err = cli([command[0], scenario, *command[1:], "--posterior", "some-run",
                        "--sampler", "sobol"], capsys, monkeypatch)
    assert code == 2
    assert err.strip().count("\n") == 0 and "--sampler does not apply with --posterior" in err


def test_two_explore_analyses_of_the_same_states_keep_separate_run_folders(
    scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The outcome and PRIM settings are part of the run id: a second analysis of the same
    states does not overwrite the first one's PRIM files."""
    base = ["explore", scenario, "--strategy", "engagement", "--states", "120", "--worlds",
            "8", "--resamples", "0", "--json", "--out", str(tmp_path)]
    ids = []
    for outcome in ("cost > 0.3", "cost > 0.2"):
        code, stdout, err = cli([*base, "--outcome", outcome], capsys, monkeypatch)
        assert code == 0, err
        ids.append(json.loads(stdout)["run_id"])
    assert ids[0] != ids[1]
    for run_id in ids:
        assert (tmp_path / "runs" / run_id / "prim_box.csv").is_file()
