"""The HTML report: produced, self-contained, deterministic; bad input gives one-line errors."""

from __future__ import annotations

import base64
import dataclasses
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from detente.errors import InputError
from detente.report import demo
from detente.report.html import ReportInputs, build_report, render_report
from detente.report.rundir import load_run


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return demo.demo_scenario()


@pytest.fixture(scope="module")
def full_inputs(scenario) -> ReportInputs:  # type: ignore[no-untyped-def]
    traj, box = demo.demo_prim()
    return ReportInputs(
        scenario=scenario,
        run_id="demo-run",
        method={"scenario": scenario.id, "sampling": "lhs", "states": 64, "worlds": 32, "seed": 7},
        comparison=demo.demo_comparison(),
        quantiles=demo.demo_quantiles(steps=8),
        prim_trajectory=traj,
        prim_box=box,
        prim_label="states where engagement fails",
        sensitivity=demo.demo_sobol(),
        sensitivity_outcome="rapprochement",
        forecasts={"sanctions": {"compromise": 70.0, "median": 85.0}},
        eum_rounds={"sanctions": demo.demo_eum_rounds()},
    )


@pytest.fixture(scope="module")
def full_html(full_inputs) -> str:  # type: ignore[no-untyped-def]
    return render_report(full_inputs)


def assert_self_contained(html: str) -> None:
    """No URL, no script, no external stylesheet, font or frame; every image inline."""
    assert "http://" not in html and "https://" not in html
    assert "//" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html).replace(
        "<!DOCTYPE", ""
    )
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "<iframe" not in html.lower() and "@import" not in html and "url(" not in html
    for src in re.findall(r'src="([^"]*)"', html):
        assert src.startswith("data:image/png;base64,")


def test_prim_restrictions_are_judged_from_the_stored_columns(full_inputs, full_html) -> None:  # type: ignore[no-untyped-def]
    assert "<th>Uncertainty</th><th class=\"num\">Inside the box</th>" in full_html
    rows = re.findall(r"<tr><td>(parameters\.[a-z_]+|calendar[^<]+)</td>(.*?)</tr>", full_html)
    judged = {name: re.findall(r"<td[^>]*>([^<]*)</td>", cells) for name, cells in rows}
    assert judged["parameters.prior_reciprocating_us"][2:] == ["&lt;0.001", "96%", "finding"]
    assert judged["parameters.backlash_hazard"][2:] == ["0.03", "44%", "weak"]
    assert judged["calendar.elections[majlis-2004].vetting"][2:] == ["0.41", "12%", "weak"]
    assert (
        "1 of its 3 restrictions do. Weak, and possibly noise: parameters.backlash_hazard, "
        "calendar.elections[majlis-2004].vetting." in full_html
    )
    # A run stored before the columns existed: the limits alone, no judgement.
    legacy = dataclasses.replace(
        full_inputs, prim_box=full_inputs.prim_box.drop(columns=["quasi_p", "stability"])
    )
    html = render_report(legacy)
    assert "Inside the box" not in html and "possibly noise" not in html
    assert "It is defined by: parameters.prior_reciprocating_us in" in html


def test_report_has_every_section(full_html: str, scenario) -> None:  # type: ignore[no-untyped-def]
    html = full_html
    for section in (
        "findings",
        "scenario",
        "method",
        "results",
        "drivers",
        "bargaining",
        "caveats",
    ):
        assert f'<section id="{section}">' in html
    assert scenario.question in html
    assert "Key judgments and where they come from" in html
    assert "source: BACKLASH" in html and "analyst judgment: noisy channel" in html
    assert "States of the world sampled" in html and "<td>64</td>" in html
    assert "detente 0.1.0" in html  # code version defaults to the package's
    # one figure per family that has data: structure, comparison, fan, sensitivity, PRIM,
    # a position map and the EUM rounds
    assert len(re.findall(r"<figure id=", html)) == 7
    assert "Only 64 states of the world were sampled" in html


def test_report_is_self_contained(full_html: str) -> None:
    assert_self_contained(full_html)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', full_html)
    assert images and all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)


def test_report_is_byte_identical(full_inputs: ReportInputs, full_html: str) -> None:
    assert render_report(full_inputs) == full_html


def test_findings_name_the_leader_per_outcome(full_html: str) -> None:
    assert "Sanctions level (0-100): Dismantle sanctions now does best" in full_html
    assert "U.S. domestic cost (index): Containment does best" in full_html


def test_report_leaves_out_what_is_absent() -> None:
    html = render_report(ReportInputs(comparison=demo.demo_comparison()))
    assert '<section id="scenario">' not in html and '<section id="bargaining">' not in html
    assert "no sensitivity analysis or scenario discovery" in html
    assert len(re.findall(r"<figure id=", html)) == 1
    assert_self_contained(html)
    bare = render_report(ReportInputs())
    assert "holds no strategy comparison" in bare and "<figure" not in bare


def test_report_escapes_scenario_text(scenario) -> None:  # type: ignore[no-untyped-def]
    evil = scenario.model_copy(update={"question": "<script>alert(1)</script> & more"})
    html = render_report(ReportInputs(scenario=evil))
    assert "<script>" not in html and "&lt;script&gt;" in html


# -- from a results store ------------------------------------------------------------------


def _make_run(root: Path, scenario) -> str:  # type: ignore[no-untyped-def]
    """A tiny finished comparison stored as the jobs store one (``runs/<id>/``)."""
    from detente.experiments import analysis
    from detente.runs import RunDir
    from detente.runs.scenario_text import text_sha256

    text = yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True), sort_keys=False)
    rng = np.random.default_rng(3)
    states = pd.DataFrame(
        {
            "parameters.backlash_hazard": rng.uniform(0.02, 0.2, 12),
            "parameters.perception_noise_us": rng.uniform(0.05, 0.3, 12),
        }
    )
    states.index.name = "state"
    rows = []
    for state in range(12):
        hazard = states.iloc[state, 0]
        for k, strategy in enumerate(demo.STRATEGIES):
            rows.append(
                {
                    "state": state,
                    "strategy": strategy,
                    "worlds": 4,
                    "rapprochement": 0.1 * k + rng.normal(0, 0.01),
                    "sanctions": 90 - 20 * k + rng.normal(0, 0.01),
                    "reformist_share": 40 + 20 * k * (0.11 - hazard),
                    "us_cost": 1.0 + k + 5 * k * hazard,
                }
            )
    means = pd.DataFrame(rows)
    outcomes = ["rapprochement", "sanctions", "reformist_share", "us_cost"]
    spec = analysis.outcome_spec(scenario, outcomes)
    names = list(demo.STRATEGIES)
    comparison = analysis.comparison_for(means, spec, names)
    summary, drivers = analysis.summary_markdown(
        scenario, comparison, spec, means, states, names, 12, 4
    )
    run_id = "compare-demo-0001"
    primary = analysis.primary_outcome(spec, comparison)
    leader = comparison[comparison.outcome == primary].sort_values("rank").iloc[0]["strategy"]
    payload = {
        "run_id": run_id,
        "kind": "compare",
        "command": "run",
        "scenario": scenario.id,
        "scenario_sha256": text_sha256(text),
        "code_version": "0.1.0+test",
        "strategies": names,
        "states": 12,
        "worlds": 4,
        "seed": 5,
        "sampler": "lhs",
        "rank_by": "max-regret",
        "thresholds": {k: str(v) for k, v in spec.thresholds.items()},
        "drivers_subject": {"strategy": str(leader), "outcome": primary},
    }
    RunDir.write(
        root,
        run_id,
        {
            "run.json": payload,
            "scenario.yaml": text,
            "comparison.csv": comparison,
            "drivers.csv": drivers,
            "summary.md": summary,
            "parameters.csv": states,
            "state_means.csv": means,
            "trajectories.csv": demo.demo_quantiles(steps=6),
        },
    )
    return run_id


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, scenario) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("detente-out")
    _make_run(root, scenario)
    return root


def test_build_report_from_a_run_directory(run_dir: Path) -> None:
    out = build_report(run_dir)
    assert out == run_dir / "runs" / "compare-demo-0001" / "report.html"
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert "compare-demo-0001" in html
    assert "Demo: U.S. policy toward Iran" in html
    assert "reformist_share &gt;= 40" in html  # threshold from the scenario's metrics
    assert "lead on" in html and "over the next-best strategy" in html
    assert "parameters.backlash_hazard" in html
    assert '<section id="findings">' in html
    assert "What drives" in html and 'id="fig-drivers"' in html
    assert 'id="fig-fan"' in html and 'id="fig-comparison"' in html
    second = build_report(run_dir, run_dir / "again.html")  # its figures from the cache
    assert second.read_bytes() == out.read_bytes()
    cached = list((out.parent / "figures").glob("*.png"))
    assert len(cached) == len(re.findall(r"<figure id=", html))


def test_build_report_takes_figures_from_another_run(run_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from detente.report import html as report_html

    first = build_report(run_dir, run_dir / "first.html")
    run = run_dir / "runs" / "compare-demo-0001"
    other = run_dir / "runs" / "compare-demo-copy"
    shutil.copytree(run, other, ignore=shutil.ignore_patterns("figures", "*.html"))

    def refuse(makers, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert not makers, "figures drawn that another run of the folder holds"
        return []

    monkeypatch.setattr(report_html, "render_pngs", refuse)
    copied = build_report(other)
    assert copied.read_bytes() == first.read_bytes()
    assert sorted(p.name for p in (other / "figures").iterdir()) == sorted(
        p.name for p in (run / "figures").iterdir()
    )
    shutil.rmtree(other)


def test_load_run_by_database_file_and_run_id(run_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (run_dir / "results.duckdb").write_bytes(b"")  # the store's folder is the output folder
    inputs, _ = load_run(run_dir / "results.duckdb")
    assert inputs.run_id == "compare-demo-0001"
    assert inputs.comparison is not None
    assert set(inputs.comparison["strategy"]) == set(demo.STRATEGIES)
    assert inputs.method["states"] == 12 and inputs.method["seed"] == 5
    monkeypatch.chdir(run_dir.parent)
    (run_dir.parent / "detente-out").symlink_to(run_dir)
    inputs, _ = load_run(Path("compare-demo"))  # a unique prefix of the run id
    assert inputs.run_id == "compare-demo-0001"
    inputs, _ = load_run(None, "compare-demo")  # default folder detente-out, --run prefix
    assert inputs.run_id == "compare-demo-0001"
    with pytest.raises(InputError, match="is not a run here"):
        load_run(Path("no-such-run"))


def test_bad_targets_raise_input_errors(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no such run directory"):
        build_report(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a run directory"):
        build_report(tmp_path / "empty")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="not a run directory"):
        build_report(tmp_path / "file.txt")


def test_cli_report_bad_input_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from detente.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(sys, "argv", ["detente", "report", str(tmp_path / "empty")])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a run directory" in err[0]


def test_cli_report_writes_and_prints_the_path(
    run_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    from detente.cli import main

    out = tmp_path / "r.html"
    monkeypatch.setattr(sys, "argv", ["detente", "report", str(run_dir), "--out", str(out)])
    main()
    assert capsys.readouterr().out.strip() == str(out)
    assert out.is_file()


def test_cli_figures_writes_png_and_svg(tmp_path: Path, scenario, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from detente.cli import main

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True)))
    monkeypatch.setattr(
        sys, "argv", ["detente", "figures", str(path), "--out", str(tmp_path / "figs")]
    )
    main()
    assert "wrote 14 files" in capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert "structure.png" in names and "structure.svg" in names
    assert "positions-sanctions.png" in names and "eum-dialogue.svg" in names


def test_synthesis_names_each_strategy_that_ranks_first() -> None:
    from detente.report.html import _synthesis

    rows = []
    # A wins "x" (maximize), B wins "y" (minimize): a trade-off
    for outcome, means in (("x", {"A": 2.0, "B": 1.0}), ("y", {"A": 5.0, "B": 3.0})):
        best = max(means.values()) if outcome == "x" else min(means.values())
        for strategy, mean in means.items():
            rows.append({"strategy": strategy, "outcome": outcome, "mean": mean, "lo": mean, "hi": mean,
                         "regret_mean": abs(best - mean), "regret_max": abs(best - mean),
                         "satisficing": float("nan"), "rank": 1 if mean == best else 2})
    text = _synthesis(ReportInputs(comparison=pd.DataFrame(rows)))
    assert "trade-off" in text and "A on 1 (X)" in text and "B on 1 (Y)" in text
    one = pd.DataFrame(rows).assign(rank=lambda f: np.where(f.strategy == "A", 1, 2))
    assert _synthesis(ReportInputs(comparison=one)).startswith("A ranks first on every outcome")


# ---------------------------------------------------------------------------------------
# "Strategies designed for robustness": a design run's report, and a compare run's short one
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def design_runs(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A small design run of the synthetic problem, a compare run taking two of its designs
    by id, and a compare run taking none, in one output folder."""
    from detente.design.job import design
    from detente.experiments import jobs
    from detente.experiments.testing import DESIGN_SCENARIO_YAML

    root = tmp_path_factory.mktemp("design-out")
    path = root / "zdt.yaml"
    path.write_text(DESIGN_SCENARIO_YAML)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DETENTE_MODEL", "detente.experiments.testing:design_model")
        mp.delenv("DETENTE_SCHEDULER", raising=False)
        res = design(path, strategy="tuned", out=root, progress=False, states=4, worlds=8,
                     population=8, generations=2, fresh=4)
        small = {"states": 4, "worlds": 8, "out": root, "progress": False}
        used = jobs.compare(path, strategies=["timid", f"design-{res.run_id}:0",
                                              f"design-{res.run_id}:2"], **small)
        plain = jobs.compare(path, strategies=["timid", "tuned"], **small)
    return root, res, used, plain


def test_design_run_report_shows_the_search_front_and_verdicts(design_runs) -> None:  # type: ignore[no-untyped-def]
    root, res, _, _ = design_runs
    out = build_report(res.run_dir.path, workers=1)
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert '<section id="design">' in html and "Strategies designed for robustness" in html
    assert '<section id="results">' not in html  # a design run compares no strategies
    searched = html.split("<h3>What was searched</h3>")[1].split("</table>")[0]
    for text in ("step 0.0001-1; threshold 0-1", "f1 ↓", "f2 ↓", "mean: the mean",
                 "4 search states x 8 worlds", "4 fresh states", "2 generations x 8 candidates"):
        assert text in searched, text
    evaluated = int(res.generations["evaluated"].sum())
    assert f"{evaluated:,} distinct candidates" in searched
    front = html.split("The front: ")[1].split("</table>")[0]
    assert front.count("<tr><td class=\"num\">") == len(res.pareto)
    assert f'id="fig-pareto-{res.run_id}"' in html
    verdicts = html.split("<h3>Is each option beaten?</h3>")[1].split("</table>")[0]
    assert verdicts.count("<tr><td>") == len(res.payload["fixed"])
    assert "What the verdicts mean." in html
    again = build_report(res.run_dir.path, root / "again.html", workers=1)  # figures cached
    assert again.read_bytes() == out.read_bytes()
    assert len(list((out.parent / "figures").glob("*.png"))) == html.count("<figure id=")


def test_compare_report_shows_the_design_run_it_took_designs_from(design_runs) -> None:  # type: ignore[no-untyped-def]
    _, res, used, plain = design_runs
    html = build_report(used.run_dir.path, workers=1).read_text(encoding="utf-8")
    section = html.split('<section id="design">')[1].split("</section>")[0]
    assert f"design run <code>{res.run_id}</code>" in section
    assert f"<td>design-{res.run_id}:0</td>" in section
    assert f"<td>design-{res.run_id}:1</td>" not in section  # only the designs it compared
    assert "<h3>The front" not in section and "<figure" not in section  # the short version
    # a compare run that took no design is not reported with the design run next to it
    other = build_report(plain.run_dir.path, workers=1).read_text(encoding="utf-8")
    assert '<section id="design">' not in other and res.run_id not in other


def test_on_the_front_is_called_weak_when_the_whole_population_is_non_dominated() -> None:
    from detente.report.design_section import DesignInputs, meaning

    dominance = pd.DataFrame({"option": ["a", "b"], "states": ["fresh", "fresh"],
                              "status": ["on the front", "dominated"], "designs": ["", "d:1"]})
    settings = {"population": 4, "fixed": ["a", "b"], "metrics": ["x", "y", "z"]}
    whole = DesignInputs("des-x", settings=settings, pareto=pd.DataFrame({"id": range(4)}),
                         dominance=dominance)
    text = meaning(whole)
    assert "B is dominated" in text and "A is on the front" in text
    assert "weak verdict" in text and "3 objectives" in text
    part = dataclasses.replace(whole, pareto=pd.DataFrame({"id": range(3)}))
    assert "weak" not in meaning(part)
