"""The ``forecast`` and ``backtest deu`` commands, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from conftest import SHARED_DATA
from detente.cli import app

DATA = SHARED_DATA
runner = CliRunner()


def detente(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from detente.cli import main; sys.argv = ['detente', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120)


def test_forecast_eum_json_matches_table2() -> None:
    out = runner.invoke(app, ["forecast", "emission-standards-1994", "--model", "eum",
                              "--rounds", "8", "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    (issue,) = payload["issues"]
    assert issue["id"] == "years"
    medians = [r["median"] for r in issue["rounds"]][1:]
    table2 = [8.4, 9.9, 9.9, 9.9, 9.9, 7.4, 8.8, 9.6]
    assert all(abs(m - t) <= 0.35 for m, t in zip(medians, table2, strict=True))
    assert issue["forecasts"]["eum"] == medians[-1]


def test_forecast_table_for_ktab_and_all_models() -> None:
    out = runner.invoke(app, ["forecast", str(DATA / "ktab" / "dummyData_3Dim.csv")])
    assert out.exit_code == 0, out.output
    for word in ("compromise", "median", "nash", "eum", "Pstn3"):
        assert word in out.stdout


def test_forecast_issue_filter_on_deu_json() -> None:
    out = runner.invoke(app, ["forecast", str(DATA / "deu3" / "deu3.tsv"), "--issue",
                              "d00032i1", "--model", "compromise", "--json"])
    assert out.exit_code == 0, out.output
    (issue,) = json.loads(out.stdout)["issues"]
    assert issue["forecasts"]["compromise"] == 60.5 and "rounds" not in issue


def test_backtest_prints_model_table() -> None:
    out = runner.invoke(app, ["backtest", "deu", str(DATA / "deu3" / "deu3.tsv"),
                              "--boot", "200"])
    assert out.exit_code == 0, out.output
    assert "23.68" in out.stdout and "28.36" in out.stdout and "blend-eum" in out.stdout


def test_bad_input_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text("actor,capability,position,salience\na,1,x,1\nb,1,2,-1\n")
    proc = detente("forecast", str(bad))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert "Traceback" not in proc.stderr
    proc = detente("forecast", "emission-standards-1994", "--model", "eumm")
    assert proc.returncode == 2 and "did you mean" in proc.stderr


def test_backtest_deu_runs_on_the_shipped_data_with_no_path(run_cli) -> None:  # type: ignore[no-untyped-def]
    """A fresh install has DEU III inside the package: no path needed."""
    result = run_cli("backtest", "deu", "--json", "--folds", "2", "--boot", "100")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["n_issues"] == 353
