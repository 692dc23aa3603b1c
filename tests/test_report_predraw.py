"""The report's scenario-only figures drawn during ``detente run`` (detente.report.predraw).

The drawer must promise exactly the keys the report computes for those figures (else it is
useless), give the bytes the report would draw (else the report would change), be taken by
the report instead of drawing, be reaped whatever happens, and leave ``detente run``'s
Ctrl-C contract (exit 130, one line, no process left behind) as it was.
"""

from __future__ import annotations

import base64
import io
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from fuzz_support import CONSOLE_SCRIPT, Outcome, check_contract, describe
from PIL import Image

from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML
from detente.report.bargaining_inputs import scenario_forecasts
from detente.report.figure_cache import figure_key
from detente.report.figure_pool import can_fork, png_of
from detente.report.html import ReportInputs, render_report, scenario_figures
from detente.report.predraw import ScenarioDrawer
from detente.runs.scenario_text import scenario_from_text

pytestmark = pytest.mark.skipif(not can_fork(), reason="the drawer needs fork")


@pytest.fixture
def syn(tmp_path: Path) -> Path:
    path = tmp_path / "syn.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    return path


def _many_issues(n: int) -> str:
    """The synthetic scenario with ``n`` issues (one position map each: a slow drawer)."""
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


def test_drawer_promises_the_reports_figures_and_draws_their_bytes(
    syn: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "2")
    inputs = _report_inputs(syn.read_text())
    makers = scenario_figures(inputs.scenario)  # type: ignore[arg-type]
    drawer = ScenarioDrawer.start(syn)
    assert drawer is not None
    pid = drawer.pid
    assert pid is not None
    with drawer:
        promised = drawer.keys()
        got = drawer.collect()
    assert len(makers) == 3  # structure, the one position map, the rounds chart
    assert promised == {figure_key(m) for m in makers}
    assert set(got) == promised
    structure = makers[0]
    assert got[str(figure_key(structure))] == png_of(structure)
    assert drawer.pid is None and _gone(pid)


def test_drawer_is_not_started_without_a_free_core(
    syn: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "1")
    assert ScenarioDrawer.start(syn) is None


def test_a_drawer_that_fails_promises_nothing_and_is_reaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "2")
    drawer = ScenarioDrawer.start(tmp_path / "missing.yaml")
    assert drawer is not None
    pid = drawer.pid
    with drawer:
        assert drawer.keys() == frozenset()
        assert drawer.collect() == {}
    assert pid is not None and _gone(pid)


def test_closing_a_drawer_mid_way_ends_it(syn: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DETENTE_REPORT_WORKERS", "2")
    drawer = ScenarioDrawer.start(syn)
    assert drawer is not None
    pid = drawer.pid
    drawer.close()
    assert pid is not None and _gone(pid)
    assert drawer.collect() == {}


class _Given:
    """Predrawn figures handed over as given (``pngs``), promising ``promised``."""

    def __init__(self, promised: set[str], pngs: dict[str, bytes]) -> None:
        self.promised = frozenset(promised)
        self.pngs = pngs
        self.collected = 0

    def keys(self) -> frozenset[str]:
        return self.promised

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
    # promised but never given (a drawer that died): drawn here, the same report
    inputs = _report_inputs(syn.read_text())
    inputs.predrawn = _Given(set(keys), {})
    assert render_report(inputs) == plain


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_ctrl_c_during_run_with_drawer_exits_130_and_leaves_no_process(tmp_path: Path) -> None:
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
        start_new_session=True,  # its own process group: Ctrl-C reaches the drawer too
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not _marked(mark, proc.pid):
        time.sleep(0.02)  # until the drawer (a process carrying the mark) is forked
    assert proc.poll() is None, "the run ended before it could be interrupted"
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    proc.wait(timeout=30)
    left = _marked(mark)  # now: the drawer holds the command's output pipes open too
    out, err = proc.communicate(timeout=30)
    outcome = Outcome(args, proc.returncode, out.decode(), err.decode(), time.monotonic() - start)
    found = check_contract(outcome, tmp_path, allowed_codes=(130,))
    assert not found, describe(found, outcome)
    assert proc.returncode == 130
    assert not left, "a drawer outlived the interrupted run"
    assert not list((tmp_path / "o").rglob("report.html"))


def _marked(mark: str, besides: int | None = None) -> bool:
    """Whether a process other than ``besides`` has ``DETENTE_TEST_MARK=mark`` in its
    environment (the drawer inherits the command's)."""
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
