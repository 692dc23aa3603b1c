"""Public entry points: run a scenario under a strategy in many worlds.

* :func:`simulate` - every trajectory as an :class:`xarray.Dataset` (world x step);
* :func:`summarize` - per-world outcome summaries for experiments (small, chunkable);
* :func:`trajectory_quantiles` - mean and quantiles per step and metric, streamed in chunks
  so memory stays bounded for very many worlds;
* :func:`run_summary_json` - the dictionary printed by ``detente simulate --json``.

Worlds are processed in chunks of whole :data:`~detente.sim.rng.BLOCK` blocks; because every
random number belongs to a block, the result does not depend on the chunk size.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from detente.errors import InputError
from detente.metrics import Metric, Rule, metrics_for
from detente.scenario import Scenario, load_scenario
from detente.sim.engine import ChunkResult, reported_metrics, run_chunk
from detente.sim.internal import is_internal_bargaining
from detente.sim.rng import BLOCK
from detente.sim.strategies import Scripted, Strategy, as_strategy, get_strategy
from detente.sim.system import System, compile_system

if TYPE_CHECKING:
    import xarray as xr

#: Default worlds per chunk (a multiple of BLOCK). 4096 is where the engine's fixed cost per
#: step is spread over most worlds while a chunk's working set (about 50 MB) still runs fast:
#: 1.01-1.02 us per world-step against 1.09 at 2048 and 1.10 at 6144 or 8192
#: (docs/performance.md, "Seventh pass").
CHUNK = 16 * BLOCK
#: Above this many cells (worlds x steps x metrics) quantiles use a systematic subsample.
KEEP_CELLS = 60_000_000

ProgressFn = Callable[[int], None]
ScenarioLike = Scenario | str


def as_scenario(s: ScenarioLike) -> Scenario:
    """The scenario itself, or the built-in or file it names, loaded."""
    return s if isinstance(s, Scenario) else load_scenario(s)


def build_strategy(system: System, override: Mapping[str, Any] | None = None) -> Strategy:
    """Instantiate the focal strategy with the scenario's parameters (counts rounded).

    A parameter may be one value per world (a stacked system's per-world leaf,
    :mod:`detente.sim.stacked`); it is rounded value by value, as a scalar is.
    A history script (``system.script``) wraps it: :class:`~detente.sim.strategies.Scripted`
    replays the script's levels, then hands over to the strategy built here.
    """
    params: dict[str, Any] = dict(system.focal_params)
    params.update(override or {})
    probe = get_strategy(system.focal_strategy)
    sig = inspect.signature(type(probe).__init__)
    for key, value in list(params.items()):
        spec = sig.parameters.get(key)
        if (
            spec is not None
            and "int" in str(spec.annotation)
            and "float" not in str(spec.annotation)
        ):
            params[key] = (
                np.round(value).astype(np.int64)  # half to even, as round()
                if isinstance(value, np.ndarray)
                else round(float(value))
            )
    strategy = get_strategy(system.focal_strategy, **params)
    if system.script is not None:
        return Scripted(levels=tuple(system.script.levels), then=strategy)
    return strategy


def _check_counts(worlds: int, seed: int, start_world: int) -> None:
    problems = []
    if worlds < 1:
        problems.append(f"worlds must be >= 1 (got {worlds})")
    if seed < 0:
        problems.append(f"seed must be >= 0 (got {seed})")
    if start_world < 0 or start_world % BLOCK:
        problems.append(
            f"start_world must be a non-negative multiple of {BLOCK} (got {start_world})"
        )
    if problems:
        from detente.errors import InputProblem

        raise InputError([InputProblem("<arguments>", m) for m in problems])


def iter_chunks(
    scenario: ScenarioLike,
    strategy: str,
    worlds: int,
    seed: int = 0,
    *,
    start_world: int = 0,
    values: Mapping[str, float] | None = None,
    opponent: str | Strategy | None = None,
    chunk: int = CHUNK,
    progress: ProgressFn | None = None,
    record_state: bool = False,
) -> Iterator[tuple[System, int, ChunkResult]]:
    """Run the worlds chunk by chunk, yielding ``(system, first_world, result)``.

    ``record_state`` keeps the instruments in force and the issue levels per step
    (:func:`~detente.sim.engine.run_chunk`).

    Raises
    ------
    InputError
        Unknown strategy or parameter, bad counts, not a system scenario.
    """
    _check_counts(worlds, seed, start_world)
    if chunk < BLOCK or chunk % BLOCK:
        chunk = max(BLOCK, (chunk // BLOCK) * BLOCK)
    sc = as_scenario(scenario)
    system = compile_system(sc, strategy, values)
    if isinstance(opponent, str):  # a scenario strategy id naming the rule counts too
        kinds = {sp.id: sp.kind for sp in sc.strategies}
        if is_internal_bargaining(kinds.get(opponent, "")):
            opponent = None
    if is_internal_bargaining(opponent):
        opponent = None  # the engine's own internal bargaining (the default)
    done = 0
    while done < worlds:
        n = min(chunk, worlds - done)
        strat = build_strategy(system)
        opp = as_strategy(opponent) if opponent is not None else None
        if isinstance(opponent, Strategy):
            opp = opponent
        res = run_chunk(
            system, strat, seed, start_world + done, n, opponent=opp, record_state=record_state
        )
        yield system, start_world + done, res
        done += n
        if progress is not None:
            progress(n)


def simulate(
    scenario: ScenarioLike,
    strategy: str,
    worlds: int = 1000,
    seed: int = 0,
    *,
    start_world: int = 0,
    values: Mapping[str, float] | None = None,
    opponent: str | Strategy | None = None,
    chunk: int = CHUNK,
    progress: ProgressFn | None = None,
    record_state: bool = False,
) -> xr.Dataset:
    """Run a system scenario under a focal strategy and keep every trajectory.

    Parameters
    ----------
    scenario : Scenario or str
        A system scenario or a built-in name / path.
    strategy : str
        A scenario strategy id or a registered strategy name (``moderate-engagement``).
    worlds, seed : int
    start_world : int
        First world index (a multiple of ``BLOCK``): runs of consecutive world ranges
        concatenate to the single run.
    values : mapping, optional
        Values for some of the scenario's uncertainties.
    opponent : str or Strategy, optional
        Replace the internal side's bargaining by a unitary strategy (tests, reductions).
        ``"internal-bargaining"`` (or a scenario strategy of that kind, such as
        ``iran-internal-bargaining``) names the default: the engine's internal bargaining.
    chunk : int
        Worlds per chunk (rounded to whole blocks); does not change the numbers.
    record_state : bool
        Also return ``in_force`` (world x step x instrument, bool: the focal side's
        instruments, then the other principal's) and ``level`` (world x step x issue).

    Returns
    -------
    xarray.Dataset
        Dims ``(world, step)``; one float32 variable per metric the scenario supports
        (:func:`~detente.sim.engine.reported_metrics`, in :data:`METRICS` order); coordinate
        ``date`` ("2001Q3") along ``step``; per-world ``time_to_reciprocation``,
        ``backlash_events``; with ``record_state``, ``in_force`` and ``level``.
    """
    parts: list[ChunkResult] = []
    system = None
    for sys_, _, res in iter_chunks(
        scenario,
        strategy,
        worlds,
        seed,
        start_world=start_world,
        values=values,
        opponent=opponent,
        chunk=chunk,
        progress=progress,
        record_state=record_state,
    ):
        system = sys_
        parts.append(res)
    assert system is not None
    data: dict[str, Any] = {
        m: (("world", "step"), np.concatenate([r.metrics[m] for r in parts]))
        for m in reported_metrics(system)
    }
    data["time_to_reciprocation"] = (
        "world",
        np.concatenate([r.time_to_reciprocation for r in parts]),
    )
    data["backlash_events"] = ("world", np.concatenate([r.backlash_events for r in parts]))
    coords: dict[str, Any] = {
        "world": np.arange(start_world, start_world + worlds),
        "step": np.arange(system.horizon),
        "date": ("step", list(system.dates)),
    }
    if record_state:
        data["in_force"] = (
            ("world", "step", "instrument"),
            np.concatenate([r.in_force for r in parts if r.in_force is not None]),
        )
        data["level"] = (
            ("world", "step", "issue"),
            np.concatenate([r.levels for r in parts if r.levels is not None]),
        )
        coords["instrument"] = [*system.focal.instruments, *system.internal.instruments]
        coords["issue"] = list(system.issues)
    import xarray as xr  # here: commands that only summarise never load it

    return xr.Dataset(
        data,
        coords=coords,
        attrs={"scenario": system.scenario_id, "strategy": strategy, "seed": seed},
    )


def _summary_of(m: Metric, res: ChunkResult, horizon: int) -> NDArray[np.float64]:
    """Per-world values of registry metric ``m`` by its rule (:mod:`detente.metrics`)."""
    if m.rule == "step":
        values = res.metrics[m.id][:, -1]
    elif m.rule == "world":
        values = getattr(res, m.id)
    elif m.rule == "max":
        values = res.metrics[m.source].max(axis=1)
    elif m.rule == "mean":
        values = res.metrics[m.source].mean(axis=1)
    elif m.rule == "min":
        values = res.metrics[m.source].min(axis=1)
    else:  # first_step: the first step (1-based) at which the 0/1 metric is 1
        reached = res.metrics[m.source] > 0.5
        values = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, horizon + 1)
    return np.asarray(values).astype(np.float64)


def chunk_summary(res: ChunkResult, system: System) -> dict[str, NDArray[np.float64]]:
    """Every per-world summary of the registry that ``system`` supports, in registry order."""
    rules: tuple[Rule, ...] = ("step", "world", "max", "mean", "min", "first_step")
    return {m.id: _summary_of(m, res, system.horizon) for m in metrics_for(system, rules)}


def summarize(
    scenario: ScenarioLike,
    strategy: str,
    worlds: int,
    seed: int = 0,
    start_world: int = 0,
    *,
    values: Mapping[str, float] | None = None,
    opponent: str | Strategy | None = None,
    chunk: int = CHUNK,
    progress: ProgressFn | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Per-world outcome summaries, without keeping trajectories.

    Returns
    -------
    dict of str to ndarray [worlds]
        The final value of every metric the scenario supports
        (:func:`~detente.sim.engine.reported_metrics`; ``rapprochement`` is 1 if dialogue
        opened at any time), ``time_to_reciprocation`` (quarters to the first Iranian
        conciliatory step after a U.S. one; ``horizon + 1`` if never),
        ``time_to_rapprochement`` (likewise), ``max_unreciprocated``, ``max_focal_domestic_cost``,
        ``mean_reform_share``, ``min_reform_share`` (with a reform camp) and
        ``backlash_events``.
    """
    parts: list[dict[str, NDArray[np.float64]]] = []
    for system, _, res in iter_chunks(
        scenario,
        strategy,
        worlds,
        seed,
        start_world=start_world,
        values=values,
        opponent=opponent,
        chunk=chunk,
        progress=progress,
    ):
        parts.append(chunk_summary(res, system))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def trajectory_quantiles(
    scenario: ScenarioLike,
    strategies: str | list[str],
    worlds: int = 1000,
    seed: int = 0,
    *,
    values: Mapping[str, float] | None = None,
    chunk: int = CHUNK,
    progress: ProgressFn | None = None,
    on_chunk: Callable[[str, System, ChunkResult], None] | None = None,
) -> pd.DataFrame:
    """Mean and quantiles of every metric per step, for one or more strategies.

    Means are exact over all worlds. Quantiles are exact while ``worlds x steps x metrics``
    stays under :data:`KEEP_CELLS`; beyond that they are computed on a systematic subsample
    (every k-th world), so memory stays bounded however many worlds are run.
    ``on_chunk(strategy, system, result)`` sees every chunk as it is run, so a caller can
    take per-world summaries from the same worlds without simulating them twice.

    Returns
    -------
    pandas.DataFrame
        Columns ``[strategy, step, date, metric, mean, p05, p25, p50, p75, p95]``.
    """
    sc = as_scenario(scenario)
    names = [strategies] if isinstance(strategies, str) else list(strategies)
    rows: list[pd.DataFrame] = []
    for name in names:
        sums: dict[str, NDArray[np.float64]] = {}
        kept: dict[str, list[NDArray[np.float32]]] = {}
        stride = 1
        system = None
        for system, _, res in iter_chunks(
            sc, name, worlds, seed, values=values, chunk=chunk, progress=progress
        ):
            if on_chunk is not None:
                on_chunk(name, system, res)
            if not kept:
                kept = {m: [] for m in reported_metrics(system)}
                cells = worlds * system.horizon * len(kept)
                stride = max(1, -(-cells // KEEP_CELLS))
            for m in kept:
                a = res.metrics[m]
                sums[m] = sums.get(m, 0.0) + a.sum(axis=0, dtype=np.float64)
                kept[m].append(a[::stride])
        assert system is not None
        for m in kept:
            allw = np.concatenate(kept[m]).astype(np.float64)
            qs = np.quantile(allw, QUANTILES, axis=0)
            rows.append(
                pd.DataFrame(
                    {
                        "strategy": name,
                        "step": np.arange(system.horizon),
                        "date": list(system.dates),
                        "metric": m,
                        "mean": sums[m] / worlds,
                        "p05": qs[0],
                        "p25": qs[1],
                        "p50": qs[2],
                        "p75": qs[3],
                        "p95": qs[4],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def run_summary_json(frame: pd.DataFrame) -> dict[str, Any]:
    """The ``--json`` document: ``dates`` and, per metric, mean/p05/p50/p95 per step."""
    out: dict[str, Any] = {}
    for strat, g in frame.groupby("strategy", sort=False):
        dates = list(g[g.metric == g.metric.iloc[0]].sort_values("step")["date"])
        metrics = {}
        for m, gm in g.groupby("metric", sort=False):
            gm = gm.sort_values("step")
            metrics[str(m)] = {
                k: [round(float(x), 6) for x in gm[k]] for k in ("mean", "p05", "p50", "p95")
            }
        out[str(strat)] = {"dates": dates, "metrics": metrics}
    return out


__all__ = [
    "CHUNK",
    "build_strategy",
    "iter_chunks",
    "run_summary_json",
    "simulate",
    "summarize",
    "trajectory_quantiles",
]
