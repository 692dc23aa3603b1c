"""Sides for the consent kernels' tests: the flagship's focal side with random checks."""

from __future__ import annotations

import dataclasses

import numpy as np

from detente.sim.system import Side


def side_of_width(side: Side, rng: np.random.Generator, width: int) -> Side:
    """``side`` with each instrument moving ``width`` random issues (random effects), and
    random veto issues and approvals: its consent checks span up to ``width`` issues."""
    n_k, n_i = side.effects.shape
    keep = np.zeros((n_k, n_i), dtype=bool)
    for k in range(n_k):
        keep[k, rng.choice(n_i, width, replace=False)] = True
    return dataclasses.replace(
        side, effects=rng.normal(0, 6, (n_k, n_i)) * keep,
        veto_issues=rng.random(side.veto_issues.shape) < 0.8,
        approvals=rng.random(side.approvals.shape) < 0.5)
