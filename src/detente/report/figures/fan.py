"""Fan charts: how the key outcomes evolve over time under each strategy.

Input is the ``trajectory_quantiles`` frame of :mod:`detente.sim` (columns ``strategy, step,
date, metric, mean, p05, p25, p50, p75, p95``). Each metric is a row of panels, each strategy
a column; a panel shows the median across worlds, the 50 % band (25th-75th percentile) and
the 90 % band (5th-95th percentile). Scheduled elections from the scenario's calendar are
drawn as dotted vertical lines.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedFormatter, FixedLocator

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

MAX_WIDTH = 11.0
"""Widest figure in inches (wider ones shrink on the page and their text gets small)."""

QUANTILE_COLUMNS = ("strategy", "step", "metric", "p05", "p25", "p50", "p75", "p95")


def period_start(label: object) -> pd.Timestamp | None:
    """The first day of a calendar label such as ``"2001Q3"``, ``"2001-07"`` or ``"2001"``."""
    if isinstance(label, (pd.Timestamp, dt.date)):
        return pd.Timestamp(label)
    try:
        return pd.Period(str(label)).start_time
    except (ValueError, TypeError):
        return None


def period_starts(frame: pd.DataFrame) -> dict[object, pd.Timestamp | None]:
    """:func:`period_start` of each distinct ``date`` label of ``frame`` (parsed once: the
    labels repeat for every metric and strategy)."""
    if "date" not in frame.columns:
        return {}
    return {label: period_start(label) for label in pd.unique(frame["date"])}


def _x_values(
    frame: pd.DataFrame, starts: dict[object, pd.Timestamp | None]
) -> tuple[np.ndarray, bool]:
    """Dates for the x axis when every label parses, otherwise step numbers."""
    if "date" in frame.columns:
        dates = [starts[d] for d in frame["date"]]
        if dates and all(d is not None for d in dates):
            return np.array(dates, dtype="datetime64[ns]"), True
    return frame["step"].to_numpy(dtype=float), False


def metric_label(metric: str, scenario: Scenario | None, width: int = 26) -> str:
    """Axis label for a metric: its name and unit from the scenario when known."""
    if scenario is not None:
        for m in scenario.metrics:
            if m.id == metric:
                name = m.name or label_for(m.id)
                return wrap(f"{name} ({m.unit})" if m.unit else name, width)
    return wrap(label_for(metric), width)


def strategy_names(scenario: Scenario | None, short: bool = True) -> dict[str, str]:
    """Strategy id -> display name from the scenario (empty without one).

    With ``short``, parenthetical remarks are dropped (``"Containment (status quo ...)"``
    becomes ``"Containment"``), which keeps panel titles and tick labels on one line. A
    designed strategy (``designed:``) keeps its id, ``design-<run>:<k>``.
    """
    if scenario is None:
        return {}
    out = {}
    for st in scenario.strategies:
        if st.name:
            name = re.sub(r"\s*\([^)]*\)", "", st.name).strip() if short else st.name
            out[st.id] = name or st.name
    for d in scenario.designed:  # shown by id, as typed on the command line
        out.setdefault(d.id, d.id)
    return out


def strategy_order(present: Sequence[str], scenario: Scenario | None) -> list[str]:
    """Strategies in the scenario's order (then any others in order of appearance).

    Every figure orders, and so colours, strategies the same way.
    """
    present = list(dict.fromkeys(present))
    if scenario is None:
        return present
    known = [st.id for st in scenario.strategies if st.id in present]
    return known + [p for p in present if p not in known]


def default_metrics(
    quantiles: pd.DataFrame, scenario: Scenario | None, limit: int = 4
) -> list[str]:
    """The metrics to show: the scenario's non-``info`` metrics first, in file order.

    Metrics that never move (the same value in every world, step and strategy) are left
    out while others remain: a flat line tells the reader nothing.
    """
    present = list(dict.fromkeys(quantiles["metric"]))
    if scenario is not None and scenario.metrics:
        ordered = [m.id for m in scenario.metrics if m.direction != "info" and m.id in present]
        ordered += [m.id for m in scenario.metrics if m.direction == "info" and m.id in present]
        ordered += [m for m in present if m not in ordered]
        present = ordered
    span = quantiles.groupby("metric")[["p05", "p95"]].agg(["min", "max"])
    moving = [
        m for m in present if span.loc[m, ("p95", "max")] - span.loc[m, ("p05", "min")] > 1e-12
    ]
    return (moving or present)[:limit]


@styled
def fan_chart(
    quantiles: pd.DataFrame,
    scenario: Scenario | None = None,
    metrics: Sequence[str] | None = None,
    strategies: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Fan charts of metrics over time, one column of panels per strategy.

    Parameters
    ----------
    quantiles : DataFrame
        ``trajectory_quantiles`` frame: ``strategy, step, date, metric, mean, p05, p25, p50,
        p75, p95`` (``date`` labels such as ``"2001Q3"``; ``step`` is used if absent).
    scenario : Scenario, optional
        Supplies metric names and units, strategy names and the scheduled elections.
    metrics : sequence of str, optional
        Metrics to draw, one row each (default: up to four, the scenario's order).
    strategies : sequence of str, optional
        Strategies to draw, one column each (default: all, in order of appearance).
    title : str, optional
        Figure title (a default explains the bands).

    Returns
    -------
    Figure
        Axes are named ``fan:<metric>:<strategy>`` (``Axes.get_label()``).
    """
    missing = [c for c in QUANTILE_COLUMNS if c not in quantiles.columns]
    if missing:
        raise ValueError(f"trajectory quantiles lack columns {missing}")
    metrics = list(metrics) if metrics is not None else default_metrics(quantiles, scenario)
    strategies = (
        list(strategies)
        if strategies is not None
        else strategy_order(quantiles["strategy"].tolist(), scenario)
    )
    names = strategy_names(scenario)
    colors = colors_for(strategies)
    n_rows, n_cols = max(len(metrics), 1), max(len(strategies), 1)
    width = min(3.3 * n_cols + 1.2, MAX_WIDTH)
    fig = new_figure(width, 2.35 * n_rows + 1.3)
    axes = fig.subplots(n_rows, n_cols, sharex=True, sharey="row", squeeze=False)

    elections: list[tuple[pd.Timestamp, str]] = []
    if scenario is not None and scenario.calendar is not None:
        for e in scenario.calendar.elections:
            elections.append((pd.Timestamp(e.date), e.name or label_for(e.id)))

    starts = period_starts(quantiles)
    use_dates = False
    for r, metric in enumerate(metrics):
        for c, strategy in enumerate(strategies):
            ax = axes[r, c]
            ax.set_label(f"fan:{metric}:{strategy}")
            sub = quantiles[(quantiles["metric"] == metric) & (quantiles["strategy"] == strategy)]
            sub = sub.sort_values("step")
            if sub.empty:
                placeholder(ax, "no data")
                continue
            x, use_dates = _x_values(sub, starts)
            color = colors[strategy]
            ax.fill_between(x, sub["p05"], sub["p95"], color=color, alpha=0.18, linewidth=0)
            ax.fill_between(x, sub["p25"], sub["p75"], color=color, alpha=0.38, linewidth=0)
            ax.plot(x, sub["p50"], color=color, linewidth=2.0)
            if use_dates:
                lo, hi = x.min(), x.max()
                for when, _ in elections:
                    if lo <= np.datetime64(when) <= hi:
                        _election_line(ax, np.datetime64(when))
            if r == 0:
                ax.set_title(wrap(label_for(strategy, names), int(8 * width / n_cols)))
            if c == 0:
                ax.set_ylabel(metric_label(metric, scenario))
            ax.margins(x=0)

    if use_dates:
        _date_ticks(axes[-1, -1])
        for ax in axes[-1, :]:
            ax.set_xlabel("Date")
    else:
        for ax in axes[-1, :]:
            ax.set_xlabel("Step")

    handles: list[Line2D | Patch] = [
        Line2D([], [], color="#333333", linewidth=2.0, label="Median of worlds"),
        Patch(color="#333333", alpha=0.38, label="50% of worlds (25th-75th percentile)"),
        Patch(color="#333333", alpha=0.18, label="90% of worlds (5th-95th percentile)"),
    ]
    shown = [name for when, name in elections if use_dates and _in_range(when, starts)]
    if shown:
        text = "Scheduled elections: " + "; ".join(
            f"{n} ({w:%b %Y})" for w, n in elections if n in shown
        )
        handles.append(
            Line2D(
                [],
                [],
                color=GREY,
                linestyle=":",
                linewidth=1.2,
                label="\n".join(textwrap.wrap(text, int(width * 9))),
            )
        )
    fig.legend(handles=handles, loc="outside lower center", ncol=3 if len(handles) == 3 else 1)
    fig.suptitle(title or "How the outcomes evolve under each strategy", fontweight="bold")
    return fig


def _election_line(ax: Axes, when: np.datetime64) -> None:
    """A dotted vertical line over the panel's height at ``when`` (inside the x range).

    What ``ax.axvline`` draws, without its look at the x limits, which with 24 panels
    sharing one x axis rescaled them all at every line (a sixth of the chart's cost).
    """
    ax.add_line(
        Line2D(
            [when, when],
            [0, 1],
            transform=ax.get_xaxis_transform(which="grid"),
            color=GREY,
            linestyle=":",
            linewidth=1.2,
        )
    )


def _date_ticks(ax: Axes) -> None:
    """Concise date ticks on ``ax`` and the axes sharing its x axis, worked out once.

    The panels share one x axis whose limits are the data's, so the automatic date locator
    gives every panel the same ticks; fixing them after one call spares each panel's
    recomputing them at every layout pass and draw (most of the fan chart's drawing time).
    """
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ticks = list(locator())
    labels = mdates.ConciseDateFormatter(locator, show_offset=False).format_ticks(ticks)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FixedFormatter(labels))


def _in_range(when: pd.Timestamp, starts: dict[object, pd.Timestamp | None]) -> bool:
    valid = [d for d in starts.values() if d is not None]
    return bool(valid) and min(valid) <= when <= max(valid)
