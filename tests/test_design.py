"""``detente design``: a known front recovered, resume identical to an uninterrupted run,
same seed same front, lever validation, and on the flagship the fixed options judged against
the designs on the same states.

The synthetic problem (``detente.experiments.testing.design_model``, ZDT1 in two strategy
parameters) runs through the job exactly like the flagship, with ``$DETENTE_MODEL``.
``DETENTE_DESIGN=long`` also runs the flagship at ``--quick`` settings (about 20-60 s), the
long-mode convention of ``DETENTE_FUZZ=long`` and ``DETENTE_INERT=long`` (docs/testing.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente.design import job as design_job
from detente.design.job import design
from detente.errors import InputError
from detente.experiments.testing import DESIGN_SCENARIO_YAML

SMALL = {"states": 4, "worlds": 8, "population": 20, "generations": 30, "fresh": 4}
IGD_LIMIT = 0.05
"""The recovered front's inverted generational distance to the true one must be below this
(measured 0.021-0.039 for seeds 0-4 with SMALL; 0.04-0.18 with 12 generations of 16)."""


@pytest.fixture()
def zdt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DETENTE_MODEL", "detente.experiments.testing:design_model")
    monkeypatch.delenv("DETENTE_SCHEDULER", raising=False)
    path = tmp_path / "zdt.yaml"
    path.write_text(DESIGN_SCENARIO_YAML)
    return path


def _run(path: Path, out: Path, **kw: object) -> design_job.DesignResult:
    settings = {**SMALL, **kw}
    return design(path, strategy="tuned", out=out, progress=False, **settings)  # type: ignore[arg-type]


def test_known_front_is_recovered(zdt: Path, tmp_path: Path) -> None:
    from pymoo.indicators.igd import IGD

    res = _run(zdt, tmp_path / "a")
    # the constant every strategy shares on these states, from a fixed option's scores
    timid = res.payload["fixed_scores"]["timid"]
    g = 1 + 9 * 0.2
    c1 = timid["f1"] - 0.1
    c2 = timid["f2"] - g * (1 - np.sqrt(0.1 / g))
    assert abs(c1 - c2) < 1e-9  # one shared shift, as the model says
    a = np.linspace(0.0001, 1.0, 400)
    truth = np.column_stack([a + c1, 1 - np.sqrt(a) + c1])
    front = res.pareto[["f1", "f2"]].to_numpy()
    assert IGD(truth)(front) < IGD_LIMIT
    # both fixed options lie off the front (x2 > 0): dominated on the same states
    search = res.dominance[res.dominance["states"] == "search"]
    assert set(search["status"]) == {"dominated"}
    assert (tmp_path / "a" / "runs" / res.run_id / "pareto.png").stat().st_size > 0


def test_resume_after_a_crash_gives_the_uninterrupted_front(
    zdt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _run(zdt, tmp_path / "whole", generations=6)
    save = design_job.stored.save_generation
    calls = {"n": 0}

    def crash_after_three(store, run_id, gen):  # type: ignore[no-untyped-def]
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process dies before generation 3 is stored
        calls["n"] += 1
        save(store, run_id, gen)

    monkeypatch.setattr(design_job.stored, "save_generation", crash_after_three)
    with pytest.raises(KeyboardInterrupt):
        _run(zdt, tmp_path / "cut", generations=6)
    assert not (tmp_path / "cut" / "runs").exists()  # nothing half-written
    monkeypatch.setattr(design_job.stored, "save_generation", save)
    resumed = _run(zdt, tmp_path / "cut", generations=6, resume=True)
    assert resumed.run_id == whole.run_id
    pd.testing.assert_frame_equal(resumed.pareto, whole.pareto)
    pd.testing.assert_frame_equal(resumed.fresh, whole.fresh)
    # only the three lost generations were scored again
    scored = resumed.payload["evaluations"]["candidates_scored_now"]
    assert 0 < scored < whole.payload["evaluations"]["candidates_scored_now"]


KILL_AFTER = 3
"""Generations stored before the design process is killed (of ``SMALL``'s 30)."""


def _stored_generations(db: Path) -> tuple[list[tuple[int, int, int]], int]:
    """Read-only, taking the store's lock as every detente process does: ``(generation,
    candidates it says, candidate rows)`` per stored generation, and candidate rows of
    generations without a generation row."""
    import duckdb

    from detente.store.lock import exclusive

    with exclusive(db, 30.0), duckdb.connect(str(db), read_only=True) as con:
        if not con.execute("SELECT table_name FROM information_schema.tables "
                           "WHERE table_name = 'design_generations'").fetchall():
            return [], 0
        heads = con.execute(
            "SELECT g.generation, g.candidates, count(c.candidate) FROM design_generations g "
            "LEFT JOIN design_candidates c USING (run_id, generation) "
            "GROUP BY g.generation, g.candidates ORDER BY g.generation").fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM design_candidates c ANTI JOIN design_generations g "
            "USING (run_id, generation)").fetchone()
    return [(int(g), int(n), int(k)) for g, n, k in heads], int(orphans[0]) if orphans else 0


def test_a_design_killed_with_sigkill_resumes_to_the_uninterrupted_front(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``detente design`` as a process, SIGKILLed once ``KILL_AFTER`` generations are in the
    results database, then ``--resume``: the uninterrupted run's files, and never a
    generation stored in part."""
    import signal
    import subprocess
    import time

    from dask_cluster_fixtures import cluster_env, detente_command

    model = "detente.experiments.testing:slow_design_model"  # 2 ms a call: ~0.2 s a generation
    path = tmp_path / "zdt.yaml"
    path.write_text(DESIGN_SCENARIO_YAML)
    monkeypatch.setenv("DETENTE_MODEL", model)
    monkeypatch.setenv("DETENTE_TEST_MODEL_DELAY", "0")  # the delay is not in the run id
    monkeypatch.delenv("DETENTE_SCHEDULER", raising=False)
    whole = _run(path, tmp_path / "whole")

    out = tmp_path / "cut"
    db = out / "results.duckdb"
    args = ["design", str(path), "--strategy", "tuned", "--out", str(out)]
    for key, value in SMALL.items():
        args += [f"--{key}", str(value)]
    proc = subprocess.Popen(detente_command(*args), env=cluster_env(DETENTE_MODEL=model),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen: list[tuple[int, int, int]] = []
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if db.exists():
            seen = _stored_generations(db)[0]
            if len(seen) >= KILL_AFTER:
                proc.send_signal(signal.SIGKILL)
                break
        time.sleep(0.02)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (
        f"the run ended ({proc.returncode}) before {KILL_AFTER} generations were stored: "
        f"{err.decode()[-1000:]}")

    heads, orphans = _stored_generations(db)
    assert KILL_AFTER <= len(heads) < SMALL["generations"]
    assert [h[0] for h in heads] == list(range(len(heads)))  # no gap
    assert all(n == k == SMALL["population"] for _, n, k in heads), heads  # whole generations
    assert orphans == 0  # no candidates of a generation not stored
    assert not (out / "runs").exists()  # the run's folder is written at the end only

    resumed = subprocess.run(detente_command(*args, "--resume"),
                             env=cluster_env(DETENTE_MODEL=model, DETENTE_TEST_MODEL_DELAY="0"),
                             capture_output=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    assert f"resuming after generation {len(heads) - 1}" in resumed.stderr.decode()
    heads, orphans = _stored_generations(db)
    assert [h[0] for h in heads] == list(range(SMALL["generations"])) and orphans == 0
    assert all(n == k == SMALL["population"] for _, n, k in heads)
    got, want = out / "runs" / whole.run_id, tmp_path / "whole" / "runs" / whole.run_id
    for name in ("pareto.csv", "fresh.csv", "dominance.csv"):
        assert (got / name).read_bytes() == (want / name).read_bytes(), name
    columns = ["generation", "candidates", "evaluated"]  # not the seconds
    pd.testing.assert_frame_equal(pd.read_csv(got / "generations.csv")[columns],
                                  whole.generations[columns])
    now = json.loads((got / "run.json").read_text())["evaluations"]["candidates_scored_now"]
    assert 0 < now < whole.payload["evaluations"]["candidates_scored_now"]


def test_same_seed_same_front_other_seed_other_front(zdt: Path, tmp_path: Path) -> None:
    a = _run(zdt, tmp_path / "a", generations=3)
    b = _run(zdt, tmp_path / "b", generations=3)
    c = _run(zdt, tmp_path / "c", generations=3, seed=1)
    pd.testing.assert_frame_equal(a.pareto, b.pareto)
    assert not a.pareto.drop(columns="id").equals(c.pareto.drop(columns="id"))


@pytest.mark.parametrize(
    ("lever", "message"),
    [
        ("step=0:0.5", "step = 0 is not a value strategy kind 'moderate-engagement' accepts"),
        ("steps=0.1:0.5", "has no parameter 'steps' (did you mean \"step\"?)"),
        ("step=abc", "expected PARAM=LOW:HIGH"),
        ("step=0.5:0.1", "'low' (0.5) must be below 'high' (0.1)"),
        ("patience=0.5:3:int", "whole-number"),
    ],
)
def test_bad_levers_are_one_line(run_cli, zdt: Path, tmp_path: Path, lever: str,  # type: ignore[no-untyped-def]
                                 message: str) -> None:
    res = run_cli("design", str(zdt), "--strategy", "tuned", "--lever", lever,
                  "--out", str(tmp_path / "o"))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr


def test_scenario_lever_errors_name_the_file_and_field(run_cli, zdt: Path,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(DESIGN_SCENARIO_YAML.replace("threshold: {low: 0.0, high: 1.0}",
                                                "treshold: {low: 0.0, high: 1.0}"))
    res = run_cli("design", str(bad), "--strategy", "tuned", "--out", str(tmp_path / "o"))
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert "\n" not in line and str(bad) in line and "levers[0].params.treshold" in line
    assert "did you mean \"threshold\"" in line
    for opt, value in (("--robustness", "median"), ("--objectives", "f3"),
                       ("--population", "2")):
        res = run_cli("design", str(zdt), "--strategy", "tuned", opt, value)
        assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_regret_and_satisficing_measures_run(zdt: Path, tmp_path: Path) -> None:
    res = _run(zdt, tmp_path / "r", generations=2, robustness="regret")
    assert (res.pareto[["f1", "f2"]].to_numpy() >= 0).all()  # regrets are never negative
    with pytest.raises(InputError):
        _run(zdt, tmp_path / "s", generations=2, robustness="best")


def test_candidate_columns_equal_a_designed_strategy_on_the_flagship() -> None:
    """The search's fast path (levers as ``designed[candidate]`` values, states compiled once)
    gives a designed strategy exactly the numbers of its own ``designed:`` entry."""
    from detente.design.evaluate import StateSet, score
    from detente.design.levers import Lever, designed_entry, with_designed
    from detente.experiments.executors import InProcessEvaluator
    from detente.experiments.sampling import sample_states
    from detente.scenario import load_scenario
    from detente.sim.api import summarize

    sc = load_scenario("us-iran-2001")
    levers = [Lever("step", 0.03, 0.3), Lever("patience", 0, 10, True), Lever("ceiling", 0.15, 0.8)]
    values = np.array([[0.12, 3.0, 0.4], [0.25, 7.0, 0.7]])
    dsc = with_designed(sc, [designed_entry("moderate-engagement", levers)]
                        + [designed_entry("moderate-engagement", levers, v, id_=f"d{i}")
                           for i, v in enumerate(values)])
    states = StateSet(sample_states(sc, 2, seed=3), 3, 8)
    metrics = ["dialogue", "wmd", "focal_domestic_cost"]
    with InProcessEvaluator() as ev:
        fast = score(ev, dsc, states, levers, metrics, summarize, candidates=values)
        named = score(ev, dsc, states, levers, metrics, summarize, strategies=["d0", "d1"])
    np.testing.assert_array_equal(fast, named)
    assert not np.array_equal(fast[0], fast[1])


def test_candidates_cut_into_more_tasks_score_the_same_on_the_flagship() -> None:
    """On an evaluator running several tasks at once, a generation is cut into more, smaller
    stacked engine runs; each (candidate, state) row keeps its numbers."""
    from detente.design.evaluate import StateSet, candidates_per_batch, score
    from detente.design.levers import Lever, designed_entry, with_designed
    from detente.experiments.executors import InProcessEvaluator
    from detente.experiments.sampling import sample_states
    from detente.scenario import load_scenario
    from detente.sim.api import summarize

    class FourSlots(InProcessEvaluator):
        slots = 4

    sc = load_scenario("us-iran-2001")
    levers = [Lever("step", 0.03, 0.3), Lever("ceiling", 0.15, 0.8)]
    dsc = with_designed(sc, [designed_entry("moderate-engagement", levers)])
    states = StateSet(sample_states(sc, 3, seed=4), 4, 8)
    values = np.column_stack([np.linspace(0.03, 0.3, 9), np.linspace(0.8, 0.15, 9)])
    assert candidates_per_batch(states, 9) >= 9 and candidates_per_batch(states, 9, 4) == 1
    metrics = ["dialogue", "wmd", "focal_domestic_cost"]
    with InProcessEvaluator() as one, FourSlots() as four:
        whole = score(one, dsc, states, levers, metrics, summarize, candidates=values)
        cut = score(four, dsc, states, levers, metrics, summarize, candidates=values)
    np.testing.assert_array_equal(whole, cut)


LONG = os.environ.get("DETENTE_DESIGN", "").lower() == "long"


@pytest.mark.skipif(not LONG, reason="long mode: DETENTE_DESIGN=long")
def test_flagship_quick_fixed_options_not_beyond_the_front(tmp_path: Path) -> None:
    res = design("us-iran-2001", strategy="moderate-engagement", quick=True,
                 out=tmp_path, progress=False)
    assert "dominates designs" not in set(res.dominance["status"]), res.dominance


def test_flagship_small_fixed_options_not_beyond_the_front(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DETENTE_MODEL", raising=False)
    res = design("us-iran-2001", strategy="moderate-engagement", states=3, worlds=8,
                 population=8, generations=2, fresh=3, out=tmp_path, progress=False)
    assert set(res.dominance["option"]) == {"containment", "moderate-engagement",
                                            "dismantle-sanctions"}
    assert "dominates designs" not in set(res.dominance["status"]), res.dominance


def test_compare_with_a_design_id_reports_and_resumes(zdt: Path, tmp_path: Path) -> None:
    """The compare run's scenario.yaml is the user's text; the design it took by id is kept
    in run.json, so the report and ``open_run`` play it, and ``--resume`` reuses the run."""
    import detente
    from detente.experiments import jobs
    from detente.report.html import build_report

    out = tmp_path / "o"
    res = _run(zdt, out, generations=2, population=8)
    name = f"design-{res.run_id}:1"
    kw = {"strategies": ["timid", name], "states": 4, "worlds": 8, "out": out,
          "progress": False}
    first = jobs.compare(zdt, **kw)  # type: ignore[arg-type]
    stored = detente.open_run(out, first.run_id)
    assert "designed" not in stored.scenario_text
    entry = next(d for d in stored.scenario.designed if d.id == name)
    assert entry.params == {k: float(res.pareto.loc[1, k]) for k in ("step", "threshold")}
    html = build_report(stored.path).read_text()
    options = html.split("<h3>The options compared</h3>")[1].split("</table>")[0]
    assert f"<td>{name}</td>" in options and f"design run {res.run_id}" in options
    again = jobs.compare(zdt, resume=True, **kw)  # type: ignore[arg-type]
    assert again.run_id == first.run_id
    assert again.payload["timings"]["chunks_computed"] == 0
    pd.testing.assert_frame_equal(again.comparison, first.comparison)


def _wide_result(n_designs: int = 20) -> design_job.DesignResult:
    """A design result with the flagship's shape (6 levers, 9 long-named objectives), made
    up: for the console layout only."""
    from detente.design.levers import Lever
    from detente.runs.directory import RunDir

    rng = np.random.default_rng(0)
    levers = [Lever(p, 0.0, 1.0) for p in ("step", "patience", "max_level", "threshold",
                                           "confirm", "ceiling")]
    metrics = ["rapprochement", "dialogue", "terror_support", "wmd", "reform_share",
               "allied_support", "focal_domestic_cost", "unreciprocated",
               "time_to_reciprocation"]
    dirs = ["maximize", "maximize", "minimize", "minimize", "maximize", "maximize",
            "minimize", "minimize", "minimize"]
    ids = [f"design-des-x:{k}" for k in range(n_designs)]
    pareto = pd.DataFrame({"id": ids, **{lv.param: rng.random(n_designs) for lv in levers},
                           **{m: rng.random(n_designs) * 100 for m in metrics}})
    fixed = ["containment", "moderate-engagement", "dismantle-sanctions"]
    fresh = pd.DataFrame({"strategy": fixed + ids,
                          "kind": ["option"] * 3 + ["designed"] * n_designs,
                          **{m: rng.random(3 + n_designs) * 100 for m in metrics}})
    dominance = pd.DataFrame({"option": fixed * 2, "states": ["search"] * 3 + ["fresh"] * 3,
                              "status": ["on the front"] * 6, "designs": [""] * 6})
    payload = {"score_directions": dirs, "directions": dirs, "population": n_designs,
               "fixed": fixed, "metrics": metrics}
    return design_job.DesignResult("des-x", RunDir(Path("runs/des-x")), None,  # type: ignore[arg-type]
                                   "moderate-engagement", levers, metrics, pareto, fresh,
                                   dominance, pd.DataFrame(), payload)


def test_console_tables_read_at_80_columns(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from detente.cli import design_cmds

    monkeypatch.setattr(design_cmds, "console", Console(highlight=False, width=80))
    result = _wide_result()
    design_cmds.print_front(result, 80)
    design_cmds.print_fresh(result)
    design_cmds.print_verdicts(result)
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    for name in ("max_level", "focal_domestic_cost ↓", "time_to_reciprocation ↓",
                 "moderate-", "dismantle-"):  # whole names, not folded into pieces
        assert any(name in line for line in lines), name
    header = next(line for line in lines if line.split() and line.split()[0].isdigit())
    shown = [int(c) for c in header.split()]
    assert 3 <= len(shown) < 20 and "the best on each objective first" in "".join(lines)
    assert "weak verdict" in " ".join(" ".join(lines).split())  # the population is all on the front


def test_design_cli_prints_a_compare_command_that_runs(run_cli, zdt: Path,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = run_cli("design", str(zdt), "--strategy", "tuned", "--states", "3", "--worlds", "4",
                  "--population", "6", "--generations", "2", "--fresh", "3", "--out", str(out))
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    command = next(line.split() for line in lines if line.strip().startswith("detente compare"))
    report = next(line for line in lines if line.startswith("HTML report: "))
    assert Path(report.removeprefix("HTML report: ")).is_file()
    assert command[3] == "--strategies" and "design-des-" in command[4]
    again = run_cli(*command[1:], "--states", "3", "--worlds", "4", "--out", str(out))
    assert again.exit_code == 0, again.stderr
    assert command[4].split(",")[-1] in again.stdout
