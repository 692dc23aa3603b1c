"""DEU III backtest: published benchmark figures, paired bootstrap, grouped CV, seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detente.backtest import backtest_deu, grouped_folds
from detente.backtest.scoring import bootstrap_weights, group_codes

DEU = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "deu3" / "deu3.tsv"


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return backtest_deu(DEU, folds=5, seed=3, n_boot=300)


def test_benchmarks_reproduced(result) -> None:  # type: ignore[no-untyped-def]
    scores = {s.model: s for s in result.scores}
    assert result.n_issues == 353
    assert scores["compromise"].mae == pytest.approx(23.68, abs=0.005)
    assert scores["median"].mae == pytest.approx(28.36, abs=0.005)
    assert scores["reference"].n == 253
    assert scores["reference"].mae == pytest.approx(51.11, abs=0.005)


def test_intervals_and_paired_differences_are_coherent(result) -> None:  # type: ignore[no-untyped-def]
    base = {s.model: s for s in result.scores}["compromise"]
    for s in result.scores:
        assert s.mae_low <= s.mae <= s.mae_high or s.n < result.n_issues
        assert np.isfinite([s.mae, s.mae_low, s.mae_high, s.diff, s.diff_low, s.diff_high]).all()
        if s.n == base.n:
            assert s.diff == pytest.approx(s.mae - base.mae)


def test_every_issue_has_an_out_of_fold_prediction(result) -> None:  # type: ignore[no-untyped-def]
    for s in result.scores:
        if s.fitted:
            assert np.isfinite(result.predictions[s.model]).all()


def test_same_seed_same_numbers() -> None:
    a = backtest_deu(DEU, folds=4, seed=11, n_boot=200).to_dict()
    b = backtest_deu(DEU, folds=4, seed=11, n_boot=200).to_dict()
    assert a == b


def test_grouped_folds_never_split_a_group() -> None:
    groups = ["p1", "p1", "p2", "p3", "p3", "p3", "p4", "p5"]
    codes = group_codes(groups)
    folds = grouped_folds(codes, 3, seed=0)
    for g in set(groups):
        assert len({folds[i] for i, h in enumerate(groups) if h == g}) == 1
    assert set(folds) == {0, 1, 2}
    w = bootstrap_weights(codes, 50, seed=1)
    assert np.all(w.sum(axis=1) > 0)
    np.testing.assert_array_equal(w[:, 0], w[:, 1])  # an issue weighs as its proposal
