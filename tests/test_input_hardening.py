"""Hardening against hostile or odd input (issue 10, items 2, 3, 4, 6, 8 and 9).

Every case must end in one located line per problem naming the file and exit code 2, never
a traceback, a hang or a non-finite number reaching the engines or JSON output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from detente.bargaining import MODELS, forecast
from detente.bargaining.eum import size_problem
from detente.errors import InputError
from detente.experiments.outcome_expr import evaluate
from detente.experiments.robustness import parse_threshold
from detente.scenario import ActorTable, load_scenario, resolve
from detente.scenario.tables import load_tables

MINIMAL = Path(__file__).parent / "data" / "minimal-system.yaml"
BASE = MINIMAL.read_text()
SRC = Path(__file__).resolve().parents[1] / "src"
CONSOLE_SCRIPT = Path(sys.executable).with_name("detente")


def _edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _problems(path: Path | str) -> list[str]:
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def console_scripts(*commands: list[str], timeout: float = 60) -> list[tuple[str, str, int]]:
    """Run the installed ``detente`` console script once per command, all at once.

    The sources of this checkout come first on ``PYTHONPATH``. Returns (stdout, stderr,
    exit code) per command, in order; the runs overlap so the suite pays the interpreter
    start-up about once per core rather than once per command.
    """
    if not CONSOLE_SCRIPT.exists():
        pytest.skip(f"console script not installed beside {sys.executable}")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    running = [
        subprocess.Popen(
            [str(CONSOLE_SCRIPT), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for args in commands
    ]
    results = []
    for process in running:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            err += "\n(timed out)"
        results.append((out, err, process.returncode))
    return results


def assert_clean_refusal(result: tuple[str, str, int], source: str, lines: int) -> None:
    """Exit 2, ``lines`` error lines each naming ``source``, and no traceback anywhere."""
    out, err, code = result
    assert "Traceback" not in out + err, err
    assert code == 2, (code, err)
    errors = err.strip().splitlines()
    assert len(errors) == lines, errors
    assert all(line.startswith(f"error: {source}") for line in errors), errors


# -- item 2: non-finite numbers written as words ------------------------------------------

NON_FINITE_WORDS = ["inf", "-inf", ".inf", "-.inf", "Infinity", "-Infinity", "nan", "NaN", ".nan"]


@pytest.mark.parametrize("word", NON_FINITE_WORDS)
def test_non_finite_clout_is_refused_with_line_and_column(tmp_path: Path, word: str) -> None:
    problems = _problems(_write(tmp_path, _edit("    clout: 30", f"    clout: {word}")))
    line = BASE.splitlines().index("    clout: 30") + 1
    assert problems == [
        f"{tmp_path / 's.yaml'}:{line}:12: actors[1].clout: expected a finite number, "
        f"got {word.replace('.', '')}"  # YAML's .inf arrives as the float inf
    ]


@pytest.mark.parametrize(
    "old, new, path",
    [
        ("    delay: {low: 0, mode: 1, high: 4", "    delay: {low: 0, mode: 1, high: inf",
         "instruments[0].delay.high"),
        ("    delay: {low: 0, mode: 1, high: 4", "    delay: {low: 0, mode: nan, high: 4",
         "instruments[0].delay.mode"),
        ("    domestic_cost: 0.2", "    domestic_cost: Infinity", "instruments[0].domestic_cost"),
        ("demographic_drift: {low: 0.0, mode: 0.01, high: 0.03",
         "demographic_drift: {low: -inf, mode: 0.01, high: 0.03",
         "parameters.demographic_drift.low"),
        ("  - {id: wait,", "  - {id: wait, params: {x: NaN},", "strategies[0].params.x"),
        ("    low: 0\n    high: 100\n", "    low: 0\n    high: inf\n", "issues[0].high"),
        ("threshold: 0.5", "threshold: nan", "metrics[0].threshold"),
        ("{0: none, 100: full relations}", "{0: none, .nan: full relations}",
         "issues[1].anchors.nan"),
    ],
)  # fmt: skip
def test_non_finite_words_in_any_numeric_field_are_refused(
    tmp_path: Path, old: str, new: str, path: str
) -> None:
    problems = _problems(_write(tmp_path, _edit(old, new)))
    assert len(problems) == 1, problems
    assert re.search(rf":\d+:\d+: {re.escape(path)}: expected a finite number", problems[0])


def test_nan_clout_never_reaches_resolve_or_the_non_negative_check(tmp_path: Path) -> None:
    path = _write(tmp_path, _edit("    clout: 30", "    clout: nan"))
    with pytest.raises(InputError):
        resolve(load_scenario(path))


def test_show_json_never_prints_nan(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = run_cli("show", "--json", str(_write(tmp_path, _edit("    clout: 30", "    clout: nan"))))
    assert bad.exit_code == 2 and "NaN" not in bad.stdout
    result = run_cli("show", "--json", "us-iran-2001")
    assert result.exit_code == 0, result.stderr

    def refuse(token: str) -> float:
        raise AssertionError(f"non-JSON constant {token} in show --json")

    json.loads(result.stdout, parse_constant=refuse)


# -- item 8: messages of the YAML loader --------------------------------------------------


def test_control_character_gives_one_line_with_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, _edit("name: North reformers", "name: North\x07reformers"))
    line = BASE.splitlines().index("    name: North reformers") + 1
    assert _problems(path) == [
        f"{path}:{line}:16: character #x0007 is not allowed in YAML "
        "(control characters are not allowed)"
    ]


def test_unknown_key_never_suggests_itself(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, _edit("    camp: dove", "    dist: dove")))
    assert len(problems) == 1
    assert "did you mean \"dist\"" not in problems[0]
    assert problems[0].endswith(
        "actors[1].dist: unknown key 'dist' ('dist' is a key of range mappings, not here)"
    )


@pytest.mark.parametrize(
    "old, new, suggestion",
    [
        ("    camp: dove", "    cmap: dove", "camp"),
        ("clout: {low: 40, mode: 50, high: 60", "clout: {low: 40, mdoe: 50, high: 60", "mode"),
        ("  start: 2001-07-01", "  strat: 2001-07-01", "start"),
    ],
)
def test_unknown_key_suggests_a_field_valid_at_that_place(
    tmp_path: Path, old: str, new: str, suggestion: str
) -> None:
    problems = _problems(_write(tmp_path, _edit(old, new)))
    assert any(f'(did you mean "{suggestion}"?)' in p for p in problems), problems


def _instrument_chain(n: int, closed: bool) -> str:
    lines = []
    for i in range(n):
        nxt = f"c{i + 1}" if i + 1 < n else ("c0" if closed else None)
        requires = f", requires: [{nxt}]" if nxt else ""
        lines.append(f"  - {{id: c{i}, name: C{i}, owner: north{requires}}}")
    return BASE.replace("instruments:\n", "instruments:\n" + "\n".join(lines) + "\n", 1)


def test_requirement_cycle_is_named(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, _instrument_chain(3, closed=True)))
    assert len(problems) == 1
    assert problems[0].endswith(
        "instruments[2].requires[0]: requirement cycle of 3 instrument(s): "
        "c0 -> c1 -> c2 -> c0; an instrument cannot require itself"
    )


def test_self_requirement_is_a_cycle(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, _edit("requires: []", "requires: [open-talks]")))
    assert len(problems) == 1 and "open-talks -> open-talks" in problems[0]


def test_long_requirement_chains_are_checked_without_recursion(tmp_path: Path) -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # a recursive walk of 3,000 links would fail here
    try:
        problems = _problems(_write(tmp_path, _instrument_chain(3000, closed=True)))
        assert len(load_scenario(_write(tmp_path, _instrument_chain(3000, False))).instruments)
    finally:
        sys.setrecursionlimit(limit)
    assert len(problems) == 1
    assert "requirement cycle of 3000 instrument(s): c0 -> c1" in problems[0]


def test_show_prints_markup_in_names_as_written(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = _edit("title: Minimal two-country system", 'title: "Bad [/x] title"')
    text = text.replace("    camp: dove", '    camp: "[/c]"')
    text = text.replace("question: ", 'description: "[bold]x[/y]"\nquestion: ')
    result = run_cli("show", str(_write(tmp_path, text)))
    assert result.exit_code == 0, result.stderr
    assert "Bad [/x] title" in result.stdout and "[bold]x[/y]" in result.stdout
    assert "[/c]" in result.stdout


# -- item 3: table loaders ----------------------------------------------------------------

HEADER = "actor,capability,position,salience"


def _table_problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_tables(path)
    return [str(p) for p in info.value.problems]


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_cr_only_line_endings_are_read(tmp_path: Path) -> None:
    cr = load_tables(_csv(tmp_path, f"{HEADER}\ra,1,10,50\rb,3,30,50\r"))
    lf = load_tables(_csv(tmp_path, f"{HEADER}\na,1,10,50\nb,3,30,50\n", "lf.csv"))
    assert cr[0].actors == lf[0].actors == ("a", "b")
    assert forecast(cr[0], "compromise") == forecast(lf[0], "compromise") == 25.0


def test_cr_only_ktab_is_read(tmp_path: Path) -> None:
    text = "S, d, 2, 1,\rActor, Description, Power, P Position, P Salience,\rA, x, 10, 50, 20,\r"
    (table,) = load_tables(_csv(tmp_path, text + "B, y, 10, 60, 20,\r"))
    assert table.actors == ("A", "B")


def test_stray_cr_in_a_cell_gives_located_problems(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HEADER}\na,1,10,50\nb\r,1,20,50\n")
    problems = _table_problems(path)
    assert problems and all(re.match(rf"{re.escape(str(path))}:\d+: ", p) for p in problems)


def test_oversize_cell_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HEADER}\na,1,10,50\nb,1,20,{'5' * 140_000}\n")
    assert _table_problems(path) == [
        f"{path}:3: a cell is longer than 131,072 characters; expected short cells "
        "(a name or a number)"
    ]


@pytest.mark.parametrize(
    "row, column",
    [("a,1e308,10,50", "capability"), ("a,1,10,1e308", "salience"), ("a,1,1e308,50", "position"),
     ("a,1,1e155,50", "position"), ("a,1,-2e12,50", "position")],
)  # fmt: skip
def test_magnitudes_beyond_1e12_are_refused_at_load_time(
    tmp_path: Path, row: str, column: str
) -> None:
    path = _csv(tmp_path, f"{HEADER}\n{row}\nb,1,20,50\n")
    problems = _table_problems(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:2: {column}: ")
    assert "expected a magnitude of at most 1e+12" in problems[0]


def test_in_memory_tables_beyond_the_bound_are_refused_by_every_model() -> None:
    table = ActorTable("x", ("a", "b"), np.array([1.0, 1e308]), np.array([10.0, 20.0]),
                       np.array([50.0, 50.0]))  # fmt: skip
    for model in MODELS:
        with pytest.raises(InputError, match="capability of actor 'b' is 1e\\+308"):
            forecast(table, model)


def test_a_table_with_magnitudes_at_the_bound_gives_finite_forecasts(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HEADER}\na,1e12,-1e12,1e12\nb,1e12,1e12,1e12\nc,1,0,1\n")
    (table,) = load_tables(path)
    with np.errstate(all="raise"):  # no overflow anywhere
        values = [forecast(table, model) for model in MODELS]
    assert all(abs(v) <= 1e12 for v in values), values


def test_no_assert_checks_input_in_the_sources() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.match(r"\s*assert .*isfinite", line):
                offenders.append(f"{path}:{number}")
    assert not offenders


def test_problems_of_scenario_tables_name_the_file(tmp_path: Path) -> None:
    text = BASE.replace("issues:\n", "issues:\n  - {id: empty, name: Nobody cares, judgment: x}\n", 1)
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        forecast(load_tables(path)[0], "median")
    assert [str(p) for p in info.value.problems] == [
        f"{path}: issue empty: no actors take part in this issue; need at least one"
    ]


def test_forecast_prints_markup_in_issue_names_as_written(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path, "actor,capability,position,salience,issue\n[/x],1,10,50,[/x]\nb,1,20,50,[/x]\n")
    result = run_cli("forecast", str(path), "--model", "median")
    assert result.exit_code == 0, result.stderr
    assert "[/x]" in result.stdout


def test_eum_refuses_a_large_table_before_allocating(tmp_path: Path) -> None:
    n = 100_000
    rows = "".join(f"a{i},1,{i % 100},50\n" for i in range(n))
    (table,) = load_tables(_csv(tmp_path, f"{HEADER}\n{rows}"))
    with pytest.raises(InputError) as info:
        forecast(table, "eum")
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{tmp_path / 't.csv'}: issue issue: the expected-utility model")
    assert "100,000 actors needs about 1,024.5 GiB of memory, over the 1.0 GiB limit" in str(problem)
    assert forecast(table, "median") == 49.0  # the linear models still answer


def test_eum_refuses_a_long_run_naming_the_work_and_the_limit() -> None:
    assert size_problem(40, 8) is None
    message = size_problem(3000, 8)
    assert message is not None
    assert "3,000 actors for 8 rounds is 72,000,000 pair-rounds, over the limit of 25,000,000" in message


# -- item 9: the salience scale -----------------------------------------------------------


def _emission_on_unit_scale(shared_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    percent = shared_data / "bargaining-cases" / "emission-standards-1994.csv"
    lines = percent.read_text().splitlines()
    rows = [line.rsplit(",", 1) for line in lines[1:]]
    unit = "\n".join([lines[0], *(f"{head},{float(s) / 100:g}" for head, s in rows)]) + "\n"
    return percent, _csv(tmp_path, unit, "emission-unit.csv")


def test_unit_saliences_are_detected_and_give_the_published_forecast(
    shared_data: Path, tmp_path: Path
) -> None:
    percent, unit = _emission_on_unit_scale(shared_data, tmp_path)
    (on_unit,) = load_tables(unit)
    (on_percent,) = load_tables(percent)
    assert on_unit.meta["salience_scale"] == "0-1" and on_percent.meta["salience_scale"] == "0-100"
    np.testing.assert_allclose(on_unit.salience, on_percent.salience)
    assert forecast(on_unit, "eum") == pytest.approx(9.671, abs=1e-3)
    assert forecast(on_unit, "eum") == forecast(on_percent, "eum")
    (forced,) = load_tables(unit, "percent")
    assert forecast(forced, "eum") == pytest.approx(4.0)  # the old silent misreading
    (forced_unit,) = load_tables(percent, "unit")
    np.testing.assert_allclose(forced_unit.salience, on_percent.salience * 100)


def test_forecast_says_which_salience_reading_it_used(
    run_cli, shared_data: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    percent, unit = _emission_on_unit_scale(shared_data, tmp_path)
    result = run_cli("forecast", str(unit), "--model", "eum", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["issues"][0]["forecasts"]["eum"] == pytest.approx(9.671, abs=1e-3)
    notes = result.stderr.strip().splitlines()
    assert len(notes) == 1 and "read on a 0-1 scale" in notes[0] and str(unit) in notes[0]
    quiet = run_cli("forecast", str(percent), "--model", "eum", "--json")
    assert quiet.stderr == ""
    forced = run_cli("forecast", str(unit), "--model", "eum", "--json", "--salience-scale", "percent")
    assert json.loads(forced.stdout)["issues"][0]["forecasts"]["eum"] == pytest.approx(4.0)
    assert forced.stderr == ""
    bad = run_cli("forecast", str(unit), "--salience-scale", "precent")
    assert bad.exit_code == 2 and 'did you mean "percent"' in bad.stderr


# -- item 6: outcome expressions ----------------------------------------------------------

COLUMNS = {"dialogue": np.array([10.0, 30.0]), "cost": np.array([1.0, 2.0])}


@pytest.mark.parametrize(
    "expr, message",
    [
        ("not " * 5000 + "dialogue < 20", "characters long; the limit is 1,000"),
        ("+".join(["1"] * 20_000) + " < dialogue", "characters long; the limit is 1,000"),
        ("-" * 10_000 + "1 < dialogue", "characters long; the limit is 1,000"),
        ("not " * 200 + "dialogue < 20", "levels deep; the limit is 100 levels"),
        ("+".join(["1"] * 400) + " < dialogue", "levels deep; the limit is 100 levels"),
        ("-" * 900 + "1 < dialogue", "levels deep; the limit is 100 levels"),
        ("1" + "0" * 400 + " < dialogue", "a 401-digit number is beyond the float range"),
        ("1e400 < dialogue", "a number is beyond the float range"),
    ],
)
def test_hostile_outcome_expressions_are_refused_in_their_own_words(
    expr: str, message: str
) -> None:
    with pytest.raises(InputError) as info:
        evaluate(expr, COLUMNS)
    (problem,) = info.value.problems
    assert str(problem).startswith("<command line>: --outcome '") and message in str(problem)
    assert len(str(problem)) < 200  # the expression is shortened, not echoed whole


def test_reasonable_expressions_still_work() -> None:
    mask = evaluate("not dialogue < 20 and cost * 2 < 1 / 0 and cost > -1e300 * 1e300", COLUMNS)
    assert mask.tolist() == [False, True]
    assert evaluate(" + ".join(["cost"] * 30) + " > 45", COLUMNS).tolist() == [False, True]


def test_threshold_beyond_float_range_is_refused() -> None:
    with pytest.raises(InputError, match="beyond the float range"):
        parse_threshold("dialogue>=1e400")


# -- through the installed console script ------------------------------------------------


def test_console_script_refuses_each_category_in_one_line_per_problem(tmp_path: Path) -> None:
    text = _edit('delay: {low: 0, mode: 1, high: 4, judgment: "fixture"}', "delay: inf")
    scenario = _write(tmp_path, text.replace("    clout: 30", "    clout: nan"), "nonfinite.yaml")
    huge = _csv(tmp_path, f"{HEADER}\na,1e308,1e308,50\n", "huge.csv")
    many = _csv(tmp_path, f"{HEADER}\n" + "".join(f"a{i},1,{i % 100},50\n" for i in range(3000)), "many.csv")
    cases: list[tuple[list[str], str, int, str]] = [
        (["validate", str(scenario)], str(scenario), 2,
         "instruments[0].delay: expected a finite number, got inf"),
        (["forecast", str(huge)], str(huge), 2, "expected a magnitude of at most 1e+12"),
        (["forecast", str(many)], str(many), 1, "72,000,000 pair-rounds, over the limit"),
    ]  # fmt: skip
    if Path("/dev/zero").exists():  # item 4: reads are bounded, st_size is not trusted
        cases.append((["validate", "/dev/zero"], "/dev/zero", 1, "5,000,000-byte limit"))
    results = console_scripts(*(args for args, *_ in cases))
    for (args, source, lines, words), result in zip(cases, results, strict=True):
        assert_clean_refusal(result, source, lines)
        assert words in result[1], (args, result[1])
        assert "NaN" not in result[0]
