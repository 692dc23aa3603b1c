"""Hardening of the scenario loader against hostile or odd input (issue 10, items 2, 4, 8).

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

import pytest

from detente.errors import InputError
from detente.scenario import load_scenario, resolve

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


def console_script(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the installed ``detente`` console script with this checkout's sources first."""
    if not CONSOLE_SCRIPT.exists():
        pytest.skip(f"console script not installed beside {sys.executable}")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def assert_clean_refusal(result: subprocess.CompletedProcess[str], source: str, lines: int) -> None:
    """Exit 2, ``lines`` error lines each naming ``source``, and no traceback anywhere."""
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    errors = result.stderr.strip().splitlines()
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


def test_console_script_refuses_inf_delay(tmp_path: Path) -> None:
    path = _write(tmp_path, _edit('delay: {low: 0, mode: 1, high: 4, judgment: "fixture"}', "delay: inf"))
    for command in (["validate"], ["show"], ["show", "--json"]):
        result = console_script(*command, str(path))
        assert_clean_refusal(result, str(path), 1)
        assert "instruments[0].delay: expected a finite number, got inf" in result.stderr


# -- item 4: reads are bounded ------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_validate_dev_zero_stops_at_the_size_limit() -> None:
    result = console_script("validate", "/dev/zero", timeout=30)
    assert_clean_refusal(result, "/dev/zero", 1)
    assert "byte limit" in result.stderr


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
