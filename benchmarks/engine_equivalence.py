"""Is the engine still the frozen NumPy engine? Identical per world, or statistically the same.

Issue 13 lets the compiled engine change the order of floating-point operations (a sum run
in another order, a product or an ``exp`` moved into a kernel) only if its outputs stay
*statistically indistinguishable* from the NumPy engine's where they are not identical. A
last-bit difference can flip a discrete event (a vote at its threshold, a shock at its
hazard), after which that world's trajectory goes its own way; what must not happen is a
difference with a direction, or a different distribution of outcomes. This module states
that test and runs it on a regression sample.

The test, per strategy and per world-level quantity ``q`` (every metric's last quarter and
its mean over the quarters, the quarter of reciprocation, the backlash count, the largest
veto excess, the number of instruments in force at the end on each side):

* **identical**: the share of worlds whose every output is bit-identical (NaN equal to NaN);
* **no direction**: among the worlds where ``q`` differs, an exact two-sided sign test
  (``scipy.stats.binomtest``, p = 1/2) of how many moved up against down;
* **same distribution**: a two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``) of
  ``q`` over all worlds, run only when some world's ``q`` differs (otherwise p = 1).

All p-values of a comparison form one family, adjusted by Holm's step-down method; the
verdict is ``identical`` when every world is, ``indistinguishable`` when no adjusted p-value
is below ``alpha`` (0.01), and ``different`` otherwise. The sample's worlds are paired (the
same seed, the same random numbers), so the sign test sees any systematic shift the new
arithmetic brings into the worlds it changes, however few they are.

Run ``.venv/bin/python benchmarks/engine_equivalence.py [--worlds 20000] [--seed 0]
[--states 32 --state-worlds 100]`` for one JSON line: the flagship's three options and the
stacked path, each with its share of identical worlds, its smallest adjusted p-value and
its verdict. ``tests/test_engine_equivalence.py`` runs a bounded sample of it by default
(``DETENTE_EQUIVALENCE=long`` for this full one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

STRATEGIES = ("containment", "moderate-engagement", "dismantle-sanctions")
ALPHA = 0.01


@dataclass(frozen=True)
class Equivalence:
    """The verdict of one paired comparison (one strategy, or one stacked run)."""

    worlds: int
    identical_share: float
    tests: int
    smallest_adjusted_p: float
    worst: str
    """The quantity and test behind the smallest adjusted p-value ("" when none ran)."""
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        """The fields, rounded for one JSON line."""
        return {
            "worlds": self.worlds,
            "identical_share": round(self.identical_share, 6),
            "tests": self.tests,
            "smallest_adjusted_p": round(self.smallest_adjusted_p, 6),
            "worst": self.worst,
            "verdict": self.verdict,
        }


def world_quantities(result: Any) -> dict[str, np.ndarray]:
    """One value per world for every output of a ``ChunkResult`` the test compares."""
    out: dict[str, np.ndarray] = {}
    for name, traj in sorted(result.metrics.items()):
        values = np.asarray(traj, dtype=np.float64)
        out[f"{name}:last"] = values[:, -1]
        with np.errstate(invalid="ignore"):
            finite = np.where(np.isfinite(values), values, np.nan)
            counted = np.isfinite(finite).sum(axis=1)
            total = np.nansum(finite, axis=1)
        out[f"{name}:mean"] = np.where(counted > 0, total / np.maximum(counted, 1), np.nan)
    out["time_to_reciprocation"] = np.asarray(result.time_to_reciprocation, dtype=np.float64)
    out["backlash_events"] = np.asarray(result.backlash_events, dtype=np.float64)
    out["veto_excess"] = np.asarray(result.veto_excess, dtype=np.float64)
    out["active_focal"] = np.asarray(result.active_focal).sum(axis=1).astype(np.float64)
    out["active_internal"] = np.asarray(result.active_internal).sum(axis=1).astype(np.float64)
    return out


def identical_worlds(old: Any, new: Any) -> np.ndarray:
    """``[n]`` bool: every output of the world is the same bits in both results."""
    same = np.ones(len(old.backlash_events), dtype=bool)
    for name in old.metrics:
        a, b = old.metrics[name], new.metrics[name]
        same &= ((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=1)
    for field in ("time_to_reciprocation", "backlash_events"):
        same &= getattr(old, field) == getattr(new, field)
    a, b = old.veto_excess, new.veto_excess
    same &= (a == b) | (np.isnan(a) & np.isnan(b))
    for field in ("active_focal", "active_internal"):
        same &= (getattr(old, field) == getattr(new, field)).all(axis=1)
    return same


def quantity_tests(old: np.ndarray, new: np.ndarray) -> Iterator[tuple[str, float]]:
    """The sign test and the KS test of one paired quantity, as (test name, p-value).

    Worlds where both values are NaN count as equal; a world NaN on one side only counts
    as changed without a direction (it enters the KS test through the finite values).
    """
    both_nan = np.isnan(old) & np.isnan(new)
    changed = ~both_nan & ~(old == new)
    if not changed.any():
        return
    up = int((new[changed] > old[changed]).sum())
    down = int((new[changed] < old[changed]).sum())
    if up + down:
        yield "sign", float(stats.binomtest(up, up + down, 0.5).pvalue)
    a, b = old[np.isfinite(old)], new[np.isfinite(new)]
    if len(a) and len(b):
        yield "ks", float(stats.ks_2samp(a, b, method="asymp").pvalue)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error), in the input order."""
    p = np.asarray(pvalues, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def compare(old: Any, new: Any, alpha: float = ALPHA) -> Equivalence:
    """The verdict on two ``ChunkResult`` of the same worlds (old engine, new engine)."""
    same = identical_worlds(old, new)
    qa, qb = world_quantities(old), world_quantities(new)
    labels, pvalues = [], []
    for name in qa:
        for test, p in quantity_tests(qa[name], qb[name]):
            labels.append(f"{name} ({test})")
            pvalues.append(p)
    if not pvalues:
        smallest, worst = 1.0, ""
    else:
        adjusted = holm(pvalues)
        i = int(np.argmin(adjusted))
        smallest, worst = float(adjusted[i]), labels[i]
    if same.all():
        verdict = "identical"
    elif smallest >= alpha:
        verdict = "indistinguishable"
    else:
        verdict = "different"
    return Equivalence(len(same), float(same.mean()), len(pvalues), smallest, worst, verdict)


def flagship_pairs(worlds: int, seed: int) -> dict[str, tuple[Any, Any]]:
    """The frozen NumPy engine's and the current engine's results, per flagship option."""
    import frozen_numpy_engine as frozen

    from detente.scenario import load_scenario
    from detente.sim import engine
    from detente.sim.api import build_strategy
    from detente.sim.system import compile_system

    scenario = load_scenario("us-iran-2001")
    pairs = {}
    for strategy in STRATEGIES:
        system = compile_system(scenario, strategy)
        results = []
        for mod in (frozen, engine):
            layout = mod.Layout((seed,), 0, worlds)
            results.append(mod.run_layout(system, mod.chunk_plans(system),
                                          build_strategy(system), layout))
        pairs[strategy] = (results[0], results[1])
    return pairs


def stacked_pairs(states: int, worlds: int, seed: int) -> dict[str, tuple[Any, Any]]:
    """The two engines' results on sampled states of the flagship (the stacked path)."""
    import frozen_numpy_engine as frozen

    from detente.experiments.sampling import sample_states
    from detente.scenario import load_scenario
    from detente.sim import engine, stacked

    scenario = load_scenario("us-iran-2001")
    sampled = sample_states(scenario, states, seed=seed + 1)
    seeds = [seed * 1000 + s for s in range(states)]
    runs: dict[str, list[Any]] = {s: [] for s in STRATEGIES}
    try:
        for mod in (frozen, engine):
            stacked.run_layout, stacked.chunk_plans = mod.run_layout, mod.chunk_plans
            for entry in stacked._compiled_states.values():  # each engine's plans are its own
                entry.plans.clear()
            for strategy in STRATEGIES:
                runs[strategy].append(stacked.simulate_states(scenario, strategy, sampled,
                                                              worlds, seeds))
    finally:
        stacked.run_layout, stacked.chunk_plans = engine.run_layout, engine.chunk_plans
        for entry in stacked._compiled_states.values():
            entry.plans.clear()
    return {s: (r[0], r[1]) for s, r in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=20_000, help="flagship worlds per option")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--states", type=int, default=32, help="stacked: sampled states")
    ap.add_argument("--state-worlds", type=int, default=100, help="stacked: worlds per state")
    a = ap.parse_args()
    flagship = {s: compare(*p).as_dict() for s, p in flagship_pairs(a.worlds, a.seed).items()}
    stacked_runs = stacked_pairs(a.states, a.state_worlds, a.seed)
    stacked = {s: compare(*p).as_dict() for s, p in stacked_runs.items()}
    verdicts = [v["verdict"] for v in (*flagship.values(), *stacked.values())]
    print(json.dumps({
        "benchmark": "engine-equivalence-numpy-vs-current",
        "alpha": ALPHA,
        "seed": a.seed,
        "flagship_worlds_per_option": a.worlds,
        "flagship": flagship,
        "stacked": {"states": a.states, "worlds_per_state": a.state_worlds, **stacked},
        "verdict": "different" if "different" in verdicts else (
            "indistinguishable" if "indistinguishable" in verdicts else "identical"),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
