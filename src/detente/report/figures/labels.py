"""Greedy placement of point labels so that they do not overlap each other or the points.

Labels are placed in display space with offsets in points (so they follow their point when
the layout engine resizes the axes). For each point, in order of importance, the first
candidate offset whose text box is free and stays inside the axes wins; further out, a
label gets a thin leader line. A label that finds no free spot at all is replaced by a
small number next to its point, and :func:`place_labels` returns those numbered labels so
the caller can print a key.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox
from numpy.typing import ArrayLike

_NEAR: tuple[tuple[float, float, str, str], ...] = (
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
)

_BBOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}


def _leader_candidates() -> tuple[tuple[float, float, str, str], ...]:
    out = []
    for dist in (35.0, 55.0, 80.0, 110.0):
        for deg in range(0, 360, 30):
            a = np.deg2rad(deg)
            dx, dy = dist * np.cos(a), dist * 0.6 * np.sin(a)
            ha = "left" if dx > 1 else "right" if dx < -1 else "center"
            va = "bottom" if dy > 1 else "top" if dy < -1 else "center"
            out.append((round(float(dx), 2), round(float(dy), 2), ha, va))
    return tuple(out)


_FAR = _leader_candidates()


def _box(px: float, py: float, w: float, h: float, ha: str, va: str, pad: float) -> Bbox:
    x0 = px if ha == "left" else px - w if ha == "right" else px - w / 2
    y0 = py if va == "bottom" else py - h if va == "top" else py - h / 2
    return Bbox.from_extents(x0 - pad, y0 - pad, x0 + w + pad, y0 + h + pad)


def _overlaps_any(box: Bbox, extents: np.ndarray) -> bool:
    """Whether ``box`` overlaps any of the boxes ``extents`` (rows ``x0, y0, x1, y1``, each
    with ``x0 <= x1`` and ``y0 <= y1``): :meth:`Bbox.overlaps` for all rows at once."""
    x0, y0, x1, y1 = box.extents
    apart = (
        (extents[:, 2] < x0) | (extents[:, 0] > x1) | (extents[:, 3] < y0) | (extents[:, 1] > y1)
    )
    return not bool(apart.all())


def place_labels(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    texts: Sequence[str],
    radii: ArrayLike | None = None,
    order: Sequence[int] | None = None,
    fontsize: float = 8.0,
    color: str = "#222222",
) -> tuple[list[Annotation], list[tuple[int, str]]]:
    """Annotate points with non-overlapping labels.

    Parameters
    ----------
    ax : Axes
        Axes whose limits are already final.
    x, y : array-like of float
        Data coordinates of the points.
    texts : sequence of str
        One label per point.
    radii : array-like of float, optional
        Marker radius of each point in points (labels keep clear of the markers).
    order : sequence of int, optional
        Indices in the order labels are placed (most important first; default: as given).
    fontsize : float
        Label font size.
    color : str
        Label colour.

    Returns
    -------
    annotations : list of Annotation
        Every label and number drawn (remove them to place again after a layout change).
    missed : list of (int, str)
        The labels that found no free spot, as ``(number, text)``: each such point shows its
        number instead, and the caller should print the key.
    """
    fig = ax.get_figure(root=True)
    assert fig is not None
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    engine = fig.get_layout_engine()
    if engine is not None:  # lay the figure out so display coordinates are final (no draw:
        engine.execute(fig)  # the axes' place and the limits are all the labels need)
    to_px = fig.dpi / 72.0
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    rad = np.full(len(texts), 4.0) if radii is None else np.asarray(radii, float)
    # extents (x0, y0, x1, y1) of the points' markers, then of each label placed
    occupied = np.empty((len(texts) * 2, 4))
    occupied[: len(texts)] = np.column_stack(
        [
            pts[:, 0] - rad * to_px,
            pts[:, 1] - rad * to_px,
            pts[:, 0] + rad * to_px,
            pts[:, 1] + rad * to_px,
        ]
    )
    n_occupied = len(texts)
    frame = ax.get_window_extent(renderer)
    probe = ax.text(0, 0, "", fontsize=fontsize)
    pad = 1.5 * to_px

    def inside(b: Bbox) -> bool:
        return b.x0 >= frame.x0 and b.x1 <= frame.x1 and b.y0 >= frame.y0 and b.y1 <= frame.y1

    missed: list[tuple[int, str]] = []
    made: list[Annotation] = []
    for i in order if order is not None else range(len(texts)):
        probe.set_text(texts[i])
        ext = probe.get_window_extent(renderer)
        w, h = ext.width, ext.height
        placed = False
        for leader, candidates in ((False, _NEAR), (True, _FAR)):
            for dx, dy, ha, va in candidates:
                sx = dx + (np.sign(dx) * rad[i] if dx else 0.0)
                sy = dy + (np.sign(dy) * rad[i] if dy else 0.0)
                box = _box(pts[i][0] + sx * to_px, pts[i][1] + sy * to_px, w, h, ha, va, pad)
                if not inside(box) or _overlaps_any(box, occupied[:n_occupied]):
                    continue
                arrow = (
                    {
                        "arrowstyle": "-",
                        "color": "#888888",
                        "linewidth": 0.6,
                        "shrinkA": 0,
                        "shrinkB": 2,
                    }
                    if leader
                    else None
                )
                ann = ax.annotate(
                    texts[i],
                    (xs[i], ys[i]),
                    xytext=(sx, sy),
                    textcoords="offset points",
                    ha=ha,
                    va=va,
                    fontsize=fontsize,
                    color=color,
                    annotation_clip=False,
                    bbox=_BBOX,
                    arrowprops=arrow,
                )
                ann.set_in_layout(False)
                made.append(ann)
                occupied[n_occupied] = box.extents
                n_occupied += 1
                placed = True
                break
            if placed:
                break
        if not placed:
            number = len(missed) + 1
            missed.append((number, texts[i]))
            ann = ax.annotate(
                str(number),
                (xs[i], ys[i]),
                xytext=(rad[i] * 0.7, rad[i] * 0.7),
                textcoords="offset points",
                ha="left",
                va="bottom",
                fontsize=fontsize - 0.5,
                color=color,
                fontweight="bold",
                annotation_clip=False,
            )
            ann.set_in_layout(False)
            made.append(ann)
    probe.remove()
    return made, missed
