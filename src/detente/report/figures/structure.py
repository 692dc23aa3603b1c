"""The structure of a scenario: actors grouped by country and camp, and who can veto what.

The two principal countries are drawn as columns on either side of the issues, each actor a
box (the number is its nominal clout) grouped under its camp; third parties sit below,
grouped by country. A line from an actor to an issue means the actor holds, through an
institution, a veto on that issue (Tsebelis's veto players).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from detente.report.figures.style import (
    PALETTE,
    label_for,
    new_figure,
    styled,
    wrap,
)
from detente.scenario.numbers import nominal
from detente.scenario.schema import Actor, Scenario

ROW = 1.0
COL_W = 3.1
ISSUE_W = 3.0
NO_CAMP = "without a camp"


@dataclass(frozen=True)
class _Box:
    x: float  # centre
    y: float  # centre
    w: float
    h: float


def _camp_groups(actors: list[Actor]) -> list[tuple[str, list[Actor]]]:
    groups: dict[str, list[Actor]] = {}
    for a in actors:
        groups.setdefault(a.camp or NO_CAMP, []).append(a)
    ordered = [k for k in groups if k != NO_CAMP] + ([NO_CAMP] if NO_CAMP in groups else [])
    return [(k, groups[k]) for k in ordered]


def _actor_box(ax: Axes, a: Actor, box: _Box, color: str, veto: bool, font: float) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (box.x - box.w / 2, box.y - box.h / 2),
            box.w,
            box.h,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor=color,
            alpha=0.28,
            edgecolor="none",
        )
    )
    ax.add_patch(
        FancyBboxPatch(
            (box.x - box.w / 2, box.y - box.h / 2),
            box.w,
            box.h,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor="none",
            edgecolor="#222222" if veto else color,
            linewidth=1.8 if veto else 0.8,
        )
    )
    name = a.name if len(a.name) <= 44 else re.sub(r"\s*\([^)]*\)", "", a.name).strip()
    name = name if len(name) <= 44 else name[:42].rstrip() + "…"
    ax.text(
        box.x - box.w / 2 + 0.08,
        box.y,
        name,
        ha="left",
        va="center",
        fontsize=font,
        fontweight="bold" if veto else "normal",
    )
    ax.text(
        box.x + box.w / 2 - 0.08,
        box.y,
        f"{nominal(a.clout):.3g}",
        ha="right",
        va="center",
        fontsize=font - 0.5,
        color="#444444",
    )


@styled
def structure_chart(scenario: Scenario, title: str | None = None) -> Figure:
    """Actors grouped by country and camp, the issues, and veto links.

    Parameters
    ----------
    scenario : Scenario
        Any scenario; countries with ``role: principal`` become the two side columns.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        One axes named ``structure``; each veto link is a patch whose ``gid`` is
        ``veto:<institution>:<issue>``.
    """
    countries = {c.id: c for c in scenario.countries}
    principals = [c.id for c in scenario.countries if c.role == "principal"][:2]
    others = [c.id for c in scenario.countries if c.id not in principals]
    # camps are coloured within each country (headers name them), so no two camps of one
    # country share a colour however many camps the scenario has
    camp_colors: dict[tuple[str | None, str], str] = {}
    sides: list[tuple[str | None, list[Actor]]] = [
        (cid, scenario.actors_of(cid)) for cid in principals
    ]
    sides.append((None, [a for a in scenario.actors if a.country not in principals]))
    for side, members in sides:
        named = list(dict.fromkeys(a.camp for a in members if a.camp))
        for k, camp in enumerate(named):
            camp_colors[(side, camp)] = PALETTE[k % (len(PALETTE) - 1)]
        camp_colors[(side, NO_CAMP)] = "#999999"
    third_camps = [camp for (side, camp) in camp_colors if side is None and camp != NO_CAMP]

    def color_of(a: Actor) -> str:
        side = a.country if a.country in principals else None
        return camp_colors[(side, a.camp or NO_CAMP)]

    vetoes: dict[str, list[tuple[str, str]]] = {}  # holder -> [(institution, issue)]
    for institution in scenario.institutions:
        for v in institution.vetoes:
            for vetoed in v.issues:
                vetoes.setdefault(institution.holder, []).append((institution.id, vetoed))

    # ---- layout of the two principal columns ------------------------------------------
    col_x = [COL_W / 2, COL_W + ISSUE_W + 2.6 + COL_W / 2]
    issue_x = COL_W + 1.3 + ISSUE_W / 2
    boxes: dict[str, _Box] = {}
    headers: list[tuple[float, float, str, str, bool]] = []  # x, y, text, color, is_country
    heights = [0.0]
    for k, cid in enumerate(principals):
        y = 0.0
        headers.append((col_x[k], y, countries[cid].name, "#000000", True))
        y -= 1.1 * ROW
        for camp, members in _camp_groups(scenario.actors_of(cid)):
            headers.append((col_x[k], y, label_for(camp), camp_colors[(cid, camp)], False))
            y -= 0.8 * ROW
            for a in members:
                boxes[a.id] = _Box(col_x[k], y, COL_W, 0.78 * ROW)
                y -= ROW
            y -= 0.25 * ROW
        heights.append(-y)
    top_height = max(heights)

    issues = scenario.issues
    issue_boxes: dict[str, _Box] = {}
    if issues:
        usable = max(top_height - 1.6, ROW * len(issues))
        gap = usable / len(issues)
        for j, iss in enumerate(issues):
            issue_boxes[iss.id] = _Box(
                issue_x, -1.1 - gap * (j + 0.5), ISSUE_W, min(0.9 * gap, 1.5 * ROW)
            )
        top_height = max(top_height, usable + 1.6)

    # ---- third parties and actors without a principal country -------------------------
    clusters: list[tuple[str, list[Actor]]] = [
        (countries[c].name, scenario.actors_of(c)) for c in others if scenario.actors_of(c)
    ]
    orphans = [a for a in scenario.actors if a.country not in countries]
    if orphans:
        clusters.append(("Other actors", orphans))
    total_w = col_x[1] + COL_W / 2
    n_cols = 4 if clusters else 1
    cw = total_w / n_cols
    y0 = -top_height - 0.6 * ROW
    bottom = -top_height
    if clusters:
        headers.append((total_w / 2, y0, "Third parties", "#000000", True))
        y0 -= 1.1 * ROW
        for start in range(0, len(clusters), n_cols):
            row_clusters = clusters[start : start + n_cols]
            lowest = y0
            for k, (name, members) in enumerate(row_clusters):
                x = cw * (k + 0.5)
                y = y0
                headers.append((x, y, name, "#333333", False))
                y -= 0.8 * ROW
                for a in members:
                    boxes[a.id] = _Box(x, y, cw - 0.25, 0.78 * ROW)
                    y -= ROW
                lowest = min(lowest, y)
            y0 = lowest - 0.3 * ROW
        bottom = y0

    height_units = -bottom + 1.0
    fig = new_figure(12.0, 0.27 * height_units + 1.6)
    ax = fig.subplots()
    ax.set_label("structure")
    ax.set_axis_off()
    ax.set_xlim(-0.1, total_w + 0.1)
    ax.set_ylim(bottom - 0.2, 0.7)
    font = 7.5

    for x, y, text, color, is_country in headers:
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=10.5 if is_country else 8.5,
            fontweight="bold",
            color="#000000" if is_country else _darker(color),
        )
    for a in scenario.actors:
        if a.id in boxes:
            _actor_box(ax, a, boxes[a.id], color_of(a), a.id in vetoes, font)
    if issues:
        ax.text(issue_x, 0.0, "Issues", ha="center", va="center", fontsize=10.5, fontweight="bold")
    for iss in issues:
        b = issue_boxes[iss.id]
        ax.add_patch(
            FancyBboxPatch(
                (b.x - b.w / 2, b.y - b.h / 2),
                b.w,
                b.h,
                boxstyle="round,pad=0,rounding_size=0.15",
                facecolor="#F4F4F4",
                edgecolor="#555555",
                linewidth=0.9,
            )
        )
        ax.text(b.x, b.y, wrap(iss.name, 30), ha="center", va="center", fontsize=font + 0.5)

    n_links = 0
    for holder, links in vetoes.items():
        hb = boxes.get(holder)
        if hb is None:
            continue
        for inst_id, issue_id in links:
            ib = issue_boxes.get(issue_id)
            if ib is None:
                continue
            left = hb.x < ib.x
            tail = (hb.x + hb.w / 2, hb.y) if left else (hb.x - hb.w / 2, hb.y)
            head = (ib.x - ib.w / 2, ib.y) if left else (ib.x + ib.w / 2, ib.y)
            if hb.y < -top_height:  # third party below the issue column
                tail, head = (hb.x, hb.y + hb.h / 2), (ib.x, ib.y - ib.h / 2)
            arrow = FancyArrowPatch(
                tail,
                head,
                arrowstyle="-|>",
                mutation_scale=9,
                color="#333333",
                linewidth=0.9,
                alpha=0.85,
                connectionstyle="arc3,rad=0.0",
                shrinkA=1,
                shrinkB=1,
            )
            arrow.set_gid(f"veto:{inst_id}:{issue_id}")
            ax.add_patch(arrow)
            n_links += 1

    handles: list[Patch | Line2D] = [
        Patch(facecolor=camp_colors[(None, c)], alpha=0.4, label=f"Third party: {label_for(c)}")
        for c in third_camps
    ]
    handles += [
        Line2D(
            [],
            [],
            color="#333333",
            linewidth=1.2,
            marker=">",
            markersize=5,
            label="Veto: the actor (through an institution) can block moves on the issue",
        ),
        Patch(
            facecolor="white",
            edgecolor="#222222",
            linewidth=1.8,
            label="Veto holder (bold box); the number is the actor's clout",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle(title or f"Who is involved: {scenario.title}", fontweight="bold")
    ax.set_title(
        f"{len(scenario.actors)} actors, {len(issues)} issues, {n_links} veto links "
        "(arrow: actor can veto moves on the issue)",
        fontsize=9,
        fontweight="normal",
        color="#444444",
    )
    return fig


def _darker(color: str) -> str:
    """A darker shade of a hex colour, for readable header text."""
    c = color.lstrip("#")
    if len(c) != 6:
        return color
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"#{int(r * 0.7):02x}{int(g * 0.7):02x}{int(b * 0.7):02x}"
