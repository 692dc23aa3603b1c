"""Benchmark: one round of the vectorised EUM against a straightforward loop of the same round.

Inputs: KTAB's ``dummyData-a160.csv`` (160 actors) and a generated 1,000-actor table (seeded).
The peer computes the same round the obvious way: the probability of success pair by pair
(a Python loop over pairs, NumPy over voters: O(n^3) work) and the offers receiver by
receiver. Both are timed in this process; the script checks that they agree and prints one
JSON line with seconds per round and the ratio peer / vectorised.

Run: ``.venv/bin/python benchmarks/bench_eum.py``
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from detente.bargaining._common import weighted_median
from detente.bargaining.eum import (
    EUMParams,
    all_pairs_total,
    eum_round,
    expected_utilities,
    new_positions,
    risk_exponents,
)
from detente.scenario.tables import load_ktab

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def loop_probability(x: np.ndarray, w: np.ndarray, r: np.ndarray, span: float) -> np.ndarray:
    """P[i, j] pair by pair, with the all-pairs denominator, O(n^3)."""
    n = x.size
    support = np.zeros((n, n))
    for i in range(n):
        di = (np.abs(x - x[i]) / span) ** r
        for j in range(n):
            if x[i] == x[j]:
                continue
            dj = (np.abs(x - x[j]) / span) ** r
            support[i, j] = np.sum(np.maximum(0.0, w * (dj - di)))
    total = all_pairs_total(x, w, r, span)
    return support / total


def loop_round(x: np.ndarray, w: np.ndarray, s: np.ndarray, span: float,
               p: EUMParams) -> np.ndarray:
    """The same round as :func:`eum_round` with the probability computed in loops."""
    n = x.size
    ones = np.ones(n)
    mu = weighted_median(x, w)
    prob1 = loop_probability(x, w, ones, span)
    own1, _ = expected_utilities(x, s, prob1, ones, mu, span, p)
    np.fill_diagonal(own1, 0.0)
    r = risk_exponents(own1.sum(axis=0))
    prob = loop_probability(x, w, r, span)
    out = np.empty(n)
    for i in range(n):  # receiver by receiver
        own, other = expected_utilities(x, s, prob, np.full(n, r[i]), mu, span, p)
        out[i] = new_positions(x, own, other, p)[i]
    return out


def timed(fn, *args) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    res = fn(*args)
    return time.perf_counter() - t0, res


def bench(name: str, x: np.ndarray, c: np.ndarray, sal: np.ndarray) -> dict[str, float | str]:
    p = EUMParams()
    w = c * sal
    s = sal / 100.0
    span = float(np.ptp(x))
    fast = min(timed(eum_round, x, w, s, span, p)[0] for _ in range(3))
    _, (fast_x, _) = timed(eum_round, x, w, s, span, p)
    slow, slow_x = timed(loop_round, x, w, s, span, p)
    assert np.allclose(fast_x, slow_x), "vectorised and loop rounds disagree"
    return {"input": name, "actors": int(x.size), "vectorised_s": round(fast, 4),
            "loop_s": round(slow, 3), "ratio": round(slow / fast, 1)}


def main() -> None:
    (t160,) = load_ktab(DATA / "ktab" / "dummyData-a160.csv")
    rng = np.random.default_rng(2001)
    n = 1000
    x = rng.uniform(0, 100, n).round(1)
    c = rng.uniform(0.1, 10, n)
    sal = rng.uniform(1, 100, n)
    rows = [bench("dummyData-a160.csv", t160.position, t160.capability, t160.salience),
            bench("generated-1000", x, c, sal)]
    print(json.dumps({"benchmark": "eum_round", "results": rows}))


if __name__ == "__main__":
    main()
