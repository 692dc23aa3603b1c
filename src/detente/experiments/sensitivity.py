"""Global sensitivity analysis with SALib (Sobol indices, Morris elementary effects).

SALib designs are drawn in the unit hypercube and mapped through each uncertainty's inverse
CDF (:func:`detente.experiments.sampling.to_values`), so the indices refer to the scenario's
own distributions. Because the map is one-to-one per coordinate and the coordinates are
independent, Sobol indices over the unit cube *are* the indices over the parameters. Morris
effects are per unit of quantile (how much the outcome moves when a parameter goes across its
whole distribution), which makes them comparable across parameters with different units.

Like SALib, the module is split into symmetric ``*_sample`` / ``*_analyze`` functions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from SALib.analyze import morris as morris_analyze_mod
from SALib.analyze import sobol as sobol_analyze_mod
from SALib.sample import morris as morris_sample_mod
from SALib.sample import sobol as sobol_sample_mod

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


def unit_problem(names: Sequence[str]) -> dict[str, Any]:
    """A SALib problem over the unit hypercube with the given parameter names."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


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


def morris_sample(d: int, trajectories: int, seed: int = 0, levels: int = 4) -> FloatArray:
    """Morris design in the unit cube: ``trajectories * (d + 1)`` rows."""
    x = morris_sample_mod.sample(
        unit_problem([f"x{j}" for j in range(d)]), trajectories, num_levels=levels, seed=seed
    )
    return np.asarray(x, dtype=float)


def morris_analyze(
    names: Sequence[str],
    x: FloatArray,
    y: FloatArray,
    seed: int = 0,
    levels: int = 4,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Morris screening: ``[parameter, mu_star, mu_star_conf, sigma]`` (unit-quantile scale)."""
    res = morris_analyze_mod.analyze(
        unit_problem(names),
        np.asarray(x, float),
        np.asarray(y, float),
        num_levels=levels,
        conf_level=conf_level,
        seed=seed,
    )
    return pd.DataFrame(
        {
            "parameter": list(names),
            "mu_star": np.asarray(res["mu_star"], float),
            "mu_star_conf": np.asarray(res["mu_star_conf"], float),
            "sigma": np.asarray(res["sigma"], float),
        },
        columns=MORRIS_COLUMNS,
    )
