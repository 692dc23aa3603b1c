"""Bargaining models: Table 2 of Scholz et al., degenerate inputs, invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA
from detente.bargaining import MODELS, EUMParams, forecast, run
from detente.bargaining.eum import all_pairs_total, votes_for
from detente.errors import InputError
from detente.scenario.table import ActorTable
from detente.scenario.tables import load_actor_csv, load_tables

DATA = SHARED_DATA
EMISSION = DATA / "bargaining-cases" / "emission-standards-1994.csv"

TABLE2_MEDIAN = [8.4, 9.9, 9.9, 9.9, 9.9, 7.4, 8.8, 9.6]
TABLE2_MEAN = [7.4, 7.5, 7.6, 7.3, 7.3, 7.4, 7.5, 7.6]


def emission() -> ActorTable:
    (table,) = load_actor_csv(EMISSION, scale=(0.0, 10.0))
    return table


def test_eum_reproduces_scholz_table2_medians_and_means() -> None:
    trace = run(emission(), rounds=8, params=EUMParams(q=1.0))
    assert np.all(np.abs(trace.median[1:] - TABLE2_MEDIAN) <= 0.35), trace.median
    assert np.all(np.abs(trace.mean[1:] - TABLE2_MEAN) <= 0.1), trace.mean


def test_builtin_scenario_gives_same_rounds_as_csv() -> None:
    (from_yaml,) = load_tables("emission-standards-1994")
    np.testing.assert_allclose(run(from_yaml, 8).median, run(emission(), 8).median)


def test_nearest_compromise_rule_departs_from_table2() -> None:
    # The paper's text rule ("nearest offer") is a real alternative: it must change rounds 6-8.
    trace = run(emission(), 8, EUMParams(compromise_choice="nearest"))
    assert np.max(np.abs(trace.median[1:] - TABLE2_MEDIAN)) > 0.35


def test_compromise_and_median_on_emission() -> None:
    t = emission()
    w = t.capability * t.salience
    assert forecast(t, "compromise") == pytest.approx(float(np.dot(w, t.position) / w.sum()))
    assert forecast(t, "median") == 7.0


def brute_support(x: np.ndarray, w: np.ndarray, r: np.ndarray, span: float) -> np.ndarray:
    d = (np.abs(x[:, None] - x[None, :]) / span) ** r[:, None]  # d[k, j]
    v = w[:, None, None] * (d[:, None, :] - d[:, :, None])  # v[k, i, j]
    return np.clip(v, 0, None).sum(0)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 12), st.integers(0, 10_000))
def test_vectorised_votes_match_brute_force(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.choice(np.linspace(0, 100, 11), n)  # ties on purpose
    w = rng.uniform(0, 1, n)
    r = rng.uniform(0.5, 2, n)
    span = max(float(np.ptp(x)), 1.0)
    np.testing.assert_allclose(votes_for(x, w, r, span), brute_support(x, w, r, span), atol=1e-9)
    d = (np.abs(x[:, None] - x[None, :]) / span) ** r[:, None]
    total = float(np.sum(w[:, None, None] * np.abs(d[:, None, :] - d[:, :, None])))
    assert all_pairs_total(x, w, r, span) == pytest.approx(total, rel=1e-9, abs=1e-12)


# -- bad and degenerate input --------------------------------------------------------------


def table(pos: list[float], cap: list[float] | None = None, sal: list[float] | None = None,
          scale: tuple[float, float] = (0.0, 100.0)) -> ActorTable:
    n = len(pos)
    return ActorTable("t", tuple(f"a{i}" for i in range(n)), np.array(cap or [1.0] * n),
                      np.array(pos, dtype=float), np.array(sal or [50.0] * n), scale)


@pytest.mark.parametrize("model", list(MODELS))
def test_single_actor_and_identical_positions_return_that_position(model: str) -> None:
    assert forecast(table([42.0]), model) == 42.0
    assert forecast(table([30.0, 30.0, 30.0]), model) == pytest.approx(30.0)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("bad", [
    table([10.0, 20.0], sal=[0.0, 0.0]),
    table([10.0, 20.0], cap=[0.0, 0.0]),
    table([10.0, 120.0]),
    table([10.0, float("nan")]),
    table([10.0, 20.0], cap=[-1.0, 1.0]),
    table([10.0, 20.0], sal=[50.0, float("inf")]),
])
def test_bad_tables_raise_input_error(model: str, bad: ActorTable) -> None:
    with pytest.raises(InputError):
        forecast(bad, model)


def test_empty_table_and_unknown_model() -> None:
    with pytest.raises(InputError):
        forecast(table([]), "compromise")
    with pytest.raises(InputError, match="did you mean"):
        forecast(table([1.0]), "medain")


# -- invariants ------------------------------------------------------------------------------

actor_rows = st.lists(
    st.tuples(st.floats(0.05, 10), st.integers(0, 20).map(lambda k: 5.0 * k), st.floats(1, 100)),
    min_size=2, max_size=9,
)


def from_rows(rows: list[tuple[float, float, float]], scale: float = 1.0,
              shift: float = 0.0) -> ActorTable:
    cap, pos, sal = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    return ActorTable("p", tuple(f"a{i}" for i in range(len(rows))), cap,
                      pos * scale + shift, sal, (shift, 100.0 * scale + shift))


def close(a: float, b: float, scale: float = 1.0) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(scale) * 100)


@settings(max_examples=60, deadline=None)
@given(actor_rows, st.sampled_from(list(MODELS)), st.randoms(use_true_random=False))
def test_forecast_within_range_and_order_free(rows: list, model: str, rnd) -> None:  # type: ignore[no-untyped-def]
    t = from_rows(rows)
    value = forecast(t, model)
    assert np.isfinite(value)
    assert t.position.min() - 1e-9 <= value <= t.position.max() + 1e-9
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert close(forecast(from_rows(shuffled), model), value)


@settings(max_examples=60, deadline=None)
@given(actor_rows, st.sampled_from(list(MODELS)), st.floats(-50, 50), st.floats(0.1, 20))
def test_forecast_moves_with_shift_and_scale(rows: list, model: str, shift: float,
                                             scale: float) -> None:
    base = forecast(from_rows(rows), model)
    moved = forecast(from_rows(rows, scale=scale, shift=shift), model)
    assert close(moved, base * scale + shift, scale)
