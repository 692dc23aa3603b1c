"""Inert inputs: sampled numbers with no path to any outcome that ``compare`` ranks.

An experiment samples every uncertainty of a scenario; one that moves no ranked outcome
only dilutes the sample (and PRIM and the drivers may still "find" it by chance). This
module screens for them one at a time, with common random numbers:

* every input is moved to its low and to its high bound (:data:`EDGE` inside), all others
  at nominal; these
  ``1 + 2 d`` states run under each strategy in stacked engine runs
  (:func:`detente.sim.stacked.run_states`), *every state with the same seed and worlds*,
  so the only difference between two states' worlds is the input that moved;
* each state's per-world summaries (those the runner stores,
  :func:`detente.sim.api.chunk_summary`) are averaged over worlds, as ``compare`` does;
* an input's effect on a metric under a strategy is the spread (largest minus smallest) of
  those means over its three states (low, nominal, high): the largest absolute change that
  moving it anywhere across its range makes;
* with ``bases`` (:data:`BASES` in ``validate --inputs`` and the tests), the same is done
  from each of that many base states spread over the whole space (:func:`base_states`),
  and the effect is the largest over the nominal and base origins: an input whose path
  opens only when other inputs are away from nominal (a step Congress blocks at nominal
  values, say) then moves an outcome from some base;
* the effect is divided by the metric's *scale* (:func:`metric_scales`): the standard
  deviation of the metric across worlds at the nominal state, the largest over strategies
  (the natural unit of "how much this outcome varies anyway"); when that is zero, the
  largest absolute mean, else 1;
* an input is **inert** when its relative effect on every ranked metric under every strategy
  is at most ``tolerance`` (:data:`TOLERANCE`).

With common random numbers an input with no path gives *exactly* the same worlds at its
three values, so its effect is exactly zero; the tolerance only absorbs floating-point
rounding in sums over inputs that enter an arithmetic expression whose result is then
thrown away. It is far below any effect a real path produces (see ``docs/validation.md``).
An input whose path runs through a discrete choice (a vote, a veto) may flip no choice in
the worlds screened: "inert" means it moved no ranked outcome *in those worlds*, so a screen
with more worlds can only shorten the list.

One at a time, the screen can call an input inert that matters only jointly (an actor's
position that counts only when another input moves a threshold, say). The second check,
:func:`morris_screen`, moves every input along Morris trajectories through the whole
range of the others, with the same common random numbers, and reports the inputs whose
elementary effects are all zero there too: those are inert in interaction as well.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel

from detente.errors import InputError, InputProblem, did_you_mean
from detente.experiments.analysis import outcome_spec
from detente.experiments.budget import SEED_MAX
from detente.experiments.runner import check_strategies, default_strategies
from detente.experiments.sampling import to_values
from detente.experiments.sensitivity import morris_analyze, morris_sample
from detente.scenario import Scenario, UncertainParameter, load_scenario, uncertainties
from detente.sim.api import chunk_summary
from detente.sim.stacked import run_states

#: Largest relative effect (in units of the metric's scale) an inert input may have.
TOLERANCE = 1e-9
#: How far inside its range (a share of the range) an input is set at "its bound": the
#: bound itself can be a value the engine refuses (an instrument whose only effect is 0),
#: and a continuous sample never holds it.
EDGE = 1e-6
#: Worlds per state of the default screen.
WORLDS = 16
#: Base states of the default screen: an input is also moved across its range from each of
#: these points of the whole space (:func:`base_states`), so one that matters only when
#: other inputs are away from nominal is not called inert.
BASES = 8
#: The second look of :func:`screen_inputs` at the inputs the first finds inert: more worlds
#: (a vote that flips in few worlds) and more base states (a path open in a small region).
RECHECK_WORLDS = 64
RECHECK_BASES = 32
#: Columns of :func:`input_effects` before the per-(metric, strategy) effects.
COLUMNS = ["input", "kind", "low", "nominal", "high", "effect", "metric", "strategy", "inert"]

FloatArray = NDArray[np.float64]


def ranked_metrics(scenario: Scenario, produced: Sequence[str]) -> list[str]:
    """The outcomes ``compare`` ranks: the scenario's declared metrics that are not ``info``,
    among those the model produces (:func:`~detente.experiments.analysis.outcome_spec`)."""
    spec = outcome_spec(scenario, produced)
    return [m for m in spec.outcomes if spec.directions[m] != "info"]


def input_kind(scenario: Scenario, param: UncertainParameter) -> str:
    """What kind of number an uncertainty is: its schema path without ids or keys.

    ``actors[x].positions.y`` is ``actors.positions``; an actor's number also says whose it
    is (``(iran)``, ``(third party)``): the country, or "third party" for an actor of a
    third-party country or of none.
    """
    if param.members:
        return f"sample_together ({param.name.split('[', 1)[0]})"
    parts: list[str] = []
    obj: object = scenario
    for key in param.loc:
        if isinstance(obj, BaseModel) and isinstance(key, str):
            parts.append(key)
            obj = getattr(obj, key)
        else:  # a list index or a mapping key: not part of the kind
            obj = obj[key]  # type: ignore[index]
    kind = ".".join(parts)
    if param.loc and param.loc[0] == "actors":
        actor = scenario.actors[int(param.loc[1])]
        third = {c.id for c in scenario.countries if c.role == "third-party"}
        whose = "third party" if actor.country is None or actor.country in third else actor.country
        kind += f" ({whose})"
    return kind


def perturbed_states(params: Sequence[UncertainParameter]) -> pd.DataFrame:
    """The nominal state, then each input at its low and at its high bound (others nominal).

    Row 0 is nominal; input ``j`` is at its low bound in row ``1 + 2 j`` and at its high
    bound in row ``2 + 2 j``.
    """
    nominal = np.array([p.nominal for p in params], dtype=float)
    rows = np.tile(nominal, (1 + 2 * len(params), 1))
    for j, p in enumerate(params):
        inset = EDGE * (p.high - p.low)
        rows[1 + 2 * j, j] = p.low + inset
        rows[2 + 2 * j, j] = p.high - inset
    return pd.DataFrame(rows, columns=[p.name for p in params])


def base_states(params: Sequence[UncertainParameter], bases: int, seed: int) -> pd.DataFrame:
    """``bases`` points spread over the whole space: a Latin hypercube of the inputs'
    distributions (inset by :data:`EDGE`), seeded.

    Each input's column comes from its own stream, keyed by ``seed`` and the input's name,
    so an input's base values do not change when other inputs are added or dropped (a
    screen's verdict on one input does not move because the scenario's list changed).
    """
    if bases < 1:
        return pd.DataFrame(columns=[p.name for p in params], dtype=float)
    unit = np.empty((bases, len(params)))
    for j, p in enumerate(params):
        rng = np.random.default_rng([seed, zlib.crc32(p.name.encode())])
        unit[:, j] = (rng.permutation(bases) + rng.random(bases)) / bases
    return to_values(params, EDGE + (1 - 2 * EDGE) * unit).reset_index(drop=True)


def radial_states(
    params: Sequence[UncertainParameter], base: pd.Series, inputs: NDArray[np.int64]
) -> pd.DataFrame:
    """From ``base``, each of ``inputs`` (positions) at its low, then at its high bound
    (rows ``2 k`` and ``2 k + 1`` for the ``k``-th input), the others at the base."""
    rows = np.tile(base.to_numpy(dtype=float), (2 * len(inputs), 1))
    for k, j in enumerate(inputs.tolist()):
        p = params[j]
        inset = EDGE * (p.high - p.low)
        rows[2 * k, j] = p.low + inset
        rows[2 * k + 1, j] = p.high - inset
    return pd.DataFrame(rows, columns=[p.name for p in params])


def state_means(
    scenario: Scenario, strategy: str, states: pd.DataFrame, worlds: int, seed: int
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """Each state's mean and standard deviation over its worlds of every stored summary.

    Every state runs the same worlds of ``seed`` (common random numbers), all in stacked
    engine runs. Undefined world values (NaN) are left out, as the store's means do.

    Returns
    -------
    (means, sds)
        ``means[m]`` and ``sds[m]`` are ``[states]``.
    """
    system, res = run_states(scenario, strategy, states, worlds, [seed] * len(states))
    means: dict[str, FloatArray] = {}
    sds: dict[str, FloatArray] = {}
    for m, per_world in chunk_summary(res, system).items():
        grid = per_world.reshape(len(states), worlds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a state with no defined world
            means[m] = np.nanmean(grid, axis=1)
            sds[m] = np.nanstd(grid, axis=1)
    return means, sds


def metric_scales(
    nominal_sd: dict[str, dict[str, float]], nominal_mean: dict[str, dict[str, float]]
) -> dict[str, float]:
    """Each metric's scale: the largest (over strategies) standard deviation across worlds at
    the nominal state; when zero, the largest absolute nominal mean; when that is zero, 1."""
    scales: dict[str, float] = {}
    for m, by_strategy in nominal_sd.items():
        sd = max((v for v in by_strategy.values() if np.isfinite(v)), default=0.0)
        mean = max((abs(v) for v in nominal_mean[m].values() if np.isfinite(v)), default=0.0)
        scales[m] = sd if sd > 0 else (mean if mean > 0 else 1.0)
    return scales


@dataclass(frozen=True)
class Screen:
    """What a screen covers and its yardstick: the scenario's sampled inputs, the
    strategies, the ranked metrics, each metric's scale and the nominal state's means."""

    scenario: Scenario
    params: list[UncertainParameter]
    strategies: list[str]
    metrics: list[str]
    scales: dict[str, float]
    nominal: dict[str, dict[str, float]]
    """``nominal[strategy][metric]``: the nominal state's mean."""
    worlds: int
    seed: int


def prepare(
    scenario: Scenario | str, strategies: Sequence[str] | None, worlds: int, seed: int
) -> Screen:
    """Check the arguments, list the inputs and run the nominal state under every strategy.

    The nominal runs fix each metric's scale (:func:`metric_scales`) before any input is
    moved, so an input's relative effect is final as soon as it is measured.

    Raises
    ------
    InputError
        Not a system scenario, no uncertainty, an unknown strategy, bad counts.
    """
    problems = []
    if worlds < 1:
        problems.append(InputProblem("<arguments>", f"worlds must be >= 1 (got {worlds})"))
    if not 0 <= seed <= SEED_MAX:
        problems.append(InputProblem("<arguments>", f"seed must be in 0..{SEED_MAX} (got {seed})"))
    if problems:
        raise InputError(problems)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    params = uncertainties(sc)
    if not params:
        raise InputError.single(f"<scenario {sc.id}>", "has no uncertain numbers (ranges)")
    names = check_strategies(sc, list(strategies) if strategies else default_strategies(sc))
    nominal_state = perturbed_states(params).iloc[:1]
    means: dict[str, dict[str, float]] = {}
    sds: dict[str, dict[str, float]] = {}
    for strategy in names:
        mean, sd = state_means(sc, strategy, nominal_state, worlds, seed)
        means[strategy] = {m: float(v[0]) for m, v in mean.items()}
        for m, v in sd.items():
            sds.setdefault(m, {})[strategy] = float(v[0])
    metrics = ranked_metrics(sc, list(means[names[0]]))
    scales = metric_scales(
        {m: sds[m] for m in metrics}, {m: {k: means[k][m] for k in names} for m in metrics}
    )
    return Screen(sc, params, names, metrics, scales, means, worlds, seed)


def _relative(screen: Screen, effects: FloatArray) -> FloatArray:
    """Effects ``[inputs, metrics]`` (one strategy) in units of each metric's scale."""
    return effects / np.array([screen.scales[m] for m in screen.metrics])


def _relative_all(screen: Screen, effects: FloatArray) -> FloatArray:
    """Effects ``[inputs, strategies x metrics]`` in units of each metric's scale."""
    return np.concatenate(
        [_relative(screen, part) for part in np.hsplit(effects, len(screen.strategies))], axis=1
    )


def _frame(
    screen: Screen, rows: Sequence[UncertainParameter], effects: FloatArray, tolerance: float
) -> pd.DataFrame:
    """The result frame from absolute effects ``[inputs, strategies x metrics]`` (NaN: not
    measured), columns ordered strategy by strategy."""
    columns = [f"{m}@{k}" for k in screen.strategies for m in screen.metrics]
    filled = np.nan_to_num(_relative_all(screen, effects), nan=-np.inf)
    top = filled.argmax(axis=1)
    frame = pd.DataFrame(
        {
            "input": [p.name for p in rows],
            "kind": [input_kind(screen.scenario, p) for p in rows],
            "low": [p.low for p in rows],
            "nominal": [p.nominal for p in rows],
            "high": [p.high for p in rows],
            "effect": filled[np.arange(len(rows)), top],
            "metric": [columns[c].split("@", 1)[0] for c in top],
            "strategy": [columns[c].split("@", 1)[1] for c in top],
            "inert": ~(filled > tolerance).any(axis=1),
        }
    )
    frame = pd.concat([frame, pd.DataFrame(effects, columns=columns)], axis=1)
    frame.attrs.update(
        scales=dict(screen.scales), tolerance=tolerance, worlds=screen.worlds, seed=screen.seed,
        strategies=list(screen.strategies), metrics=list(screen.metrics),
    )
    return frame


def input_effects(
    scenario: Scenario | str,
    strategies: Sequence[str] | None = None,
    *,
    worlds: int = WORLDS,
    seed: int = 0,
    tolerance: float = TOLERANCE,
    shortcut: bool = False,
    inputs: Sequence[str] | None = None,
    bases: int = 0,
) -> pd.DataFrame:
    """One-at-a-time effects of every sampled input on every ranked metric, with CRN.

    Parameters
    ----------
    scenario : Scenario or str
        A system scenario (as written) or a built-in name / path.
    strategies : sequence of str, optional
        Default: the strategies ``compare`` compares (:func:`default_strategies`).
    worlds : int
        Worlds per state; every state runs the same worlds of the same seed.
    seed : int
    tolerance : float
        Largest relative effect of an inert input (see the module docstring).
    shortcut : bool
        Run an input under the next strategy only while it is still inert under those
        before: the same ``inert`` column, in a fraction of the time (most inputs matter
        under the first strategy), but the effects under the strategies an input skipped
        are NaN (and ``effect`` is the largest of those measured).
    inputs : sequence of str, optional
        Screen only these inputs (scenario paths; default: every one); the frame then has
        their rows only, in the scenario's order.
    bases : int
        Also move every input across its range from each of ``bases`` points of the whole
        space (:func:`base_states`; with ``shortcut``, only inputs still inert): an input
        then counts as moving when it moves an outcome from any of the points, nominal or
        base. ``BASES`` is the screen of ``validate --inputs`` and of the tests.

    Returns
    -------
    DataFrame
        One row per uncertainty, in the scenario's order: ``input`` (its scenario path),
        ``kind`` (:func:`input_kind`), ``low``, ``nominal``, ``high``; ``effect``, the
        largest relative effect, with the ``metric`` and ``strategy`` where it occurs;
        ``inert``; then one column ``"<metric>@<strategy>"`` per ranked metric and strategy
        with the absolute effect. ``attrs`` holds ``scales``, ``tolerance``, ``worlds``,
        ``seed``, ``strategies`` and ``metrics``.

    Raises
    ------
    InputError
        Not a system scenario, no uncertainty, an unknown strategy, bad counts.
    """
    screen = prepare(scenario, strategies, worlds, seed)
    n, n_metrics = len(screen.params), len(screen.metrics)
    effects = np.full((n, len(screen.strategies) * n_metrics), np.nan)
    chosen = np.arange(n) if inputs is None else _positions(screen.params, inputs)
    nominal = perturbed_states(screen.params).iloc[0]
    bases_frame = base_states(screen.params, bases, seed)
    origins = [(nominal, screen.nominal)] + [
        (row, means) for (_, row), means in zip(bases_frame.iterrows(),
                                                _base_means(screen, bases_frame), strict=True)
    ]
    for origin, origin_means in origins:
        live = chosen if not shortcut else chosen[_still_inert(screen, effects[chosen],
                                                                tolerance)]
        for k, strategy in enumerate(screen.strategies):
            if not len(live):
                break
            states = radial_states(screen.params, origin, live)
            means, _ = state_means(screen.scenario, strategy, states, worlds, seed)
            cols = slice(k * n_metrics, (k + 1) * n_metrics)
            for i, m in enumerate(screen.metrics):
                trio = np.stack([np.full(len(live), origin_means[strategy][m]),
                                 means[m][0::2], means[m][1::2]])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # undefined everywhere
                    spread = np.nan_to_num(np.nanmax(trio, axis=0) - np.nanmin(trio, axis=0),
                                           nan=0.0)
                col = k * n_metrics + i
                effects[live, col] = np.fmax(effects[live, col], spread)
            if shortcut:
                moved = _relative(screen, effects[live, cols])
                live = live[~(moved > tolerance).any(axis=1)]
    frame = _frame(screen, screen.params, effects, tolerance)
    frame.attrs["bases"] = bases
    return frame if inputs is None else frame.iloc[chosen].reset_index(drop=True)


def _base_means(screen: Screen, bases: pd.DataFrame) -> list[dict[str, dict[str, float]]]:
    """Each base state's mean of every ranked metric under every strategy (all base states
    in one stacked engine run per strategy)."""
    out: list[dict[str, dict[str, float]]] = [{} for _ in range(len(bases))]
    if not len(bases):
        return out
    for strategy in screen.strategies:
        means, _ = state_means(screen.scenario, strategy, bases, screen.worlds, screen.seed)
        for b, by_strategy in enumerate(out):
            by_strategy[strategy] = {m: float(means[m][b]) for m in screen.metrics}
    return out


def _still_inert(screen: Screen, effects: FloatArray, tolerance: float) -> NDArray[np.bool_]:
    """Which rows of ``effects`` (inputs x strategies*metrics, NaN: not measured) have moved
    no ranked metric beyond ``tolerance`` yet."""
    relative = np.nan_to_num(_relative_all(screen, effects), nan=0.0)
    return np.asarray(~(relative > tolerance).any(axis=1))


def screen_inputs(
    scenario: Scenario | str,
    strategies: Sequence[str] | None = None,
    *,
    worlds: int = WORLDS,
    seed: int = 0,
    bases: int = BASES,
    inputs: Sequence[str] | None = None,
    recheck_worlds: int = RECHECK_WORLDS,
    recheck_bases: int = RECHECK_BASES,
) -> pd.DataFrame:
    """The screen of ``validate --inputs`` and of the tests: two looks, the second closer.

    First :func:`input_effects` (``shortcut``, ``bases`` base states, ``worlds`` worlds);
    then the inputs it finds inert again, with ``recheck_worlds`` worlds and
    ``recheck_bases`` base states, as an input on a rare path (a vote that flips in few
    worlds, a step that passes only in a corner of the space) moves nothing in a small
    sample. Their rows are replaced by the second look's (``effect`` is relative to each
    look's own scales). ``attrs["recheck"]`` gives its settings and how many it rechecked.
    """
    frame = input_effects(scenario, strategies, worlds=worlds, seed=seed, shortcut=True,
                          inputs=inputs, bases=bases)
    suspects = list(frame.loc[frame["inert"], "input"])
    frame.attrs["recheck"] = {"worlds": recheck_worlds, "bases": recheck_bases,
                              "inputs": len(suspects)}
    if not suspects or (recheck_worlds <= worlds and recheck_bases <= bases):
        return frame
    again = input_effects(scenario, strategies, worlds=recheck_worlds, seed=seed,
                          shortcut=True, inputs=suspects, bases=recheck_bases).set_index("input")
    out = frame.set_index("input")
    out.loc[suspects, again.columns] = again[list(again.columns)].to_numpy()
    out["inert"] = out["inert"].astype(bool)
    result = out.reset_index()
    result.attrs = {**frame.attrs}
    return result


def _positions(params: Sequence[UncertainParameter], inputs: Sequence[str]) -> NDArray[np.int64]:
    """Indices of ``inputs`` among ``params`` (sorted); one line per unknown name."""
    index = {p.name: i for i, p in enumerate(params)}
    unknown = [name for name in inputs if name not in index]
    if unknown:
        raise InputError(
            [InputProblem("<arguments>", f"unknown input {name!r}{did_you_mean(name, list(index))}")
             for name in unknown]
        )
    return np.array(sorted({index[name] for name in inputs}), dtype=np.int64)


#: Label of the group that holds every input a Morris screen does not score one by one.
OTHERS = "(the other inputs)"


def morris_screen(
    scenario: Scenario | str,
    inputs: Sequence[str] | None = None,
    strategies: Sequence[str] | None = None,
    *,
    trajectories: int = 4,
    worlds: int = WORLDS,
    seed: int = 0,
    tolerance: float = TOLERANCE,
) -> pd.DataFrame:
    """Morris elementary effects of ``inputs`` across the whole range of every input, CRN.

    The check for inputs that matter only jointly. Each of ``inputs`` (default: all) is a
    Morris group of its own; every other uncertainty moves as one more group (``OTHERS``),
    so each trajectory starts from a random point of the whole space and an elementary
    effect is measured with the other inputs away from nominal. All design points run the
    same worlds of ``seed``: an input with no path, alone or jointly, has every elementary
    effect exactly zero.

    Returns
    -------
    DataFrame
        As :func:`input_effects` (one row per input of ``inputs``), the effects being
        Morris ``mu_star`` (mean absolute elementary effect per unit of quantile).

    Raises
    ------
    InputError
        As :func:`prepare`; an unknown input; fewer than 2 trajectories.
    """
    screen = prepare(scenario, strategies, worlds, seed)
    by_name = {p.name: p for p in screen.params}
    chosen = list(inputs) if inputs is not None else list(by_name)
    problems = [
        InputProblem("<arguments>", f"unknown input {x!r}{did_you_mean(x, list(by_name))}")
        for x in chosen
        if x not in by_name
    ]
    if trajectories < 2:
        problems.append(InputProblem("<arguments>", f"trajectories must be >= 2 ({trajectories})"))
    if problems:
        raise InputError(problems)
    rows = [by_name[x] for x in chosen]
    if not rows:
        return _frame(screen, rows, np.zeros((0, len(screen.strategies) * len(screen.metrics))),
                      tolerance)
    groups = [p.name if p.name in set(chosen) else OTHERS for p in screen.params]
    design = morris_sample(len(screen.params), trajectories, seed, groups=groups)
    # Morris levels include 0 and 1: inset them like the one-at-a-time bounds (EDGE).
    states = to_values(screen.params, EDGE + (1 - 2 * EDGE) * design)
    names = [p.name for p in screen.params]
    parts = []
    for strategy in screen.strategies:
        means, _ = state_means(screen.scenario, strategy, states, worlds, seed)
        mu = [
            morris_analyze(names, design, np.nan_to_num(means[m], nan=0.0), seed=seed,
                           groups=groups).set_index("parameter")["mu_star"]
            for m in screen.metrics
        ]
        parts.append(np.column_stack([s.loc[chosen].to_numpy() for s in mu]))
    return _frame(screen, rows, np.concatenate(parts, axis=1), tolerance)


def inert_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """The inert rows of :func:`input_effects` (``input``, ``kind``)."""
    return frame.loc[frame["inert"], ["input", "kind"]].reset_index(drop=True)


def count_by_kind(frame: pd.DataFrame) -> pd.Series:
    """How many inputs of each kind are inert, most first."""
    return inert_inputs(frame)["kind"].value_counts()


__all__ = [
    "BASES",
    "COLUMNS",
    "TOLERANCE",
    "WORLDS",
    "base_states",
    "count_by_kind",
    "inert_inputs",
    "input_effects",
    "input_kind",
    "metric_scales",
    "morris_screen",
    "perturbed_states",
    "prepare",
    "radial_states",
    "ranked_metrics",
    "screen_inputs",
    "state_means",
]
