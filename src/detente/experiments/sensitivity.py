"""Global sensitivity analysis with SALib (Sobol indices, Morris elementary effects).

SALib designs are drawn in the unit hypercube and mapped through each uncertainty's inverse
CDF (:func:`detente.experiments.sampling.to_values`), so the indices refer to the scenario's
own distributions. Because the map is one-to-one per coordinate and the coordinates are
independent, Sobol indices over the unit cube *are* the indices over the parameters. Morris
effects are per unit of quantile (how much the outcome moves when a parameter goes across its
whole distribution), which makes them comparable across parameters with different units.

Like SALib, the module is split into symmetric ``*_sample`` / ``*_analyze`` functions.

Common random numbers: every design point of a sensitivity run is simulated on the same
worlds of the same seed (:class:`CommonWorlds`), not on a seed of its own as ``compare``'s
states are. The difference between two points' outcomes is then due to the inputs that
differ, never to chance: an input with no path to the outcome has elementary effects of
exactly zero (Morris ``mu_star = 0``) and Sobol indices of exactly zero, instead of
indices made of world-to-world noise.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from SALib.analyze import morris as morris_analyze_mod
from SALib.analyze import sobol as sobol_analyze_mod
from SALib.sample import morris as morris_sample_mod
from SALib.sample import sobol as sobol_sample_mod

from detente.experiments.chunks import Model, state_seed
from detente.scenario import Scenario

Method = Literal["sobol", "morris"]
SOBOL_COLUMNS = ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
MORRIS_COLUMNS = ["parameter", "mu_star", "mu_star_conf", "sigma"]

#: Below this many base samples Sobol estimates are usually too noisy to rank parameters.
SOBOL_MIN_BASE = 512
#: A confidence half-width above this (in index units) is flagged as unstable.
SOBOL_MAX_CONF = 0.1

FloatArray = NDArray[np.float64]


class SensitivityWarning(UserWarning):
    """The sample is too small for stable indices."""


@dataclass(frozen=True)
class CommonWorlds:
    """A model that runs every state on the worlds of one seed (common random numbers).

    The runner gives each state its own engine seed (``state_seed(run seed, state)``);
    wrapped in this, every state runs on the worlds of ``state_seed(seed, 0)`` -- those
    of the design's first point -- whatever seed the runner passes. Its ``repr`` names the
    wrapped model and the seed, so the run id (which hashes the model name) differs from a
    run of the bare model.
    """

    model: Model
    name: str
    """The wrapped model's name (as :func:`~detente.experiments.runner.load_model` gives it)."""
    seed: int

    def __call__(
        self,
        scenario: Scenario,
        strategy: str,
        worlds: int,
        seed: int,
        start_world: int,
        *,
        values: Mapping[str, float] | None = None,
    ) -> Mapping[str, FloatArray]:
        """The wrapped model on ``state_seed(self.seed, 0)``; ``seed`` is not used."""
        common = state_seed(self.seed, 0)
        return self.model(scenario, strategy, worlds, common, start_world, values=values)

    def __repr__(self) -> str:
        return f"common_worlds({self.name}, seed={self.seed})"


def unit_problem(names: Sequence[str], groups: Sequence[str] | None = None) -> dict[str, Any]:
    """A SALib problem over the unit hypercube with the given parameter names.

    ``groups`` (one label per parameter) makes Morris move each group's parameters together
    and report one index per group.
    """
    problem: dict[str, Any] = {
        "num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)
    }
    if groups is not None:
        problem["groups"] = list(groups)
    return problem


def sobol_sample(d: int, n: int, seed: int = 0) -> FloatArray:
    """Saltelli/Sobol design in the unit cube: ``n * (d + 2)`` rows (first-order and total).

    ``n`` (the base sample) should be a power of two; SALib warns otherwise.
    """
    problem = unit_problem([f"x{j}" for j in range(d)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        x = sobol_sample_mod.sample(problem, n, calc_second_order=False, seed=seed)
    return np.asarray(x, dtype=float)


def sobol_analyze(
    names: Sequence[str], y: FloatArray, seed: int = 0, conf_level: float = 0.95
) -> tuple[pd.DataFrame, list[str]]:
    """First-order and total Sobol indices with bootstrap confidence half-widths.

    Parameters
    ----------
    names : sequence of str
        Parameter names, in design column order.
    y : array, shape (n * (d + 2),)
        Model outputs on the :func:`sobol_sample` design.
    seed : int
        Seed of the bootstrap.
    conf_level : float

    Returns
    -------
    (frame, warnings)
        ``[parameter, S1, S1_conf, ST, ST_conf]`` and human-readable stability warnings
        (empty when the estimates look stable).
    """
    d = len(names)
    y = np.asarray(y, dtype=float)
    n = len(y) // (d + 2)
    notes: list[str] = []
    if not np.all(np.isfinite(y)):
        raise ValueError("model outputs contain NaN or infinite values")
    if float(np.var(y)) == 0.0:
        frame = pd.DataFrame(
            {"parameter": list(names), "S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0},
            columns=SOBOL_COLUMNS,
        )
        return frame, ["the outcome does not vary across the sample: all indices are zero"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol_analyze_mod.analyze(
            unit_problem(names), y, calc_second_order=False, conf_level=conf_level, seed=seed
        )
    frame = pd.DataFrame(
        {
            "parameter": list(names),
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        },
        columns=SOBOL_COLUMNS,
    )
    max_conf = float(np.nanmax(frame[["S1_conf", "ST_conf"]].to_numpy()))
    if n < SOBOL_MIN_BASE:
        notes.append(
            f"base sample N={n} is small for Sobol indices (recommend >= {SOBOL_MIN_BASE}); "
            "treat the ranking as indicative"
        )
    if max_conf > SOBOL_MAX_CONF:
        notes.append(
            f"confidence half-widths reach {max_conf:.2f} (> {SOBOL_MAX_CONF}): "
            "indices are not stable; increase the sample"
        )
    if float(frame["S1"].min()) < -max(0.05, max_conf):
        notes.append("negative first-order indices: the sample is too small")
    for note in notes:
        warnings.warn(note, SensitivityWarning, stacklevel=2)
    return frame, notes


def morris_sample(
    d: int,
    trajectories: int,
    seed: int = 0,
    levels: int = 4,
    groups: Sequence[str] | None = None,
) -> FloatArray:
    """Morris design in the unit cube: ``trajectories * (d + 1)`` rows, or
    ``trajectories * (g + 1)`` with ``g`` distinct ``groups`` (one label per column)."""
    x = morris_sample_mod.sample(
        unit_problem([f"x{j}" for j in range(d)], groups),
        trajectories,
        num_levels=levels,
        seed=seed,
    )
    return np.asarray(x, dtype=float)


def morris_analyze(
    names: Sequence[str],
    x: FloatArray,
    y: FloatArray,
    seed: int = 0,
    levels: int = 4,
    conf_level: float = 0.95,
    groups: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Morris screening: ``[parameter, mu_star, mu_star_conf, sigma]`` (unit-quantile scale).

    With ``groups`` (as given to :func:`morris_sample`), one row per group, named by its
    label, in order of first appearance.
    """
    res = morris_analyze_mod.analyze(
        unit_problem(names, groups),
        np.asarray(x, float),
        np.asarray(y, float),
        num_levels=levels,
        conf_level=conf_level,
        seed=seed,
    )
    return pd.DataFrame(
        {
            "parameter": [str(x) for x in res["names"]],
            "mu_star": np.asarray(res["mu_star"], float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], float),
            "sigma": np.asarray(res["sigma"], float),
        },
        columns=MORRIS_COLUMNS,
    )
