"""Issue 9 item 6, console side: ties marked, no raw Markdown, 80 columns, readable --help."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from conftest import invoke_cli
from detente.cli.experiment_cmds import comparison_tables
from detente.experiments import analysis
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML
from detente.scenario import load_scenario

FLAGSHIP_STRATEGIES = [
    "dismantle-sanctions",
    "moderate-engagement",
    "containment",
    "tit-for-tat",
    "grim",
]


def _render(tables: list, width: int = 80) -> str:  # type: ignore[type-arg]
    console = Console(width=width, record=True, highlight=False, file=open("/dev/null", "w"))  # noqa: SIM115
    for t in tables:
        console.print(t)
    return console.export_text()


def _fits(text: str, width: int = 80) -> None:
    long = [line for line in text.splitlines() if len(line) > width]
    assert not long, long[:3]
    assert "…" not in text


@pytest.fixture(scope="module")
def flagship_comparison() -> tuple[pd.DataFrame, analysis.OutcomeSpec]:
    """A comparison over the flagship's outcomes and strategies, two of them near-tied."""
    sc = load_scenario("us-iran-2001")
    rng = np.random.default_rng(1)
    outcomes = [m.id for m in sc.metrics]
    directions = {m.id: m.direction for m in sc.metrics}
    rows = []
    for state in range(12):
        base = rng.normal(0, 5)
        for k, strategy in enumerate(FLAGSHIP_STRATEGIES):
            row = {"state": state, "strategy": strategy}
            for m in outcomes:
                level = 0.16 if m == "rapprochement" else 73.6
                # the first two are within noise of each other; the rest clearly behind
                shift = 0.0 if k < 2 else 10.0 * k
                worse = 1.0 if directions[m] == "minimize" else -1.0
                row[m] = level + base + worse * shift + rng.normal(0, 0.5)
            rows.append(row)
    means = pd.DataFrame(rows)
    spec = analysis.outcome_spec(sc, outcomes)
    return analysis.comparison_for(means, spec, FLAGSHIP_STRATEGIES), spec


def test_tied_first_places_are_marked_and_not_bold(flagship_comparison) -> None:  # type: ignore[no-untyped-def]
    comparison, spec = flagship_comparison
    tables = comparison_tables(comparison, spec)
    text = _render(tables)
    dialogue = comparison[comparison.outcome == "dialogue"]
    assert not dialogue["decisive"].iloc[0]
    assert text.count("=1 ") >= 2
    for table in tables:
        cells = [str(c) for c in table.columns[1]._cells]
        ranks = [str(c) for c in table.columns[0]._cells]
        if "=1" in ranks:
            assert not any("[bold]" in c for c in cells)
    assert "lead of #1" in text


def test_flagship_comparison_tables_fit_80_columns(flagship_comparison) -> None:  # type: ignore[no-untyped-def]
    comparison, spec = flagship_comparison
    text = _render(comparison_tables(comparison, spec, show_info=True))
    _fits(text)
    for s in FLAGSHIP_STRATEGIES:  # names whole, not folded or cut
        assert s in text
    assert "% of worlds" in text  # rapprochement is 0/1: its mean is a share of worlds


@pytest.fixture()
def synthetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DETENTE_MODEL", "detente.experiments.testing:synthetic_model")
    monkeypatch.delenv("DETENTE_SCHEDULER", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "mine.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    return str(path)


def test_compare_explore_sensitivity_fit_80_columns_without_markdown(
    synthetic: str, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    runs = [
        ["compare", synthetic, "--states", "8", "--worlds", "16"],
        [
            "explore",
            synthetic,
            "--strategy",
            "engagement",
            "--outcome",
            "rapprochement < 0.5",
            "--states",
            "40",
            "--worlds",
            "8",
        ],
        [
            "sensitivity",
            synthetic,
            "--strategy",
            "engagement",
            "--outcome",
            "cost",
            "--method",
            "morris",
            "--n",
            "6",
            "--worlds",
            "8",
        ],
    ]
    for args in runs:
        result = invoke_cli(args, capsys, monkeypatch)
        assert result.exit_code == 0, result.stderr
        body = [ln for ln in result.stdout.splitlines() if "detente-out" not in ln]
        _fits("\n".join(body))
        assert "**" not in result.stdout and "\n## " not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["show", "us-iran-2001"],
        ["forecast", "us-iran-2001"],
        ["simulate", "us-iran-2001", "--strategy", "containment", "--worlds", "20"],
        ["scenarios"],
    ],
    ids=lambda a: a[0],
)
def test_flagship_tables_fit_80_columns(args: list[str], run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    _fits(result.stdout)


def test_forecast_explains_nash_and_eum(run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")
    out = run_cli("forecast", "us-iran-2001").stdout
    assert "Nash equals the status quo on every issue shown" in out
    assert "goes back and forth" in out


COMMANDS = [
    "run",
    "compare",
    "explore",
    "sensitivity",
    "export",
    "simulate",
    "forecast",
    "show",
    "validate",
    "scenarios",
    "backtest deu",
    "report",
    "figures",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_readable_types_and_defaults(command: str, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "100")
    result = run_cli(*command.split(), "--help")
    assert result.exit_code == 0
    text = result.stdout
    for raw in ("<bool>", "<int>", "<list[str]>", "<str>", "<float>", "<path>", "<dir>", "<file>", "{"):
        assert raw not in text, (command, raw)
    if command in ("compare", "explore"):
        assert "--states" in text and "[default: " in text.split("--states")[1].split("--")[0]
    if command == "run":
        states = text.split("--states")[1].split("--worlds")[0]
        assert "64" in states and "--quick: 12" in states
    if command == "compare":
        assert "METRIC>=VALUE" in text
