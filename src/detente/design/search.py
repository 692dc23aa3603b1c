"""The search: pymoo's NSGA-II over the levers' unit cube, asked and told one generation at a
time, each finished generation handed to a callback (the store) before the next starts.

Resuming. NSGA-II's state after generation ``k`` is a deterministic function of its seed
and of the scores told so far, so :func:`search` rebuilds it by *replaying*: the algorithm
starts from the same seed, and for every stored generation the candidates it asks for are
checked against the stored ones (same unit coordinates, exactly) and told the stored scores
instead of being simulated. From the first generation not stored, it continues as an
uninterrupted run would. Replay costs pymoo's bookkeeping only (milliseconds a generation),
keeps no pickled objects in the database (a pickle is tied to pymoo's internals and
unsafe to load from a shared file), and cannot drift from the uninterrupted run: it *is*
the same code path, with the same random numbers. The pymoo version is part of the run id,
so a different pymoo never replays another's run.

The algorithm's seed comes from the run seed's own stream
(``SeedSequence(seed, spawn_key=name_key("design-search"))``), so it is independent of the
states' and worlds' seeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detente.design.levers import Lever
from detente.design.robust import minimised
from detente.errors import InputError
from detente.sim.rng import name_key
from detente.store.design import StoredGeneration

FloatArray = NDArray[np.float64]
Scorer = Callable[[FloatArray], FloatArray]
"""Lever values ``[n, d]`` -> scores ``[n, m]`` (in the metrics' own units)."""


def algorithm_seed(seed: int) -> int:
    """The seed of pymoo's generator: the run seed's ``design-search`` stream."""
    ss = np.random.SeedSequence(int(seed), spawn_key=name_key("design-search"))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


@dataclass(frozen=True)
class SearchResult:
    """Every generation (as stored) and the final non-dominated set."""

    generations: list[StoredGeneration]
    front_x: FloatArray
    front_levers: FloatArray
    front_scores: FloatArray


def decode(levers: Sequence[Lever], x: FloatArray) -> FloatArray:
    """Lever values ``[n, d]`` of unit coordinates ``x`` ``[n, d]``."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    return np.column_stack([lv.decode(x[:, j]) for j, lv in enumerate(levers)])


def search(
    levers: Sequence[Lever],
    directions: Sequence[str],
    scorer: Scorer,
    *,
    population: int,
    generations: int,
    seed: int,
    stored: Sequence[StoredGeneration] = (),
    on_generation: Callable[[StoredGeneration], None] | None = None,
) -> SearchResult:
    """Run NSGA-II for ``generations`` generations of ``population`` candidates.

    Candidates repeating the lever values of one scored earlier in the run (whole-number
    and choice levers make such repeats common) take its scores without a new simulation.

    Raises
    ------
    InputError
        A stored generation the replay does not reproduce (the run's settings or pymoo
        changed under the same run id).
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator as PymooEvaluator
    from pymoo.core.problem import Problem
    from pymoo.operators.sampling.lhs import LHS
    from pymoo.problems.static import StaticProblem

    d, m = len(levers), len(directions)
    problem = Problem(n_var=d, n_obj=m, xl=np.zeros(d), xu=np.ones(d))
    algorithm = NSGA2(pop_size=population, sampling=LHS(), eliminate_duplicates=True)
    algorithm.setup(problem, termination=("n_gen", generations), seed=algorithm_seed(seed),
                    verbose=False)
    memo: dict[bytes, FloatArray] = {}
    done: list[StoredGeneration] = []
    evaluator = PymooEvaluator()
    for g in range(generations):
        tick = time.perf_counter()
        pop = algorithm.ask()
        x = np.asarray(pop.get("X"), dtype=np.float64)
        values = decode(levers, x)
        if g < len(stored):
            gen = stored[g]
            if gen.x.shape != x.shape or not np.array_equal(gen.x, x):
                raise InputError.single(
                    "--resume", f"stored generation {g} is not the one this search asks for "
                    "(its settings or pymoo changed); run again without --resume")
            for row, sc in zip(values, gen.scores, strict=True):
                memo[row.tobytes()] = sc
        else:
            keys = [row.tobytes() for row in values]
            fresh = list(dict.fromkeys(k for k in keys if k not in memo))
            if fresh:
                where = {k: i for i, k in reversed(list(enumerate(keys)))}
                new = scorer(values[[where[k] for k in fresh]])
                for k, sc in zip(fresh, new, strict=True):
                    memo[k] = np.asarray(sc, dtype=np.float64)
            scored = np.array([memo[k] for k in keys])
            gen = StoredGeneration(g, x, values, scored, len(fresh),
                                   round(time.perf_counter() - tick, 3))
            if on_generation is not None:
                on_generation(gen)
        done.append(gen)
        static = StaticProblem(problem, F=minimised(gen.scores, directions))
        evaluator.eval(static, pop)
        algorithm.tell(infills=pop)
    opt = algorithm.opt
    fx = np.asarray(opt.get("X"), dtype=np.float64)
    fl = decode(levers, fx)
    fs = np.array([memo[row.tobytes()] for row in fl])
    order = np.lexsort(fl.T[::-1])
    keep: dict[bytes, int] = {}
    for i in order:
        keep.setdefault(fl[i].tobytes(), int(i))  # one row per distinct lever vector
    idx = sorted(keep.values(), key=lambda i: tuple(fl[i]))
    return SearchResult(done, fx[idx], fl[idx], fs[idx])


__all__ = ["SearchResult", "algorithm_seed", "decode", "search"]
