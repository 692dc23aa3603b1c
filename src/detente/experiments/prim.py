"""Scenario discovery with PRIM (the Patient Rule Induction Method).

Given sampled states of the world ``x`` (one column per uncertainty) and a boolean ``y``
marking the states of interest ("moderate engagement fails"), PRIM looks for a box -- a
few restricted uncertainty ranges -- that holds many of the cases of interest (coverage)
and few others (density). It *peels*: at each step it considers trimming a fraction
``alpha`` of the remaining states from the low or the high end of every dimension and takes
the trim that leaves the densest box. The sequence of boxes is the *peeling trajectory*,
trading coverage for density; the analyst picks one (by a density threshold or by hand).
Optional *pasting* then re-expands the chosen box wherever that raises its density.

A box restricting many uncertainties is not more solid than one restricting few: with a
few hundred states, peeling picks up restrictions that chance alone explains. Each
restriction of a chosen box is therefore judged twice (:func:`assess_box`):

- its *quasi-p value* (Bryant & Lempert 2010): a one-sided binomial test of whether the
  box would be as dense as it is if the restriction were dropped;
- its *stability*: the share of bootstrap resamples of the states on which PRIM, choosing
  its box by the same rule, restricts that uncertainty again.

A restriction with quasi-p above :data:`QUASI_P_MAX` or stability below
:data:`STABILITY_MIN` is *weak* (:func:`weak`): it may be noise.

References
----------
Friedman, J. H., & Fisher, N. I. (1999). Bump hunting in high-dimensional data.
Statistics and Computing, 9(2), 123-143.
Bryant, B. P., & Lempert, R. J. (2010). Thinking inside the box: A participatory,
computer-assisted approach to scenario discovery. Technological Forecasting and Social
Change, 77(1), 34-49.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from detente.sim.rng import name_key

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

TRAJECTORY_COLUMNS = ["step", "coverage", "density", "mass", "n_restricted"]
BOX_COLUMNS = ["uncertainty", "low", "high", "full_low", "full_high"]
#: Columns :func:`assess_box` adds to a box.
STRENGTH_COLUMNS = ["quasi_p", "stability"]
#: A restriction whose quasi-p value exceeds this is weak.
QUASI_P_MAX = 0.05
#: A restriction kept by a smaller share of bootstrap resamples is weak.
STABILITY_MIN = 0.5
#: Bootstrap resamples used for stability unless told otherwise.
DEFAULT_RESAMPLES = 50
#: Most resamples a job accepts (each one is a full PRIM run).
MAX_RESAMPLES = 1000


@dataclass(frozen=True)
class Rule:
    """How a box was found and chosen, so that resamples can repeat it.

    Attributes
    ----------
    alpha, mass_min : float
        Peeling fraction and smallest mass (see :func:`peel`).
    threshold : float
        Density the chosen box had to reach (:func:`select_step`). When the analyst chose a
        step by hand, the density of that step: resamples then take their highest-coverage
        box at least as dense.
    paste : bool
        Whether the chosen box was pasted.
    """

    alpha: float = 0.05
    mass_min: float = 0.05
    threshold: float = 0.8
    paste: bool = False


@dataclass(frozen=True)
class PrimResult:
    """A peeling trajectory, its boxes and the selected one.

    Attributes
    ----------
    names : list of str
        Uncertainty names (columns of ``x``).
    full : array, shape (d, 2)
        The full range of each uncertainty.
    limits : list of arrays, shape (d, 2)
        Box limits after each peeling step (step 0 is the full box).
    trajectory : DataFrame
        ``[step, coverage, density, mass, n_restricted]``.
    selected : int
        The chosen step.
    pasted : array, shape (d, 2), optional
        The chosen box after pasting, when pasting was requested.
    rule : Rule
        How the box was found and chosen.
    """

    names: list[str]
    full: FloatArray
    limits: list[FloatArray]
    trajectory: pd.DataFrame
    selected: int
    pasted: FloatArray | None = field(default=None)
    rule: Rule = field(default_factory=Rule)

    def box_limits(self, step: int | None = None) -> FloatArray:
        """Limits of a step's box (default: the selected, pasted if pasting was done)."""
        if step is None:
            return self.pasted if self.pasted is not None else self.limits[self.selected]
        if not 0 <= step < len(self.limits):
            raise IndexError(f"step {step} outside 0..{len(self.limits) - 1}")
        return self.limits[step]

    def box(self, step: int | None = None) -> pd.DataFrame:
        """Restricted uncertainties of a box: ``[uncertainty, low, high, full_low, full_high]``."""
        lim = self.box_limits(step)
        rows = [
            {
                "uncertainty": name,
                "low": float(lim[j, 0]),
                "high": float(lim[j, 1]),
                "full_low": float(self.full[j, 0]),
                "full_high": float(self.full[j, 1]),
            }
            for j, name in enumerate(self.names)
            if _restricted(lim[j], self.full[j])
        ]
        return pd.DataFrame(rows, columns=BOX_COLUMNS)

    def stats(self, step: int | None = None) -> dict[str, float]:
        """Coverage, density and mass of a box (the selected one by default)."""
        if step is None and self.pasted is None:
            step = self.selected
        if step is not None:
            row = self.trajectory.iloc[step]
            return {k: float(row[k]) for k in ("coverage", "density", "mass")}
        raise ValueError("stats of a pasted box need the data: use box_stats(x, y, limits)")


def _restricted(lim: FloatArray, full: FloatArray) -> bool:
    return bool(lim[0] > full[0] or lim[1] < full[1])


def in_box(x: FloatArray, limits: FloatArray) -> BoolArray:
    """Which rows of ``x`` lie inside a box (limits inclusive)."""
    return np.asarray(np.all((x >= limits[:, 0]) & (x <= limits[:, 1]), axis=1))


def box_stats(x: FloatArray, y: BoolArray, limits: FloatArray) -> dict[str, float]:
    """Coverage (share of all cases inside), density (share of the box that are cases), mass."""
    inside = in_box(np.asarray(x, float), limits)
    y = np.asarray(y, bool)
    total = y.sum()
    n_in = inside.sum()
    return {
        "coverage": float((y & inside).sum() / total) if total else float("nan"),
        "density": float(y[inside].mean()) if n_in else float("nan"),
        "mass": float(n_in / len(y)),
    }


def _case_margin(xin: FloatArray, yin: BoolArray, q: FloatArray) -> FloatArray:
    """Gap between each candidate limit and the nearest case beyond it, shape ``(2, d)``.

    Low side: (lowest case value - new lower limit); high side: (new upper limit - highest
    case value); both divided by the box's extent in the dimension (0 where it is flat).
    """
    extent = xin.max(axis=0) - xin.min(axis=0)
    scale = np.where(extent > 0, extent, 1.0)
    if not yin.any():
        return np.zeros_like(q)
    cases = xin[yin]
    return np.stack([cases.min(axis=0) - q[0], q[1] - cases.max(axis=0)]) / scale


def _peel_candidates(
    xin: FloatArray, yin: BoolArray, alpha: float, min_keep: int
) -> tuple[int, int, float, BoolArray] | None:
    """Best single peel: (dimension, side 0=low/1=high, new limit, keep mask) or None.

    All ``2 d`` candidate peels are scored at once: the densest remaining box wins, ties
    going to the gentler peel (more states kept), then to the peel with the widest margin
    between the new limit and the nearest case of interest (relative to the box's extent in
    that dimension), then to the lower dimension index. The margin matters with few cases,
    where many peels tie exactly: without it the first columns would be restricted merely
    for coming first.
    """
    n_in = len(yin)
    q = np.quantile(xin, [alpha, 1.0 - alpha], axis=0)  # (2, d)
    keep = np.stack([xin >= q[0], xin <= q[1]])  # (2, n, d)
    n_keep = keep.sum(axis=1)  # (2, d)
    hits = (keep & yin[None, :, None]).sum(axis=1)
    valid = (n_keep < n_in) & (n_keep >= min_keep) & (n_keep > 0)
    if not valid.any():
        return None
    density = np.where(valid, hits / np.maximum(n_keep, 1), -1.0)
    # Densest box, then most states kept, then widest margin, then the first (dimension, side).
    dens = density.T.reshape(-1)  # order (dimension, side)
    kept = n_keep.T.reshape(-1)
    margin = _case_margin(xin, yin, q).T.reshape(-1)
    best = dens >= dens.max() - 1e-12
    best &= kept == kept[best].max()
    best &= margin >= margin[best].max() - 1e-12
    flat = int(np.flatnonzero(best)[0])
    j, side = divmod(flat, 2)
    return j, side, float(q[side, j]), np.asarray(keep[side, :, j])


def peel(
    x: FloatArray,
    y: BoolArray,
    full: FloatArray,
    alpha: float = 0.05,
    mass_min: float = 0.05,
) -> list[FloatArray]:
    """The peeling trajectory: box limits after each step, starting with the full box.

    Stops when no peel keeps at least ``mass_min`` of the states, or once the box holds only
    cases of interest (density 1 cannot improve).
    """
    n = len(y)
    limits = full.copy()
    boxes = [limits.copy()]
    inside = np.ones(n, dtype=bool)
    min_keep = max(1, int(np.ceil(mass_min * n)))
    while True:
        idx = np.flatnonzero(inside)
        if y[idx].all():
            break
        cand = _peel_candidates(x[idx], y[idx], alpha, min_keep)
        if cand is None:
            break
        j, side, q, keep = cand
        limits = limits.copy()
        limits[j, side] = q
        inside[idx[~keep]] = False
        boxes.append(limits)
    return boxes


def paste(
    x: FloatArray, y: BoolArray, limits: FloatArray, full: FloatArray, alpha: float = 0.05
) -> FloatArray:
    """Re-expand a box one side at a time while doing so raises its density.

    Each candidate move widens one side of one dimension just far enough to take in about
    ``alpha`` times the box's current number of states (among states inside the other
    dimensions' limits); the best move is applied while it improves density.
    """
    limits = limits.copy()
    while True:
        inside = in_box(x, limits)
        n_in = int(inside.sum())
        if n_in == 0:
            return limits
        current = float(y[inside].mean())
        step = max(1, int(np.ceil(alpha * n_in)))
        best: tuple[float, FloatArray] | None = None
        for j in range(x.shape[1]):
            others = np.delete(np.arange(x.shape[1]), j)
            ok = np.all(
                (x[:, others] >= limits[others, 0]) & (x[:, others] <= limits[others, 1]), axis=1
            )
            col = x[:, j]
            for side in (0, 1):
                if side == 0:
                    outside = np.sort(col[ok & (col < limits[j, 0])])[::-1]
                else:
                    outside = np.sort(col[ok & (col > limits[j, 1])])
                if outside.size == 0:
                    continue
                new = limits.copy()
                new[j, side] = outside[min(step, outside.size) - 1]
                if outside.size <= step:
                    new[j, side] = full[j, side]
                d = float(y[in_box(x, new)].mean())
                if d > current + 1e-12 and (best is None or d > best[0]):
                    best = (d, new)
        if best is None:
            return limits
        limits = best[1]


def select_step(trajectory: pd.DataFrame, threshold: float) -> int:
    """The step with the highest coverage among those with density >= threshold.

    Falls back to the densest step when none reaches the threshold.
    """
    ok = trajectory[trajectory["density"] >= threshold - 1e-12]
    if ok.empty:
        return int(trajectory["density"].to_numpy().argmax())
    return int(ok.sort_values(["coverage", "step"], ascending=[False, True])["step"].iloc[0])


def prim(
    x: pd.DataFrame | FloatArray,
    y: Sequence[bool] | BoolArray,
    *,
    alpha: float = 0.05,
    mass_min: float = 0.05,
    threshold: float = 0.8,
    step: int | None = None,
    paste_box: bool = False,
    bounds: FloatArray | None = None,
    names: Sequence[str] | None = None,
) -> PrimResult:
    """Run PRIM on sampled states and a boolean outcome of interest.

    Parameters
    ----------
    x : DataFrame or array, shape (n, d)
        Sampled uncertainty values, one row per state.
    y : array of bool, shape (n,)
        True for states of interest.
    alpha : float
        Share of the box's states removed per peel (0.05 is Friedman & Fisher's default;
        smaller is more patient).
    mass_min : float
        Smallest share of all states a box may keep.
    threshold : float
        Density the selected box must reach (the highest-coverage box that does is chosen).
    step : int, optional
        Choose this step instead of applying the threshold.
    paste_box : bool
        Paste the selected box (re-expand where density improves).
    bounds : array, shape (d, 2), optional
        Full range of each uncertainty (default: the data's min and max).
    names : sequence of str, optional
        Uncertainty names (default: the frame's columns or ``x0, x1, ...``).

    Returns
    -------
    PrimResult
    """
    if isinstance(x, pd.DataFrame):
        names = list(names) if names is not None else [str(c) for c in x.columns]
        xa = x.to_numpy(dtype=float)
    else:
        xa = np.asarray(x, dtype=float)
        names = list(names) if names is not None else [f"x{j}" for j in range(xa.shape[1])]
    ya = np.asarray(y, dtype=bool)
    if xa.ndim != 2 or len(xa) != len(ya):
        raise ValueError(f"x has shape {xa.shape} but y has {len(ya)} entries")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha}")
    full = (
        np.asarray(bounds, dtype=float).copy()
        if bounds is not None
        else np.column_stack([xa.min(axis=0), xa.max(axis=0)])
    )
    boxes = peel(xa, ya, full, alpha=alpha, mass_min=mass_min)
    rows = []
    for i, lim in enumerate(boxes):
        s = box_stats(xa, ya, lim)
        rows.append(
            {
                "step": i,
                **s,
                "n_restricted": int(sum(_restricted(lim[j], full[j]) for j in range(len(full)))),
            }
        )
    trajectory = pd.DataFrame(rows, columns=TRAJECTORY_COLUMNS)
    if step is not None:
        if not 0 <= step < len(boxes):
            raise IndexError(f"step {step} outside the trajectory 0..{len(boxes) - 1}")
        chosen = step
    else:
        chosen = select_step(trajectory, threshold)
    pasted = paste(xa, ya, boxes[chosen], full, alpha) if paste_box else None
    chosen_density = float(trajectory["density"].iloc[chosen])
    rule = Rule(alpha, mass_min, threshold if step is None else chosen_density, paste_box)
    return PrimResult(
        names=list(names),
        full=full,
        limits=boxes,
        trajectory=trajectory,
        selected=chosen,
        pasted=pasted,
        rule=rule,
    )


def quasi_p(x: ArrayLike, y: ArrayLike, limits: FloatArray, full: FloatArray) -> FloatArray:
    """Quasi-p value of each restriction of a box (NaN where a dimension is unrestricted).

    For a restricted dimension ``j`` the box is widened to ``j``'s full range; with ``p0``
    the density of that wider box, the quasi-p value is the one-sided binomial probability
    ``P[X >= k | n, p0]`` of at least the ``k`` cases the box holds among its ``n`` states
    (Bryant & Lempert 2010). A small value says the restriction raises density by more
    than chance would. EMA Workbench's ``prim`` drops one limit at a time and reports two
    values per dimension; here both limits go, one value per restricted uncertainty.

    Parameters
    ----------
    x : array, shape (n, d)
        The states PRIM ran on.
    y : array of bool, shape (n,)
        The cases of interest.
    limits, full : array, shape (d, 2)
        The box and the full range of each uncertainty.

    Returns
    -------
    array, shape (d,)
    """
    from scipy import stats as sps

    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=bool)
    within = (xa >= limits[:, 0]) & (xa <= limits[:, 1])  # (n, d)
    misses = (~within).sum(axis=1)
    inside = misses == 0
    n_box, k_box = int(inside.sum()), int((ya & inside).sum())
    # States outside the box along dimension j only: dropping j's limits lets them in.
    only_j = ~within & (misses == 1)[:, None]
    n_wide = n_box + only_j.sum(axis=0)
    k_wide = k_box + (only_j & ya[:, None]).sum(axis=0)
    out = np.full(len(limits), np.nan)
    if n_box == 0:
        return out
    for j in range(len(limits)):
        if _restricted(limits[j], full[j]):
            p0 = float(k_wide[j] / n_wide[j])
            out[j] = sps.binomtest(k_box, n_box, p0, alternative="greater").pvalue
    return out


def resample_shares(
    x: ArrayLike,
    y: ArrayLike,
    result: PrimResult,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> FloatArray:
    """Share of bootstrap resamples whose chosen box restricts each uncertainty.

    Each resample draws ``n`` of the ``n`` states with replacement, runs PRIM within the
    same full ranges and chooses its box by ``result.rule`` (same peeling, same density
    threshold, pasted if the original was). The resamples come from one generator seeded
    by ``seed`` (its own stream, see :func:`detente.sim.rng.name_key`), so the shares are
    the same for a seed wherever they are computed.

    Returns
    -------
    array, shape (d,)
        For each column of ``x``, the share of resamples that restrict it (NaN when
        ``resamples`` is 0).
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=bool)
    if resamples <= 0:
        return np.full(xa.shape[1], np.nan)
    seq = np.random.SeedSequence(seed, spawn_key=name_key("prim-resampling"))
    draws = np.random.default_rng(seq).integers(0, len(ya), size=(resamples, len(ya)))
    rule = result.rule
    kept = np.zeros(xa.shape[1])
    for rows in draws:
        boot = prim(
            xa[rows],
            ya[rows],
            alpha=rule.alpha,
            mass_min=rule.mass_min,
            threshold=rule.threshold,
            paste_box=rule.paste,
            bounds=result.full,
        )
        lim = boot.box_limits()
        kept += (lim[:, 0] > result.full[:, 0]) | (lim[:, 1] < result.full[:, 1])
    return kept / resamples


def assess_box(
    x: pd.DataFrame | FloatArray,
    y: Sequence[bool] | BoolArray,
    result: PrimResult,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """The chosen box with each restriction's quasi-p value and stability.

    Parameters
    ----------
    x, y
        The states and cases ``result`` was computed from.
    result : PrimResult
    resamples : int
        Bootstrap resamples for stability (0: stability left NaN).
    seed : int
        Seed of the resampling.

    Returns
    -------
    box : DataFrame
        ``BOX_COLUMNS + STRENGTH_COLUMNS``, one row per restricted uncertainty.
    shares : Series
        Every uncertainty's resample share (index: names), for restrictions the chosen
        box does not make but resamples do.
    """
    xa = x.to_numpy(dtype=float) if isinstance(x, pd.DataFrame) else np.asarray(x, dtype=float)
    lim = result.box_limits()
    qp = quasi_p(xa, y, lim, result.full)
    shares = resample_shares(xa, y, result, resamples=resamples, seed=seed)
    box = result.box()
    index = [result.names.index(u) for u in box["uncertainty"]]
    box["quasi_p"] = qp[index]
    box["stability"] = shares[index]
    return box, pd.Series(shares, index=result.names, name="stability")


def weak_restrictions(box: pd.DataFrame) -> list[str]:
    """The uncertainties of an assessed box whose restriction is weak (see :func:`weak`)."""
    if not set(STRENGTH_COLUMNS) <= set(box.columns):
        return []
    qp = box["quasi_p"].to_numpy(dtype=float)
    kept = box["stability"].to_numpy(dtype=float)
    return [str(u) for u, q, k in zip(box["uncertainty"], qp, kept, strict=True) if weak(q, k)]


def resampling_record(box: pd.DataFrame, shares: pd.Series, resamples: int) -> dict[str, object]:
    """What ``run.json`` says about an assessed box's restrictions.

    ``restrictions`` counts the box's restrictions and ``box_uncertainties`` names them,
    ``stable`` counts those kept by at least half the resamples (None without resampling),
    ``weak`` names the weak ones and ``shares`` gives every uncertainty that some resample
    restricted, most often first.
    """
    kept = shares[shares > 0].sort_index().sort_values(ascending=False, kind="stable")
    return {
        "resamples": resamples,
        "restrictions": len(box),
        "box_uncertainties": [str(u) for u in box["uncertainty"]],
        "stable": int((box["stability"] >= STABILITY_MIN).sum()) if resamples else None,
        "weak": weak_restrictions(box),
        "shares": dict(zip(map(str, kept.index), kept.to_numpy(dtype=float).tolist(), strict=True)),
    }


def weak(quasi_p_value: float, stability: float) -> bool:
    """Whether a restriction may be noise: quasi-p above 0.05 or stability below 0.5.

    A value that was not computed (NaN) does not make a restriction weak.
    """
    return bool(quasi_p_value > QUASI_P_MAX or stability < STABILITY_MIN)
