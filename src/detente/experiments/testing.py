"""A small synthetic model and scenario for tests, benchmarks and documentation examples.

:func:`synthetic_model` follows the experiments' model protocol
(``(scenario, strategy, worlds, seed, start_world) -> {metric: array[worlds]}``) with a
closed form, so tests can check the experiment machinery (sampling, chunking, executors,
store, resumption) without the full simulation engine. Its randomness uses
:class:`detente.sim.rng.WorldRNG`, so like the engine it gives the same numbers for any
chunking of the worlds into whole blocks.

The story it tells is the article's in miniature: engagement pays when the other side
reciprocates, dismantling sanctions pays only when hard-liners are weak, containment is
safe but never opens a dialogue.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from detente.scenario import Scenario, nominal, resolve
from detente.sim.rng import WorldRNG, name_key

SYNTHETIC_SCENARIO_YAML = """\
id: synthetic
title: Synthetic two-country test scenario
description: A toy system used to test the experiments machinery.
countries:
  - {id: us, name: United States}
  - {id: iran, name: Iran}
issues:
  - {id: sanctions, name: Sanctions, low: 0, high: 100, status_quo: 80}
actors:
  - id: admin
    name: Administration
    country: us
    clout: 50
    positions: {sanctions: 70}
    saliences: {sanctions: 60}
  - id: hardliners
    name: Hard-liners
    country: iran
    clout: {low: 20, mode: 60, high: 90, judgment: toy range}
    positions: {sanctions: 100}
    saliences: {sanctions: 80}
calendar: {start: 2001-07-01, step: quarter, horizon: 8}
strategies:
  - {id: containment, country: us, kind: containment, option: true}
  - {id: engagement, country: us, kind: moderate-engagement, option: true}
  - {id: dismantle, country: us, kind: dismantle-sanctions, option: true}
metrics:
  - {id: rapprochement, direction: maximize, threshold: 0.4}
  - {id: cost, direction: minimize}
  - {id: reformist_share, direction: info}
parameters:
  reciprocity: {low: 0.0, high: 1.0, judgment: toy uniform}
  signal_noise: {mean: 0.2, sd: 0.05, low: 0.05, high: 0.35, judgment: toy truncated normal}
  backlash: {low: 0.05, high: 2.0, mode: 0.5, dist: lognormal, judgment: toy lognormal}
  irrelevant: {low: 0.0, high: 1.0, judgment: has no effect}
"""

FloatArray = NDArray[np.float64]


def synthetic_model(
    scenario: Scenario,
    strategy: str,
    worlds: int,
    seed: int,
    start_world: int = 0,
    *,
    values: Mapping[str, float] | None = None,
) -> dict[str, FloatArray]:
    """Per-world outcomes of a toy model that follows the engine's ``summarize`` protocol.

    Parameters
    ----------
    scenario : Scenario
        A scenario with ``parameters`` ``reciprocity``, ``signal_noise``, ``backlash`` and
        an actor ``hardliners`` (missing ones take defaults).
    strategy : str
        ``containment``, ``engagement`` or ``dismantle`` (anything else acts like containment).
    worlds, seed, start_world : int
        As in :func:`detente.sim.summarize`.
    values : mapping, optional
        The state's values of the scenario's uncertainties (resolved here, as the protocol
        of :class:`~detente.experiments.chunks.Model` asks).

    Returns
    -------
    dict of str to array, shape (worlds,)
        ``rapprochement`` (0/1), ``cost`` and ``reformist_share``.
    """
    scenario = resolve(scenario, values)
    params = {k: nominal(v) for k, v in scenario.parameters.items()}
    reciprocity = params.get("reciprocity", 0.5)
    noise = params.get("signal_noise", 0.2)
    backlash = params.get("backlash", 0.5)
    try:
        hard = nominal(scenario.actor("hardliners").clout) / 100.0
    except KeyError:
        hard = 0.6
    rng = WorldRNG(seed, name_key("synthetic"), start_world, worlds)
    u = rng.random()
    eps = rng.normal(0.0, 1.0)
    boldness = {"containment": 0.0, "engagement": 0.5, "dismantle": 1.0}.get(strategy, 0.0)
    # Engagement succeeds with reciprocity; boldness backfires when hard-liners are strong.
    p = np.clip(
        0.1
        + 0.6 * boldness * reciprocity
        + 0.4 * boldness * (0.5 - hard)
        - 0.3 * boldness**2 * backlash * hard
        - 0.2 * noise,
        0.0,
        1.0,
    )
    rapprochement = (u < p).astype(float)
    cost = np.maximum(0.0, boldness * (1.0 - reciprocity) + 0.1 * eps * (1 + noise))
    share = np.clip(0.5 - 0.3 * hard + 0.2 * rapprochement + 0.05 * eps, 0.0, 1.0)
    return {"rapprochement": rapprochement, "cost": cost, "reformist_share": share}


def slow_synthetic_model(
    scenario: Scenario,
    strategy: str,
    worlds: int,
    seed: int,
    start_world: int = 0,
    *,
    values: Mapping[str, float] | None = None,
) -> dict[str, FloatArray]:
    """:func:`synthetic_model` taking ~50 ms per call (``$DETENTE_TEST_MODEL_DELAY`` seconds
    if set), so tests can interrupt a run mid-way."""
    time.sleep(float(os.environ.get("DETENTE_TEST_MODEL_DELAY", "0.05")))
    return synthetic_model(scenario, strategy, worlds, seed, start_world, values=values)


DESIGN_SCENARIO_YAML = """\
id: design-synthetic
title: Synthetic strategy-design problem with a known Pareto front (ZDT1)
description: >-
  Two levers of one strategy, two minimised metrics; on any set of states the front is
  ZDT1's, f2 = 1 - sqrt(f1), shifted by the states' mean shift (the same for every candidate).
countries:
  - {id: us, name: United States}
  - {id: iran, name: Iran}
issues:
  - {id: sanctions, name: Sanctions, low: 0, high: 100, status_quo: 80}
actors:
  - {id: admin, name: Administration, country: us, clout: 50, positions: {sanctions: 70},
     saliences: {sanctions: 60}}
  - {id: hardliners, name: Hard-liners, country: iran, clout: 60, positions: {sanctions: 100},
     saliences: {sanctions: 80}}
calendar: {start: 2001-07-01, step: quarter, horizon: 8}
strategies:
  - {id: tuned, country: us, kind: moderate-engagement, option: true,
     params: {step: 0.5, threshold: 0.5}}
  - {id: timid, country: us, kind: moderate-engagement, option: true,
     params: {step: 0.1, threshold: 0.2}}
metrics:
  - {id: f1, direction: minimize}
  - {id: f2, direction: minimize}
parameters:
  shift: {low: -0.1, high: 0.1, judgment: toy state effect shared by all strategies}
levers:
  - strategy: tuned
    judgment: ZDT1's two variables
    params:
      step: {low: 0.0001, high: 1.0}
      threshold: {low: 0.0, high: 1.0}
"""


def design_model(
    scenario: Scenario,
    strategy: str,
    worlds: int,
    seed: int,
    start_world: int = 0,
    *,
    values: Mapping[str, float] | None = None,
) -> dict[str, FloatArray]:
    """ZDT1 in a strategy's parameters (``step`` = x1, ``threshold`` = x2), plus a state shift
    and world noise that every strategy of a state shares (common random numbers).

    ``f1 = x1 + e``, ``f2 = g (1 - sqrt(x1 / g)) + e`` with ``g = 1 + 9 x2`` and ``e`` the
    state's ``shift`` plus ``0.02`` times a standard normal per world; so on any states the
    means over states and worlds are ZDT1's objectives plus one constant, and the Pareto
    front is ``f2 = 1 - sqrt(f1 - c) + c`` for ``x2 = 0``.
    """
    from detente.sim.system import resolve_strategy

    resolved = resolve(scenario, values)
    params = resolve_strategy(resolved, strategy)[2]
    x1, x2 = float(params.get("step", 0.1)), float(params.get("threshold", 0.5))
    shift = nominal(resolved.parameters.get("shift", 0.0))
    rng = WorldRNG(seed, name_key("design-synthetic"), start_world, worlds)
    e = shift + 0.02 * rng.normal(0.0, 1.0)
    g = 1.0 + 9.0 * x2
    return {"f1": x1 + e, "f2": g * (1.0 - np.sqrt(x1 / g)) + e}


def slow_design_model(
    scenario: Scenario,
    strategy: str,
    worlds: int,
    seed: int,
    start_world: int = 0,
    *,
    values: Mapping[str, float] | None = None,
) -> dict[str, FloatArray]:
    """:func:`design_model` taking ``$DETENTE_TEST_MODEL_DELAY`` seconds per call (default
    2 ms), so a test can kill a design run between generations and resume it."""
    time.sleep(float(os.environ.get("DETENTE_TEST_MODEL_DELAY", "0.002")))
    return design_model(scenario, strategy, worlds, seed, start_world, values=values)
