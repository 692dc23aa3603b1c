"""Greedy placement of point labels so that they do not overlap each other or the points.

Labels are placed in display space with offsets in points (so they follow their point when
the layout engine resizes the axes); for each point, in order of importance, the first
candidate offset whose text box is free and stays inside the axes wins. A label that finds
no free spot is placed at the last candidate with a thin leader line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox
from numpy.typing import ArrayLike

_CANDIDATES: tuple[tuple[float, float, str, str], ...] = (
    (7, 0, "left", "center"),
    (-7, 0, "right", "center"),
    (0, 8, "center", "bottom"),
    (0, -8, "center", "top"),
    (7, 9, "left", "bottom"),
    (-7, 9, "right", "bottom"),
    (7, -9, "left", "top"),
    (-7, -9, "right", "top"),
    (12, 18, "left", "bottom"),
    (-12, 18, "right", "bottom"),
    (12, -18, "left", "top"),
    (-12, -18, "right", "top"),
    (0, 24, "center", "bottom"),
    (0, -24, "center", "top"),
    (22, 30, "left", "bottom"),
    (-22, 30, "right", "bottom"),
    (22, -30, "left", "top"),
    (-22, -30, "right", "top"),
    (30, 0, "left", "center"),
    (-30, 0, "right", "center"),
    (0, 40, "center", "bottom"),
    (0, -40, "center", "top"),
)


_BBOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}


def _leader_candidates() -> tuple[tuple[float, float, str, str], ...]:
    out = []
    for dist in (45.0, 65.0, 90.0):
        for deg in range(0, 360, 30):
            a = np.deg2rad(deg)
            dx, dy = dist * np.cos(a), dist * 0.7 * np.sin(a)
            ha = "left" if dx > 1 else "right" if dx < -1 else "center"
            va = "bottom" if dy > 1 else "top" if dy < -1 else "center"
            out.append((round(float(dx), 2), round(float(dy), 2), ha, va))
    return tuple(out)


_LEADER_CANDIDATES = _leader_candidates()


def place_labels(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    texts: Sequence[str],
    radii: ArrayLike | None = None,
    order: Sequence[int] | None = None,
    fontsize: float = 8.0,
    color: str = "#222222",
) -> list[Annotation]:
    """Annotate points with non-overlapping labels.

    Parameters
    ----------
    ax : Axes
        Axes whose limits are already final.
    x, y : sequence of float
        Data coordinates of the points.
    texts : sequence of str
        One label per point.
    radii : sequence of float, optional
        Marker radius of each point in points (labels keep clear of the markers).
    order : sequence of int, optional
        Indices in the order labels are placed (most important first; default: as given).
    fontsize : float
        Label font size.
    color : str
        Label colour.

    Returns
    -------
    list of Annotation
        The labels in the order of ``texts``.
    """
    fig = ax.get_figure()
    assert fig is not None
    fig.canvas.draw()  # freeze the layout so display coordinates are final
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    to_px = fig.dpi / 72.0
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    rad = np.full(len(texts), 4.0) if radii is None else np.asarray(radii, float)
    occupied: list[Bbox] = [
        Bbox.from_extents(px - r * to_px, py - r * to_px, px + r * to_px, py + r * to_px)
        for (px, py), r in zip(pts, rad, strict=True)
    ]
    frame = ax.get_window_extent(renderer)
    labels: dict[int, Annotation] = {}
    for i in order if order is not None else range(len(texts)):
        chosen = None
        for dx, dy, ha, va in _CANDIDATES:
            sx = dx + (np.sign(dx) * rad[i] if dx else 0.0)
            sy = dy + (np.sign(dy) * rad[i] if dy else 0.0)
            ann = ax.annotate(texts[i], (xs[i], ys[i]), xytext=(sx, sy),
                              textcoords="offset points", ha=ha, va=va, fontsize=fontsize,
                              color=color, annotation_clip=False, bbox=_BBOX)
            ann.set_in_layout(False)
            box = ann.get_window_extent(renderer).padded(1.5)
            fits = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                    and box.y1 <= frame.y1)
            if fits and not any(box.overlaps(o) for o in occupied):
                chosen = ann
                occupied.append(box)
                break
            ann.remove()
        if chosen is None:
            for dx, dy, ha, va in _LEADER_CANDIDATES:
                ann = ax.annotate(texts[i], (xs[i], ys[i]), xytext=(dx, dy),
                                  textcoords="offset points", ha=ha, va=va, fontsize=fontsize,
                                  color=color, annotation_clip=False, bbox=_BBOX,
                                  arrowprops={"arrowstyle": "-", "color": "#888888",
                                              "linewidth": 0.6, "shrinkA": 0, "shrinkB": 2})
                ann.set_in_layout(False)
                box = ann.get_window_extent(renderer).padded(1.5)
                fits = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                        and box.y1 <= frame.y1)
                if fits and not any(box.overlaps(o) for o in occupied):
                    chosen = ann
                    occupied.append(box)
                    break
                ann.remove()
        if chosen is None:  # crowded: accept the first spot
            dx, dy, ha, va = _CANDIDATES[0]
            chosen = ax.annotate(texts[i], (xs[i], ys[i]), xytext=(dx + rad[i], dy),
                                 textcoords="offset points", ha=ha, va=va, fontsize=fontsize,
                                 color=color, annotation_clip=False, bbox=_BBOX)
            chosen.set_in_layout(False)
        labels[i] = chosen
    return [labels[i] for i in range(len(texts)) if i in labels]
