"""``detente serve`` in a real browser: Debian's Chromium driven by Playwright for Python.

Playwright's own browser download is not used: the tests launch ``/usr/bin/chromium``
(``$DETENTE_CHROMIUM`` elsewhere) and skip when it or the ``playwright`` package is missing.
Every request the page makes is intercepted: anything not addressed to the test server on
127.0.0.1 is aborted and fails the test. ``$DETENTE_SCREENSHOTS=DIR`` saves a screenshot of
each view there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from serve_fixtures import StoredRuns, make_runs

CHROMIUM = os.environ.get("DETENTE_CHROMIUM", "/usr/bin/chromium")
MINI = Path(__file__).parent / "data" / "mini-system.yaml"
CAMP = "camp[iran/conservative].clout"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, StoredRuns]]:
    import uvicorn

    from detente.serve.app import create_app

    runs = make_runs(tmp_path_factory.mktemp("browser"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(runs.db), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", runs
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: tuple[str, StoredRuns]) -> Iterator[Any]:
    """A page whose every request outside the test server is aborted and recorded."""
    base = urlsplit(server[0])
    outside: list[str] = []
    # bypass_csp: Playwright evaluates its waiting conditions as strings, which the
    # page's own policy (no eval) forbids; the policy is checked in test_serve_api.py
    context = browser.new_context(viewport={"width": 1300, "height": 1400}, bypass_csp=True)
    pg = context.new_page()

    def route(r: Any) -> None:
        url = urlsplit(r.request.url)
        if url.scheme in ("data", "blob", "about") or (
            url.hostname == "127.0.0.1" and url.port == base.port
        ):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert errors == [], f"script errors: {errors}"


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("DETENTE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _runs(page: Any) -> int:
    return int(page.evaluate("Number(document.body.dataset.runs || 0)"))


def _wait_run(page: Any, before: int) -> None:
    page.wait_for_function(f"Number(document.body.dataset.runs || 0) > {before}", timeout=30_000)
    assert not page.locator("#error").is_visible(), page.locator("#error").inner_text()


def _series(page: Any, metric: str) -> dict[str, dict[str, list[float]]]:
    groups = page.locator(f'svg[data-metric="{metric}"] g.series')
    return {g.get_attribute("data-strategy"): json.loads(g.get_attribute("data-series"))
            for g in groups.all()}


def _open_whatif(page: Any, base: str) -> None:
    page.goto(base + "/?worlds=256")
    _wait_run(page, 0)


def test_slider_changes_the_chart(page: Any, server: tuple[str, StoredRuns]) -> None:
    _open_whatif(page, server[0])
    assert page.locator(f'input[data-lever="{CAMP}"]').count() == 1
    _shot(page, "whatif")
    first = _series(page, "dialogue")
    before = _runs(page)
    page.locator(f'input[data-lever="{CAMP}"]').fill("1")
    _wait_run(page, before)
    after = _series(page, "dialogue")
    assert set(after) == set(first) and len(after) == 2
    assert any(after[s]["mean"] != first[s]["mean"] for s in after)
    assert "1 uncertainty moved" in page.locator("#status").inner_text()
    assert page.locator('svg[data-metric="dialogue"] polyline.baseline').count() == 2
    assert page.locator("td.change").count() > 0
    _shot(page, "whatif-hardliners")


def test_plotted_numbers_equal_simulate(page: Any, server: tuple[str, StoredRuns],
                                        run_cli: Any) -> None:
    _open_whatif(page, server[0])
    slider = page.locator(f'input[data-lever="{CAMP}"]')
    low, high, step = (float(slider.get_attribute(a)) for a in ("min", "max", "step"))
    k = int(np.random.default_rng().integers(0, round((high - low) / step) + 1))
    before = _runs(page)
    slider.fill(str(round(low + k * step, 6)))
    _wait_run(page, before)
    value = slider.input_value()
    strategy = page.locator("#strategy-a").input_value()
    drawn = _series(page, "dialogue")[strategy]
    r = run_cli("simulate", "us-iran-2001", "--strategy", strategy, "--worlds", "256",
                "--seed", "0", "--set", f"{CAMP}={value}", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)["metrics"]["dialogue"]
    for col in ("mean", "p05", "p50", "p95"):
        assert drawn[col] == doc[col], (value, col)


def test_select_a_prim_box(page: Any, server: tuple[str, StoredRuns]) -> None:
    base, runs = server
    page.goto(f"{base}/runs/{runs.explore_id}")
    page.wait_for_selector("#tradeoff circle.selected")
    chosen = page.locator("#tradeoff circle.selected").get_attribute("data-step")
    steps = [c.get_attribute("data-step") for c in page.locator("#tradeoff circle").all()]
    target = next(s for s in reversed(steps) if s != chosen)
    _shot(page, "run-explore")
    page.locator(f'#tradeoff circle[data-step="{target}"]').click()
    page.wait_for_selector(f'#box .boxstats[data-step="{target}"]')
    assert page.locator("#tradeoff circle.selected").get_attribute("data-step") == target
    box = page.locator("#box").inner_text()
    assert "coverage" in box and "density" in box and "quasi-p" in box and "stability" in box
    assert page.locator("#parcoords svg polyline").count() > 50
    _shot(page, "run-explore-box")
    page.goto(f"{base}/runs/{runs.compare_id}")
    page.wait_for_selector("table.comparison")
    _shot(page, "run-compare")


def test_upload_a_broken_scenario_fix_it_and_run_it(page: Any,
                                                   server: tuple[str, StoredRuns]) -> None:
    text = MINI.read_text()
    broken = text.replace("title:", "titel:", 1)
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if t.startswith("titel:"))
    page.goto(server[0] + "/edit")
    page.set_input_files("#file", files=[{"name": "mine.yaml", "mimeType": "text/yaml",
                                          "buffer": broken.encode()}])
    page.wait_for_selector(f'#problems li[data-line="{line}"]')
    assert f"line {line}" in page.locator("#problems").inner_text()
    _shot(page, "edit-problems")
    page.locator(f'#problems li[data-line="{line}"]').click()
    page.locator("#yaml").fill(text)
    page.click("#check")
    page.wait_for_selector("#run-it:not([hidden])")
    page.click("#run-it")
    _wait_run(page, 0)
    assert "mini" in page.locator("#scenario").inner_text()
    assert page.locator("#charts svg").count() > 0


def test_two_browsers_at_once(browser: Any, server: tuple[str, StoredRuns]) -> None:
    """Two pages (separate contexts, as two people) run what-ifs at the same time; each gets
    its own answer and the server goes on answering."""
    base = server[0]
    contexts = [browser.new_context(viewport={"width": 1300, "height": 1000}, bypass_csp=True)
                for _ in range(2)]
    try:
        pages = [c.new_page() for c in contexts]
        for pg in pages:
            pg.goto(base + "/?worlds=64")
        for pg in pages:
            _wait_run(pg, 0)
        settings = [-1.0, 1.0]
        before = [_runs(pg) for pg in pages]
        for pg, value in zip(pages, settings, strict=True):  # both in flight together
            pg.locator(f'input[data-lever="{CAMP}"]').fill(str(value))
        for pg, n in zip(pages, before, strict=True):
            _wait_run(pg, n)
        from detente.experiments import whatif
        from detente.scenario import load_scenario
        from detente.sim import trajectory_quantiles

        sc = load_scenario("us-iran-2001")
        lever = whatif.all_levers(sc)[CAMP]
        for pg, value in zip(pages, settings, strict=True):
            strategy = pg.locator("#strategy-a").input_value()
            drawn = _series(pg, "dialogue")[strategy]
            frame = trajectory_quantiles(sc, [strategy], 64, 0, values=lever.values(value))
            g = frame[frame.metric == "dialogue"].sort_values("step")
            assert drawn["p50"] == [round(float(x), 6) for x in g["p50"]], value
        assert pages[0].request.get(base + "/api/health").json() == {"ok": True}
    finally:
        for c in contexts:
            c.close()
