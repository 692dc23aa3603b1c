"""The compiled consent checks (``ratify``, docs/model.md 2) against the frozen NumPy engine.

The flagship's checks touch one or two issues each and every holder has a stake, so the
golden digests never reach the kernel's wider sums (three to seven issues, and NumPy's
eight-lane pairwise sum from eight up) nor a zero stake. Here the focal side gets dense
effects, wide vetoes, missing stakes and third parties, and ``ratify`` must give bit for bit
what the frozen NumPy formulation gives, with static and per-world positions and ladder
orders.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from detente.scenario import load_scenario
from detente.sim import engine
from detente.sim.system import Side, compile_system

FROZEN = Path(__file__).parents[1] / "benchmarks" / "frozen_numpy_engine.py"
WORLDS = 96


@cache
def _frozen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("frozen_numpy_engine_for_tests", FROZEN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _wide_side(rng: np.random.Generator) -> tuple[Side, Any, Any]:
    sy = compile_system(load_scenario("us-iran-2001"), "moderate-engagement")
    side = sy.focal
    n_k, n_i = side.effects.shape
    n_v = side.veto_holder.size
    effects = rng.normal(0, 6, (n_k, n_i)) * (rng.random((n_k, n_i)) < 0.8)
    ext = rng.uniform(sy.low, sy.high, (3, n_i))
    ext[rng.random(ext.shape) < 0.2] = np.nan
    side = dataclasses.replace(
        side,
        effects=effects,
        veto_issues=rng.random(side.veto_issues.shape) < rng.uniform(0.3, 1.0, (n_v, 1)),
        veto_tol=rng.uniform(0.0, 9.0, n_v),
        approval_tol=rng.uniform(0.0, 6.0, side.approval_tol.shape),
        approvals=rng.random(side.approvals.shape) < 0.3,
        ext_position=ext,
        ext_approvals=rng.random((n_k, 3)) < 0.4,
    )
    return side, sy.low, sy.high


def _same_as_numpy(side: Side, args: tuple[Any, ...], low: Any, high: Any, plan: Any) -> int:
    """Assert ``ratify`` equals the frozen NumPy one bit for bit; the number approved."""
    approved = 0
    for sign in (1.0, -1.0):
        ours = engine.ratify(side, *args, sign, low, high, 2.0, side.subordinate, plan)
        theirs = _frozen().ratify(side, *args, sign, low, high, 2.0, side.subordinate)
        np.testing.assert_array_equal(ours[0], theirs[0])
        assert ours[1].tobytes() == theirs[1].tobytes()
        approved += int(ours[0].sum())
    return approved


@pytest.mark.parametrize("per_world", [False, True])
def test_ratify_matches_the_numpy_formulation_on_wide_checks(per_world: bool) -> None:
    rng = np.random.default_rng(7 + per_world)
    side, low, high = _wide_side(rng)
    n_k, n_i, n_a = side.n_instruments, low.size, side.n_actors
    stake = rng.random((n_a, n_i)) < 0.85
    plan = engine.ratify_plan(side, stake, 2.0, side.subordinate)
    widths = np.diff(plan.pair_start)
    assert widths.max() >= 8 and ((widths > 2) & (widths < 8)).any()
    assert (plan.stake == 0).any() and (plan.holder < 0).any()

    if per_world:
        side = dataclasses.replace(
            side, order=np.stack([rng.permutation(n_k) for _ in range(WORLDS)]))
        position: Any = rng.uniform(low[:, None, None], high[:, None, None],
                                    (n_i, WORLDS, n_a)).astype(np.float32)
        threshold: Any = rng.uniform(0.2, 0.8, WORLDS)
    else:
        position = rng.uniform(low, high, (n_a, n_i))
        threshold = 0.5
    args = (
        rng.random((WORLDS, n_k)) < 0.5,  # candidates
        rng.uniform(low, high, (WORLDS, n_i)),  # prospective levels
        position,
        stake,
        rng.random(WORLDS),  # belief
        threshold,
        rng.random(n_k) < 0.4,  # trust gate
    )
    approved = _same_as_numpy(side, args, low, high, plan)
    assert 0 < approved < 2 * args[0].sum()  # some candidates pass, some fail
    # one world alone: NumPy's sums over eight issues or more were pairwise then
    for w in range(WORLDS):
        one = slice(w, w + 1)
        side_w = dataclasses.replace(side, order=side.order[one]) if per_world else side
        args_w = (args[0][one], args[1][one], position[:, one] if per_world else position,
                  stake, args[4][one], threshold[one] if per_world else threshold, args[6])
        _same_as_numpy(side_w, args_w, low, high, plan)
