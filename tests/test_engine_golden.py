"""Golden outputs of the engine: a restructuring of ``detente.sim.engine`` must not move a bit.

Each case runs the engine (``run_chunk``, ``run_layout`` or the stacked ``simulate_states``)
and takes the SHA-256 of every array it returns (every metric, the per-world extras, the
instruments in force and the levels per step). The digests were recorded on the engine as it
was before the step loop was split into named functions (``tests/data/engine-golden.json``).

The cases cover the flagship under its options and reference strategies, the history replay
(scripted steps and dated events), an opponent strategy in place of Iran's internal
bargaining, a unitary focal side, a shortened horizon, a later start world, stacked states
(per-world leaves) and the fixture scenarios of ``tests/data``.

The digests are bit-for-bit, so they hold for one numpy build and machine: the JSON keeps
one set of digests per environment (the numpy version, the architecture, NumPy's SIMD
dispatch level and OpenBLAS's kernel set: ``exp`` and the matrix products round differently
across them), and the test is skipped (saying why) on an environment it has none for. Each
set was recorded from the same engine code, so a change that moves a bit on any of them is
caught. Regenerate only from an engine whose numbers are meant to change (then on every
environment), or add a new environment's set from code known to be unchanged (``--write``
replaces the current environment's set and keeps the others)::

    PYTHONPATH=src python tests/test_engine_golden.py --write
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import platform
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente.experiments.sampling import sample_states
from detente.scenario import Scenario, load_scenario
from detente.sim.api import build_strategy
from detente.sim.engine import ChunkResult, Layout, chunk_plans, run_chunk, run_layout
from detente.sim.rng import BLOCK
from detente.sim.stacked import simulate_states
from detente.sim.strategies import get_strategy
from detente.sim.system import compile_system

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "engine-golden.json"
FLAGSHIP = "us-iran-2001"
FIELDS = ("time_to_reciprocation", "backlash_events", "veto_excess", "active_focal",
          "active_internal", "in_force", "levels")


def _digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def digests(res: ChunkResult) -> dict[str, str]:
    """SHA-256 of every array of a chunk result (dtype and shape included)."""
    out = {f: _digest(getattr(res, f)) for f in FIELDS if getattr(res, f) is not None}
    out.update({f"metric:{m}": _digest(a) for m, a in sorted(res.metrics.items())})
    return out


@cache
def _scenario(name: str) -> Scenario:
    path = DATA / f"{name}.yaml"
    return load_scenario(path if path.exists() else name)


def _chunk(scenario: str, strategy: str, *, seed: int = 3, start: int = 0, n: int = BLOCK,
           opponent: str | None = None, unitary: bool = False) -> ChunkResult:
    sy = compile_system(_scenario(scenario), strategy)
    opp = get_strategy(opponent) if opponent is not None else None
    return run_chunk(sy, build_strategy(sy), seed, start, n, opponent=opp,
                     focal_unitary=unitary, record_state=True)


def _horizon(scenario: str, strategy: str, horizon: int) -> ChunkResult:
    sy = compile_system(_scenario(scenario), strategy)
    return run_layout(sy, chunk_plans(sy), build_strategy(sy), Layout((11,), 0, BLOCK),
                      record_state=True, horizon=horizon)


def _stacked(strategy: str, horizon: int | None = None) -> ChunkResult:
    sc = _scenario(FLAGSHIP)
    states = sample_states(sc, 6, seed=1, history=True)
    seeds = [5 + 13 * s for s in range(len(states))]
    return simulate_states(sc, strategy, states, 40, seeds, record_state=True, horizon=horizon)


def _stacked_mini() -> ChunkResult:
    sc = _scenario("mini-system")
    states = pd.DataFrame(sample_states(sc, 3, seed=2))
    return simulate_states(sc, "engage", states, 64, [1, 2, 3], record_state=True)


CASES: dict[str, Callable[[], ChunkResult]] = {
    **{f"flagship/{s}": (lambda s=s: _chunk(FLAGSHIP, s))  # type: ignore[misc]
       for s in ("containment", "moderate-engagement", "dismantle-sanctions", "tit-for-tat",
                 "grim", "democracy-promotion", "us-as-followed")},
    "flagship/containment-vs-tit-for-tat": lambda: _chunk(FLAGSHIP, "containment",
                                                          opponent="tit-for-tat"),
    "flagship/moderate-engagement-unitary": lambda: _chunk(FLAGSHIP, "moderate-engagement",
                                                           unitary=True),
    "flagship/us-as-followed-start-512": lambda: _chunk(FLAGSHIP, "us-as-followed", seed=9,
                                                        start=2 * BLOCK),
    "flagship/dismantle-sanctions-horizon-9": lambda: _horizon(FLAGSHIP, "dismantle-sanctions",
                                                               9),
    "stacked/containment": lambda: _stacked("containment"),
    "stacked/moderate-engagement": lambda: _stacked("moderate-engagement"),
    "stacked/dismantle-sanctions": lambda: _stacked("dismantle-sanctions"),
    "stacked/us-as-followed": lambda: _stacked("us-as-followed"),
    "stacked/us-as-followed-horizon-12": lambda: _stacked("us-as-followed", 12),
    "stacked/mini-engage": _stacked_mini,
    **{f"mini-system/{s}": (lambda s=s: _chunk("mini-system", s, seed=5))  # type: ignore[misc]
       for s in ("wait", "engage", "bold")},
    "mini-system/engage-vs-grim": lambda: _chunk("mini-system", "engage", opponent="grim"),
    "mini-system/bold-unitary": lambda: _chunk("mini-system", "bold", unitary=True),
    "mini-history/west-as-followed": lambda: _chunk("mini-history", "west-as-followed"),
    "inert-system/engage": lambda: _chunk("inert-system", "engage"),
    "minimal-system/engage": lambda: _chunk("minimal-system", "engage"),
    **{f"border-trade/{s}": (lambda s=s: _chunk("border-trade", s))  # type: ignore[misc]
       for s in ("engage", "lift", "mirror")},
}


def _simd_level() -> str:
    """NumPy's x86 dispatch level in use (AVX2 ``X86_V3`` or AVX-512 ``X86_V4``): its
    ``exp``/``expm1``/``log1p`` loops, whose last bits differ between levels, follow it."""
    from numpy._core._multiarray_umath import __cpu_features__

    levels = [x for x in ("X86_V2", "X86_V3", "X86_V4") if __cpu_features__.get(x)]
    return levels[-1] if levels else "none"


def _blas_core() -> str:
    """The OpenBLAS kernel set NumPy's matrix products run (its sums' order follows it)."""
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for lib in sorted(libs.glob("libscipy_openblas64_*.so")):
        try:
            corename = ctypes.CDLL(str(lib)).scipy_openblas_get_corename64_
        except (OSError, AttributeError):
            continue
        corename.restype = ctypes.c_char_p
        return str(corename().decode())
    return "unknown"


def _environment() -> dict[str, str]:
    return {"numpy": np.__version__, "machine": platform.machine(), "simd": _simd_level(),
            "blas_core": _blas_core()}


@cache
def _golden() -> dict[str, dict[str, str]]:
    here = _environment()
    recorded = json.loads(GOLDEN.read_text())["recorded"]
    for entry in recorded:
        if entry["environment"] == here:
            return dict(entry["cases"])
    pytest.skip(f"digests recorded with {[e['environment'] for e in recorded]}, this is {here}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_engine_outputs_are_bit_identical_to_the_recorded_ones(case: str) -> None:
    expected = _golden()[case]
    got = digests(CASES[case]())
    assert got.keys() == expected.keys(), sorted(got.keys() ^ expected.keys())
    changed = sorted(k for k in got if got[k] != expected[k])
    assert not changed, f"{case}: changed {changed}"


def test_every_recorded_case_is_run() -> None:
    assert set(_golden()) == set(CASES)


def _write() -> None:
    """Record this environment's digests, keeping the other environments' sets."""
    cases = {name: digests(run()) for name, run in sorted(CASES.items())}
    here = _environment()
    others = [e for e in json.loads(GOLDEN.read_text())["recorded"] if e["environment"] != here]
    note = ("SHA-256 of every array run_chunk/run_layout/simulate_states return for the cases "
            "of tests/test_engine_golden.py, one set per environment. Regenerate: PYTHONPATH=src "
            "python tests/test_engine_golden.py --write (only when the numbers are meant to "
            "change, or to add an environment from code known to be unchanged).")
    recorded = [*others, {"environment": here, "cases": cases}]
    GOLDEN.write_text(json.dumps({"note": note, "recorded": recorded}, indent=1,
                                 sort_keys=True) + "\n")
    print(f"wrote {len(cases)} cases for {here} to {GOLDEN} ({len(recorded)} environments)")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: PYTHONPATH=src python tests/test_engine_golden.py --write")
    _write()
