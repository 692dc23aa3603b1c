"""Forecasts of observations from sets of states: the ensembles a hindcast scores.

A forecaster here is a set of states of the world (the calibrated posterior's, or the
prior's), each simulated for ``worlds`` worlds under a strategy (for history, the script of
the path actually followed, which hands over to its named strategy after the script ends).
:func:`simulate_observations` pools every state's worlds into one ensemble of members per
observation (:func:`~detente.history.observe_states` on batches of states, the same
numbers as :func:`~detente.history.observe` per state with the experiments' state seeds), so
two forecasters given the same ``seed`` meet the same random numbers state by state.

:func:`at_cutoff` builds the *persistence* reference's observations: each observation's
expression read at the cut-off's step instead of its own date or window ("the state at the
cut-off continues": nothing after the cut-off changes what the expression would read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from detente.errors import InputError
from detente.experiments.chunks import state_seed
from detente.experiments.executors import Evaluator, InProcessEvaluator
from detente.history.hindcast import FloatArray, climatology
from detente.history.observe import observe_states
from detente.scenario.schema import Observation, Scenario

BATCH = 32
"""States per stacked engine run (:func:`~detente.history.observe_states`)."""

PERSISTENCE_SUFFIX = "@cutoff"
"""Appended to an observation's id for its persistence copy (read at the cut-off)."""


def at_cutoff(observations: Sequence[Observation], cutoff: dt.date) -> list[Observation]:
    """Copies of ``observations`` read at the cut-off's step (the persistence forecast).

    Each copy has the id ``<id>@cutoff``, the date ``cutoff`` and no window: a value is
    the expression's value at the end of the cut-off's step, a condition whether it holds
    then (``taken('X')``: started at or before the cut-off).
    """
    return [
        ob.model_copy(update={"id": ob.id + PERSISTENCE_SUFFIX, "date": cutoff, "window": None})
        for ob in observations
    ]


def observe_batch(
    item: tuple[int, pd.DataFrame, list[int]],
    *,
    scenario: Scenario,
    strategy: str,
    worlds: int,
    observations: Sequence[Observation],
) -> tuple[int, xr.Dataset]:
    """One evaluator task: a batch of states in one stacked run, with its members."""
    index, batch, seeds = item
    sim = observe_states(scenario, strategy, batch, worlds, seeds, observations)
    return index, sim.stack(member=("state", "world")).reset_index("member", drop=True)


def simulate_observations(
    scenario: Scenario,
    strategy: str,
    states: pd.DataFrame,
    worlds: int,
    seed: int,
    observations: Sequence[Observation],
    evaluator: Evaluator | None = None,
) -> xr.Dataset:
    """Every observation's value in every world of every state, pooled into members.

    Parameters
    ----------
    scenario : Scenario
    strategy : str
        Usually the history script (the path as followed, then its hand-over).
    states : DataFrame
        One row per state (index ``state``), columns = uncertainties (history ones too).
    worlds, seed : int
        Worlds per state; state ``i`` (its position) runs with ``state_seed(seed, i)``,
        as in :func:`~detente.history.prior_predictive` and the experiments.
    observations : sequence of Observation
    evaluator : Evaluator, optional
        Where the batches run (default: this process); the numbers do not depend on it.

    Returns
    -------
    xarray.Dataset
        ``value`` (member x observation; member ``i * worlds + w`` is world ``w`` of the
        ``i``-th state; conditions as 0/1) with the coordinates of
        :func:`~detente.history.observe` (``observation``, ``kind``, ``first_step``,
        ``last_step``) and ``state`` per member.
    """
    if len(states) == 0:
        raise InputError.single(f"scenario {scenario.id}", "no states to forecast from")
    items = [
        (b, states.iloc[first : first + BATCH],
         [state_seed(seed, i) for i in range(first, min(first + BATCH, len(states)))])
        for b, first in enumerate(range(0, len(states), BATCH))
    ]
    runner = evaluator if evaluator is not None else InProcessEvaluator()
    done = dict(runner.imap_unordered(
        observe_batch, items, scenario=scenario, strategy=strategy, worlds=worlds,
        observations=list(observations),
    ))
    parts = [done[b] for b in range(len(items))]
    pooled = xr.concat(parts, dim="member", coords="minimal", compat="override")
    pooled = pooled.drop_vars([c for c in ("seed",) if c in pooled.coords])
    return pooled.transpose("member", "observation").assign_coords(
        member=np.arange(pooled.sizes["member"]),
        state=("member", np.repeat(np.arange(len(states)), worlds)),
    )


def hindcast_ensembles(
    scenario: Scenario,
    strategy: str,
    observations: Sequence[Observation],
    cutoff: dt.date,
    posterior_states: pd.DataFrame,
    prior_states: pd.DataFrame,
    worlds: int,
    seed: int,
    evaluator: Evaluator | None = None,
) -> tuple[list[str], dict[str, FloatArray]]:
    """The four forecasters' ensembles of ``observations`` (docs/history.md, "Hindcast").

    The posterior's states are simulated once for both the model (each observation at its
    own date or window) and persistence (:func:`at_cutoff`); the prior's states with the
    same ``seed``, so state ``i`` of either meets the same random numbers. Climatology is
    :func:`~detente.history.hindcast.climatology` of the prior's members.

    Returns
    -------
    kinds : list of str
        ``"binary"`` or ``"value"`` per observation.
    ensembles : dict
        ``model``, ``prior``, ``persistence``, ``climatology`` -> members x observations.
    """
    ids = [ob.id for ob in observations]
    held = [ob.id + PERSISTENCE_SUFFIX for ob in observations]
    both = [*observations, *at_cutoff(observations, cutoff)]
    post = simulate_observations(scenario, strategy, posterior_states, worlds, seed, both,
                                 evaluator)
    prior = simulate_observations(scenario, strategy, prior_states, worlds, seed, observations,
                                  evaluator)
    kinds = [str(k) for k in post["kind"].sel(observation=ids).to_numpy()]
    prior_values = prior["value"].sel(observation=ids).to_numpy()
    return kinds, {
        "model": post["value"].sel(observation=ids).to_numpy(),
        "prior": prior_values,
        "persistence": post["value"].sel(observation=held).to_numpy(),
        "climatology": climatology(kinds, prior_values),
    }


__all__ = [
    "PERSISTENCE_SUFFIX",
    "at_cutoff",
    "hindcast_ensembles",
    "observe_batch",
    "simulate_observations",
]
