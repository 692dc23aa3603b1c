"""Backtests of the bargaining models against real decisions (DEU III)."""

from __future__ import annotations

from detente.backtest.deu import BacktestResult, ModelScore, backtest_deu
from detente.backtest.scoring import bootstrap_mae, grouped_folds, paired_bootstrap

__all__ = [
    "BacktestResult",
    "ModelScore",
    "backtest_deu",
    "bootstrap_mae",
    "grouped_folds",
    "paired_bootstrap",
]
