"""Issue 9 item 6: output that neither overstates nor confuses (report and summary side).

Drivers that survive no correction are called leads, with the states needed to confirm
them; a tie is never reported as a win; numbers say what they mean; the header counts the
strategies compared; Nash at the status quo and the oscillating EUM median are explained.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detente.experiments import analysis
from detente.report import demo
from detente.report.bargaining_notes import eum_oscillation
from detente.report.figures.bargaining import scenario_table
from detente.report.html import ReportInputs, build_report, render_report
from test_report import _make_run


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return demo.demo_scenario()


def _two_strategy_comparison(scenario, gap: float) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Containment vs engagement on ``sanctions`` (minimize), engagement lower by ``gap``
    on average with per-state noise of sd 1 over 12 states."""
    rng = np.random.default_rng(0)
    rows = []
    for state in range(12):
        noise = rng.normal(0, 1)
        rows.append({"state": state, "strategy": "containment", "sanctions": 50.0 + noise})
        rows.append(
            {
                "state": state,
                "strategy": "moderate-engagement",
                "sanctions": 50.0 - gap + rng.normal(0, 1),
            }
        )
    means = pd.DataFrame(rows)
    spec = analysis.outcome_spec(scenario, ["sanctions"])
    return analysis.comparison_for(means, spec, ["containment", "moderate-engagement"])


# ---------------------------------------------------------------------------------------
# drivers: leads, states needed, same words in console and report
# ---------------------------------------------------------------------------------------


def test_states_needed_follows_the_fisher_z_formula() -> None:
    rho, m = 0.4, 200
    z = stats.norm.ppf(1 - 0.05 / (2 * m)) + stats.norm.ppf(0.8)
    assert analysis.states_needed(rho, m) == math.ceil((z / math.atanh(rho)) ** 2 + 3)
    # more uncertainties tested, more states needed; a stronger correlation, fewer
    assert analysis.states_needed(0.4, 800) > analysis.states_needed(0.4, 200)
    assert analysis.states_needed(0.8, 200) < analysis.states_needed(0.4, 200)


def test_report_calls_insignificant_drivers_leads_like_the_summary(built_report) -> None:  # type: ignore[no-untyped-def]
    root, html = built_report
    run = next((root / "runs").iterdir())
    drivers = pd.read_csv(run / "drivers.csv")
    assert "states_needed" in drivers.columns  # stored with the run; the report reads it
    assert not drivers["significant"].any()  # 12 states: nothing survives the correction
    assert "Long bars mark the judgments the result hinges on" not in html
    assert "leads to check" in html
    summary = (run / "summary.md").read_text(encoding="utf-8")
    note = analysis.drivers_note(drivers, 12, 2)
    assert "leads, not findings" in note and "would take about" in note
    assert note in summary  # the console prints the summary: same words both sides
    assert note.replace("`", "&#96;") in html or note in html.replace("&#39;", "'")


# ---------------------------------------------------------------------------------------
# near-ties
# ---------------------------------------------------------------------------------------


def test_a_near_tie_is_marked_and_names_no_winner(scenario) -> None:  # type: ignore[no-untyped-def]
    tie = _two_strategy_comparison(scenario, gap=0.05)
    assert not tie["decisive"].iloc[0]
    html = render_report(ReportInputs(scenario=scenario, comparison=tie))
    table = html[html.index('<table class="comparison">') :]
    table = table[: table.index("</table>")]
    assert table.count(">=1<") == 2
    assert "<strong>" not in table
    bottom = html[html.index('<section id="findings">') :]
    bottom = bottom[: bottom.index("</section>")]
    assert "does best" not in bottom and "ranks first" not in bottom
    assert "no clear first" in bottom.lower()


def test_a_clear_first_is_bold_and_named(scenario) -> None:  # type: ignore[no-untyped-def]
    clear = _two_strategy_comparison(scenario, gap=5.0)
    assert clear["decisive"].iloc[0]
    html = render_report(ReportInputs(scenario=scenario, comparison=clear))
    assert "<strong>Moderate engagement</strong>" in html
    assert ">=1<" not in html
    assert re.search(r"Moderate engagement does best", html)


# ---------------------------------------------------------------------------------------
# numbers say what they mean; the header counts the strategies compared
# ---------------------------------------------------------------------------------------


def test_share_metrics_read_as_share_of_worlds(built_report) -> None:  # type: ignore[no-untyped-def]
    _, html = built_report
    findings = html[html.index('<ul class="findings">') :]
    findings = findings[: findings.index("</ul>")]
    line = next(li for li in findings.split("<li>") if li.startswith("Rapprochement"))
    assert "% of worlds" in line


def test_header_counts_the_strategies_compared(scenario) -> None:  # type: ignore[no-untyped-def]
    two = _two_strategy_comparison(scenario, gap=5.0)
    html = render_report(ReportInputs(scenario=scenario, comparison=two))
    assert '<th scope="row">Strategies compared</th><td>2 (the scenario defines 3)</td>' in html


# ---------------------------------------------------------------------------------------
# Nash at the status quo, EUM oscillation
# ---------------------------------------------------------------------------------------


def test_bargaining_section_explains_nash_and_eum(scenario) -> None:  # type: ignore[no-untyped-def]
    status_quo = scenario_table(scenario, "sanctions")[0].reference
    swinging = pd.DataFrame(
        {"round": range(6), "median": [30, 60, 35, 62, 33, 61], "mean": [40] * 6}
    )
    html = render_report(
        ReportInputs(
            scenario=scenario,
            forecasts={"sanctions": {"compromise": 70.0, "nash": status_quo}},
            eum_rounds={"sanctions": swinging},
        )
    )
    assert "Nash equals the status quo" in html
    assert "goes back and forth over the last 4 rounds" in html
    calm = render_report(
        ReportInputs(
            scenario=scenario,
            forecasts={"sanctions": {"compromise": 70.0, "nash": 55.0}},
            eum_rounds={"sanctions": demo.demo_eum_rounds()},
        )
    )
    assert "Nash equals the status quo" not in calm and "back and forth" not in calm


def test_eum_oscillation_needs_a_reversal() -> None:
    assert eum_oscillation([0, 10, 20, 30, 40, 50]) is None
    assert eum_oscillation([0, 50, 20, 50, 20, 50]) == (20.0, 50.0)


# ---------------------------------------------------------------------------------------
# the report's figures: drawn in parallel, same bytes, progress per figure
# ---------------------------------------------------------------------------------------


def test_figures_drawn_in_parallel_are_the_same_bytes() -> None:
    import functools

    from detente.report.figure_pool import render_pngs
    from detente.report.figures import drivers_chart

    frames = [
        pd.DataFrame({"parameter": [f"p{k}", "q"], "rho": [0.1 * k, -0.3], "p_value": [0.5, 0.2]})
        for k in range(5)
    ]
    makers = [functools.partial(drivers_chart, f, "the lead") for f in frames]
    seen: list[int] = []
    parallel = render_pngs(makers, workers=2, progress=seen.append)
    assert parallel == render_pngs(makers, workers=1)
    assert sorted(seen) == list(range(5))
    costs = [1.0, 0.2, 3.0, 1.0, 2.0]  # drawn in another order, returned in the one given
    assert render_pngs(makers, workers=2, costs=costs) == parallel


@pytest.fixture(scope="module")
def built_report(tmp_path_factory, scenario) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("out")
    _make_run(root, scenario)
    return root, build_report(root).read_text(encoding="utf-8")
