"""Charts as inline SVG, drawn on the server: fan charts, PRIM's trade-off, parallel coordinates.

The page needs no charting library and makes no request for one: each chart is a string
of SVG placed in the page. Every plotted series also carries its numbers in ``data-``
attributes (rounded to 6 decimals, as ``detente simulate --json`` prints them), so a test
or a curious analyst can read exactly what is drawn.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np
import pandas as pd

#: Colours of the strategies drawn side by side (colour-blind safe: Okabe-Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
CASE_COLOUR, OTHER_COLOUR = "#D55E00", "#8a8a8a"


def _r6(values: Sequence[float] | np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """About ``count`` round tick values covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def fan_chart(
    frame: pd.DataFrame,
    metric: str,
    strategies: Sequence[str],
    *,
    title: str,
    share: bool = False,
    baseline: pd.DataFrame | None = None,
    width: int = 400,
    height: int = 230,
) -> str:
    """One metric over time for up to a few strategies, overlaid.

    Each strategy gets its 90 % band (5th-95th percentile over worlds), its 50 % band and its
    median; for a 0/1 metric (``share``) only the mean, the share of worlds where it holds.
    ``baseline`` (the same frame at the best estimates) adds each strategy's median (or
    mean) there as a dashed line, so the change a what-if makes shows at a glance.

    Parameters
    ----------
    frame : DataFrame
        :func:`detente.sim.trajectory_quantiles` output.
    """
    left, right, top, bottom = 46, 10, 26, 30
    pw, ph = width - left - right, height - top - bottom
    rows = {s: frame[(frame.metric == metric) & (frame.strategy == s)].sort_values("step")
            for s in strategies}
    rows = {s: g for s, g in rows.items() if len(g)}
    if not rows:
        return ""
    base = {}
    if baseline is not None:
        base = {s: baseline[(baseline.metric == metric) & (baseline.strategy == s)]
                .sort_values("step") for s in rows}
        base = {s: g for s, g in base.items() if len(g)}
    cols = ("mean",) if share else ("p05", "p95", "mean")
    frames = [*rows.values(), *base.values()]
    lo = min(float(g[c].min()) for g in frames for c in cols)
    hi = max(float(g[c].max()) for g in frames for c in cols)
    if share:
        lo, hi = 0.0, max(1.0, hi)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.04 * (hi - lo)
    lo, hi = (lo, hi) if share else (lo - pad, hi + pad)
    first = next(iter(rows.values()))
    steps = first["step"].to_numpy()
    dates = list(first["date"])
    n = max(1, len(steps) - 1)

    def px(i: float) -> float:
        return left + pw * i / n

    def py(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    out = [
        f'<svg class="chart fan" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" data-metric="{escape(metric)}" '
        f'aria-label="{escape(title)}">',
        f'<text class="title" x="{left}" y="15">{escape(title)}</text>',
    ]
    for t in nice_ticks(lo, hi):
        y = py(t)
        label = f"{t * 100:.0f}%" if share else _fmt(t)
        out.append(f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">'
                   f"{label}</text>")
    every = max(1, round(len(dates) / 4))
    for i in range(0, len(dates), every):
        out.append(f'<text class="tick" x="{px(i):.1f}" y="{top + ph + 14}" '
                   f'text-anchor="middle">{escape(str(dates[i]))}</text>')
    for k, (strategy, g) in enumerate(rows.items()):
        colour = PALETTE[k % len(PALETTE)]
        xs = [px(i) for i in range(len(g))]
        series = {c: _r6(g[c].to_numpy()) for c in ("mean", "p05", "p25", "p50", "p75", "p95")}
        out.append(
            f'<g class="series" data-strategy="{escape(strategy)}" '
            f"data-series='{json.dumps(series)}'>"
        )
        if not share:
            for lo_c, hi_c, op in (("p05", "p95", 0.16), ("p25", "p75", 0.28)):
                band = [f"{x:.1f},{py(v):.1f}" for x, v in zip(xs, g[hi_c], strict=True)]
                band += [f"{x:.1f},{py(v):.1f}"
                         for x, v in zip(reversed(xs), reversed(list(g[lo_c])), strict=True)]
                out.append(f'<polygon points="{" ".join(band)}" fill="{colour}" '
                           f'fill-opacity="{op}" stroke="none"/>')
        line = "p50" if not share else "mean"
        pts = " ".join(f"{x:.1f},{py(v):.1f}" for x, v in zip(xs, g[line], strict=True))
        last = float(g[line].iloc[-1])
        shown = f"{last * 100:.0f}%" if share else _fmt(last)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2">'
                   f"<title>{escape(strategy)}: {'share' if share else 'median'} at "
                   f"{escape(str(dates[-1]))} {shown}</title></polyline>")
        out.append("</g>")
        if strategy in base:
            b = base[strategy]
            pts = " ".join(f"{x:.1f},{py(v):.1f}" for x, v in zip(xs, b[line], strict=True))
            out.append(
                f'<polyline class="baseline" data-strategy="{escape(strategy)}" points="{pts}" '
                f'fill="none" stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3">'
                f"<title>{escape(strategy)} at the best estimates</title></polyline>"
            )
    out.append(f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{ph}"/>')
    out.append("</svg>")
    return "".join(out)


def tradeoff_chart(trajectory: pd.DataFrame, chosen: int, selected: int,
                   width: int = 430, height: int = 300) -> str:
    """PRIM's peeling trajectory: coverage (x) against density (y), one point per box.

    Each point is a ``circle`` with ``data-step``; the page selects that box on a click.
    """
    left, right, top, bottom = 50, 14, 16, 40
    pw, ph = width - left - right, height - top - bottom
    cov = trajectory["coverage"].to_numpy(dtype=float)
    den = trajectory["density"].to_numpy(dtype=float)
    d_lo = max(0.0, float(den.min()) - 0.05)

    def px(v: float) -> float:
        return left + pw * v

    def py(v: float) -> float:
        return top + ph * (1 - (v - d_lo) / (1.0 - d_lo + 1e-12))

    out = [f'<svg class="chart tradeoff" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="coverage against density">']
    for t in nice_ticks(0.0, 1.0, 5):
        out.append(f'<text class="tick" x="{px(t):.1f}" y="{top + ph + 14}" '
                   f'text-anchor="middle">{t * 100:.0f}%</text>')
    for t in nice_ticks(d_lo, 1.0, 4):
        out.append(f'<line class="grid" x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" '
                   f'y2="{py(t):.1f}"/><text class="tick" x="{left - 4}" y="{py(t) + 3:.1f}" '
                   f'text-anchor="end">{t * 100:.0f}%</text>')
    out.append(f'<text class="axis" x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">'
               "coverage: share of all cases inside the box</text>")
    out.append(f'<text class="axis" transform="rotate(-90)" x="{-(top + ph / 2)}" y="12" '
               'text-anchor="middle">density: share of the box that are cases</text>')
    pts = " ".join(f"{px(c):.1f},{py(d):.1f}" for c, d in zip(cov, den, strict=True))
    out.append(f'<polyline points="{pts}" fill="none" stroke="#999" stroke-width="1"/>')
    for step_, c_, d_, r_ in zip(trajectory["step"], cov, den, trajectory["n_restricted"],
                                 strict=True):
        step, c, d, n_r = int(step_), float(c_), float(d_), int(r_)
        cls = "point" + (" selected" if step == selected else "") + (
            " chosen" if step == chosen else "")
        out.append(
            f'<circle class="{cls}" data-step="{step}" cx="{px(c):.1f}" '
            f'cy="{py(d):.1f}" r="{7 if step == selected else 5}" '
            f'tabindex="0"><title>box {step}: coverage {c:.0%}, density '
            f"{d:.0%}, {n_r} restricted"
            f"{' (the rule’s choice)' if step == chosen else ''}</title></circle>"
        )
    out.append(f'<rect class="frame" x="{left}" y="{top}" width="{pw}" height="{ph}"/></svg>')
    return "".join(out)


def parallel_coordinates(
    x: pd.DataFrame,
    cases: np.ndarray,
    bounds: np.ndarray,
    limits: np.ndarray | None = None,
    *,
    axes: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    width: int = 1200,
    height: int = 330,
    max_lines: int = 400,
) -> str:
    """Sampled states as lines across their uncertainties, cases in colour.

    ``axes`` are the columns shown (default: the first eight); each axis runs over the
    uncertainty's full range, and ``limits`` (one ``[low, high]`` per column of ``x``)
    marks the selected box on it.
    """
    cols = list(axes) if axes else [str(c) for c in x.columns[:8]]
    idx = [list(map(str, x.columns)).index(c) for c in cols]
    if not cols:
        return ""
    left, right, top, bottom = 30, 30, 20, 80
    pw, ph = width - left - right, height - top - bottom
    gap = pw / max(1, len(cols) - 1)
    xa = x.to_numpy(dtype=float)[:, idx]
    b = np.asarray(bounds, dtype=float)[idx]
    span = np.where(b[:, 1] > b[:, 0], b[:, 1] - b[:, 0], 1.0)
    unit = (xa - b[:, 0]) / span
    order = np.argsort(cases, kind="stable")  # cases drawn last, on top
    if len(order) > max_lines:
        order = order[np.linspace(0, len(order) - 1, max_lines).astype(int)]
    out = [f'<svg class="chart parcoords" viewBox="0 0 {width} {height}" width="100%" '
           f'role="img" aria-label="sampled states across uncertainties">']
    for i in order:
        pts = " ".join(f"{left + j * gap:.1f},{top + ph * (1 - unit[i, j]):.1f}"
                       for j in range(len(cols)))
        colour = CASE_COLOUR if cases[i] else OTHER_COLOUR
        op = 0.45 if cases[i] else 0.25
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                   f'stroke-opacity="{op}" stroke-width="1"/>')
    for j, name in enumerate(cols):
        ax = left + j * gap
        out.append(f'<line class="axisline" x1="{ax:.1f}" x2="{ax:.1f}" y1="{top}" '
                   f'y2="{top + ph}"/>')
        if limits is not None:
            lo, hi = np.asarray(limits, dtype=float)[idx[j]]
            if lo > b[j, 0] + 1e-12 or hi < b[j, 1] - 1e-12:
                y1 = top + ph * (1 - (hi - b[j, 0]) / span[j])
                y2 = top + ph * (1 - (lo - b[j, 0]) / span[j])
                out.append(f'<rect class="boxlimit" x="{ax - 5:.1f}" y="{y1:.1f}" width="10" '
                           f'height="{max(1.0, y2 - y1):.1f}"><title>box: {_fmt(lo)} to '
                           f"{_fmt(hi)}</title></rect>")
        label = (labels or {}).get(name, name)
        short = label.removeprefix("parameters.")
        room = max(8, int(gap / 6.2) * 3 - 2)  # three staggered rows share the gap
        short = short if len(short) <= room else short[: room - 1] + "…"
        anchor = "start" if j == 0 else ("end" if j == len(cols) - 1 else "middle")
        out.append(f'<text class="tick" x="{ax:.1f}" y="{top + ph + 14}" text-anchor="{anchor}">'
                   f"{_fmt(b[j, 0])}</text>")
        out.append(f'<text class="tick" x="{ax:.1f}" y="{top - 6}" text-anchor="{anchor}">'
                   f"{_fmt(b[j, 1])}</text>")
        out.append(f'<text class="axisname" x="{ax:.1f}" y="{top + ph + 30 + (j % 3) * 14}" '
                   f'text-anchor="{anchor}"><title>{escape(label)}</title>{escape(short)}</text>')
    out.append("</svg>")
    return "".join(out)


def front_coordinates(
    designs: pd.DataFrame,
    levers: Sequence[tuple[str, float, float]],
    objectives: Sequence[tuple[str, str]],
    options: Mapping[str, Mapping[str, float]],
    *,
    width: int = 1200,
    height: int = 360,
) -> str:
    """A design run's Pareto front in parallel coordinates: levers, then objectives.

    Each design (a row of ``designs``, with its ``id`` and a column per lever and objective)
    is one solid line across every axis; each fixed option (``options``: name -> score per
    objective) a dashed line across the objectives only, since it has no lever values.
    A lever's axis spans its searched range (``levers``: name, low, high); an objective's
    axis spans the values drawn, the better end at the top (``objectives``: name and
    direction, ``maximize`` or ``minimize``).
    """
    names = [n for n, _, _ in levers] + [m for m, _ in objectives]
    if designs.empty or not names:
        return ""
    left, right, top, bottom = 34, 34, 24, 84
    pw, ph = width - left - right, height - top - bottom
    gap = pw / max(1, len(names) - 1)
    spans: list[tuple[float, float, bool]] = [(float(lo), float(hi), False)
                                              for _, lo, hi in levers]
    for m, direction in objectives:
        vals = [float(v) for v in designs[m]] + [float(o[m]) for o in options.values()
                                                 if m in o and math.isfinite(float(o[m]))]
        lo, hi = min(vals), max(vals)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        spans.append((lo, hi, direction == "minimize"))

    def y(j: int, v: float) -> float:
        lo, hi, flip = spans[j]
        u = (v - lo) / (hi - lo)
        return top + ph * (u if flip else 1 - u)

    out = [f'<svg class="chart front" viewBox="0 0 {width} {height}" width="100%" '
           'role="img" aria-label="the Pareto front: levers and objectives of each design">']
    for _, row in designs.iterrows():
        ident = str(row["id"])
        k = ident.rpartition(":")[2]
        pts = " ".join(f"{left + j * gap:.1f},{y(j, float(row[n])):.1f}"
                       for j, n in enumerate(names))
        out.append(f'<polyline class="design" data-design="{escape(k)}" points="{pts}" '
                   f'fill="none" stroke="{PALETTE[0]}" stroke-opacity="0.55" stroke-width="1.5">'
                   f"<title>design {escape(k)}</title></polyline>")
    first = len(levers)
    for i, (option, scores) in enumerate(options.items()):
        colour = PALETTE[1 + i % (len(PALETTE) - 1)]
        pts = " ".join(f"{left + (first + j) * gap:.1f},{y(first + j, float(scores[m])):.1f}"
                       for j, (m, _) in enumerate(objectives) if m in scores)
        out.append(f'<polyline class="option" data-option="{escape(option)}" points="{pts}" '
                   f'fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="6 4">'
                   f"<title>{escape(option)} (a fixed option)</title></polyline>")
    for j, name in enumerate(names):
        ax = left + j * gap
        lo, hi, flip = spans[j]
        is_obj = j >= first
        out.append(f'<line class="axisline" x1="{ax:.1f}" x2="{ax:.1f}" y1="{top}" '
                   f'y2="{top + ph}"/>')
        anchor = "start" if j == 0 else ("end" if j == len(names) - 1 else "middle")
        top_v, bottom_v = (lo, hi) if flip else (hi, lo)
        out.append(f'<text class="tick" x="{ax:.1f}" y="{top - 6}" text-anchor="{anchor}">'
                   f"{_fmt(top_v)}</text>")
        out.append(f'<text class="tick" x="{ax:.1f}" y="{top + ph + 14}" '
                   f'text-anchor="{anchor}">{_fmt(bottom_v)}</text>')
        label = name.replace("_", " ")
        room = max(8, int(gap / 6.2) * 3 - 2)
        short = label if len(label) <= room else label[: room - 1] + "…"
        cls = "axisname objective" if is_obj else "axisname lever"
        out.append(f'<text class="{cls}" x="{ax:.1f}" y="{top + ph + 30 + (j % 3) * 14}" '
                   f'text-anchor="{anchor}"><title>{escape(label)}</title>{escape(short)}</text>')
    if first and first < len(names):
        sep = left + (first - 0.5) * gap
        out.append(f'<line class="grid" x1="{sep:.1f}" x2="{sep:.1f}" y1="{top - 14}" '
                   f'y2="{top + ph + 70}" stroke-dasharray="2 3"/>')
    out.append("</svg>")
    return "".join(out)


__all__ = [
    "PALETTE", "fan_chart", "front_coordinates", "nice_ticks", "parallel_coordinates",
    "tradeoff_chart",
]
