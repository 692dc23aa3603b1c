"""Mutated built-in scenarios -> ``validate`` (and, when it accepts them, ``show``/``simulate``).

Every mutant must be refused cleanly (exit 2, one ``error:`` line per problem naming the file)
or accepted; a mutant that ``validate`` accepts must then be shown and simulated without a
crash, since accepting it promises that it runs (issue 10, item 2: non-finite numbers written
as words passed ``validate`` and crashed ``simulate``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fuzz_mutations import (
    delete_line,
    duplicate_line,
    inject,
    numbers_in,
    replace_number,
    truncate,
)
from fuzz_support import (
    BUILTIN_SCENARIOS,
    Outcome,
    Tally,
    Violation,
    check_contract,
    describe,
    fresh_dir,
    fuzz_settings,
    run_console_script,
    run_in_process,
)
from hypothesis import given
from hypothesis import strategies as st

SCENARIOS = {p.stem: p.read_text(encoding="utf-8") for p in sorted(BUILTIN_SCENARIOS.glob("*.yaml"))}
YAML_PAYLOADS = [
    '!!python/object/apply:os.system ["echo pwned"]',
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!float nan",
    "&anchor ",
    "*anchor",
    "*undefined_alias",
    "<<: *anchor\n",
    "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\n",
    "%YAML 1.1\n---\n",
    "\n---\n",
    "\n...\n",
    "? [complex, key]\n: v\n",
    "\t",
    "[/x]",
    "[bold red]x[/]",
    "{{ 7*7 }}",
    ": :",
    "'",
    '"',
    "#",
]

pytestmark = pytest.mark.fuzz


def _break_indentation(text: str, line: int, how: str) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    i = line % len(lines)
    body = lines[i]
    if how == "indent":
        lines[i] = " " + body
    elif how == "dedent":
        lines[i] = body[2:] if body.startswith("  ") else body
    else:
        lines[i] = re.sub(r"^ +", "\t", body)
    return "".join(lines)


@st.composite
def scenario_mutants(draw: st.DrawFn) -> tuple[str, str, str]:
    """``(scenario name, description of the mutation, mutated text)``."""
    name = draw(st.sampled_from(sorted(SCENARIOS)))
    text = SCENARIOS[name]
    kind = draw(st.sampled_from(
        ["number", "number", "number", "delete", "duplicate", "indent", "inject", "truncate",
         "several"]))
    steps = draw(st.integers(2, 4)) if kind == "several" else 1
    labels = []
    for _ in range(steps):
        op = kind if kind != "several" else draw(st.sampled_from(
            ["number", "delete", "duplicate", "indent", "inject"]))
        if op == "number" and numbers_in(text):
            label, text = draw(replace_number(text))
        elif op == "delete":
            label, text = draw(delete_line(text))
        elif op == "duplicate":
            label, text = draw(duplicate_line(text))
        elif op == "indent":
            how = draw(st.sampled_from(["indent", "dedent", "tab"]))
            line = draw(st.integers(0, 10**6))
            label, text = f"{how} line {line % max(len(text.splitlines()), 1) + 1}", \
                _break_indentation(text, line, how)
        elif op == "truncate":
            label, text = draw(truncate(text))
        else:
            label, text = draw(inject(text, YAML_PAYLOADS))
        labels.append(label)
    return name, "; ".join(labels), text


def _first_strategy(outcome: Outcome) -> str | None:
    try:
        model = json.loads(outcome.stdout)
    except ValueError:
        return None
    strategies = model.get("strategies") or []
    return strategies[0].get("id") if strategies and isinstance(strategies[0], dict) else None


def _json_problems(outcome: Outcome) -> list[Violation]:
    """``show --json`` must print strict JSON (no NaN/Infinity)."""
    if outcome.exit_code != 0:
        return []

    def refuse(token: str) -> None:
        raise ValueError(f"{token} is not JSON")

    try:
        json.loads(outcome.stdout, parse_constant=refuse)
    except ValueError as exc:
        return [Violation("not JSON", str(exc)[:200])]
    return []


def check_scenario_mutant(path: Path, workdir: Path, runner=run_in_process) -> list[Violation]:  # type: ignore[no-untyped-def]
    """Validate a mutant; if accepted, show it (tables and JSON) and simulate two worlds."""
    outcome = runner(["validate", str(path)], workdir)
    found = check_contract(outcome, workdir, [path])
    if outcome.exit_code != 0 or found:
        return found
    shown = runner(["show", "--json", str(path)], workdir)
    found += check_contract(shown, workdir, [path]) + _json_problems(shown)
    found += check_contract(runner(["show", str(path)], workdir), workdir, [path])
    strategy = _first_strategy(shown)
    if strategy and "kind: system" in path.read_text(encoding="utf-8", errors="replace"):
        sim = runner(["simulate", str(path), "-s", strategy, "--worlds", "2"], workdir)
        found += check_contract(sim, workdir, [path])
    else:
        found += check_contract(runner(["forecast", str(path), "--rounds", "2"], workdir),
                                workdir, [path])
    return found


def _write(workdir: Path, text: str) -> Path:
    path = workdir / "mutant.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return path


def test_mutated_builtin_scenarios_are_refused_cleanly_or_run() -> None:
    tally = Tally("scenario mutations -> validate/show/simulate")

    @fuzz_settings(default=40, long=1500)
    @given(scenario_mutants())
    def case(mutant: tuple[str, str, str]) -> None:
        name, label, text = mutant
        workdir = fresh_dir("scenario")
        tally.record(f"{name}: {label}", check_scenario_mutant(_write(workdir, text), workdir))

    case()
    tally.finish()


# Known findings of the campaign (issue 10 items 2 and 8), one test each so a fix shows up.
KNOWN = {
    "clout-nan": ("emission-standards-1994", "clout: 0.08", "clout: nan"),
    "clout-dot-nan": ("emission-standards-1994", "clout: 0.08", "clout: .nan"),
    "clout-inf": ("emission-standards-1994", "clout: 0.08", "clout: inf"),
    "salience-infinity": ("emission-standards-1994", "saliences: {years: 80}",
                          "saliences: {years: Infinity}"),
    "delay-inf": ("us-iran-2001", "delay: {low: 0, mode: 1, high: 3}", "delay: inf"),
    "delay-mode-infinity": ("us-iran-2001", "delay: {low: 0, mode: 1, high: 3}",
                            "delay: {low: 0, mode: Infinity, high: 3}"),
    "markup-in-actor-name": ("emission-standards-1994", "name: Netherlands",
                             "name: '[/x]Netherlands'"),
    "markup-in-title": ("emission-standards-1994", "title: EC", "title: '[/x][bold]' EC"),
    "control-char": ("emission-standards-1994", "name: Belgium", "name: Bel\x07gium"),
    # found by the long mode after the fixes: a field named `date` was taken for pydantic's
    # `date` union tag, and its problem dropped ("InputError needs at least one problem")
    "election-date-deleted": ("us-iran-2001", "      date: 2002-11-05\n", ""),
    "observation-date-infinity": ("us-iran-2001", "date: 2003-06-30", "date: 2003-.inf-30"),
}


@pytest.mark.parametrize("case", sorted(KNOWN))
def test_known_scenario_findings(case: str, tmp_path: Path) -> None:
    name, old, new = KNOWN[case]
    assert old in SCENARIOS[name]
    path = _write(tmp_path, SCENARIOS[name].replace(old, new, 1))
    found = check_scenario_mutant(path, tmp_path)
    assert not found, "\n".join(f"{v.kind}: {v.detail}" for v in found)


def test_control_character_error_has_line_and_column(tmp_path: Path) -> None:
    """Issue 10 item 8: a YAML control character is reported as one line with line:column."""
    path = _write(tmp_path, SCENARIOS["emission-standards-1994"].replace(
        "name: Belgium", "name: Bel\x07gium", 1))
    outcome = run_in_process(["validate", str(path)], tmp_path)
    errors = [ln for ln in outcome.stderr.splitlines() if ln.strip()]
    assert outcome.exit_code == 2 and len(errors) == 1, describe([], outcome)
    assert re.match(rf"error: {re.escape(str(path))}:\d+:\d+", errors[0]), errors[0]


CONSOLE_SAMPLE = {
    "show-json-clout-nan": ("clout-nan", ["show", "--json"]),
    "simulate-delay-inf": ("delay-inf", ["simulate", "-s", "containment", "--worlds", "2"]),
    "validate-control-char": ("control-char", ["validate"]),
}


@pytest.mark.parametrize("case", sorted(CONSOLE_SAMPLE))
def test_known_scenario_findings_console_script(case: str, tmp_path: Path) -> None:
    """A sample of the same promises through the installed console script."""
    known, command = CONSOLE_SAMPLE[case]
    name, old, new = KNOWN[known]
    path = _write(tmp_path, SCENARIOS[name].replace(old, new, 1))
    outcome = run_console_script([*command, str(path)], tmp_path)
    found = check_contract(outcome, tmp_path, [path])
    if command == ["show", "--json"]:
        found += _json_problems(outcome)
    assert not found, describe(found, outcome)
