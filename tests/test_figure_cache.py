"""The report's figure cache: a hit gives the bytes of a cold render, any change draws again."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from detente.report import demo, figure_cache
from detente.report import html as report_html
from detente.report.figure_cache import FigureCache, figure_key
from detente.report.figure_pool import longest_first
from detente.report.figures import drivers_chart, structure_chart
from detente.report.html import ReportInputs, render_report


def _drivers(rho: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"parameter": ["parameters.a", "parameters.b"], "rho": [rho, -0.3], "p_value": [0.5, 0.2]}
    )


def _report(rho: float, cache: Path | None) -> str:
    """A report with one cheap figure (the drivers chart)."""
    return render_report(
        ReportInputs(drivers=_drivers(rho), drivers_label="the lead", figure_cache=cache)
    )


def _pngs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.png"))


def forbid_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if any figure is drawn (every figure must come from the cache)."""

    def refuse(makers, *args, **kwargs):  # type: ignore[no-untyped-def]
        if makers:
            raise AssertionError(f"{len(makers)} figures drawn despite the cache")
        return []

    monkeypatch.setattr(report_html, "render_pngs", refuse)


def test_a_cache_hit_gives_the_bytes_of_a_cold_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = _report(0.4, None)
    first = _report(0.4, tmp_path)
    assert first == cold
    assert len(_pngs(tmp_path)) == 1
    forbid_drawing(monkeypatch)
    assert _report(0.4, tmp_path) == cold


def test_a_figure_another_run_stored_is_copied_not_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = _report(0.4, None)
    _report(0.4, tmp_path / "run-a" / "figures")
    _report(0.5, tmp_path / "run-c" / "figures")  # another figure: not taken
    forbid_drawing(monkeypatch)
    peers = [tmp_path / "run-c" / "figures", tmp_path / "run-a" / "figures"]
    inputs = ReportInputs(
        drivers=_drivers(0.4),
        drivers_label="the lead",
        figure_cache=tmp_path / "run-b" / "figures",
        figure_peers=peers,
    )
    assert render_report(inputs) == cold
    assert [p.name for p in _pngs(tmp_path / "run-b" / "figures")] == [
        p.name for p in _pngs(tmp_path / "run-a" / "figures")
    ]


def test_a_changed_input_draws_the_figure_again(tmp_path: Path) -> None:
    before = _report(0.4, tmp_path)
    (stale,) = _pngs(tmp_path)
    after = _report(0.41, tmp_path)  # one number of the figure's data changed
    assert after == _report(0.41, None)  # drawn again, not the stored figure
    assert after != before
    (fresh,) = _pngs(tmp_path)  # the figure the report no longer shows is removed
    assert fresh != stale


def test_the_key_follows_every_input_and_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _drivers(0.4)
    key = figure_key(functools.partial(drivers_chart, frame, "the lead"))
    assert key is not None
    assert figure_key(functools.partial(drivers_chart, frame.copy(), "the lead")) == key
    changed = frame.copy()
    changed.loc[1, "p_value"] = 0.2000001
    renamed = frame.rename(columns={"rho": "r"})
    for other in (
        functools.partial(drivers_chart, changed, "the lead"),
        functools.partial(drivers_chart, renamed, "the lead"),
        functools.partial(drivers_chart, frame, "the lead", title="Other"),
        functools.partial(drivers_chart, frame, "the gap"),
    ):
        assert figure_key(other) not in (key, None)
    scenario = demo.demo_scenario()
    actors = [scenario.actors[0].model_copy(update={"name": "Someone else"})]
    renamed_actor = scenario.model_copy(update={"actors": actors + scenario.actors[1:]})
    assert figure_key(functools.partial(structure_chart, scenario)) != figure_key(
        functools.partial(structure_chart, renamed_actor)
    )
    assert figure_key(lambda: drivers_chart(frame, "the lead")) is None  # never cached
    monkeypatch.setattr(figure_cache, "code_version", lambda: b"other drawing code")
    assert figure_key(functools.partial(drivers_chart, frame, "the lead")) not in (key, None)


def test_a_damaged_or_unwritable_cache_is_not_used(tmp_path: Path) -> None:
    cold = _report(0.4, None)
    _report(0.4, tmp_path)
    (png,) = _pngs(tmp_path)
    png.write_bytes(png.read_bytes()[:-100])  # cut short, as by a crash mid-write
    assert _report(0.4, tmp_path) == cold
    assert FigureCache(tmp_path).get(png.stem) is not None  # drawn again and stored whole
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert _report(0.4, blocked) == cold


def test_longest_first_keeps_the_given_order_among_equals() -> None:
    assert longest_first([1.0, 3.0, 1.0, 2.5]) == [1, 3, 0, 2]
