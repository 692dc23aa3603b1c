"""Random command lines for every command -> exit 0 or 2, one ``error:`` line, no traceback.

Each case picks a command (sometimes misspelt), its arguments (sometimes missing or bad) and
a random subset of its options with values from pools of awkward values: negative, zero,
non-integer, 2**63 and beyond, words, empty, unknown options, paths under a file, a
5,000-character name. Runs stay tiny (a few states and worlds, the synthetic model via
``$DETENTE_MODEL``). Sizes that parse as valid but would need gigabytes (10**9 worlds) run
only through the console script under an address-space limit, never in the test process.
"""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

import pytest
from fuzz_support import (
    SYNTHETIC_MODEL,
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

from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML

ENV: dict[str, str | None] = {"DETENTE_MODEL": SYNTHETIC_MODEL, "DETENTE_SCHEDULER": None}
SIZE_VALUES = ["2", "2", "1", "3", "0", "-1", "-5", "1.5", "1e3", "1e30", "abc", "", " 2", "nan",
               "inf", "0x10", "1_0", str(2**63), str(2**64), str(-(2**63) - 1), "9" * 40,
               "\u0662"]
SEED_VALUES = ["0", "7", "-1", str(2**32), str(2**63), str(2**64), "-" + str(2**63), "1.5",
               "abc", ""]
FLOAT_VALUES = ["0.05", "0.5", "0", "1", "-0.1", "1.5", "nan", "inf", "-inf", "1e308", "abc", ""]
TEXT_VALUES = ["containment", "engagement", "dismantle", "nosuch", "", ",", "containment,,",
               "[/x]", "cost", "rapprochement < 0.5", "parameters.*", "*", "cost>=abc",
               "cost>=1", "x" * 5000, "\x00", "--json"]
PATH_VALUES = ["out", "out", ".", "afile.txt", "afile.txt/sub", "adir", "deep/new/dir",
               "x" * 5000, "/proc/self/nonexistent/x", "/sys/detente-fuzz", "", "-"]
SCHEDULER_VALUES = ["", "nonsense", "ucx://127.0.0.1:1", "tls://127.0.0.1:1", "tcp://", "inproc"]
KIND_VALUES = {"size": SIZE_VALUES, "seed": SEED_VALUES, "float": FLOAT_VALUES,
               "text": TEXT_VALUES, "path": PATH_VALUES, "scheduler": SCHEDULER_VALUES}

SCENARIO_ARGS = ["syn.yaml", "syn.yaml", "syn.yaml", "us-iran-2001", "nosuch", "", "adir",
                 "afile.txt", "missing.yaml"]
EXPERIMENT = {"--states": "size", "--worlds": "size", "--seed": "seed", "--sampler": "text",
              "--out": "path", "--db": "path", "--resume": "flag", "--json": "flag",
              "--scheduler": "scheduler"}
# command -> (positional choices or None, required options with kinds, optional options)
COMMANDS: dict[str, tuple[list[str] | None, dict[str, str], dict[str, str]]] = {
    "scenarios": (None, {}, {}),
    "validate": (SCENARIO_ARGS, {}, {}),
    "show": (SCENARIO_ARGS, {}, {"--json": "flag"}),
    "forecast": (["emission-standards-1994", "syn.yaml", "afile.txt", "nosuch"], {},
                 {"--model": "text", "--issue": "text", "--rounds": "size", "--json": "flag"}),
    "simulate": (["us-iran-2001", "syn.yaml", "nosuch"], {"--strategy": "text"},
                 {"--worlds": "size", "--seed": "seed", "--json": "flag"}),
    "compare": (SCENARIO_ARGS, {}, {**EXPERIMENT, "--strategies": "text", "--threshold": "text",
                                    "--rank-by": "text", "--all-outcomes": "flag"}),
    "explore": (SCENARIO_ARGS, {"--strategy": "text", "--outcome": "text"},
                {**EXPERIMENT, "--include": "text", "--alpha": "float", "--density": "float",
                 "--box": "size", "--paste": "flag"}),
    "sensitivity": (SCENARIO_ARGS, {"--strategy": "text", "--outcome": "text"},
                    {**EXPERIMENT, "--method": "text", "--n": "size", "--include": "text"}),
    "run": (SCENARIO_ARGS, {}, {**EXPERIMENT, "--quick": "flag"}),
    "export": (None, {"--out": "path"}, {"--db": "path", "--run": "text"}),
    "report": (["base", "base/results.duckdb", "nosuch-run", "afile.txt", "adir", "x" * 5000],
               {}, {"--out": "path"}),
    "figures": (["emission-standards-1994", "nosuch"], {}, {"--out": "path", "--rounds": "size"}),
    "backtest deu": (["afile.txt", "adir", "missing.tsv", ""], {},
                     {"--folds": "size", "--seed": "seed", "--boot": "size", "--json": "flag"}),
}
# Tiny defaults so a valid run finishes in a second.
SMALL = {"--states": "2", "--worlds": "2", "--n": "2", "--boot": "100", "--rounds": "1",
         "--strategy": "engagement", "--outcome": "cost"}

pytestmark = pytest.mark.fuzz


def _misspell(word: str, draw: st.DrawFn) -> str:
    i = draw(st.integers(0, max(len(word) - 1, 0)))
    how = draw(st.sampled_from(["drop", "swap", "double", "case"]))
    if how == "drop":
        return word[:i] + word[i + 1:]
    if how == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if how == "case":
        return word.upper()
    return word[:i] + word[i] * 2 + word[i:]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """One random command line (without the program name)."""
    command = draw(st.sampled_from(sorted(COMMANDS)))
    positional, required, optional = COMMANDS[command]
    words = command.split()
    if draw(st.integers(0, 9)) == 0:
        words[-1] = _misspell(words[-1], draw)
    args = list(words)
    if positional is not None and draw(st.integers(0, 9)) > 0:
        args.append(draw(st.sampled_from(positional)))
    options = dict(required)
    if draw(st.integers(0, 9)) == 0 and options:
        options.pop(draw(st.sampled_from(sorted(options))))  # a missing required option
    chosen = draw(st.lists(st.sampled_from(sorted(optional) or ["--help"]), max_size=4,
                           unique=True))
    options.update({name: optional.get(name, "flag") for name in chosen})
    for name in SMALL:
        if name in optional or name in required:
            options.setdefault(name, "small")
    for name, kind in options.items():
        if kind == "flag":
            args.append(name)
            continue
        if kind == "small" or (name in SMALL and draw(st.integers(0, 2)) == 0):
            value = SMALL[name]
        else:
            value = draw(st.sampled_from(KIND_VALUES[kind]))
        if draw(st.integers(0, 19)) == 0:
            args.append(name)  # the value is missing
        else:
            args += [name, value]
    if draw(st.integers(0, 7)) == 0:
        args.insert(draw(st.integers(1, len(args))), draw(st.sampled_from(
            ["--wrolds", "--no-such-option", "-x", "--", "--worlds=", "--states=2=3", "extra"])))
    return args


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tiny compare run (synthetic model) for ``report`` and ``export`` to read."""
    root = tmp_path_factory.mktemp("base")
    (root / "syn.yaml").write_text(SYNTHETIC_SCENARIO_YAML)
    outcome = run_in_process(["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--out",
                              "base"], root, env=ENV)
    assert outcome.exit_code == 0, outcome.stderr
    return root / "base"


def _case_dir(base_run: Path) -> Path:
    """A fresh working directory holding the inputs the argument pools name."""
    workdir = fresh_dir("cli")
    (workdir / "syn.yaml").write_text(SYNTHETIC_SCENARIO_YAML)
    (workdir / "afile.txt").write_text("not a scenario, a table or a database\n")
    (workdir / "adir").mkdir()
    shutil.copytree(base_run, workdir / "base")
    return workdir


def _time_limit(args: list[str]) -> float:
    """Seconds a case may take: ``run`` also builds the HTML report (issue 9 item 6: 17-44 s)."""
    return 120.0 if args[:1] == ["run"] else 30.0


def test_random_command_lines_keep_the_contract(base_run: Path) -> None:
    tally = Tally("command-line arguments -> every command")

    @fuzz_settings(default=50, long=2000)
    @given(command_lines())
    def case(args: list[str]) -> None:
        workdir = _case_dir(base_run)
        outcome = run_in_process(args, workdir, timeout=_time_limit(args), env=ENV)
        tally.record(" ".join(a if len(a) < 60 else f"{a[:10]}...({len(a)})" for a in args),
                     check_contract(outcome, workdir))

    case()
    tally.finish()


# Known findings (issue 9 item 1, issue 10 items 1, 4, 5 and 8): one test id each.
KNOWN = {
    "no-arguments": [],
    "misspelt-command": ["simualte", "us-iran-2001"],
    "unknown-option": ["simulate", "us-iran-2001", "--strategy", "containment", "--wrolds", "2"],
    "missing-required-option": ["simulate", "us-iran-2001", "--worlds", "2"],
    "non-integer-worlds": ["simulate", "us-iran-2001", "-s", "containment", "--worlds", "abc"],
    "fractional-states": ["run", "syn.yaml", "--states", "1.5", "--out", "o"],
    "negative-rounds": ["forecast", "emission-standards-1994", "--rounds", "-1"],
    "backtest-without-path": ["backtest", "deu", "--folds", "2", "--boot", "100"],  # shipped data
    "export-without-out": ["export"],
    "seed-negative": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--seed", "-1",
                      "--out", "o"],
    "seed-2-63": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--seed",
                  str(2**63), "--out", "o"],
    "worlds-1e30": ["compare", "syn.yaml", "--states", "2", "--worlds", "1e30", "--out", "o"],
    "worlds-2-63": ["compare", "syn.yaml", "--states", "2", "--worlds", str(2**63), "--out", "o"],
    "model-not-found": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--out", "o"],
    "scheduler-ucx": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--out", "o",
                      "--scheduler", "ucx://127.0.0.1:1"],
    "scheduler-tls": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--out", "o",
                      "--scheduler", "tls://127.0.0.1:1"],
    "out-under-a-file": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--out",
                         "afile.txt/sub"],
    "db-is-a-directory": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--out", "o",
                          "--db", "."],
    "out-in-proc": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--out",
                    "/proc/self/detente"],
    "file-name-5000-chars": ["compare", "syn.yaml", "--states", "2", "--worlds", "2", "--out",
                             "x" * 5000],
    "report-out-under-a-file": ["report", "base", "--out", "afile.txt/report.html"],
    # found by the long mode after the fixes (2,000 random command lines)
    "report-name-5000-chars": ["report", "x" * 5000],
    "export-db-name-5000-chars": ["export", "--out", "o", "--db", "x" * 5000],
    "engine-error-names-the-file": ["simulate", "syn.yaml", "--strategy", "engagement",
                                    "--worlds", "2"],
    "empty-argument": ["validate", ""],
    "figures-out-in-sys": ["figures", "emission-standards-1994", "--rounds", "1", "--out",
                           "/sys/detente-fuzz"],
}
KNOWN_ENV: dict[str, dict[str, str | None]] = {
    "model-not-found": {"DETENTE_MODEL": "nosuch:fn"},
    "engine-error-names-the-file": {"DETENTE_MODEL": None},  # the real engine reads syn.yaml
}


@pytest.mark.parametrize("case", sorted(KNOWN))
def test_known_command_line_findings(case: str, base_run: Path) -> None:
    workdir = _case_dir(base_run)
    outcome = run_in_process(KNOWN[case], workdir, timeout=30, env={**ENV, **KNOWN_ENV.get(case, {})})
    found = check_contract(outcome, workdir)
    if case == "model-not-found" and outcome.exit_code == 0:
        found.append(_exit_zero(outcome))
    assert not found, describe(found, outcome)


def _exit_zero(outcome: Outcome) -> Violation:
    """Issue 10 item 1: a typer.Exit raised inside a command must not turn into exit 0."""
    return Violation("exit code", f"exit 0 although the model could not be loaded: "
                                  f"{outcome.first_error_line()}")


def _limit_memory() -> None:
    """Child-side: 4 GiB of address space, so a runaway allocation fails instead of swapping."""
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


HUGE = {
    "simulate-worlds-1e9": ["simulate", "us-iran-2001", "-s", "containment", "--worlds",
                            "1000000000"],
    "simulate-worlds-2-63": ["simulate", "us-iran-2001", "-s", "containment", "--worlds",
                             str(2**63)],
    "compare-states-1e9": ["compare", "syn.yaml", "--states", "1000000000", "--worlds", "2",
                           "--out", "o"],
    "compare-worlds-1e12": ["compare", "syn.yaml", "--states", "2", "--worlds", "1000000000000",
                            "--out", "o"],
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_huge_sizes_are_refused_quickly_console_script(case: str, base_run: Path) -> None:
    """Issue 10 item 5: sizes that cannot fit are refused with a figure, within seconds."""
    workdir = _case_dir(base_run)
    outcome = run_console_script(HUGE[case], workdir, timeout=15, env=ENV,
                                 preexec_fn=_limit_memory)
    found = check_contract(outcome, workdir)
    assert not found, describe(found, outcome)


CONSOLE_SAMPLE = ["unknown-option", "seed-negative", "model-not-found"]


@pytest.mark.parametrize("case", CONSOLE_SAMPLE)
def test_known_command_line_findings_console_script(case: str, base_run: Path) -> None:
    workdir = _case_dir(base_run)
    outcome = run_console_script(KNOWN[case], workdir, env={**ENV, **KNOWN_ENV.get(case, {})})
    found = check_contract(outcome, workdir)
    if case == "model-not-found" and outcome.exit_code == 0:
        found.append(_exit_zero(outcome))
    assert not found, describe(found, outcome)
