"""Bargaining figures: who stands where on an issue, and how the expected-utility model moves.

:func:`position_map` plots each actor's position on one issue against its clout, sized by
salience and coloured by camp (or country), with the forecasts of the static models
(compromise, weighted median, Nash bargaining, expected utility) marked as vertical lines.
:func:`eum_rounds_chart` follows the expected-utility challenge model (Bueno de Mesquita;
Scholz, Calbert & Smith 2011) round by round: the weighted median and mean of the actors'
positions after each round of challenges.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D

from detente.report.figures.labels import place_labels
from detente.report.figures.style import (
    GREY,
    PALETTE,
    colors_for,
    markers_for,
    new_figure,
    styled,
    wrap,
)
from detente.scenario.numbers import nominal
from detente.scenario.schema import Issue, Scenario, issue_positions
from detente.scenario.table import ActorTable

FORECAST_STYLES: tuple[Any, ...] = ("--", ":", "-.", (0, (6, 1.5, 1, 1.5, 1, 1.5)), (0, (1, 3)))
"""Line styles of the forecast lines (dark, so they never read as an actor group colour)."""

MODEL_NAMES: dict[str, str] = {
    "compromise": "Compromise (weighted mean)",
    "median": "Weighted median",
    "nash": "Nash bargaining solution",
    "eum": "Expected-utility model",
    "expected-utility": "Expected-utility model",
}


def scenario_table(
    scenario: Scenario, issue_id: str
) -> tuple[ActorTable, dict[str, str], dict[str, str]]:
    """The nominal actor table of one issue, with each actor's group and display name.

    The group is the actor's country for the principals, ``"Third parties"`` otherwise.

    Returns
    -------
    table : ActorTable
    groups : dict of actor id -> group label
    names : dict of actor id -> display name
    """
    issue = scenario.issue(issue_id)
    rows = issue_positions(scenario, issue_id)
    countries = {c.id: c.name for c in scenario.countries}
    table = ActorTable(
        issue=issue_id,
        actors=tuple(a.id for a, _, _ in rows),
        capability=np.array([nominal(a.clout) for a, _, _ in rows], dtype=float),
        position=np.array([p for _, p, _ in rows], dtype=float),
        salience=np.array([s for _, _, s in rows], dtype=float),
        scale=(issue.low, issue.high),
        reference=nominal(issue.status_quo) if issue.status_quo is not None else None,
    )
    principals = {c.id for c in scenario.countries if c.role == "principal"}
    groups = {
        a.id: countries.get(a.country or "", "") if a.country in principals else "Third parties"
        for a, _, _ in rows
    }
    names = {a.id: short_name(a.name) for a, _, _ in rows}
    return table, groups, names


def _crowded_key(fig: Figure, missed: Sequence[tuple[int, str]]) -> Legend:
    numbered = [
        Line2D([], [], linestyle="none", label=f"{n}  {short_name(t.replace(chr(10), ' '), 40, 1)}")
        for n, t in missed
    ]
    return fig.legend(
        handles=numbered,
        loc="outside right lower",
        fontsize=7.5,
        handlelength=0,
        handletextpad=0,
        title="Crowded points",
        title_fontsize=8,
    )


def short_name(name: str, limit: int = 22, lines: int = 2) -> str:
    """A label-sized name that never cuts a word.

    Parenthetical remarks are dropped, then the name is wrapped on word boundaries into at
    most ``lines`` lines of ``limit`` characters; only when whole words still do not fit is
    the last kept word followed by an ellipsis. "Revolutionary Guards and security services"
    becomes two full lines instead of "Revolutionary Guards and secu…".
    """
    short = re.sub(r"\s*\([^)]*\)", "", name).strip() or name
    wrapped = textwrap.wrap(short, limit, break_long_words=False, break_on_hyphens=False)
    if len(wrapped) <= lines:
        return "\n".join(wrapped)
    kept = wrapped[:lines]
    return "\n".join(kept) + "…"


def _issue_axis_label(issue: Issue | None, table: ActorTable) -> str:
    if issue is None:
        return f"Position on {table.issue}"
    unit = f" ({issue.unit})" if issue.unit else ""
    return f"Position on {issue.name}{unit}"


@styled
def position_map(
    table: ActorTable,
    forecasts: Mapping[str, float] | None = None,
    groups: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    issue: Issue | None = None,
    title: str | None = None,
) -> Figure:
    """Actors' positions on one issue against their clout, sized by salience.

    Parameters
    ----------
    table : ActorTable
        The issue's actors (capability, position, salience, scale, reference point).
    forecasts : mapping of model name -> forecast position, optional
        Drawn as labelled vertical lines (keys such as ``"compromise"``, ``"median"``,
        ``"nash"``, ``"eum"``; other keys are shown as given).
    groups : mapping of actor id -> group label, optional
        Colour and marker groups (e.g. camp or country).
    names : mapping of actor id -> display name, optional
        Point labels (default: the actor ids).
    issue : Issue, optional
        Supplies the issue's name, unit and labelled anchor points.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        One axes named ``positions:<issue>``.
    """
    fig = new_figure(10.5, 6.4)
    ax = fig.subplots()
    ax.set_label(f"positions:{table.issue}")
    ids = list(table.actors)
    group_of = {a: (groups or {}).get(a, "Actors") for a in ids}
    group_names = list(dict.fromkeys(sorted(group_of.values())))
    colors = colors_for(group_names)
    markers = markers_for(group_names)
    sal = np.asarray(table.salience, float)
    sizes = 30.0 + 3.2 * np.clip(sal, 0, 100)
    lo, hi = table.scale
    span = hi - lo
    for g in group_names:
        idx = [i for i, a in enumerate(ids) if group_of[a] == g]
        ax.scatter(
            table.position[idx],
            table.capability[idx],
            s=sizes[idx],
            c=colors[g],
            marker=markers[g],
            alpha=0.8,
            edgecolors="white",
            linewidths=0.8,
            label=g,
            zorder=3,
        )
    ymax = float(np.max(table.capability)) if table.n else 1.0
    ax.set_xlim(lo - 0.04 * span, hi + 0.04 * span)
    ax.set_ylim(0, ymax * 1.15 + 1e-9)

    handles: list[Line2D] = []
    if table.reference is not None:
        ax.axvline(table.reference, color=GREY, linewidth=1.4, zorder=1)
        handles.append(
            Line2D([], [], color=GREY, linewidth=1.4, label=f"Status quo ({table.reference:.3g})")
        )
    forecast_colors = ["#000000", "#444444", "#000000", "#444444", "#000000"]
    for k, (model, value) in enumerate((forecasts or {}).items()):
        style = FORECAST_STYLES[k % len(FORECAST_STYLES)]
        color = forecast_colors[k % len(forecast_colors)]
        ax.axvline(value, color=color, linestyle=style, linewidth=1.6, zorder=2)
        handles.append(
            Line2D(
                [],
                [],
                color=color,
                linestyle=style,
                linewidth=1.6,
                label=f"Forecast, {MODEL_NAMES.get(model, model)}: {value:.3g}",
            )
        )

    xlabel = _issue_axis_label(issue, table)
    if issue is not None and issue.anchors:
        ticks = sorted(issue.anchors)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        key = "; ".join(f"{t:g} = {issue.anchors[t]}" for t in ticks)
        xlabel += "\n" + "\n".join(textwrap.wrap("Scale: " + key, 130))
    ax.set_xlabel(xlabel, fontsize=8.5)
    ax.set_ylabel("Clout (capability)")
    size_handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            color=GREY,
            alpha=0.6,
            markersize=float(np.sqrt(30.0 + 3.2 * s)),
            label=f"salience {s}",
        )
        for s in (20, 60, 100)
    ]
    group_handles = [
        Line2D([], [], marker=markers[g], linestyle="none", color=colors[g], markersize=8, label=g)
        for g in group_names
    ]
    ncol = min(4, max(1, len(group_handles)))
    fig.legend(
        handles=group_handles,
        loc="outside lower center",
        ncol=ncol,
        title="Actors (marker area = salience)",
        fontsize=8,
    )
    fig.legend(handles=[*handles, *size_handles], loc="outside right upper", fontsize=8)

    default = f"Who stands where: {issue.name if issue else table.issue}"
    ax.set_title(wrap(title or default, 90), loc="left")
    order = [int(i) for i in np.argsort(-(table.capability * np.maximum(sal, 1e-9)), kind="stable")]
    radii = np.sqrt(sizes / np.pi) * 1.1
    texts = [wrap((names or {}).get(a, a), 22) for a in ids]
    made, missed = place_labels(
        ax, table.position, table.capability, texts, radii=radii, order=order, fontsize=7.5
    )
    if missed:
        # the key takes room on the right, which moves the points: place the labels again
        crowded = _crowded_key(fig, missed)
        for artist in made:
            artist.remove()
        _, missed_again = place_labels(
            ax, table.position, table.capability, texts, radii=radii, order=order, fontsize=7.5
        )
        crowded.remove()
        if missed_again:
            _crowded_key(fig, missed_again)
    return fig


def scenario_position_map(
    scenario: Scenario, issue_id: str, forecasts: Mapping[str, float] | None = None
) -> Figure:
    """:func:`position_map` for one issue of a scenario (nominal values, camps as groups)."""
    table, groups, names = scenario_table(scenario, issue_id)
    return position_map(
        table, forecasts=forecasts, groups=groups, names=names, issue=scenario.issue(issue_id)
    )


@styled
def eum_rounds_chart(
    rounds: pd.DataFrame,
    issue: Issue | None = None,
    scale: tuple[float, float] | None = None,
    forecasts: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The expected-utility model's weighted median and mean position, round by round.

    Parameters
    ----------
    rounds : DataFrame
        ``round, median, mean`` (round 0 = the initial positions).
    issue : Issue, optional
        Supplies the issue name, unit and scale.
    scale : (float, float), optional
        y limits when no issue is given.
    forecasts : mapping of model -> position, optional
        Static forecasts drawn as horizontal reference lines.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        One axes named ``eum:rounds``.
    """
    for col in ("round", "median", "mean"):
        if col not in rounds.columns:
            raise ValueError(f"EUM rounds frame lacks column {col!r}")
    fig = new_figure(8.5, 4.6)
    ax = fig.subplots()
    ax.set_label("eum:rounds")
    r = rounds.sort_values("round")
    ax.plot(
        r["round"],
        r["median"],
        "-o",
        color=PALETTE[0],
        markersize=4,
        label="Weighted median of positions",
    )
    ax.plot(
        r["round"],
        r["mean"],
        "-s",
        color=PALETTE[1],
        markersize=4,
        label="Weighted mean of positions",
    )
    for k, (model, value) in enumerate((forecasts or {}).items()):
        ax.axhline(
            value,
            color=GREY,
            linestyle=FORECAST_STYLES[k % len(FORECAST_STYLES)],
            linewidth=1.1,
            label=f"{MODEL_NAMES.get(model, model)}: {value:.3g}",
        )
    lim = (issue.low, issue.high) if issue is not None else scale
    if lim is not None:
        pad = 0.03 * (lim[1] - lim[0])
        ax.set_ylim(lim[0] - pad, lim[1] + pad)
    ax.xaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    ax.set_xlabel("Round of challenges (0 = initial positions)")
    unit = f" ({issue.unit})" if issue is not None and issue.unit else ""
    ax.set_ylabel(wrap(f"Position on {issue.name if issue else 'the issue'}{unit}", 40))
    fig.legend(loc="outside lower center", ncol=2)
    name = issue.name if issue is not None else "the issue"
    ax.set_title(wrap(title or f"Expected-utility model, round by round: {name}", 80), loc="left")
    return fig


def issue_ids(scenario: Scenario, issues: Sequence[str] | None = None) -> list[str]:
    """Issues with at least one actor position (all scenario issues by default)."""
    chosen = list(issues) if issues is not None else [i.id for i in scenario.issues]
    return [i for i in chosen if issue_positions(scenario, i)]


@styled
def eum_rounds_grid(
    rounds: Mapping[str, pd.DataFrame],
    scenario: Scenario | None = None,
    columns: int = 3,
    title: str | None = None,
) -> Figure:
    """The expected-utility model round by round on several issues, one small panel each.

    Parameters
    ----------
    rounds : mapping of issue id -> DataFrame
        ``round, median, mean`` per issue.
    scenario : Scenario, optional
        Supplies issue names and scales.
    columns : int
        Panels per row.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        Axes named ``eum:<issue>``.
    """
    issues = list(rounds)
    n = max(len(issues), 1)
    ncols = min(columns, n)
    nrows = -(-n // ncols)
    fig = new_figure(min(3.6 * ncols, 11.0), 2.4 * nrows + 1.0)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for k, ax in enumerate(axes.flat):
        if k >= len(issues):
            ax.set_axis_off()
            continue
        issue_id = issues[k]
        ax.set_label(f"eum:{issue_id}")
        r = rounds[issue_id].sort_values("round")
        ax.plot(r["round"], r["median"], "-o", color=PALETTE[0], markersize=3)
        ax.plot(r["round"], r["mean"], "-s", color=PALETTE[1], markersize=3)
        issue = None
        if scenario is not None:
            try:
                issue = scenario.issue(issue_id)
            except KeyError:
                issue = None
        if issue is not None:
            pad = 0.03 * (issue.high - issue.low)
            ax.set_ylim(issue.low - pad, issue.high + pad)
        ax.set_title(wrap(issue.name if issue is not None else issue_id, 34), fontsize=9)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if k % ncols == 0:
            ax.set_ylabel("Position")
        if k >= len(issues) - ncols:  # the lowest panel of its column
            ax.set_xlabel("Round")
            ax.tick_params(labelbottom=True)
    handles = [
        Line2D(
            [],
            [],
            color=PALETTE[0],
            marker="o",
            markersize=4,
            label="Weighted median of positions (the forecast)",
        ),
        Line2D(
            [], [], color=PALETTE[1], marker="s", markersize=4, label="Weighted mean of positions"
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    fig.suptitle(
        title or "Expected-utility model, round by round (0 = initial positions)", fontweight="bold"
    )
    return fig
