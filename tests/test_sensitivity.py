"""Sobol indices of the Ishigami function, and Morris screening."""

from __future__ import annotations

import numpy as np
import pytest

from detente.experiments.sensitivity import (
    MORRIS_COLUMNS,
    SOBOL_COLUMNS,
    SensitivityWarning,
    morris_analyze,
    morris_sample,
    sobol_analyze,
    sobol_sample,
)


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami & Homma (1990) on [-pi, pi]^3, from unit-cube inputs."""
    z = -np.pi + 2 * np.pi * x
    return np.sin(z[:, 0]) + a * np.sin(z[:, 1]) ** 2 + b * z[:, 2] ** 4 * np.sin(z[:, 0])


def test_sobol_ishigami_known_indices() -> None:
    x = sobol_sample(3, 2**13, seed=7)
    frame, notes = sobol_analyze(["x1", "x2", "x3"], ishigami(x), seed=7)
    assert list(frame.columns) == SOBOL_COLUMNS
    assert notes == []
    # Analytical values: S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437.
    np.testing.assert_allclose(frame["S1"], [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose(frame["ST"], [0.5576, 0.4424, 0.2437], atol=0.03)
    assert (frame["S1_conf"] < 0.05).all()


def test_sobol_warns_on_small_sample() -> None:
    x = sobol_sample(3, 16, seed=1)
    with pytest.warns(SensitivityWarning) as record:
        _, notes = sobol_analyze(["x1", "x2", "x3"], ishigami(x), seed=1)
    messages = [str(w.message) for w in record]
    assert any("small" in m for m in messages)
    assert any("half-widths" in m for m in messages)
    assert any("N=16" in n for n in notes)


def test_morris_ranks_ishigami_x3_last_on_mu_star_of_x2() -> None:
    x = morris_sample(3, 200, seed=3)
    frame = morris_analyze(["x1", "x2", "x3"], x, ishigami(x), seed=3)
    assert list(frame.columns) == MORRIS_COLUMNS
    mu = frame.set_index("parameter")["mu_star"]
    # x1 and x2 matter; x2 (additive, a=7) has the largest mean absolute effect.
    assert mu["x2"] > mu["x3"] and mu["x1"] > 0
    assert (frame["sigma"] >= 0).all()
