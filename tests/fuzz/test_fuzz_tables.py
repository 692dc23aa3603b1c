"""Mutated actor tables (actor CSV, KTAB CSV) -> ``forecast``.

Besides the common contract, an accepted table must give forecasts that are finite and lie
within the range of the actors' positions (a weighted compromise, median, Nash point or
expected-utility outcome cannot leave it), and no numeric warning may leak to the terminal.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest
from fuzz_mutations import (
    delete_line,
    duplicate_line,
    inject,
    line_endings,
    numbers_in,
    replace_number,
    truncate,
)
from fuzz_support import (
    SHARED_DATA,
    Outcome,
    Tally,
    Violation,
    check_contract,
    describe,
    fresh_dir,
    fuzz_settings,
    reference_file,
    run_console_script,
    run_in_process,
)
from hypothesis import given
from hypothesis import strategies as st

EMISSION = "emission-standards-1994.csv"
KTAB = ["SOE-Competitive.csv", "SOE-Pol-Comp.csv", "SOE-Policy.csv", "dummyData_3Dim.csv",
        "dummyData_6Dim.csv", "dummyData-a160.csv"]

pytestmark = pytest.mark.fuzz


def _tables() -> dict[str, str]:
    found = {}
    for name in [EMISSION, *KTAB]:
        try:
            found[name] = reference_file(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
    return found


TABLES = _tables()
needs_tables = pytest.mark.skipif(
    EMISSION not in TABLES, reason=f"reference tables not in the project nor {SHARED_DATA}")
TABLE_PAYLOADS = ["[/x]", "[bold]", '"', '""', ",", ";", "\t", "=cmd|' /C calc'!A0",
                  "x" * 131_073, "1e308", "-1e308", "\n\n", ",,,,,,,,"]


@st.composite
def delete_column(draw: st.DrawFn, text: str) -> tuple[str, str]:
    """Drop one column from every row (a missing column)."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:  # an earlier mutation made the text unreadable as CSV: keep it
        return "not CSV any more", text
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        return "empty", text
    col = draw(st.integers(0, width - 1))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:col] + r[col + 1:] for r in rows])
    return f"deleted column {col + 1}", out.getvalue()


@st.composite
def table_mutants(draw: st.DrawFn) -> tuple[str, str, str]:
    """``(table name, description of the mutation, mutated text)``."""
    name = draw(st.sampled_from(sorted(TABLES)))
    text = TABLES[name]
    ops = ["number", "number", "number", "endings", "column", "delete", "duplicate", "inject",
           "truncate", "empty", "header-only", "several"]
    if name == EMISSION:
        ops.append("scale")
    kind = draw(st.sampled_from(ops))
    steps = draw(st.integers(2, 3)) if kind == "several" else 1
    labels = []
    for _ in range(steps):
        op = kind if kind != "several" else draw(st.sampled_from(
            ["number", "endings", "column", "delete", "inject"]))
        if op == "number" and numbers_in(text):
            label, text = draw(replace_number(text))
        elif op == "endings":
            label, text = draw(line_endings(text))
        elif op == "column":
            label, text = draw(delete_column(text))
        elif op == "delete":
            label, text = draw(delete_line(text))
        elif op == "duplicate":
            label, text = draw(duplicate_line(text))
        elif op == "truncate":
            label, text = draw(truncate(text))
        elif op == "empty":
            label, text = "empty file", ""
        elif op == "header-only":
            label, text = "header only", "".join(text.splitlines(keepends=True)[:2 if
                                                 name in KTAB else 1])
        elif op == "scale":
            label, text = "saliences on 0-1", _rescale_saliences(text, 0.01)
        else:
            label, text = draw(inject(text, TABLE_PAYLOADS))
        labels.append(label)
    return name, "; ".join(labels), text


def _rescale_saliences(text: str, factor: float) -> str:
    """The emission table with saliences times ``factor`` (0.01: the replication's 0-1 scale)."""
    rows = list(csv.reader(io.StringIO(text)))
    col = rows[0].index("salience")
    for row in rows[1:]:
        row[col] = f"{float(row[col]) * factor:g}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _position_range(text: str) -> tuple[float, float] | None:
    """The range of the numbers in a table (a loose bound for every forecast)."""
    values = [float(m.group()) for m in numbers_in(text)]
    finite = [v for v in values if math.isfinite(v)]
    return (min(finite), max(finite)) if finite else None


def _forecast_problems(outcome: Outcome, text: str) -> list[Violation]:
    """Forecasts of an accepted table must be finite and within the table's numbers."""
    if outcome.exit_code != 0 or "--json" not in outcome.args:
        return []
    try:
        issues = json.loads(outcome.stdout, parse_constant=lambda c: float(c))["issues"]
    except (ValueError, KeyError, TypeError) as exc:
        return [Violation("not JSON", str(exc)[:200])]
    bounds = _position_range(text)
    for issue in issues:
        for model, value in (issue.get("forecasts") or {}).items():
            if not isinstance(value, int | float) or not math.isfinite(value):
                return [Violation("non-finite forecast", f"{issue.get('id')}/{model} = {value}")]
            if bounds and not bounds[0] - 1e-9 <= value <= bounds[1] + 1e-9:
                return [Violation("forecast outside the positions",
                                  f"{issue.get('id')}/{model} = {value:g}, table {bounds}")]
    return []


def check_table(path: Path, workdir: Path, text: str, json_output: bool,
                runner=run_in_process) -> tuple[Outcome, list[Violation]]:  # type: ignore[no-untyped-def]
    """Forecast a table (two expected-utility rounds) and check the contract and the numbers."""
    args = ["forecast", str(path), "--rounds", "2", *(["--json"] if json_output else [])]
    outcome = runner(args, workdir, timeout=30)
    return outcome, check_contract(outcome, workdir, [path]) + _forecast_problems(outcome, text)


def _write(workdir: Path, name: str, text: str) -> Path:
    path = workdir / name
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    return path


@needs_tables
def test_mutated_actor_tables_are_refused_cleanly_or_forecast_sanely() -> None:
    tally = Tally("actor-table mutations -> forecast")

    @fuzz_settings(default=40, long=1500)
    @given(table_mutants(), st.booleans())
    def case(mutant: tuple[str, str, str], json_output: bool) -> None:
        name, label, text = mutant
        workdir = fresh_dir("table")
        _, found = check_table(_write(workdir, name, text), workdir, text, json_output)
        tally.record(f"{name}: {label}{' --json' if json_output else ''}", found)

    case()
    tally.finish()


def _emission_with(old: str, new: str) -> str:
    text = TABLES[EMISSION]
    assert old in text
    return text.replace(old, new, 1)


def _known_tables() -> dict[str, tuple[str, str, bool]]:
    """Issue 10 item 3's findings: ``name -> (file name, text, --json)``."""
    if EMISSION not in TABLES:
        return {}
    emission = TABLES[EMISSION]
    ktab = TABLES.get("dummyData_3Dim.csv", "")
    return {
        "cr-only-line-endings": (EMISSION, emission.replace("\n", "\r"), True),
        "stray-cr-in-cell": (EMISSION, _emission_with("Belgium", "Bel\rgium"), True),
        "cell-over-131072-chars": (EMISSION, _emission_with("Belgium", "B" * 131_073), True),
        "capability-1e308": (EMISSION, _emission_with("Belgium,0.08", "Belgium,1e308"), True),
        "salience-1e308": (EMISSION, _emission_with("Belgium,0.08,7,40", "Belgium,0.08,7,1e308"),
                           True),
        "position-1e308": (EMISSION, _emission_with("Belgium,0.08,7", "Belgium,0.08,1e308"), True),
        "position-1e155": (EMISSION, _emission_with("Belgium,0.08,7", "Belgium,0.08,1e155"), True),
        "position-nan": (EMISSION, _emission_with("Belgium,0.08,7", "Belgium,0.08,nan"), True),
        "salience-inf": (EMISSION, _emission_with("Belgium,0.08,7,40", "Belgium,0.08,7,inf"),
                         True),
        "issue-named-markup": ("ktab.csv", ktab.replace("Pstn1", "[/x]", 1), False),
        **{f"bad-capability-{i}": (EMISSION, _emission_with("Belgium,0.08", f"Belgium,{v}"), True)
           for i, v in enumerate(["-1", "abc", "", str(2**63)])},
    }


KNOWN = _known_tables()


@needs_tables
@pytest.mark.parametrize("case", sorted(KNOWN) or ["none"])
def test_known_table_findings(case: str, tmp_path: Path) -> None:
    name, text, json_output = KNOWN[case]
    outcome, found = check_table(_write(tmp_path, name, text), tmp_path, text, json_output)
    assert not found, describe(found, outcome)


@needs_tables
def test_zero_to_one_saliences_are_detected_and_said(tmp_path: Path) -> None:
    """Issue 10 item 9: 0-1 saliences are read as such (same forecast) and the reading is said."""
    path = _write(tmp_path, "emission-0-1.csv", _rescale_saliences(TABLES[EMISSION], 0.01))
    reference = _write(tmp_path, EMISSION, TABLES[EMISSION])
    scaled = run_in_process(["forecast", str(path), "--json"], tmp_path)
    original = run_in_process(["forecast", str(reference), "--json"], tmp_path)
    assert scaled.exit_code == 0 and original.exit_code == 0, describe([], scaled)
    got = json.loads(scaled.stdout)["issues"][0]["forecasts"]["eum"]
    want = json.loads(original.stdout)["issues"][0]["forecasts"]["eum"]
    assert got == pytest.approx(want, rel=1e-6), f"0-1 saliences read as 0-100: eum {got} vs {want}"
    notes = [ln for ln in scaled.stderr.splitlines() if re.match(r"(warning|note):.*salien", ln)]
    assert notes, f"no note saying which salience scale was used: {scaled.stderr!r}"


@needs_tables
def test_quadratic_memory_is_refused_before_minutes_are_spent(tmp_path: Path) -> None:
    """Issue 10 item 3: 100,000 actors would need ~75 GiB in the expected-utility model."""
    rows = "".join(f"a{i},{1 + i % 7},{i % 11},{10 + i % 80}\n" for i in range(100_000))
    path = _write(tmp_path, "huge.csv", "actor,capability,position,salience\n" + rows)
    outcome = run_in_process(["forecast", str(path), "--model", "eum", "--rounds", "1"], tmp_path,
                             timeout=30)
    found = check_contract(outcome, tmp_path, [path])
    if outcome.exit_code == 0:
        found.append(Violation("no refusal", f"ran for {outcome.seconds:.0f} s"))
    assert not found, describe(found, outcome)


CONSOLE_SAMPLE = ["cr-only-line-endings", "capability-1e308", "issue-named-markup"]


@needs_tables
@pytest.mark.parametrize("case", CONSOLE_SAMPLE)
def test_known_table_findings_console_script(case: str, tmp_path: Path) -> None:
    name, text, json_output = KNOWN[case]
    outcome, found = check_table(_write(tmp_path, name, text), tmp_path, text, json_output,
                                 runner=run_console_script)
    assert not found, describe(found, outcome)
