"""The parallel-coordinates figure of a design run (``pareto.png``).

One vertical axis per lever, then one per objective; each designed strategy on the front is
a line through its lever values and scores, each axis scaled to its own range (labels give
the range's ends). Objective axes point up for better (a minimised score is drawn upside
down), so a line high on every objective axis is a design good at everything. The fixed
options, which have no lever values, are drawn on the objective axes only, dashed.
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
    fig = new_figure(max(6.0, 0.9 * n_axes + 2.5), 5.0)
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
    colour = scaled[: len(pareto), first] if len(pareto) and first < n_axes else None
    import matplotlib as mpl

    viridis = mpl.colormaps["viridis"]
    for i in range(len(pareto)):
        c = viridis(0.15 + 0.7 * float(colour[i])) if colour is not None else "0.4"
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
    ax.set_xticklabels([wrap(n.replace("_", " "), 12) for n in axes_names], fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.12, 1.12)
    ax.set_xlim(-0.3, n_axes - 0.7)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"{len(pareto)} designed strategies on the front: levers (left), "
                 "scores (shaded, better up)", fontsize=9)
    if n_fixed:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    return fig


__all__ = ["parallel_coordinates"]
