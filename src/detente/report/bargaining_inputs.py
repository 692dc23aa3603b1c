"""Static bargaining forecasts of a scenario's issues, in the form the figures take.

Runs every model of :mod:`detente.bargaining` on the nominal actor table of each issue and
the expected-utility model round by round. Issues no model can forecast (no actors, all
weights zero) are skipped. The forecasts of a scenario are computed once per scenario
object (:class:`~detente.scenario.memo.ScenarioMemo`): ``detente run``'s report process
needs them for the figures it draws during the run and again for the report.
"""

from __future__ import annotations

import pandas as pd

from detente.errors import InputError
from detente.report.figures.bargaining import issue_ids, scenario_table
from detente.scenario.memo import ScenarioMemo
from detente.scenario.schema import Scenario

Forecasts = tuple[dict[str, dict[str, float]], dict[str, pd.DataFrame]]

_forecasts: ScenarioMemo[Forecasts] = ScenarioMemo()


def scenario_forecasts(scenario: Scenario, rounds: int = 8) -> Forecasts:
    """Forecasts of each model per issue, and the EUM's round-by-round trace per issue.

    Parameters
    ----------
    scenario : Scenario
        Any scenario with actor positions.
    rounds : int
        Rounds of the expected-utility model.

    Returns
    -------
    forecasts : dict of issue -> (dict of model -> position)
    eum_rounds : dict of issue -> DataFrame ``[round, median, mean]``
        (Copies: the caller may change them.)
    """
    forecasts, traces = _forecasts.get(scenario, rounds, lambda: _forecasts_of(scenario, rounds))
    return (
        {issue: dict(values) for issue, values in forecasts.items()},
        {issue: trace.copy() for issue, trace in traces.items()},
    )


def _forecasts_of(scenario: Scenario, rounds: int) -> Forecasts:
    from detente import bargaining

    forecasts: dict[str, dict[str, float]] = {}
    traces: dict[str, pd.DataFrame] = {}
    for issue_id in issue_ids(scenario):
        table, _, _ = scenario_table(scenario, issue_id)
        try:
            values = {name: bargaining.forecast(table, name) for name in bargaining.MODELS}
            trace = bargaining.run(table, rounds=rounds)
        except InputError:
            continue
        forecasts[issue_id] = values
        traces[issue_id] = pd.DataFrame(
            {"round": range(len(trace.median)), "median": trace.median, "mean": trace.mean}
        )
    return forecasts, traces
