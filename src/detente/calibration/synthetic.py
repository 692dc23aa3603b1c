"""Synthetic histories: observations simulated from a known state, to test calibration.

A calibration method earns trust when it recovers a truth it was not told: draw a state
from the priors, simulate one world of the history replay under it (the "real" history),
record each observation's value the way the scenario records the real one (same dates,
expressions, kinds and errors), then calibrate on that record and check that the posterior
covers the truth and is narrower than the prior where the data speak
(:func:`recovery`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from detente.calibration.posterior import Posterior, learned
from detente.history.observe import observe
from detente.scenario.schema import Interval, Observation, Scenario
from detente.scenario.uncertainty import UncertainParameter


def synthetic_observations(
    scenario: Scenario,
    strategy: str,
    truth: Mapping[str, float],
    seed: int,
    observations: Sequence[Observation],
) -> list[Observation]:
    """The observations as one simulated world under ``truth`` would have recorded them.

    Binary records take the world's outcome; point values take its value; an interval keeps
    its width and is centred on the world's value (so the record is as precise as the real
    one). Errors, dates and expressions are kept.
    """
    sim = observe(scenario, strategy, 1, seed, values=dict(truth), observations=observations)
    out = []
    for ob in observations:
        x = float(sim["value"].sel(observation=ob.id).values[0])
        observed: bool | float | Interval
        if isinstance(ob.observed, bool):
            observed = x > 0.5
        elif isinstance(ob.observed, Interval):
            half = (ob.observed.high - ob.observed.low) / 2
            observed = Interval(low=x - half, high=x + half)
        else:
            observed = x
        out.append(ob.model_copy(update={"observed": observed}))
    return out


def with_observations(scenario: Scenario, observations: Sequence[Observation]) -> Scenario:
    """A copy of ``scenario`` whose history records ``observations`` instead of its own."""
    assert scenario.history is not None
    history = scenario.history.model_copy(update={"observations": list(observations)})
    return scenario.model_copy(update={"history": history})


def recovery(
    params: Sequence[UncertainParameter],
    truth: Mapping[str, float],
    posterior: Posterior,
    effective: float,
) -> pd.DataFrame:
    """Per uncertainty the data moved: is the truth inside the posterior interval, and did
    the posterior median come closer to it than the prior median?

    Returns :func:`~detente.calibration.posterior.learned`'s rows with ``moved`` true, plus
    ``truth``, ``covered`` and ``closer`` (distance to the truth, posterior minus prior
    median, in prior interval widths: negative when the posterior came closer).
    """
    table = learned(params, posterior, effective=effective)
    moved = table[table["moved"]].copy()
    t = np.array([truth[name] for name in moved["parameter"]], dtype=float)
    width = (moved["prior_high"] - moved["prior_low"]).to_numpy()
    moved["truth"] = t
    moved["covered"] = (moved["posterior_low"] <= t) & (t <= moved["posterior_high"])
    post, prior = moved["posterior_median"].to_numpy(), moved["prior_median"].to_numpy()
    moved["closer"] = (np.abs(post - t) - np.abs(prior - t)) / width
    moved.attrs = table.attrs
    return moved.reset_index(drop=True)


__all__ = ["recovery", "synthetic_observations", "with_observations"]
