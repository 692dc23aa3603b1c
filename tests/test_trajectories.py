"""Fan-chart trajectories pooled over sampled states reproduce the engine's own runs."""

from __future__ import annotations

import numpy as np

from detente.experiments.chunks import state_seed
from detente.experiments.sampling import sample_states
from detente.experiments.trajectories import sampled_trajectory_quantiles
from detente.scenario import load_scenario
from detente.sim import simulate


def test_pooled_means_equal_the_mean_of_the_states_own_runs() -> None:
    scenario = load_scenario("us-iran-2001")
    states = sample_states(scenario, 3, "lhs", 7)
    frame = sampled_trajectory_quantiles(
        scenario, ["moderate-engagement"], states, worlds=16, seed=7, max_states=2
    )
    per_state = []
    for state in states.index[:2]:
        values = {str(k): float(v) for k, v in states.loc[state].items()}
        ds = simulate(scenario, "moderate-engagement", worlds=16, seed=state_seed(7, int(state)), values=values)
        per_state.append(ds["dialogue"].values.astype(np.float64))
    pooled = np.concatenate(per_state)
    got = frame[frame.metric == "dialogue"].sort_values("step")
    np.testing.assert_allclose(got["mean"].to_numpy(), pooled.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["p50"].to_numpy(), np.median(pooled, axis=0), rtol=1e-12)
    assert got["date"].iloc[0] == "2001Q3" and len(got) == 34


def test_trajectories_last_step_equals_the_runs_stored_summaries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The experiment path and the fan-chart path run the same model on the same states.

    Before, ``run_task`` resolved the scenario and the engine resolved the resolved copy
    again, losing every delay's range (default spreads instead): the fan charts and the
    stored summaries disagreed (final dialogue 17.80 vs 17.68 on 64 worlds).
    """
    from detente.experiments.runner import ExperimentPlan, run_experiment
    from detente.store.duckdb import ResultStore

    scenario = load_scenario("us-iran-2001")
    states = sample_states(scenario, 2, "lhs", 3)
    names = ("moderate-engagement", "containment")
    plan = ExperimentPlan("compare", scenario, states, names, 32, 3, {})
    result = run_experiment(plan, ResultStore(tmp_path / "r.duckdb"), progress=False)
    stored = result.state_means().groupby("strategy")[["dialogue", "sanctions"]].mean()
    frame = sampled_trajectory_quantiles(scenario, list(names), states, worlds=32, seed=3)
    last = frame[frame.step == frame.step.max()]
    for name in names:
        for metric in ("dialogue", "sanctions"):
            got = last[(last.strategy == name) & (last.metric == metric)]["mean"].item()
            np.testing.assert_allclose(got, stored.loc[name, metric], rtol=1e-9)
