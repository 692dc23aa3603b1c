"""Strategy comparison: expected value with intervals, regret and satisficing per outcome.

Input is the experiments' comparison frame (columns ``strategy, outcome, mean, lo, hi,
regret_mean, regret_max, satisficing, rank``). Each outcome is a row of three panels:

1. the expected (mean) value across worlds with its interval ``[lo, hi]``;
2. regret, the shortfall against the best strategy in the same world (mean as a bar,
   maximum as a diamond);
3. satisficing, the share of states of the world in which the outcome meets its threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from detente.experiments.robustness import COMPARISON_COLUMNS
from detente.report.figures.fan import metric_label, strategy_names, strategy_order
from detente.report.figures.style import (
    GREY,
    colors_for,
    label_for,
    new_figure,
    placeholder,
    styled,
    wrap,
)
from detente.scenario.schema import Scenario

REQUIRED_COLUMNS = tuple(c for c in COMPARISON_COLUMNS if c != "rank")
"""The comparison frame's columns this figure needs (the rank is optional)."""


def _direction(outcome: str, scenario: Scenario | None) -> str:
    if scenario is not None:
        for m in scenario.metrics:
            if m.id == outcome:
                return {"maximize": "higher is better", "minimize": "lower is better"}.get(
                    m.direction, ""
                )
    return ""


def _threshold(outcome: str, scenario: Scenario | None) -> str:
    if scenario is not None:
        for m in scenario.metrics:
            if m.id == outcome and m.threshold is not None:
                sign = "≤" if m.direction == "minimize" else "≥"
                return f"final value {sign} {m.threshold:g}{' ' + m.unit if m.unit else ''}"
    return ""


@styled
def comparison_chart(
    comparison: pd.DataFrame,
    scenario: Scenario | None = None,
    outcomes: Sequence[str] | None = None,
    interval_label: str = "95% confidence interval of the mean",
    thresholds: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Compare strategies on every outcome: expected value, regret and satisficing.

    Parameters
    ----------
    comparison : DataFrame
        Comparison frame with columns ``strategy, outcome, mean, lo, hi, regret_mean,
        regret_max, satisficing`` (``satisficing`` NaN when the outcome has no threshold).
    scenario : Scenario, optional
        Supplies outcome names, units, directions and strategy names.
    outcomes : sequence of str, optional
        Outcomes to draw, one row each (default: all, in order of appearance).
    interval_label : str
        What ``[lo, hi]`` is, for the legend.
    thresholds : mapping of outcome -> text, optional
        The satisficing threshold of each outcome as text (e.g. ``"rapprochement >= 0.5"``);
        default: the scenario metrics' thresholds.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        Axes are named ``value:<outcome>``, ``regret:<outcome>`` and ``satisficing:<outcome>``.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in comparison.columns]
    if missing:
        raise ValueError(f"comparison frame lacks columns {missing}")
    if outcomes is None:
        outcomes = list(dict.fromkeys(comparison["outcome"]))
    strategies = strategy_order(comparison["strategy"].tolist(), scenario)
    names = strategy_names(scenario)
    colors = colors_for(strategies)
    ylabels = [wrap(label_for(s, names), 24) for s in strategies]
    y = np.arange(len(strategies))[::-1]

    n = max(len(outcomes), 1)
    fig = new_figure(11.0, 0.42 * len(strategies) * n + 0.75 * n + 1.3)
    axes = fig.subplots(n, 3, squeeze=False, gridspec_kw={"width_ratios": [1.6, 1.0, 1.0]})
    for r, outcome in enumerate(outcomes):
        sub = comparison[comparison["outcome"] == outcome].set_index("strategy")
        sub = sub.reindex(strategies)
        ax_v, ax_r, ax_s = axes[r]
        ax_v.set_label(f"value:{outcome}")
        ax_r.set_label(f"regret:{outcome}")
        ax_s.set_label(f"satisficing:{outcome}")

        for i, s in enumerate(strategies):
            row = sub.loc[s]
            if pd.isna(row["mean"]):
                continue
            lo, hi = row["lo"], row["hi"]
            if pd.notna(lo) and pd.notna(hi):
                ax_v.plot(
                    [lo, hi], [y[i], y[i]], color=colors[s], linewidth=2.4, solid_capstyle="butt"
                )
            ax_v.plot(
                row["mean"],
                y[i],
                "o",
                color=colors[s],
                markersize=7,
                markeredgecolor="white",
                markeredgewidth=0.8,
            )
        direction = _direction(outcome, scenario)
        ax_v.set_title(
            wrap(metric_label(outcome, scenario, width=60).replace("\n", " "), 60)
            + (f"\n({direction})" if direction else ""),
            loc="left",
        )
        ax_v.set_yticks(y, ylabels)
        ax_v.set_ylim(-0.6, len(strategies) - 0.4)
        ax_v.grid(axis="y", visible=False)

        info = "rank" in sub.columns and bool(sub["rank"].isna().all())
        if info:
            placeholder(ax_r, "information only:\nno better or worse, no regret")
        else:
            ax_r.barh(
                y,
                sub["regret_mean"].fillna(0),
                color=[colors[s] for s in strategies],
                alpha=0.85,
                height=0.6,
            )
            ax_r.plot(sub["regret_max"], y, "D", color="#333333", markersize=5)
            ax_r.set_yticks([])  # the value panel names the rows; no tick to draw here
            ax_r.set_ylim(-0.6, len(strategies) - 0.4)
            ax_r.set_xlim(left=0)
            ax_r.grid(axis="y", visible=False)
            ax_r.set_title("Regret (outcome units)", loc="left")

        if sub["satisficing"].notna().any():
            ax_s.barh(
                y,
                sub["satisficing"].fillna(0),
                color=[colors[s] for s in strategies],
                alpha=0.85,
                height=0.6,
            )
            for i, v in enumerate(sub["satisficing"]):
                if pd.notna(v):
                    ax_s.text(min(v, 1.0) + 0.02, y[i], f"{v:.0%}", va="center", fontsize=8.5)
            ax_s.set_xlim(0, 1.18)
            ax_s.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
            ax_s.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax_s.set_yticks([])
            ax_s.set_ylim(-0.6, len(strategies) - 0.4)
            ax_s.grid(axis="y", visible=False)
            threshold = (thresholds or {}).get(outcome) or _threshold(outcome, scenario)
            ax_s.set_title(
                wrap("States meeting the threshold" + (f" ({threshold})" if threshold else ""), 30),
                loc="left",
            )
        else:
            placeholder(ax_s, "no satisficing threshold\nset for this outcome")
    if not outcomes:
        placeholder(axes[0, 0], "no outcomes to compare")

    handles = [
        Line2D([], [], marker="o", color=GREY, linestyle="none", label="Expected value (mean)"),
        Line2D([], [], color=GREY, linewidth=2.4, label=f"Interval: {interval_label}"),
        Patch(color=GREY, alpha=0.85, label="Mean regret vs the best strategy in each state"),
        Line2D([], [], marker="D", color="#333333", linestyle="none", label="Maximum regret"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    fig.suptitle(
        title or "Which strategy holds up: expected value, regret and satisficing",
        fontweight="bold",
    )
    return fig
