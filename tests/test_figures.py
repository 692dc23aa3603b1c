"""Figure functions on small synthetic inputs: axes, labels, artists, determinism."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Annotation

from detente.report import demo
from detente.report.figures import (
    comparison_chart,
    discovery_chart,
    drivers_chart,
    eum_rounds_chart,
    fan_chart,
    figure_bytes,
    position_map,
    save_figure,
    scenario_position_map,
    scenario_table,
    sensitivity_chart,
    structure_chart,
)
from detente.report.figures.style import OKABE_ITO, PALETTE
from detente.scenario.table import ActorTable


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return demo.demo_scenario()


def _axes(fig: Figure) -> dict[str, object]:
    return {ax.get_label(): ax for ax in fig.axes if ax.get_label()}


def _legend_texts(fig: Figure) -> list[str]:
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def _all_text(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def test_palette_is_okabe_ito() -> None:
    assert set(PALETTE) == set(OKABE_ITO.values())
    assert PALETTE[-1] == OKABE_ITO["yellow"]  # weakest on white comes last


def test_fan_chart_has_one_panel_per_metric_and_strategy(scenario) -> None:  # type: ignore[no-untyped-def]
    q = demo.demo_quantiles(steps=8)
    fig = fan_chart(q, scenario, metrics=["rapprochement", "sanctions"])
    axes = _axes(fig)
    expected = {f"fan:{m}:{s}" for m in ("rapprochement", "sanctions") for s in demo.STRATEGIES}
    assert expected <= set(axes)
    ax = axes["fan:sanctions:containment"]
    assert ax.get_ylabel() == "Sanctions level (0-100)"  # type: ignore[attr-defined]
    assert axes["fan:rapprochement:moderate-engagement"].get_title() == (  # type: ignore[attr-defined]
        "Moderate engagement"
    )  # parenthetical "(GRIT)" dropped in panel titles
    # median line plus two bands per panel
    assert len(ax.lines) >= 1 and len(ax.collections) == 2  # type: ignore[attr-defined]
    legend = " ".join(_legend_texts(fig))
    for phrase in ("Median", "50% of worlds", "90% of worlds"):
        assert phrase in legend


def test_fan_chart_marks_elections_inside_the_horizon(scenario) -> None:  # type: ignore[no-untyped-def]
    fig = fan_chart(demo.demo_quantiles(steps=16), scenario, metrics=["sanctions"])
    ax = _axes(fig)["fan:sanctions:dismantle"]
    dotted = [ln for ln in ax.lines if ln.get_linestyle() == ":"]  # type: ignore[attr-defined]
    assert len(dotted) == 2  # midterms 2002 and Majlis 2004 fall inside 2001Q3..2005Q2
    assert "Majlis election (Feb 2004)" in " ".join(_legend_texts(fig))
    short = fan_chart(demo.demo_quantiles(steps=4), scenario, metrics=["sanctions"])
    ax = _axes(short)["fan:sanctions:dismantle"]
    assert not [ln for ln in ax.lines if ln.get_linestyle() == ":"]  # type: ignore[attr-defined]


def test_fan_chart_without_dates_uses_steps() -> None:
    q = demo.demo_quantiles(steps=5).drop(columns=["date"])
    fig = fan_chart(q, None, metrics=["sanctions"])
    assert _axes(fig)["fan:sanctions:containment"].get_xlabel() == "Step"  # type: ignore[attr-defined]


def test_fan_chart_rejects_frames_without_quantiles() -> None:
    with pytest.raises(ValueError, match="p05"):
        fan_chart(pd.DataFrame({"strategy": [], "step": [], "metric": []}))


def test_comparison_chart_panels_and_labels(scenario) -> None:  # type: ignore[no-untyped-def]
    fig = comparison_chart(demo.demo_comparison(), scenario)
    axes = _axes(fig)
    for outcome in demo.METRICS:
        assert {f"value:{outcome}", f"regret:{outcome}", f"satisficing:{outcome}"} <= set(axes)
    ax = axes["value:sanctions"]
    ticks = [t.get_text() for t in ax.get_yticklabels()]  # type: ignore[attr-defined]
    # scenario order, first strategy on top; "(GRIT)" dropped from the short name
    assert ticks == ["Containment", "Moderate engagement", "Dismantle sanctions now"]
    y = [t.get_position()[1] for t in ax.get_yticklabels()]  # type: ignore[attr-defined]
    assert y == sorted(y, reverse=True)
    assert "lower is better" in ax.get_title(loc="left")  # type: ignore[attr-defined]
    # no threshold on sanctions: the satisficing panel says so instead of drawing bars
    assert "no satisficing threshold" in _all_text(fig)
    sat = axes["satisficing:rapprochement"]
    assert len(sat.patches) == 3  # type: ignore[attr-defined]
    assert "≥ 0.5" in sat.get_title(loc="left")  # type: ignore[attr-defined]
    legend = " ".join(_legend_texts(fig))
    assert "Maximum regret" in legend and "Interval" in legend


def test_comparison_chart_info_outcome_has_no_regret_bars(scenario) -> None:  # type: ignore[no-untyped-def]
    frame = demo.demo_comparison()
    frame["rank"] = frame["rank"].astype("Int64")
    frame.loc[frame["outcome"] == "us_cost", "rank"] = pd.NA
    fig = comparison_chart(frame, scenario)
    assert not _axes(fig)["regret:us_cost"].patches  # type: ignore[attr-defined]
    assert "information only" in _all_text(fig)


def test_discovery_chart(scenario) -> None:  # type: ignore[no-untyped-def]
    traj, box = demo.demo_prim()
    fig = discovery_chart(traj, box, chosen_step=5, outcome_label="failures")
    axes = _axes(fig)
    tradeoff, limits = axes["prim:tradeoff"], axes["prim:box"]
    assert "Coverage" in tradeoff.get_xlabel() and "failures" in tradeoff.get_xlabel()  # type: ignore[attr-defined]
    assert "Density" in tradeoff.get_ylabel()  # type: ignore[attr-defined]
    assert "Chosen box (step 5)" in _legend_texts(fig)
    # a grey full-range bar and a blue box bar per restricted uncertainty
    assert len(limits.patches) == 2 * len(box)  # type: ignore[attr-defined]
    first = next(t.get_text() for t in limits.get_yticklabels())  # type: ignore[attr-defined]
    assert first.startswith("parameters.prior")  # box rows in frame order, first on top
    # the demo's last two restrictions are weak (stability 44%; quasi-p 0.41): hatched
    hatched = [p.get_hatch() for p in limits.patches[len(box) :]]  # type: ignore[attr-defined]
    assert hatched == [None, "///", "///"]
    assert any(t.startswith("Weak restriction") for t in _legend_texts(fig))
    empty = discovery_chart(None, None)
    assert "no PRIM trajectory" in _all_text(empty)


def test_sensitivity_chart_sobol_and_morris() -> None:
    sobol = demo.demo_sobol()
    fig = sensitivity_chart(sobol, "rapprochement", top=4)
    ax = _axes(fig)["sensitivity:sobol"]
    assert len(ax.patches) == 2 * 4  # type: ignore[attr-defined]
    labels = [t.get_text() for t in ax.get_yticklabels()]  # type: ignore[attr-defined]
    assert labels[0] == "parameters.prior_reciprocating_us"  # largest S_T first (on top)
    assert "top 4 of 6" in ax.get_title(loc="left")  # type: ignore[attr-defined]
    assert any("Total effect" in t for t in _legend_texts(fig))
    morris = sensitivity_chart(demo.demo_morris(), "rapprochement")
    assert "sensitivity:morris" in _axes(morris)
    with pytest.raises(ValueError, match="Sobol"):
        sensitivity_chart(pd.DataFrame({"parameter": ["a"], "x": [1.0]}))


def test_drivers_chart_colours_by_sign() -> None:
    frame = pd.DataFrame(
        {"parameter": ["a", "b", "c"], "rho": [0.2, -0.7, 0.5], "p_value": [0.1, 0.01, 0.05]}
    )
    ax = _axes(drivers_chart(frame, "regret"))["drivers"]
    labels = [t.get_text() for t in ax.get_yticklabels()]  # type: ignore[attr-defined]
    assert labels == ["b", "c", "a"]  # strongest |rho| first (on top)
    widths = sorted(round(p.get_width(), 3) for p in ax.patches)  # type: ignore[attr-defined]
    assert widths == [-0.7, 0.2, 0.5]


def test_position_map_labels_do_not_overlap(scenario) -> None:  # type: ignore[no-untyped-def]
    forecasts = {"compromise": 60.0, "median": 75.0, "nash": 80.0, "eum": 70.0}
    fig = scenario_position_map(scenario, "sanctions", forecasts)
    ax = _axes(fig)["positions:sanctions"]
    assert ax.get_ylabel() == "Clout (capability)"  # type: ignore[attr-defined]
    assert "Position on U.S. sanctions" in ax.get_xlabel()  # type: ignore[attr-defined]
    assert "100 = full embargo" in ax.get_xlabel()  # type: ignore[attr-defined]
    legend = _legend_texts(fig)
    assert "Forecast, Weighted median: 75" in legend
    assert "Status quo (90)" in legend
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [a.get_window_extent(renderer) for a in ax.texts if isinstance(a, Annotation)]  # type: ignore[attr-defined]
    assert len(boxes) >= 8
    for b1, b2 in itertools.combinations(boxes, 2):
        assert not b1.overlaps(b2)


def test_position_map_numbers_crowded_points() -> None:
    n = 30
    table = ActorTable(
        issue="x",
        actors=tuple(f"actor-{i}" for i in range(n)),
        capability=np.full(n, 10.0) + np.arange(n) * 0.01,
        position=np.full(n, 50.0),
        salience=np.full(n, 50.0),
    )
    fig = position_map(table, names={f"actor-{i}": f"Actor number {i}" for i in range(n)})
    titles = [leg.get_title().get_text() for leg in fig.legends]
    assert "Crowded points" in titles
    key = [t for t in _legend_texts(fig) if t[:1].isdigit()]
    assert key and key[0].startswith("1  Actor number")


def test_eum_rounds_chart(scenario) -> None:  # type: ignore[no-untyped-def]
    fig = eum_rounds_chart(
        demo.demo_eum_rounds(), scenario.issue("sanctions"), forecasts={"compromise": 45.0}
    )
    ax = _axes(fig)["eum:rounds"]
    assert len(ax.lines) == 3  # type: ignore[attr-defined]
    assert ax.get_ylim() == pytest.approx((-3, 103))  # type: ignore[attr-defined]
    assert "Round of challenges" in ax.get_xlabel()  # type: ignore[attr-defined]
    assert "Weighted median of positions" in _legend_texts(fig)


def test_scenario_table_groups_principals_and_third_parties(scenario) -> None:  # type: ignore[no-untyped-def]
    table, groups, names = scenario_table(scenario, "sanctions")
    assert table.reference == 90
    assert groups["leader"] == "Iran" and groups["europe"] == "Third parties"
    assert names["congress-hawks"] == "Congress: sanctions\nhawks"  # wrapped, never cut


def test_structure_chart_draws_every_veto_link(scenario) -> None:  # type: ignore[no-untyped-def]
    fig = structure_chart(scenario)
    ax = _axes(fig)["structure"]
    gids = sorted(p.get_gid() for p in ax.patches if isinstance(p, FancyArrowPatch))  # type: ignore[attr-defined]
    assert gids == sorted(
        [
            "veto:congress:sanctions",
            "veto:council:dialogue",
            "veto:council:terror-support",
            "veto:leadership:dialogue",
        ]
    )
    text = _all_text(fig)
    for a in scenario.actors:
        assert a.name in text
    for header in ("United States", "Iran", "Third parties", "Conservative", "Reformist"):
        assert header in text
    assert any("Veto" in t for t in _legend_texts(fig))


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_figures_are_byte_identical(scenario, fmt) -> None:  # type: ignore[no-untyped-def]
    one = figure_bytes(structure_chart(scenario), fmt)
    two = figure_bytes(structure_chart(scenario), fmt)
    assert one == two
    if fmt == "png":
        assert b"Software" not in one and b"matplotlib" not in one.lower()
    else:
        assert b"<dc:date>" not in one


def test_save_figure_writes_png_and_svg(tmp_path, scenario) -> None:  # type: ignore[no-untyped-def]
    fig = fan_chart(demo.demo_quantiles(steps=4), scenario, metrics=["sanctions"])
    paths = save_figure(fig, tmp_path / "out", "fan")
    assert [p.name for p in paths] == ["fan.png", "fan.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths[1].read_bytes()[:500]


def test_figure_functions_leave_pyplot_alone(scenario) -> None:  # type: ignore[no-untyped-def]
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    before = plt.get_fignums(), mpl.rcParams["font.size"]
    structure_chart(scenario)
    assert (plt.get_fignums(), mpl.rcParams["font.size"]) == before
    assert isinstance(Line2D, type)


def test_fan_chart_skips_metrics_that_never_move(scenario) -> None:  # type: ignore[no-untyped-def]
    from detente.report.figures.fan import default_metrics

    q = demo.demo_quantiles(steps=4)
    flat = q["metric"] == "rapprochement"
    q.loc[flat, ["mean", "p05", "p25", "p50", "p75", "p95"]] = 0.0
    assert default_metrics(q, scenario) == ["sanctions", "reformist_share", "us_cost"]
    assert default_metrics(q[flat], scenario) == ["rapprochement"]  # nothing else to show


def test_eum_rounds_grid_has_a_panel_per_issue(scenario) -> None:  # type: ignore[no-untyped-def]
    from detente.report.figures import eum_rounds_grid

    rounds = {i: demo.demo_eum_rounds(4) for i in ("sanctions", "dialogue", "terror-support")}
    fig = eum_rounds_grid(rounds, scenario, columns=2)
    axes = _axes(fig)
    assert {"eum:sanctions", "eum:dialogue", "eum:terror-support"} <= set(axes)
    assert axes["eum:dialogue"].get_title() == "Direct dialogue"  # type: ignore[attr-defined]
    # the right column's lowest panel sits on the first row: it keeps its x tick labels
    assert axes["eum:dialogue"].get_xlabel() == "Round"  # type: ignore[attr-defined]
    assert any("forecast" in t for t in _legend_texts(fig))


def test_short_names_wrap_on_words_and_never_cut_one() -> None:
    from detente.report.figures.bargaining import short_name

    assert short_name("Revolutionary Guards and security services") == (
        "Revolutionary Guards\nand security services"
    )
    assert short_name("Religious left (Islamic leftists within the reform coalition)") == (
        "Religious left"
    )
    words = ["A", "very", "long", "name", "with", "many", "words", "in", "it", "that", "goes"]
    long = short_name(" ".join(words))
    assert long.endswith("…")
    assert all(w in words for w in long.rstrip("…").split())
