"""The compiled engine against the frozen NumPy engine: identical, or statistically the same.

``benchmarks/engine_equivalence.py`` states the test (per quantity a sign test and a KS
test, Holm-adjusted, alpha 0.01). Here it runs on a bounded regression sample (three
options x 512 flagship worlds, 4 sampled states x 100 worlds); ``DETENTE_EQUIVALENCE=long``
runs the benchmark's full sample (20,000 worlds per option, 32 states). The checker itself
is shown to tell a real model change apart and to let symmetric noise through.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from detente.scenario import load_scenario
from detente.sim import engine
from detente.sim.api import build_strategy
from detente.sim.system import compile_system

BENCH = Path(__file__).parents[1] / "benchmarks"
LONG = os.environ.get("DETENTE_EQUIVALENCE", "").lower() == "long"


@cache
def _checker() -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))
    return importlib.import_module("engine_equivalence")


def _run(system: Any, worlds: int, seed: int = 0) -> engine.ChunkResult:
    return engine.run_chunk(system, build_strategy(system), seed, 0, worlds)


def test_flagship_matches_the_frozen_numpy_engine() -> None:
    eq = _checker()
    worlds = 20_000 if LONG else 512
    for strategy, (old, new) in eq.flagship_pairs(worlds, seed=3).items():
        verdict = eq.compare(old, new)
        assert verdict.verdict != "different", (strategy, verdict)
        assert verdict.worlds == worlds


def test_many_simultaneous_shocks_match_the_frozen_numpy_engine() -> None:
    """The shock kernel adds the hit shocks' moves in their order, where the NumPy engine
    took BLAS's products (whose order differs for 16 or more terms): the flagship's 8 shocks
    repeated 3 times, at 4/3 of their rates (3 or more hits at once in a fifth of the
    world-steps),
    each copy's moves scaled a little differently."""
    eq = _checker()
    frozen = importlib.import_module("frozen_numpy_engine")
    sy = compile_system(load_scenario("us-iran-2001"), "moderate-engagement")
    rep, n_s = 3, sy.shock_rate.shape[-1]
    sy = dataclasses.replace(
        sy, shock_rate=np.tile(sy.shock_rate, rep) * 4 / rep,
        shock_effects=np.tile(sy.shock_effects, (rep, 1))
        * (1 + 0.013 * np.arange(rep * n_s))[:, None],
        **{f: np.tile(getattr(sy, f), (rep, 1)) for f in (
            "shock_clout_focal", "shock_clout_internal", "shock_clout_third")},
        **{f: np.tile(getattr(sy, f), rep) for f in ("shock_threat", "shock_settlement")})
    worlds = 4096 if LONG else 1024
    old, new = (mod.run_layout(sy, mod.chunk_plans(sy), build_strategy(sy),
                               mod.Layout((5,), 0, worlds)) for mod in (frozen, engine))
    verdict = eq.compare(old, new)
    assert verdict.verdict != "different", verdict
    assert verdict.worlds == worlds


def test_stacked_path_matches_the_frozen_numpy_engine() -> None:
    eq = _checker()
    states = 32 if LONG else 4
    for strategy, (old, new) in eq.stacked_pairs(states, 100, seed=3).items():
        verdict = eq.compare(old, new)
        assert verdict.verdict != "different", (strategy, verdict)
        assert verdict.worlds == states * 100


def test_a_small_model_change_is_told_apart() -> None:
    """A tenth less agenda power changes about 3 % of 1,024 worlds: the test must see it."""
    eq = _checker()
    system = compile_system(load_scenario("us-iran-2001"), "moderate-engagement")
    weaker = dataclasses.replace(
        system, params=dataclasses.replace(system.params, agenda_power=0.18))
    verdict = eq.compare(_run(system, 1024), _run(weaker, 1024))
    assert verdict.verdict == "different"
    assert 0.9 < verdict.identical_share < 1.0


def _synthetic(values: np.ndarray) -> engine.ChunkResult:
    n = values.shape[0]
    return engine.ChunkResult(
        metrics={"m": values.astype(np.float32)},
        time_to_reciprocation=np.full(n, -1, dtype=np.int64),
        backlash_events=np.zeros(n, dtype=np.int64),
        veto_excess=np.zeros(n),
        active_focal=np.zeros((n, 2), dtype=bool),
        active_internal=np.zeros((n, 2), dtype=bool),
    )


@pytest.mark.parametrize("shift, expected", [(0.0, "indistinguishable"), (0.3, "different")])
def test_symmetric_noise_passes_and_a_shift_does_not(shift: float, expected: str) -> None:
    """Diverging worlds with no direction are the same model; a drift in them is not."""
    eq = _checker()
    rng = np.random.default_rng(7)
    old = rng.normal(size=(4000, 6))
    new = old.copy()
    diverged = rng.random(4000) < 0.1
    new[diverged] = rng.normal(size=(int(diverged.sum()), 6)) + shift
    verdict = eq.compare(_synthetic(old), _synthetic(new))
    assert verdict.verdict == expected
    assert verdict.identical_share == pytest.approx(1 - diverged.mean())


def test_nan_in_both_is_equal_and_holm_adjusts_in_order() -> None:
    eq = _checker()
    old = np.full((50, 3), np.nan)
    assert eq.compare(_synthetic(old), _synthetic(old.copy())).verdict == "identical"
    # Holm: sorted 0.01 x 3, 0.03 x 2, 0.04 x 1, made monotone
    assert eq.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
