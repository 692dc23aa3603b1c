"""The likelihood of a scenario's recorded history, for batches of particles.

A particle is a state of the world in standard-normal coordinates (see
:mod:`detente.calibration.smc`). Its log-likelihood is the sum over the observations used
of the log probability of the record (:func:`detente.history.observation_log_probabilities`)
over ``worlds`` simulated worlds of the history replay. Every particle is simulated with the
same seed and worlds (common random numbers), so the estimate is a deterministic function
of the particle: the sampler sees one fixed target, and two particles differ only by what
their numbers do, not by luck.

Particles are evaluated in batches of :data:`BATCH` states; a batch is one task for the
experiments' evaluators (in-process or Dask), and the results are put back in batch order,
so the numbers do not depend on where or in which order batches ran.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.calibration.posterior import values_from_z
from detente.experiments.executors import Evaluator
from detente.history.observe import observe
from detente.history.scoring import observation_log_probabilities
from detente.scenario.schema import Observation, Scenario
from detente.scenario.uncertainty import UncertainParameter

FloatArray = NDArray[np.float64]
BATCH = 32
"""States per evaluation task."""


def evaluate_batch(
    item: tuple[int, list[dict[str, float]]],
    *,
    scenario: Scenario,
    strategy: str,
    observations: Sequence[Observation],
    worlds: int,
    seed: int,
) -> tuple[int, FloatArray]:
    """Per state of the batch, the log probability of each observation ([b, O])."""
    index, rows = item
    out = np.empty((len(rows), len(observations)))
    for i, values in enumerate(rows):
        sim = observe(scenario, strategy, worlds, seed, values=values, observations=observations)
        out[i] = observation_log_probabilities(sim, observations).to_numpy()
    return index, out


def _key(z: FloatArray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(z).tobytes(), digest_size=16).digest()


class HistoryLikelihood:
    """Batch log-likelihood of a scenario's observations (callable on ``z`` [N, D]).

    It remembers each particle's per-observation log probabilities, so the sampler's
    resampled copies and the final tables need no new simulation.
    """

    def __init__(
        self,
        scenario: Scenario,
        strategy: str,
        observations: Sequence[Observation],
        params: Sequence[UncertainParameter],
        worlds: int,
        seed: int,
        evaluator: Evaluator,
    ) -> None:
        self.scenario = scenario
        self.strategy = strategy
        self.observations = list(observations)
        self.params = list(params)
        self.worlds = worlds
        self.seed = seed
        self.evaluator = evaluator
        self._memo: dict[bytes, FloatArray] = {}

    def remember(self, z: FloatArray, log_probabilities: FloatArray) -> None:
        """Record known per-observation log probabilities (e.g. of a stored generation)."""
        for row, lp in zip(z, log_probabilities, strict=True):
            self._memo[_key(row)] = np.asarray(lp, dtype=np.float64)

    def log_probabilities(self, z: FloatArray) -> FloatArray:
        """Per particle and observation, the log probability of the record ([N, O])."""
        keys = [_key(row) for row in z]
        firsts: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            firsts.setdefault(k, i)
        wanted = [i for k, i in firsts.items() if k not in self._memo]
        if wanted:
            values = values_from_z(self.params, z[wanted]).to_dict("records")
            batches = [
                (b, [{str(k): float(v) for k, v in row.items()} for row in values[i : i + BATCH]])
                for b, i in enumerate(range(0, len(values), BATCH))
            ]
            shared: dict[str, Any] = {
                "scenario": self.scenario,
                "strategy": self.strategy,
                "observations": self.observations,
                "worlds": self.worlds,
                "seed": self.seed,
            }
            results = dict(self.evaluator.imap_unordered(evaluate_batch, batches, **shared))
            block = np.concatenate([results[b] for b in range(len(batches))])
            for i, row in zip(wanted, block, strict=True):
                self._memo[keys[i]] = row
        return np.stack([self._memo[k] for k in keys])

    def __call__(self, z: FloatArray) -> FloatArray:
        """Log-likelihood per particle: the sum of its observations' log probabilities."""
        return np.asarray(self.log_probabilities(z).sum(axis=1), dtype=np.float64)


__all__ = ["BATCH", "HistoryLikelihood", "evaluate_batch"]
