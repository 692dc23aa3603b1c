"""The reliability diagram of a hindcast, drawn from its stored ``reliability.csv`` table.

Each forecaster's binned event forecasts: mean forecast probability (x) against the share
of records that said true (y), markers sized by the number of forecasts in the bin. A
reliable forecaster lies on the diagonal. The figure only draws the table; it computes
nothing (:func:`detente.history.hindcast.reliability` does).
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from detente.history.hindcast import FORECASTERS
from detente.report.figures.style import (
    GREY,
    colors_for,
    markers_for,
    new_figure,
    placeholder,
    styled,
)


@styled
def reliability_figure(table: pd.DataFrame) -> Figure:
    """Observed frequency against mean forecast per bin, one series per forecaster."""
    fig = new_figure(5.2, 4.6)
    ax = fig.add_subplot()
    if table.empty:
        placeholder(ax, "no event (true/false) observations were forecast")
        return fig
    names = [f for f in FORECASTERS if f in set(table["forecaster"])]
    colors, markers = colors_for(names), markers_for(names)
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="perfectly reliable")
    for name in names:
        own = table[table["forecaster"] == name].sort_values("bin")
        ax.plot(
            own["mean_forecast"], own["observed_frequency"], color=colors[name],
            marker=markers[name], linewidth=1.2, markersize=4, label=name,
        )
        ax.scatter(
            own["mean_forecast"], own["observed_frequency"], s=25 * own["count"],
            color=colors[name], alpha=0.25, linewidths=0,
        )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("mean forecast probability of the record (bin)")
    ax.set_ylabel("share of records that said true")
    ax.set_title("Reliability of the event forecasts after the cut-off")
    ax.legend(loc="upper left", fontsize="small")
    return fig


__all__ = ["reliability_figure"]
