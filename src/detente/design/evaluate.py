"""Score strategies on a fixed set of sampled states: cell means per state and metric.

Every candidate of a search (and every fixed option it is compared with) is run on the same
states, each state on the same engine seed (:func:`~detente.experiments.chunks.state_seed`),
so two strategies differ only by what they do: common random numbers, as in ``compare``.

With detente's engine the candidates of a batch run in one stacked engine run: one row per
(candidate, state), the candidate's levers set through the scenario's ``designed[candidate]``
entry (:mod:`detente.design.levers`), which :mod:`detente.sim.stacked` compiles once per
state. A model named by ``$DETENTE_MODEL`` is called once per (candidate, state). A batch is
one task for the experiments' evaluators (in-process or Dask; on a cluster a generation is cut
into at least a few tasks per worker thread); results are put back in batch order, so the
numbers do not depend on where, or in what batches, candidates ran.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from detente.design.levers import CANDIDATE, Lever, lever_column
from detente.experiments.chunks import Model, is_default_engine, state_seed
from detente.experiments.executors import Evaluator
from detente.experiments.runner import TASKS_PER_SLOT
from detente.scenario import Scenario
from detente.sim.stacked import MAX_ROWS

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Batch:
    """Candidates (one lever vector each) or one fixed strategy (``levers`` empty)."""

    index: int
    strategy: str
    candidates: tuple[tuple[float, ...], ...] = ()


@dataclass(frozen=True)
class StateSet:
    """The states every strategy is scored on, with their engine seeds and world count."""

    states: pd.DataFrame
    seed: int
    worlds: int

    @property
    def seeds(self) -> list[int]:
        """One engine seed per state (the state's position within the set)."""
        return [state_seed(self.seed, s) for s in range(len(self.states))]


def _cell_means(per_world: Sequence[dict[str, FloatArray]], metrics: Sequence[str]) -> FloatArray:
    """``[rows, metrics]`` means over worlds, NaN worlds left out (as the store's ``avg``)."""
    out = np.full((len(per_world), len(metrics)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell with no defined world: NaN
        for i, summary in enumerate(per_world):
            for j, m in enumerate(metrics):
                if m in summary:
                    out[i, j] = np.nanmean(np.asarray(summary[m], dtype=np.float64))
    return out


def score_batch(
    batch: Batch,
    *,
    scenario: Scenario,
    stateset: StateSet,
    levers: tuple[Lever, ...],
    metrics: tuple[str, ...],
    model: Model,
) -> tuple[int, FloatArray]:
    """Cell means ``[candidates (or 1), states, metrics]`` of one batch."""
    base = stateset.states.reset_index(drop=True)
    n_states = len(base)
    seeds = stateset.seeds
    if batch.candidates:
        frames = []
        for values in batch.candidates:
            frame = base.copy()
            for lever, v in zip(levers, values, strict=True):
                frame[lever_column(lever.param)] = float(v)
            frames.append(frame)
        rows = pd.concat(frames, ignore_index=True)
        strategy = CANDIDATE
    else:
        rows = base
        strategy = batch.strategy
    all_seeds = seeds * (len(rows) // n_states)
    if is_default_engine(model):
        from detente.sim.stacked import summarize_states

        per_world = summarize_states(scenario, strategy, rows, stateset.worlds, all_seeds)
    else:
        records = rows.to_dict("records")
        per_world = [
            {k: np.asarray(v, dtype=np.float64) for k, v in model(
                scenario, strategy, stateset.worlds, seed, 0,
                values={str(k): float(x) for k, x in row.items()}).items()}
            for row, seed in zip(records, all_seeds, strict=True)
        ]
    means = _cell_means(per_world, metrics)
    return batch.index, means.reshape(len(rows) // n_states, n_states, len(metrics))


def candidates_per_batch(stateset: StateSet, candidates: int = 0, slots: int = 1) -> int:
    """Candidates per task: as many as fill one stacked engine run (:data:`MAX_ROWS` rows);
    on an evaluator running ``slots > 1`` tasks at once, few enough that ``candidates`` make
    at least :data:`~detente.experiments.runner.TASKS_PER_SLOT` tasks per slot (a generation
    waits for its slowest task). The numbers do not depend on it: each (candidate, state) row
    runs on its state's seed whatever else shares its engine run."""
    fill = max(1, MAX_ROWS // max(1, len(stateset.states) * stateset.worlds))
    if slots <= 1 or candidates <= 0:
        return fill
    return max(1, min(fill, -(-candidates // (TASKS_PER_SLOT * slots))))


def score(
    evaluator: Evaluator,
    scenario: Scenario,
    stateset: StateSet,
    levers: Sequence[Lever],
    metrics: Sequence[str],
    model: Model,
    candidates: FloatArray | None = None,
    strategies: Sequence[str] = (),
) -> FloatArray:
    """Cell means ``[n, states, metrics]`` of the candidates (lever values ``[n, d]``) or, without
    candidates, of the named strategies (one each, in order)."""
    batches: list[Batch] = []
    if candidates is not None:
        per = candidates_per_batch(stateset, len(candidates),
                                   int(getattr(evaluator, "slots", 1)))
        vectors = [tuple(float(x) for x in row) for row in np.asarray(candidates)]
        batches = [Batch(b, CANDIDATE, tuple(vectors[i : i + per]))
                   for b, i in enumerate(range(0, len(vectors), per))]
    else:
        batches = [Batch(b, name) for b, name in enumerate(strategies)]
    if not batches:
        return np.empty((0, len(stateset.states), len(metrics)))
    shared: dict[str, Any] = {
        "scenario": scenario, "stateset": stateset, "levers": tuple(levers),
        "metrics": tuple(metrics), "model": model,
    }
    results = dict(evaluator.imap_unordered(score_batch, batches, **shared))
    return np.concatenate([results[b.index] for b in batches], axis=0)


__all__ = ["Batch", "StateSet", "candidates_per_batch", "score", "score_batch"]
