"""Scenario discovery: the PRIM peeling trajectory and the box it settles on.

PRIM (Friedman & Fisher 1999; Bryant & Lempert 2010) peels the space of uncertainties down
to a box where the outcome of interest (e.g. "the strategy fails") is concentrated.
Inputs are the experiments' frames: the trajectory ``step, coverage, density, mass,
n_restricted`` and the chosen box ``uncertainty, low, high, full_low, full_high`` (with
``quasi_p`` and ``stability`` when the run assessed its restrictions: weak ones are drawn
hatched and paler).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from detente.experiments.prim import weak_restrictions
from detente.formatting import number
from detente.report.figures.style import (
    LIGHT_GREY,
    OKABE_ITO,
    new_figure,
    placeholder,
    styled,
    wrap,
)

TRAJECTORY_COLUMNS = ("step", "coverage", "density", "n_restricted")
BOX_COLUMNS = ("uncertainty", "low", "high", "full_low", "full_high")


@styled
def discovery_chart(
    trajectory: pd.DataFrame | None,
    box: pd.DataFrame | None,
    chosen_step: int | None = None,
    outcome_label: str = "cases of interest",
    title: str | None = None,
) -> Figure:
    """PRIM trade-off curve (coverage vs density) and the chosen box's limits.

    Parameters
    ----------
    trajectory : DataFrame or None
        ``step, coverage, density, mass, n_restricted`` (coverage and density in [0, 1]).
    box : DataFrame or None
        ``uncertainty, low, high, full_low, full_high``: the box's limits and the sampled range
        (optional ``quasi_p, stability``: weak restrictions are drawn hatched).
    chosen_step : int, optional
        The trajectory step of the chosen box (default: the last step).
    outcome_label : str
        What the cases of interest are, for the axis labels (e.g. ``"worlds where
        engagement fails"``).
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        Two axes, named ``prim:tradeoff`` and ``prim:box``.
    """
    n_box = 0 if box is None else len(box)
    fig = new_figure(11.0, max(4.2, 0.42 * n_box + 1.8))
    ax_t, ax_b = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.25]})
    ax_t.set_label("prim:tradeoff")
    ax_b.set_label("prim:box")

    if trajectory is None or trajectory.empty:
        placeholder(ax_t, "no PRIM trajectory")
    else:
        missing = [c for c in TRAJECTORY_COLUMNS if c not in trajectory.columns]
        if missing:
            raise ValueError(f"PRIM trajectory lacks columns {missing}")
        traj = trajectory.sort_values("step")
        ax_t.plot(traj["coverage"], traj["density"], color=LIGHT_GREY, linewidth=1.2, zorder=1)
        sc = ax_t.scatter(
            traj["coverage"],
            traj["density"],
            c=traj["n_restricted"],
            cmap="cividis",
            s=22,
            zorder=2,
            edgecolors="none",
        )
        cbar = fig.colorbar(sc, ax=ax_t, pad=0.01, aspect=30)
        cbar.set_label("Uncertainties restricted")
        cbar.locator = _integer_locator()
        cbar.update_ticks()
        step = int(traj["step"].iloc[-1]) if chosen_step is None else int(chosen_step)
        chosen = traj[traj["step"] == step]
        if not chosen.empty:
            cx, cy = float(chosen["coverage"].iloc[0]), float(chosen["density"].iloc[0])
            ax_t.scatter(
                [cx],
                [cy],
                s=150,
                facecolors="none",
                edgecolors=OKABE_ITO["vermillion"],
                linewidths=2.2,
                zorder=3,
                label=f"Chosen box (step {step})",
            )
            ax_t.annotate(
                f"coverage {cx:.0%}\ndensity {cy:.0%}",
                (cx, cy),
                xytext=(-12, -14),
                textcoords="offset points",
                ha="right",
                va="top",
                fontsize=8.5,
                color=OKABE_ITO["vermillion"],
            )
        ax_t.set_xlim(0, 1.03)
        ax_t.set_ylim(0, 1.03)
        ax_t.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax_t.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax_t.set_xlabel(wrap(f"Coverage: share of all {outcome_label} inside the box", 48))
        ax_t.set_ylabel(wrap(f"Density: share of the box's states that are {outcome_label}", 44))
        ax_t.set_title("Trade-off while peeling", loc="left")

    if box is None or box.empty:
        placeholder(ax_b, "no box chosen")
    else:
        missing = [c for c in BOX_COLUMNS if c not in box.columns]
        if missing:
            raise ValueError(f"PRIM box lacks columns {missing}")
        rows = box.reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        width = (rows["full_high"] - rows["full_low"]).replace(0, np.nan)
        lo = ((rows["low"] - rows["full_low"]) / width).fillna(0.0).clip(0, 1)
        hi = ((rows["high"] - rows["full_low"]) / width).fillna(1.0).clip(0, 1)
        ax_b.barh(
            y, np.ones(len(rows)), left=0, color=LIGHT_GREY, height=0.6, label="Sampled range"
        )
        weak = rows["uncertainty"].isin(weak_restrictions(rows)).to_numpy()
        strong = "Range inside the box" + (" (a finding)" if weak.any() else "")
        for mask, style in (
            (~weak, {"color": OKABE_ITO["blue"], "label": strong}),
            (
                weak,
                {
                    "color": OKABE_ITO["sky blue"],
                    "hatch": "///",
                    "edgecolor": "white",
                    "label": "Weak restriction (quasi-p > 0.05 or kept by < 50% of resamples)",
                },
            ),
        ):
            if mask.any():
                ax_b.barh(y[mask], (hi - lo)[mask], left=lo[mask], height=0.6, **style)
        for i in range(len(rows)):
            ax_b.text(
                float(lo.iloc[i]) - 0.01,
                y[i],
                number(float(rows["low"].iloc[i])),
                ha="right",
                va="center",
                fontsize=8,
            )
            ax_b.text(
                float(hi.iloc[i]) + 0.01,
                y[i],
                number(float(rows["high"].iloc[i])),
                ha="left",
                va="center",
                fontsize=8,
            )
        ax_b.set_yticks(y, [wrap(str(u), 40) for u in rows["uncertainty"]])
        ax_b.set_xlim(-0.14, 1.14)
        ax_b.set_xticks([0, 0.5, 1], ["lowest\nsampled", "middle", "highest\nsampled"])
        ax_b.grid(axis="y", visible=False)
        ax_b.set_title("Where the cases concentrate (box limits)", loc="left")
    handles = [*ax_t.get_legend_handles_labels()[0], *ax_b.get_legend_handles_labels()[0]]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
    fig.suptitle(
        title or "Scenario discovery (PRIM): under what conditions do the cases occur?",
        fontweight="bold",
    )
    return fig


def _integer_locator():  # type: ignore[no-untyped-def]
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)
