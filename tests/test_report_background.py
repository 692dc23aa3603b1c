"""The report of ``detente run`` built in a background process (detente.report.background),
and figures drawn ahead of the report (detente.report.predraw).

The figures drawn ahead must be exactly those the report keys (else they are useless) and
the bytes it would draw (else the report would change); the background process must build
the very report ``detente report`` builds, relay its input problems, leave the command
free of matplotlib, be ended with its pool whatever happens, and leave ``detente run``'s
Ctrl-C contract (exit 130, one line, no process left behind) as it was.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from fuzz_support import CONSOLE_SCRIPT, Outcome, check_contract, describe
from PIL import Image

from detente.errors import InputError
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML
from detente.report.background import BackgroundReport
from detente.report.bargaining_inputs import scenario_forecasts
from detente.report.figure_cache import figure_key
from detente.report.figure_pool import can_fork, png_of
from detente.report.html import ReportInputs, build_report, render_report, scenario_figures
from detente.report.predraw import PoolDrawn
from detente.runs.scenario_text import scenario_from_text

pytestmark = pytest.mark.skipif(not can_fork(), reason="the background process needs fork")


@pytest.fixture
def syn(tmp_path: Path) -> Path:
    path = tmp_path / "syn.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    return path


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small stored run of the synthetic scenario: (its scenario file, its run folder)."""
    from detente.experiments import jobs

    root = tmp_path_factory.mktemp("background")
    path = root / "syn.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DETENTE_MODEL", "detente.experiments.testing:synthetic_model")
        mp.delenv("DETENTE_SCHEDULER", raising=False)
        result = jobs.compare(path, states=6, worlds=8, out=root / "out", progress=False,
                              discover=True)
    return path, result.run_dir.path


def _many_issues(n: int) -> str:
    """The synthetic scenario with ``n`` issues (one position map each: slow to draw)."""
    ids = [f"i{k}" for k in range(n)]
    text = SYNTHETIC_SCENARIO_YAML.replace(
        "  - {id: sanctions, name: Sanctions, low: 0, high: 100, status_quo: 80}\n",
        "".join(f"  - {{id: {i}, name: Issue {i}, low: 0, high: 100, status_quo: 80}}\n"
                for i in ids),
    )
    for old, value in (("{sanctions: 70}", 70), ("{sanctions: 100}", 100),
                       ("{sanctions: 60}", 60), ("{sanctions: 80}", 80)):
        text = text.replace(old, "{" + ", ".join(f"{i}: {value}" for i in ids) + "}")
    return text


def _report_inputs(text: str) -> ReportInputs:
    """The scenario part of a run's report inputs, as load_run builds them (the stored
    text parsed under the run folder's name)."""
    scenario = scenario_from_text(text, "runs/x/scenario.yaml")
    forecasts, rounds = scenario_forecasts(scenario)
    return ReportInputs(scenario=scenario, forecasts=forecasts, eum_rounds=rounds)


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _group_gone(pgid: int) -> bool:
    """No live process is left in group ``pgid`` (killed workers may linger as zombies
    for a moment, until the init process reaps them)."""
    deadline = time.monotonic() + 10
    while _members(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _members(pgid)


def test_pool_promises_the_reports_figures_and_draws_their_bytes(syn: Path) -> None:
    makers = scenario_figures(_report_inputs(syn.read_text()).scenario)  # type: ignore[arg-type]
    with PoolDrawn(makers, 2) as drawn:
        promised = drawn.keys()
        got = drawn.collect()
    assert len(makers) == 3  # structure, the one position map, the rounds chart
    assert promised == {figure_key(m) for m in makers}
    assert set(got) == promised
    structure = makers[0]
    assert got[str(figure_key(structure))] == png_of(structure)


def test_background_builds_the_report_detente_report_builds(
    stored_run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, run_dir = stored_run
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "2")
    background = BackgroundReport.start(scenario)
    assert background is not None
    pid = background.pid
    assert pid is not None
    drawn: list[str] = []
    with background:
        path = background.build(run_dir, lambda figure, total: drawn.append(figure))
    assert _gone(pid) and _group_gone(pid)
    assert path == run_dir / "report.html"
    assert "structure" in drawn and "comparison" in drawn
    shutil.rmtree(run_dir / "figures")  # no cached figure: everything drawn again, here
    again = build_report(run_dir, out=run_dir / "again.html", workers=1)
    assert again.read_bytes() == path.read_bytes()


def test_background_relays_the_reports_input_problems(
    syn: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "2")
    background = BackgroundReport.start(syn)
    assert background is not None
    with background, pytest.raises(InputError) as caught:
        background.build(tmp_path / "no-such-run")
    problems = caught.value.problems
    assert len(problems) == 1 and "no-such-run" in str(problems[0])


def test_background_is_not_started_without_a_free_core(
    syn: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "1")
    assert BackgroundReport.start(syn) is None


def test_a_background_with_a_bad_scenario_still_builds_the_report(
    stored_run: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, run_dir = stored_run
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "2")
    with BackgroundReport.start(tmp_path / "missing.yaml") as background:  # type: ignore[union-attr]
        out = background.build(run_dir)
    assert out.read_bytes() == (run_dir / "report.html").read_bytes()


def test_closing_a_background_mid_way_ends_it_and_its_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "2")
    path = tmp_path / "many.yaml"
    path.write_text(_many_issues(12))
    background = BackgroundReport.start(path)
    assert background is not None
    pid = background.pid
    assert pid is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_members(pid)) < 2:
        time.sleep(0.02)  # until its pool's worker is forked
    assert len(_members(pid)) >= 2
    background.close()
    assert _gone(pid) and _group_gone(pid)


def _members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def test_a_background_that_dies_is_replaced_by_the_command(
    stored_run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from detente.cli.experiment_cmds import _report_in
    from detente.runs import RunDir

    scenario, run_dir = stored_run
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "2")
    with BackgroundReport.start(scenario) as background:  # type: ignore[union-attr]
        assert background.pid is not None
        os.kill(background.pid, signal.SIGKILL)
        assert _report_in(background, RunDir(run_dir), lambda f, t: None) is None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_run_leaves_matplotlib_to_the_background(tmp_path: Path) -> None:
    (tmp_path / "syn.yaml").write_text(SYNTHETIC_SCENARIO_YAML)
    env = {
        **os.environ,
        "DETENTE_MODEL": "detente.experiments.testing:synthetic_model",
        "DETENTE_REPORT_WORKERS": "2",
    }
    env.pop("DETENTE_SCHEDULER", None)
    code = (
        "import sys, json\n"
        "from detente.__main__ import main\n"
        "sys.argv = ['detente', 'run', 'syn.yaml', '--states', '4', '--worlds', '8',"
        " '--out', 'o']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
        "print(json.dumps([code, 'matplotlib' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    code_seen, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert code_seen in (0, None), done.stderr
    assert not imported, "the command's process loaded matplotlib: the report was built here"
    assert (tmp_path / "o" / "report.html").is_file()


class _Given:
    """Predrawn figures handed over as given (``pngs``), promising ``promised``."""

    def __init__(
        self, promised: set[str], pngs: dict[str, bytes], released: frozenset[str] = frozenset()
    ) -> None:
        self.promised = frozenset(promised)
        self.pngs = pngs
        self.released = released
        self.collected = 0

    def keys(self) -> frozenset[str]:
        return self.promised

    def release(self) -> frozenset[str]:
        return self.released

    def collect(self) -> dict[str, bytes]:
        self.collected += 1
        return dict(self.pngs)


def _tiny_png(colour: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (3, 2), colour).save(buf, format="png")
    return buf.getvalue()


def test_report_takes_predrawn_figures_and_draws_what_is_missing(syn: Path) -> None:
    plain = render_report(_report_inputs(syn.read_text()))
    inputs = _report_inputs(syn.read_text())
    keys = [str(figure_key(m)) for m in scenario_figures(inputs.scenario)]  # type: ignore[arg-type]
    marker = _tiny_png("red")
    # promised and given: taken, not drawn (the marker is embedded, not a drawing)
    given = _Given(set(keys), {keys[0]: marker})
    inputs.predrawn = given
    html = render_report(inputs)
    assert given.collected == 1
    assert base64.b64encode(marker).decode() in html
    # promised but never given (a background that died): drawn here, the same report
    inputs = _report_inputs(syn.read_text())
    inputs.predrawn = _Given(set(keys), {})
    assert render_report(inputs) == plain
    # released (not started by the drawer): drawn here even if the drawer had it after all
    inputs = _report_inputs(syn.read_text())
    inputs.predrawn = _Given(set(keys), {k: marker for k in keys}, frozenset(keys[1:]))
    html = render_report(inputs)
    assert html.count(base64.b64encode(marker).decode()) == 1


def test_a_released_figure_is_not_drawn_by_the_pool(syn: Path) -> None:
    makers = scenario_figures(_report_inputs(syn.read_text()).scenario)  # type: ignore[arg-type]
    with PoolDrawn(makers, 1) as drawn:
        released = drawn.release()  # one worker: at most the first figure has started
        got = drawn.collect()
    assert len(released) >= len(makers) - 1
    assert set(got) == drawn.keys() - released


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_ctrl_c_during_run_with_background_exits_130_and_leaves_no_process(tmp_path: Path) -> None:
    (tmp_path / "syn.yaml").write_text(_many_issues(12))
    mark = uuid.uuid4().hex
    env = {
        **os.environ,
        "DETENTE_MODEL": "detente.experiments.testing:slow_synthetic_model",
        "DETENTE_TEST_MODEL_DELAY": "0.2",
        "DETENTE_REPORT_WORKERS": "2",
        "DETENTE_TEST_MARK": mark,
    }
    env.pop("DETENTE_SCHEDULER", None)
    args = ["run", "syn.yaml", "--states", "8", "--worlds", "300", "--out", "o"]
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        start_new_session=True,  # its own group, as a terminal job (the background process has a group of its own)
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not _marked(mark, proc.pid):
        time.sleep(0.02)  # until the background process (carrying the mark) is forked
    assert proc.poll() is None, "the run ended before it could be interrupted"
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    proc.wait(timeout=30)
    left = _outlives(mark)  # now: the background holds the command's output pipes open too
    out, err = proc.communicate(timeout=30)
    outcome = Outcome(args, proc.returncode, out.decode(), err.decode(), time.monotonic() - start)
    found = check_contract(outcome, tmp_path, allowed_codes=(130,))
    assert not found, describe(found, outcome)
    assert proc.returncode == 130
    assert not left, "a background process outlived the interrupted run"
    assert not list((tmp_path / "o").rglob("report.html"))


def _outlives(mark: str, grace: float = 10.0) -> bool:
    """Whether a marked process is still there ``grace`` seconds after the command ended.

    The command kills its background's group with ``SIGKILL`` and reaps the background
    process; the pool's workers are its children, so they die as the kernel gets to them,
    a moment later on a loaded machine (a process killed this way runs no code of ours).
    """
    deadline = time.monotonic() + grace
    while _marked(mark):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)
    return False


def _marked(mark: str, besides: int | None = None) -> bool:
    """Whether a process other than ``besides`` has ``DETENTE_TEST_MARK=mark`` in its
    environment (the background process inherits the command's)."""
    needle = f"DETENTE_TEST_MARK={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (besides, os.getpid()):
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if needle in environ.split(b"\0") and state != "Z":
            return True
    return False
