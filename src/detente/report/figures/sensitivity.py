"""Global sensitivity: which uncertain inputs drive an outcome.

Input is the experiments' sensitivity frame, either Sobol indices (``parameter, S1,
S1_conf, ST, ST_conf``; Saltelli 2002) or Morris elementary effects (``parameter,
mu_star, mu_star_conf, sigma``; Campolongo et al. 2007). Bars show the index, whiskers its
confidence interval (half-width ``*_conf``); parameters are sorted by importance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from detente.report.figures.style import (
    OKABE_ITO,
    new_figure,
    placeholder,
    styled,
    wrap,
)


def sensitivity_kind(frame: pd.DataFrame) -> str:
    """``"sobol"`` or ``"morris"`` from the frame's columns (ValueError otherwise)."""
    if {"parameter", "S1", "ST"} <= set(frame.columns):
        return "sobol"
    if {"parameter", "mu_star"} <= set(frame.columns):
        return "morris"
    raise ValueError(
        "sensitivity frame needs columns parameter, S1, S1_conf, ST, ST_conf (Sobol) "
        f"or parameter, mu_star, mu_star_conf, sigma (Morris); got {list(frame.columns)}"
    )


@styled
def sensitivity_chart(
    frame: pd.DataFrame,
    outcome_label: str = "the outcome",
    top: int = 15,
    title: str | None = None,
) -> Figure:
    """Horizontal bars of Sobol or Morris indices with their confidence intervals.

    Parameters
    ----------
    frame : DataFrame
        Sobol (``parameter, S1, S1_conf, ST, ST_conf``) or Morris (``parameter, mu_star,
        mu_star_conf, sigma``) indices.
    outcome_label : str
        The outcome analysed, for the title and axis label.
    top : int
        Show only the ``top`` most influential parameters.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        One axes named ``sensitivity:sobol`` or ``sensitivity:morris``.
    """
    if frame.empty:
        fig = new_figure(8.0, 2.0)
        ax = fig.subplots()
        ax.set_label("sensitivity:empty")
        placeholder(ax, "no sensitivity indices")
        return fig
    kind = sensitivity_kind(frame)
    key = "ST" if kind == "sobol" else "mu_star"
    rows = frame.sort_values([key, "parameter"], ascending=[False, True]).head(top)
    rows = rows.reset_index(drop=True)
    n = len(rows)
    y = np.arange(n)[::-1].astype(float)
    fig = new_figure(9.5, 0.36 * n + 1.9)
    ax = fig.subplots()
    ax.set_label(f"sensitivity:{kind}")
    labels = [wrap(str(p), 44) for p in rows["parameter"]]

    def conf(col: str) -> np.ndarray | None:
        return rows[col].fillna(0).to_numpy() if col in rows.columns else None

    if kind == "sobol":
        h = 0.38
        ax.barh(
            y + h / 2,
            rows["ST"],
            height=h,
            xerr=conf("ST_conf"),
            color=OKABE_ITO["blue"],
            ecolor="#333333",
            capsize=2,
            label="Total effect S_T (with interactions)",
        )
        ax.barh(
            y - h / 2,
            rows["S1"],
            height=h,
            xerr=conf("S1_conf"),
            color=OKABE_ITO["orange"],
            ecolor="#333333",
            capsize=2,
            label="First-order effect S_1 (alone)",
        )
        ax.set_xlabel(
            wrap(
                f"Share of the variance of {outcome_label} explained "
                "(whiskers: 95% confidence interval)",
                90,
            )
        )
        ax.axvline(0, color="#333333", linewidth=0.8)
        default = f"What drives {outcome_label}: Sobol indices"
    else:
        ax.barh(
            y,
            rows["mu_star"],
            height=0.6,
            xerr=conf("mu_star_conf"),
            color=OKABE_ITO["blue"],
            ecolor="#333333",
            capsize=2,
            label="Mean absolute elementary effect μ*",
        )
        if "sigma" in rows.columns:
            ax.plot(
                rows["sigma"],
                y,
                "D",
                color=OKABE_ITO["vermillion"],
                markersize=5,
                label="σ (non-linearity and interactions)",
            )
        ax.set_xlabel(
            wrap(
                f"Effect on {outcome_label} of moving one input across its range "
                "(whiskers: 95% confidence interval)",
                90,
            )
        )
        default = f"What drives {outcome_label}: Morris screening"
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", visible=False)
    fig.legend(loc="outside lower center", ncol=2)
    shown = f" (top {n} of {len(frame)})" if len(frame) > n else ""
    ax.set_title(wrap((title or default) + shown, 62), loc="left")
    return fig


@styled
def drivers_chart(
    frame: pd.DataFrame,
    target_label: str = "the result",
    top: int = 12,
    title: str | None = None,
) -> Figure:
    """Spearman rank correlations of the sampled uncertainties with a per-state quantity.

    Parameters
    ----------
    frame : DataFrame
        ``parameter, rho, p_value`` (as :func:`detente.experiments.robustness.drivers`).
    target_label : str
        What was correlated (e.g. ``"moderate engagement's regret on rapprochement"``).
    top : int
        Show the ``top`` strongest correlations.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        One axes named ``drivers``.
    """
    fig = new_figure(9.5, 0.36 * min(len(frame), top) + 1.9)
    ax = fig.subplots()
    ax.set_label("drivers")
    if frame.empty:
        placeholder(ax, "no uncertainty is correlated with the result")
        return fig
    rows = frame.reindex(frame["rho"].abs().sort_values(ascending=False, kind="stable").index)
    rows = rows.head(top).reset_index(drop=True)
    n = len(rows)
    y = np.arange(n)[::-1].astype(float)
    colors = [OKABE_ITO["blue"] if r >= 0 else OKABE_ITO["vermillion"] for r in rows["rho"]]
    ax.barh(y, rows["rho"], height=0.6, color=colors)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_xlim(-1.05, 1.05)
    ax.set_yticks(y, [wrap(str(p), 44) for p in rows["parameter"]])
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(
        wrap(
            "Spearman rank correlation with "
            + target_label
            + " (blue: higher input, higher value; vermillion: lower)",
            90,
        )
    )
    ax.set_title(wrap(title or f"What drives {target_label}", 62), loc="left")
    return fig
