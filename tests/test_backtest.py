"""DEU III backtest: published benchmark figures, paired bootstrap, grouped CV, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED_DATA
from detente.backtest import backtest_deu, grouped_folds
from detente.backtest.council import (
    ACCESSION_2004,
    EU15_WEIGHTS,
    NICE_WEIGHTS,
    council_capability,
    council_parts,
    infer_periods,
    with_council_capability,
)
from detente.backtest.scoring import bootstrap_weights, group_codes
from detente.bargaining import compromise
from detente.scenario.tables import load_deu

DEU = SHARED_DATA / "deu3" / "deu3.tsv"


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
    council = [m for m in a["models"] if m["model"].startswith("compromise-council")]  # type: ignore[attr-defined]
    assert len(council) == 3  # the variants are part of what is reproduced


# -- Council voting weights as capabilities ----------------------------------------------


@pytest.fixture(scope="module")
def deu_tables():  # type: ignore[no-untyped-def]
    return load_deu(DEU)


def test_council_weight_totals() -> None:
    assert len(EU15_WEIGHTS) == 15 and sum(EU15_WEIGHTS.values()) == 87
    eu25 = {a: v for a, v in NICE_WEIGHTS.items() if a not in {"ro", "bu", "cr"}}
    assert len(eu25) == 25 and sum(eu25.values()) == 321
    eu27 = {a: v for a, v in NICE_WEIGHTS.items() if a != "cr"}
    assert len(eu27) == 27 and sum(eu27.values()) == 345
    assert sum(NICE_WEIGHTS.values()) == 352  # EU-28, Croatia from July 2013
    assert set(EU15_WEIGHTS) | ACCESSION_2004 == set(eu25)


def test_period_inference_on_real_deu_rows(deu_tables) -> None:  # type: ignore[no-untyped-def]
    periods = infer_periods(deu_tables)
    by_issue = {t.issue: t for t in deu_tables}
    assert periods["d00032"] == "EU15"  # first data line: EU-15 members only
    assert periods["d04167"] == "NICE"  # Poland holds a position
    # an issue without any 2004 entrant inherits the Nice era from its proposal
    assert not ACCESSION_2004 & set(by_issue["d05214i2"].actors)
    assert periods["d05214"] == "NICE"
    assert list(periods.values()).count("NICE") == 71
    assert list(periods.values()).count("EU15") == 70
    scored = [periods[t.meta["proposal"]] for t in deu_tables if t.outcome is not None]
    assert (scored.count("EU15"), scored.count("NICE")) == (176, 177)


def test_council_capability_and_parts_agree_with_compromise(deu_tables) -> None:  # type: ignore[no-untyped-def]
    t = next(t for t in deu_tables if t.issue == "d04167i1")
    cap = dict(zip(t.actors, council_capability(t, "NICE", 2.0), strict=True))
    members = [a for a in t.actors if a not in ("com", "ep")]
    mean = np.mean([NICE_WEIGHTS[a] for a in members])
    assert cap["pl"] == 27 and cap["de"] == 29
    assert cap["com"] == pytest.approx(2.0 * mean)
    equal = council_capability(t, "NICE", 1.0, rule="equal")
    assert np.allclose(equal, mean)
    periods = infer_periods(deu_tables)
    sample = deu_tables[::25]
    parts = council_parts(sample, periods)
    for k in (0.5, 2.5):
        direct = [
            compromise(with_council_capability(u, periods[u.meta["proposal"]], k)) for u in sample
        ]
        np.testing.assert_allclose(parts.forecast(k), direct)
    with pytest.raises(ValueError, match="no EU15 Council weight"):
        council_capability(t, "EU15")


def test_council_variants_in_backtest(result) -> None:  # type: ignore[no-untyped-def]
    scores = {s.model: s for s in result.scores}
    assert result.periods == {"EU15": 176, "NICE": 177}
    for name in ("compromise-council-k1", "compromise-council", "compromise-council-rule"):
        s = scores[name]
        assert s.n == 353 and np.isfinite(s.mae)
    assert scores["compromise-council-k1"].mae == pytest.approx(23.43, abs=0.005)
    assert scores["compromise-council"].fitted and scores["compromise-council-rule"].fitted


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
