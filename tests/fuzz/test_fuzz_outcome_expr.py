"""Outcome expressions -> the checker/evaluator of ``explore --outcome`` and the command itself.

An expression is either evaluated to a boolean mask or refused with an
:class:`~detente.errors.InputError` (one line naming ``<command line>``); nothing else may
escape (``RecursionError``, ``MemoryError``, ``OverflowError`` were seen, issue 10 item 6),
no code may run and the answer comes within a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fuzz_support import (
    SYNTHETIC_MODEL,
    CaseTimeout,
    Tally,
    Violation,
    check_contract,
    describe,
    fresh_dir,
    fuzz_settings,
    run_console_script,
    run_in_process,
    time_bound,
)
from hypothesis import given
from hypothesis import strategies as st

from detente.errors import InputError
from detente.experiments.outcome_expr import evaluate
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML

NAMES = ["rapprochement", "cost", "reformist_share"]
COLUMNS = {name: np.linspace(0.0, 1.0, 5) for name in NAMES}
TOKENS = [*NAMES, "nosuch", "0", "0.5", "1", "-1", "1e308", "1e309", "9" * 400, "0x10", "1_0",
          "<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "/", "&", "|", "~", "and", "or",
          "not", "(", ")", ".real", "(1)", "[", "]", "lambda x: x", "__import__('os')",
          "'a'", "b''", "None", "True", "...", ",", ":", "if", "else", "for", "in", "@", "**",
          "%", "//", ";", "\\", "#", "\x00", "\n", "{}", "[x for x in ()]", ":=", "await",
          "yield", "f'{1}'"]
ENV: dict[str, str | None] = {"DETENTE_MODEL": SYNTHETIC_MODEL, "DETENTE_SCHEDULER": None}

pytestmark = pytest.mark.fuzz


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """Random token soup, or one of the shapes that broke the checker, at a random size."""
    shape = draw(st.sampled_from(["tokens", "tokens", "tokens", "not", "plus", "minus",
                                  "parens", "literal", "and-chain", "compare-chain"]))
    n = draw(st.sampled_from([1, 10, 100, 1000, 5000, 20000]))
    if shape == "tokens":
        return " ".join(draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=30)))
    if shape == "not":
        return "not " * n + "cost < 0.5"
    if shape == "plus":
        return "+".join(["1"] * n) + " < cost"
    if shape == "minus":
        return "-" * n + "1 < cost"
    if shape == "parens":
        return "(" * n + "cost" + ")" * n + " < 0.5"
    if shape == "literal":
        return "9" * n + " < cost"
    if shape == "and-chain":
        return " and ".join(["cost < 0.5"] * n)
    return " < ".join(["cost"] * max(n, 2))


def check_expression_case(expr: str) -> list[Violation]:
    """Evaluate on five worlds: a boolean mask or an InputError, within a second."""
    try:
        with time_bound(1.0):
            mask = evaluate(expr, COLUMNS)
    except InputError as exc:
        lines = [str(p) for p in exc.problems]
        bad = [ln for ln in lines if "<command line>" not in ln or "\n" in ln]
        return [Violation("error names no file", bad[0][:200])] if bad else []
    except CaseTimeout:
        return [Violation("hang", "no answer within 1 s")]
    except BaseException as exc:  # anything else escaping is what this test is for
        return [Violation("traceback", f"{type(exc).__name__}: {str(exc)[:200]}")]
    if mask.dtype != bool or mask.shape != (5,):
        return [Violation("wrong result", f"{mask.dtype} {mask.shape}")]
    return []


def _label(expr: str) -> str:
    return expr if len(expr) < 80 else f"{expr[:40]!r}...({len(expr)} chars)"


def test_random_outcome_expressions_are_evaluated_or_refused() -> None:
    tally = Tally("outcome expressions -> evaluate")

    @fuzz_settings(default=300, long=20000)
    @given(expressions())
    def case(expr: str) -> None:
        tally.record(_label(expr), check_expression_case(expr))

    case()
    tally.finish()


def _explore(expr: str, runner=run_in_process) -> tuple[object, list[Violation]]:  # type: ignore[no-untyped-def]
    workdir = fresh_dir("explore")
    (workdir / "syn.yaml").write_text(SYNTHETIC_SCENARIO_YAML)
    args = ["explore", "syn.yaml", "--strategy", "engagement", "--outcome", expr,
            "--states", "8", "--worlds", "2", "--out", "o"]
    outcome = runner(args, workdir, timeout=30, env=ENV)
    return outcome, check_contract(outcome, workdir)


def test_random_outcome_expressions_through_explore() -> None:
    tally = Tally("outcome expressions -> explore --outcome")

    @fuzz_settings(default=6, long=300)
    @given(expressions())
    def case(expr: str) -> None:
        tally.record(_label(expr), _explore(expr)[1])

    case()
    tally.finish()


KNOWN = {
    "not-5000": "not " * 5000 + "cost < 0.5",
    "plus-chain-5000": "+".join(["1"] * 5000) + " < cost",
    "unary-minus-10000": "-" * 10000 + "1 < cost",
    "literal-400-digits": "9" * 400 + " < cost",
    "parens-1000": "(" * 1000 + "cost" + ")" * 1000 + " < 0.5",
    "call-refused": "__import__('os').system('true') < 1",
    "attribute-refused": "cost.real < 1",
    "lambda-refused": "(lambda: 1)() < cost",
    "comprehension-refused": "[x for x in (1,)] < cost",
}


@pytest.mark.parametrize("case", sorted(KNOWN))
def test_known_outcome_expression_findings(case: str) -> None:
    found = check_expression_case(KNOWN[case])
    assert not found, "\n".join(f"{v.kind}: {v.detail}" for v in found)


@pytest.mark.parametrize("case", ["not-5000"])
def test_known_outcome_expression_findings_console_script(case: str) -> None:
    outcome, found = _explore(KNOWN[case], runner=run_console_script)
    assert not found, describe(found, outcome)  # type: ignore[arg-type]


def test_evaluate_still_answers_a_plain_expression(tmp_path: Path) -> None:
    """The checker is not so strict that it refuses the documented example."""
    mask = evaluate("rapprochement < 0.5 and cost > 0.2", COLUMNS)
    assert mask.tolist() == [False, True, False, False, False]
