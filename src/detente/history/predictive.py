"""How probable the recorded history is under the model before calibration.

The *prior predictive* probability of an observation is the probability the model gives
what was recorded when the state of the world is drawn from the scenario's ranges (the
priors): the mean over sampled states of each state's probability
(:func:`~detente.history.observation_log_probabilities`; for point values, a density). It
is the "uncalibrated model" of the hindcast (docs/history.md) and the first measure of how
far the model is from history: an observation the model gives a probability near its
recording error is one the model cannot produce.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from detente.errors import InputError
from detente.experiments.chunks import state_seed
from detente.history.hindcast import observation_when
from detente.history.observe import observe
from detente.history.scoring import observation_log_probabilities
from detente.scenario.schema import Observation, Scenario


def prior_predictive(
    scenario: Scenario,
    strategy: str,
    states: pd.DataFrame,
    worlds: int,
    seed: int = 0,
    observations: Sequence[Observation] | None = None,
) -> pd.DataFrame:
    """Per observation, the probability of the record under the prior, pooled over states.

    Parameters
    ----------
    scenario : Scenario
    strategy : str
        Usually a history script (the policy actually followed).
    states : DataFrame
        Sampled states (:func:`~detente.experiments.sampling.sample_states` with
        ``history=True``), one row per state.
    worlds, seed : int
        Worlds per state; state ``i`` uses the experiments' seed ``state_seed(seed, i)``.
    observations : sequence of Observation, optional
        Default: the scenario's own; pass a held-out file's to forecast those.

    Returns
    -------
    DataFrame
        One row per observation: ``observation``, ``date``, ``kind``, ``observed``,
        ``probability`` (mean over states of the record's probability or density),
        ``probability_min``/``probability_max`` over states, and ``share_true`` (binary
        expressions: share of all worlds where it holds; NaN for values).
    """
    if observations is not None:
        obs = list(observations)
    else:
        obs = list(scenario.history.observations) if scenario.history is not None else []
    if not obs:
        raise InputError.single(f"scenario {scenario.id}", "there are no observations to evaluate")
    per_state: list[pd.Series] = []
    true_share: dict[str, list[float]] = {}
    kinds: dict[str, str] = {}
    for state, row in zip(states.index.astype(int), states.to_dict("records"), strict=True):
        simulated = observe(
            scenario,
            strategy,
            worlds,
            state_seed(seed, int(state)),
            values={str(k): float(v) for k, v in row.items()},
            observations=obs,
        )
        per_state.append(np.exp(observation_log_probabilities(simulated, obs)))
        for ob_id, kind in zip(
            simulated["observation"].values, simulated["kind"].values, strict=True
        ):
            kinds[str(ob_id)] = str(kind)
            if kind == "binary":
                values = simulated["value"].sel(observation=ob_id).to_numpy()
                true_share.setdefault(str(ob_id), []).append(float(np.mean(values > 0.5)))
    table = pd.concat(per_state, axis=1)
    rows = []
    for ob in obs:
        probs = table.loc[ob.id].to_numpy(dtype=float)
        shares = true_share.get(ob.id)
        rows.append(
            {
                "observation": ob.id,
                "date": observation_when(ob),
                "kind": kinds[ob.id],
                "observed": str(ob.observed),
                "probability": float(probs.mean()),
                "probability_min": float(probs.min()),
                "probability_max": float(probs.max()),
                "share_true": float(np.mean(shares)) if shares else float("nan"),
            }
        )
    return pd.DataFrame(rows)
