"""Reliability diagram of a hindcast's event forecasts.

Input is a hindcast run's ``reliability.csv``: forecasts of events grouped in probability
bins, one row per bin (and per forecaster when the table has a forecaster column), with the
bin's mean forecast probability, the share of those events that happened and how many there
were. A reliable forecaster's points lie on the diagonal; points below it are events
forecast too confidently, above it too timidly. Marker area shows the count, since a bin
holding one or two events says little.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from detente.report.figures.style import (
    GREY,
    colors_for,
    markers_for,
    new_figure,
    placeholder,
    styled,
)

FORECAST_COLUMNS = ("mean_forecast", "forecast_mean", "forecast", "mean_probability", "predicted")
OBSERVED_COLUMNS = ("observed_frequency", "observed_rate", "frequency", "observed")
COUNT_COLUMNS = ("count", "n", "events")
FORECASTER_COLUMNS = ("forecaster", "model", "reference")


def _first(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def reliability_columns(frame: pd.DataFrame) -> tuple[str, str, str | None, str | None]:
    """The columns holding (mean forecast, observed frequency, count, forecaster).

    Raises
    ------
    ValueError
        When no mean-forecast or observed-frequency column is found (names the columns).
    """
    forecast, observed = _first(frame, FORECAST_COLUMNS), _first(frame, OBSERVED_COLUMNS)
    if forecast is None or observed is None:
        raise ValueError(
            f"reliability table needs a mean forecast column ({', '.join(FORECAST_COLUMNS)}) "
            f"and an observed frequency column ({', '.join(OBSERVED_COLUMNS)}); "
            f"got {', '.join(map(str, frame.columns))}"
        )
    return forecast, observed, _first(frame, COUNT_COLUMNS), _first(frame, FORECASTER_COLUMNS)


@styled
def reliability_chart(frame: pd.DataFrame, title: str | None = None) -> Figure:
    """Observed frequency against mean forecast probability, per bin (and forecaster).

    Parameters
    ----------
    frame : DataFrame
        A hindcast's reliability table (see the module docstring and
        :func:`reliability_columns`).
    title : str, optional

    Returns
    -------
    Figure
        One square axes named ``reliability``.
    """
    fig = new_figure(6.4, 5.6)
    ax = fig.subplots()
    ax.set_label("reliability")
    forecast, observed, count, forecaster = reliability_columns(frame)
    rows = frame.dropna(subset=[forecast, observed])
    if count is not None:
        rows = rows[rows[count].fillna(0) > 0]
    if rows.empty:
        placeholder(ax, "no event forecasts to bin")
        return fig
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="perfectly reliable")
    groups = (
        [(str(k), g) for k, g in rows.groupby(forecaster, sort=False)]
        if forecaster is not None
        else [("forecasts", rows)]
    )
    colors = colors_for(k for k, _ in groups)
    markers = markers_for(k for k, _ in groups)
    top = float(rows[count].max()) if count is not None else 1.0
    for name, group in groups:
        g = group.sort_values(forecast)
        sizes = 30 + 220 * g[count].to_numpy(dtype=float) / top if count is not None else 60
        ax.plot(g[forecast], g[observed], color=colors[name], linewidth=1.2, alpha=0.7)
        ax.scatter(
            g[forecast],
            g[observed],
            s=sizes,
            color=colors[name],
            marker=markers[name],
            edgecolor="white",
            linewidth=0.6,
            label=name,
            zorder=3,
        )
        if count is not None and len(groups) == 1:
            for x, y, n in zip(g[forecast], g[observed], g[count], strict=True):
                ax.annotate(
                    f"{int(n)}", (x, y), xytext=(6, -10), textcoords="offset points", fontsize=8
                )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_aspect("equal")
    ax.set_xlabel("Forecast probability (mean within the bin)")
    ax.set_ylabel("Share of those events that happened")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.set_title(
        title
        or "Reliability of the event forecasts"
        + (" (marker area: events in the bin)" if count is not None else ""),
        loc="left",
    )
    return fig


__all__ = ["reliability_chart", "reliability_columns"]
