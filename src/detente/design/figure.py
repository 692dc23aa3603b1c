"""The parallel-coordinates figure of a design run (``pareto.png``).

One vertical axis per lever, then one per objective (shaded); each designed strategy on the
front is a line through its lever values and scores, each axis scaled to its own range (the
numbers at its ends). Objective axes point up for better (a minimised score, marked ``↓``
under its name, is drawn upside down; a maximised one is marked ``↑``), so a line high on
every objective axis is a design good at everything. A line's colour is its value of the
first lever (the colour bar), so the designs can be followed from levers to scores. The
fixed options, which have no lever values, are drawn on the objective axes only, dashed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from detente.report.figures.style import PALETTE, new_figure, styled, wrap


def _scale(column: np.ndarray, flip: bool) -> tuple[np.ndarray, float, float]:
    lo, hi = float(np.nanmin(column)), float(np.nanmax(column))
    span = hi - lo if hi > lo else 1.0
    y = (column - lo) / span
    if hi == lo:
        y = np.full_like(column, 0.5)
    return (1.0 - y if flip else y), lo, hi


@styled
def parallel_coordinates(
    pareto: pd.DataFrame,
    levers: Sequence[str],
    metrics: Sequence[str],
    directions: Sequence[str],
    *,
    fixed_scores: np.ndarray | None = None,
    fixed_names: Sequence[str] = (),
) -> Figure:
    """The figure (see the module docstring); ``directions`` are the scores' directions."""
    axes_names = [*levers, *metrics]
    n_axes = len(axes_names)
    fig = new_figure(max(6.0, 0.9 * n_axes + 2.5), 5.4)
    ax = fig.add_subplot(1, 1, 1)
    n_fixed = len(fixed_names)
    scaled = np.zeros((len(pareto) + n_fixed, n_axes))
    ends: list[tuple[float, float, bool]] = []
    for j, name in enumerate(axes_names):
        col = pareto[name].to_numpy(dtype=np.float64)
        flip = False
        if name in metrics:
            k = list(metrics).index(name)
            flip = directions[k] == "minimize"
            if fixed_scores is not None and n_fixed:
                col = np.concatenate([col, fixed_scores[:, k]])
        else:
            col = np.concatenate([col, np.full(n_fixed, np.nan)])
        y, lo, hi = _scale(col, flip)
        scaled[:, j] = y
        ends.append((lo, hi, flip))
    xs = np.arange(n_axes)
    first = len(levers)
    import matplotlib as mpl
    from matplotlib.colors import ListedColormap, Normalize

    cmap = ListedColormap(mpl.colormaps["viridis"](np.linspace(0.1, 0.85, 256)))
    coloured = bool(len(pareto)) and first > 0
    norm = Normalize(ends[0][0], ends[0][1] if ends[0][1] > ends[0][0] else ends[0][0] + 1.0)
    for i in range(len(pareto)):
        c = cmap(norm(float(pareto[axes_names[0]].iloc[i]))) if coloured else "0.4"
        ax.plot(xs, scaled[i], color=c, lw=1.0, alpha=0.75)
    for i, name in enumerate(fixed_names):
        row = scaled[len(pareto) + i]
        ax.plot(xs[first:], row[first:], ls="--", lw=2.0, color=PALETTE[i % len(PALETTE)],
                label=f"{name} (option)")
    for j, (lo, hi, flip) in enumerate(ends):
        ax.axvline(j, color="0.75", lw=0.8, zorder=0)
        top, bottom = (lo, hi) if flip else (hi, lo)
        ax.text(j, 1.03, f"{top:.3g}", ha="center", va="bottom", fontsize=7)
        ax.text(j, -0.03, f"{bottom:.3g}", ha="center", va="top", fontsize=7)
    if first and first < n_axes:
        ax.axvspan(first - 0.5, n_axes - 0.5, color="0.95", zorder=-1)
    ax.set_xticks(xs)
    labels = [wrap(n.replace("_", " "), 12) for n in axes_names]
    for j, (_, _, flip) in enumerate(ends[first:], start=first):
        labels[j] += "\n↓ lower better" if flip else "\n↑ higher better"
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.12, 1.12)
    ax.set_xlim(-0.3, n_axes - 0.7)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    fig.suptitle(f"{len(pareto)} designed strategies on the front: levers (left), "
                 "scores on the search states (shaded, better up)", fontsize=9, fontweight="bold")
    if n_fixed:
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.04), ncol=min(n_fixed, 4),
                  fontsize=7, frameon=False)
    if coloured:
        bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.025,
                           pad=0.01, aspect=30)
        bar.set_label(f"line colour: {axes_names[0].replace('_', ' ')} (first lever)",
                      fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return fig


__all__ = ["parallel_coordinates"]
