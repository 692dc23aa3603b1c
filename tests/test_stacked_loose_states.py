"""Stacked states whose pending steps' sums could depend on their order (``prospective_levels``
then asks BLAS for those states' rows only, ``engine._loose_prospective``) give each state's
numbers of a run alone, bit for bit, also when the states share their effects (one product of
the loose states' rows with the shared matrix). The stacked digests' states differ in their
effects; these are one sampled state repeated with different seeds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from detente.experiments.sampling import sample_states
from detente.scenario import load_scenario
from detente.sim import engine
from detente.sim.api import iter_chunks
from detente.sim.stacked import simulate_states

WORLDS = 40
SEEDS = [3, 11, 29, 47]


def test_repeated_state_stacked_is_each_run_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load_scenario("us-iran-2001")
    states = sample_states(sc, 2, seed=1, history=True).iloc[[0] * len(SEEDS)]
    shared_loose = []
    loose_prospective = engine._loose_prospective

    def counted(*args: Any) -> None:
        shared_loose.append(len(args[4]) == 1 and len(args[5]) == 1 and args[8].sum())
        loose_prospective(*args)

    monkeypatch.setattr(engine, "_loose_prospective", counted)
    res = simulate_states(sc, "dismantle-sanctions", states.reset_index(drop=True), WORLDS,
                          SEEDS, record_state=True)
    assert any(shared_loose)  # the shared effects' branch decided something
    for s, seed in enumerate(SEEDS):
        ((_, _, one),) = iter_chunks(sc, "dismantle-sanctions", WORLDS, seed,
                                     values=states.iloc[s].to_dict(), record_state=True)
        rows = slice(s * WORLDS, (s + 1) * WORLDS)
        for f in ("levels", "active_focal", "active_internal", "veto_excess"):
            assert np.array_equal(getattr(one, f), getattr(res, f)[rows]), (s, f)
        for m, a in one.metrics.items():
            assert np.array_equal(a, res.metrics[m][rows]), (s, m)
