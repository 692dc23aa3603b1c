"""What every fuzz case must satisfy, and the two ways of running the CLI on a case.

The contract (issue 10): whatever the input or fault, ``detente`` exits 0 or 2 (130 on an
interrupt), prints no traceback and no catch-all "unexpected error", on failure prints only
``error:``/``warning:`` lines each naming the file or ``<command line>``, leaves nothing
half-written (no ``*.tmp`` files) and does not hang.

Cases run in-process through :func:`detente.cli.main` (the console script's own code path:
``sys.argv`` patched, ``SystemExit`` caught) for speed, with a per-case time bound from
``SIGALRM``; a sample of every category also runs through the installed console script in a
subprocess (:func:`run_console_script`), the path that broke for usage errors.

A property test collects the violations of all its examples in a :class:`Tally` and fails once
at the end listing them, so a long campaign (``DETENTE_FUZZ=long``) counts every failing input
per kind instead of stopping at the first. ``DETENTE_FUZZ_REPORT=FILE`` appends each test's
counts to FILE as JSON lines.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
BUILTIN_SCENARIOS = REPO / "src" / "detente" / "data" / "scenarios"
LONG = os.environ.get("DETENTE_FUZZ", "").lower() == "long"
SYNTHETIC_MODEL = "detente.experiments.testing:synthetic_model"
CONSOLE_SCRIPT = Path(sys.executable).with_name("detente")

# Python's own warnings are shown by default for these categories (others are filtered out).
_SHOWN_WARNINGS = (RuntimeWarning, UserWarning, SyntaxWarning, FutureWarning)
_PROGRESS_GLYPH = "\u2501"  # Rich's progress bar; its line may precede an error
_PY_WARNING_LINE = re.compile(r"\b[A-Z]\w*Warning: ")


def fuzz_settings(default: int, long: int) -> settings:
    """Hypothesis settings: ``default`` derandomized examples in CI, ``long`` in the long mode.

    ``$DETENTE_FUZZ_EXAMPLES`` overrides the long mode's count (a shorter or longer campaign).
    """
    long = int(os.environ.get("DETENTE_FUZZ_EXAMPLES", long))
    return settings(
        max_examples=long if LONG else default,
        derandomize=not LONG,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


def reference_file(name: str) -> Path:
    """A reference data file shipped with the project, or else in ``../shared/data``."""
    for base in (REPO / "src" / "detente" / "data", REPO / "tests" / "data", SHARED_DATA):
        found = sorted(base.rglob(name)) if base.is_dir() else []
        if found:
            return found[0]
    raise FileNotFoundError(f"reference file {name} not found in the project or {SHARED_DATA}")


@dataclass
class Outcome:
    """What one CLI invocation did."""

    args: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    def first_error_line(self) -> str:
        """The line that says what went wrong: a traceback's last line, else stderr's first."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        if "Traceback" in self.stderr:
            lines = [ln for ln in lines if not ln.startswith(" ")] or lines
            return lines[-1][:300]
        return lines[0][:300] if lines else ""


class CaseTimeout(BaseException):
    """Raised by SIGALRM when an in-process case exceeds its time bound."""


@contextlib.contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _environment(env: dict[str, str | None] | None) -> Iterator[None]:
    """``env`` set for the duration (a value of None removes the variable)."""
    saved = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_in_process(
    args: Sequence[str], cwd: Path, timeout: float = 20.0,
    env: dict[str, str | None] | None = None,
) -> Outcome:
    """Run ``detente ARGS`` through :func:`detente.cli.main` in this process.

    Python warnings that a console-script run would print are appended to ``stderr`` in
    Python's format, and an exception escaping ``main`` as the traceback Python would print.
    """
    from detente.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    code: int | None = 0
    timed_out = False
    crash = ""
    start = time.perf_counter()
    sys.argv = ["detente", *args]
    os.chdir(cwd)
    try:
        with (
            _environment(env),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("default")
            try:
                with time_bound(timeout):
                    main()
            except SystemExit as exc:
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:  # sys.exit("message") prints the message and exits 1
                    print(exc.code, file=err)
                    code = 1
            except CaseTimeout:
                code, timed_out = None, True
            except BaseException:
                crash = traceback.format_exc()  # printed last, after any warnings, as Python does
                code = 1
            for w in caught:
                if issubclass(w.category, _SHOWN_WARNINGS):
                    err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))
            err.write(crash)
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
    return Outcome(list(args), code, out.getvalue(), err.getvalue(), time.perf_counter() - start,
                   timed_out)


def run_console_script(
    args: Sequence[str],
    cwd: Path,
    timeout: float = 60.0,
    env: dict[str, str | None] | None = None,
    stdin: bytes | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Outcome:
    """Run the installed ``detente`` console script in a subprocess, killed after ``timeout``."""
    full_env = {**os.environ, "PYTHONWARNINGS": "default::RuntimeWarning"}
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), *args],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=preexec_fn,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        code: int | None = proc.returncode
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code, timed_out = None, True
    return Outcome(list(args), code, out.decode(errors="replace"), err.decode(errors="replace"),
                   time.perf_counter() - start, timed_out)


@dataclass(frozen=True)
class Violation:
    """One broken promise: its kind (traceback, exit code, ...) and what was seen."""

    kind: str
    detail: str


def leftover_temporaries(workdir: Path) -> list[Path]:
    """Half-written files: ``*.tmp`` / ``*.tmpPID`` left anywhere under ``workdir``."""
    return [p for p in workdir.rglob("*") if re.search(r"\.tmp\d*$", p.name)]


def check_contract(
    outcome: Outcome,
    workdir: Path | None,
    sources: Sequence[str | Path] = (),
    allowed_codes: Sequence[int] = (0, 2),
) -> list[Violation]:
    """Every promise of issue 10 that ``outcome`` breaks (empty when it keeps them all).

    ``sources`` are the files an error may name besides ``<command line>`` and built-ins.
    """
    found: list[Violation] = []
    first = outcome.first_error_line()
    text = outcome.stdout + "\n" + outcome.stderr
    if outcome.timed_out:
        found.append(Violation("hang", f"no answer after {outcome.seconds:.0f} s"))
    crashed = "Traceback (most recent call last)" in text
    if crashed:
        found.append(Violation("traceback", first))
    if not outcome.timed_out and outcome.exit_code not in allowed_codes:
        found.append(Violation("exit code", f"exit {outcome.exit_code}: {first}"))
    if "unexpected error" in text.lower():
        found.append(Violation("catch-all message", first))
    # detente-out/ is the default output folder, $DETENTE_* the environment's settings
    names = ["<command line>", "<built-in", "detente-out", "$DETENTE_", *(str(s) for s in sources)]
    names += [Path(str(s)).name for s in sources if Path(str(s)).name]
    names += [a for a in outcome.args if a.strip()]  # a file named on the command line
    names += [a[:40] for a in outcome.args if len(a) > 120]  # long paths are shown shortened
    for line in [] if crashed else outcome.stderr.splitlines():
        if not line.strip() or _PROGRESS_GLYPH in line:
            continue
        if _PY_WARNING_LINE.search(line) and not line.startswith("warning:"):
            found.append(Violation("stray Python warning", line[:300]))
        elif outcome.exit_code not in (0, 130, None) and not line.startswith(("error:", "warning:", "note:")):
            found.append(Violation("not an error: line", line[:300]))
        elif line.startswith("error:") and not any(n and n in line for n in names):
            found.append(Violation("error names no file", line[:300]))
    if not crashed and outcome.exit_code not in (0, 130, None) and "error:" not in outcome.stderr:
        found.append(Violation("failure without an error: line", first))
    if workdir is not None:
        found += [Violation("half-written", str(p)) for p in leftover_temporaries(workdir)]
    # one Violation per kind and case is enough to judge it
    unique: dict[str, Violation] = {}
    for v in found:
        unique.setdefault(v.kind, v)
    return list(unique.values())


@dataclass
class Tally:
    """Violations of one property test, by kind, with the first failing inputs of each."""

    category: str
    tried: int = 0
    by_kind: dict[str, list[str]] = field(default_factory=dict)
    keep: int = 8

    def record(self, case: str, violations: Sequence[Violation]) -> None:
        self.tried += 1
        for v in violations:
            examples = self.by_kind.setdefault(v.kind, [])
            examples.append(f"{case[:400]}  ->  {v.detail}")

    def summary(self) -> str:
        lines = [f"{self.category}: {self.tried} cases"]
        for kind, examples in sorted(self.by_kind.items()):
            lines.append(f"  {kind}: {len(examples)} cases, e.g.")
            lines += [f"    {e}" for e in examples[: self.keep]]
        return "\n".join(lines)

    def finish(self) -> None:
        """Write the counts (``$DETENTE_FUZZ_REPORT``) and fail if any case broke a promise."""
        report = os.environ.get("DETENTE_FUZZ_REPORT")
        if report:
            with open(report, "a", encoding="utf-8") as fh:
                counts = {k: len(v) for k, v in self.by_kind.items()}
                examples = {k: v[: self.keep] for k, v in self.by_kind.items()}
                fh.write(json.dumps({"category": self.category, "tried": self.tried,
                                     "violations": counts, "examples": examples}) + "\n")
        assert self.tried > 0, f"{self.category}: no case ran"
        assert not self.by_kind, self.summary()


def fresh_dir(prefix: str) -> Path:
    """A new empty directory for one case (hypothesis reuses a test's tmp_path).

    It is removed when the test process exits.
    """
    path = Path(tempfile.mkdtemp(prefix=f"detente-fuzz-{prefix}-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def describe(violations: Sequence[Violation], outcome: Outcome) -> str:
    """A one-case assertion message: the arguments, each violation and the output's tail."""
    lines = [f"detente {' '.join(a[:80] for a in outcome.args)}"]
    lines += [f"  {v.kind}: {v.detail}" for v in violations]
    lines.append("  stderr tail: " + " | ".join(outcome.stderr.strip().splitlines()[-3:]))
    return "\n".join(lines)
