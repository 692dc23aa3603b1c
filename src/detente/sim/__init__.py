"""Dynamic two-level game, vectorised across Monte Carlo worlds.

Public API
----------
simulate(scenario, strategy, worlds, seed, ...) -> xarray.Dataset (world x step)
summarize(scenario, strategy, worlds, seed, start_world=0) -> dict of per-world summaries
trajectory_quantiles(scenario, strategies, worlds, seed) -> DataFrame of mean/quantiles
simulate_states(scenario, strategy, states, worlds, seeds) -> many states in one engine run
SimParameters, parameters_from, parameter_docs - model parameters and their defaults
METRICS - the metrics recorded per world and step

See ``docs/model.md`` for the equations and their sources.
"""

from detente.sim.api import (
    CHUNK,
    build_strategy,
    iter_chunks,
    run_summary_json,
    simulate,
    summarize,
    trajectory_quantiles,
)
from detente.sim.engine import METRICS, run_chunk
from detente.sim.internal import InternalBargaining
from detente.sim.parameters import SimParameters, parameter_docs, parameters_from
from detente.sim.stacked import simulate_states
from detente.sim.system import System, compile_system

__all__ = [
    "CHUNK",
    "METRICS",
    "InternalBargaining",
    "SimParameters",
    "System",
    "build_strategy",
    "compile_system",
    "iter_chunks",
    "parameter_docs",
    "parameters_from",
    "run_chunk",
    "run_summary_json",
    "simulate",
    "simulate_states",
    "summarize",
    "trajectory_quantiles",
]
