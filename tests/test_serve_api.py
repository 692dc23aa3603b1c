"""``detente serve``'s HTTP answers: pages, the what-if, PRIM boxes, uploads, and bad requests.

Every bad request gets a 4xx with one line and the server goes on answering; numbers the
page draws are those of :func:`detente.sim.trajectory_quantiles` (``detente simulate``).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente.experiments import whatif
from detente.formatting import number
from detente.runs.scenario_text import scenario_from_text
from detente.scenario import load_scenario
from detente.sim import trajectory_quantiles
from serve_fixtures import StoredRuns, make_design, make_runs

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note on httpx versions
    from fastapi.testclient import TestClient

from detente.serve.app import create_app
from detente.serve.guard import Guard, Limits

MINI = Path(__file__).parent / "data" / "mini-system.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> StoredRuns:
    return make_runs(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="module")
def client(runs: StoredRuns) -> TestClient:
    return TestClient(create_app(runs.db), raise_server_exceptions=False)


def _upload(client: TestClient, text: str) -> str:
    r = client.post("/api/scenarios", content=text.encode())
    assert r.status_code == 200, r.text
    return str(r.json()["key"])


def _local_only(html: str) -> None:
    for ref in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert ref.startswith(("/", "#", "?")), ref


def test_pages_load_and_refer_only_to_this_server(client: TestClient, runs: StoredRuns) -> None:
    for url in ("/", "/runs", f"/runs/{runs.explore_id}", f"/runs/{runs.compare_id}", "/edit",
                "/edit?scenario=us-iran-2001"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        _local_only(r.text)
        assert "default-src 'self'" in r.headers["content-security-policy"]
    setup = json.loads(re.search(r'id="setup">(.*?)</script>', client.get("/").text,
                                 re.S).group(1))  # type: ignore[union-attr]
    assert len(set(setup["defaults"])) == 2  # two options side by side
    assert runs.explore_id in client.get("/runs").text
    assert "expected value" in client.get(f"/runs/{runs.compare_id}").text
    assert client.get("/runs/nothing-here").status_code == 400
    assert client.get("/runs/..%2F..%2Fetc").status_code in (400, 404)
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")


def test_whatif_draws_the_numbers_of_simulate(client: TestClient) -> None:
    key = _upload(client, MINI.read_text())
    sc = load_scenario(MINI)
    lever = whatif.key_levers(sc)[0][0]
    setting = float(np.random.default_rng().uniform(lever.low, lever.high))
    r = client.post("/api/whatif", json={"scenario": key, "strategies": ["engage", "wait"],
                                          "values": {lever.id: setting}, "worlds": 256,
                                          "seed": 4})
    assert r.status_code == 200, r.text
    doc = r.json()
    frame = trajectory_quantiles(sc, ["engage", "wait"], 256, 4, values=lever.values(setting))
    series = re.findall(r'data-metric="([^"]+)".*?data-strategy="([^"]+)" data-series=\'([^\']+)\'',
                        doc["charts"])
    assert series
    for metric, strategy, text in series:
        drawn = json.loads(text)
        g = frame[(frame.metric == metric) & (frame.strategy == strategy)].sort_values("step")
        for col in ("mean", "p05", "p50", "p95"):
            assert drawn[col] == [round(float(x), 6) for x in g[col]], (metric, col)
    assert "rapprochement" in doc["table"] and doc["seconds"] > 0


@pytest.fixture(scope="module")
def design_id(runs: StoredRuns) -> str:
    return make_design(runs.db.parent)


def test_design_run_page_shows_the_stored_front(client: TestClient, runs: StoredRuns,
                                                design_id: str) -> None:
    folder = runs.db.parent / "runs" / design_id
    pareto = pd.read_csv(folder / "pareto.csv")
    fresh = pd.read_csv(folder / "fresh.csv")
    dominance = pd.read_csv(folder / "dominance.csv")
    info = json.loads((folder / "run.json").read_text())
    assert f'href="/runs/{design_id}"' in client.get("/runs").text
    r = client.get(f"/runs/{design_id}")
    assert r.status_code == 200, r.text[:300]
    html = r.text
    _local_only(html)
    # one table row and one solid line per design, one dashed line per fixed option
    assert len(re.findall(r'<tr data-design="\d+">', html)) == len(pareto)
    assert len(re.findall(r'<polyline class="design" data-design=', html)) == len(pareto)
    options = re.findall(r'<polyline class="option" data-option="([^"]+)"', html)
    assert options == info["fixed"]
    fresh_table = html.split('<table class="fresh">')[1].split("</table>")[0]
    assert fresh_table.count("<tr") - 1 == len(fresh)
    verdicts = html.split('<table class="verdicts">')[1].split("</table>")[0]
    for status in dominance["status"]:
        assert status in verdicts
    for lever in (lv[0] for lv in info["levers"]):
        assert f'<th class="lever-col">{lever}</th>' in html
    k = int(np.random.default_rng().integers(len(pareto)))
    row = html.split(f'<tr data-design="{k}">')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num lever-col">([^<]*)</td>', row) == [
        number(pareto.loc[k, lv[0]]) for lv in info["levers"]]


def test_a_design_plays_in_the_whatif(client: TestClient, runs: StoredRuns,
                                      design_id: str) -> None:
    from detente.scenario.schema import DesignedStrategy

    folder = runs.db.parent / "runs" / design_id
    pareto = pd.read_csv(folder / "pareto.csv")
    k = int(np.random.default_rng().integers(len(pareto)))
    name = f"design-{design_id}:{k}"
    html = client.get(f"/runs/{design_id}").text
    row = html.split(f'<tr data-design="{k}">')[1].split("</tr>")[0]
    link = re.search(r'class="whatif-a" href="([^"]+)"', row)
    assert link is not None
    page = client.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200, page.text[:300]
    assert re.search(rf'<option value="{re.escape(name)}" selected>', page.text)
    setup = json.loads(re.search(r'<script type="application/json" id="setup">(.*?)</script>',
                                 page.text, re.S).group(1))  # type: ignore[union-attr]
    assert setup["defaults"] == [name, "engage"] and "threshold" in setup["designs"][name]
    r = client.post("/api/whatif", json={"scenario": setup["scenario"],
                                          "strategies": [name, "engage"], "worlds": 128,
                                          "seed": 3})
    assert r.status_code == 200, r.text
    # the design is the stored strategy with its row's levers, played by the real engine
    sc = scenario_from_text((folder / "scenario.yaml").read_text(), "mini-design.yaml")
    params = {p: float(pareto.loc[k, p]) for p in ("step", "threshold")}
    played = sc.model_copy(update={"designed": [DesignedStrategy(
        id=name, strategy="engage", params=params)]})
    frame = trajectory_quantiles(played, [name], 128, 3)
    drawn = re.search(rf'data-metric="dialogue".*?data-strategy="{re.escape(name)}" '
                      r"data-series='([^']+)'", r.json()["charts"])
    assert drawn is not None
    g = frame[(frame.metric == "dialogue") & (frame.strategy == name)].sort_values("step")
    assert json.loads(drawn.group(1))["p50"] == [round(float(x), 6) for x in g["p50"]]
    for bad in (f"design-{design_id}:{len(pareto)}", "design-des-000000000000:0"):
        r = client.post("/api/whatif", json={"scenario": setup["scenario"],
                                              "strategies": [bad], "worlds": 128})
        assert r.status_code == 400 and "designed strategy" in r.json()["error"]


def test_a_run_links_to_its_stored_report(client: TestClient, runs: StoredRuns) -> None:
    folder = runs.db.parent / "runs" / runs.compare_id
    marker = f"report {np.random.default_rng().integers(1 << 30)}"
    (folder / "report.html").write_text(f"<!doctype html><style>p{{}}</style><p>{marker}</p>")
    try:
        page = client.get(f"/runs/{runs.compare_id}").text
        assert f'href="/runs/{runs.compare_id}/report"' in page
        assert f'href="/runs/{runs.compare_id}/report"' in client.get("/runs").text
        r = client.get(f"/runs/{runs.compare_id}/report")
        assert r.status_code == 200 and marker in r.text
        policy = r.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
    finally:
        (folder / "report.html").unlink()
    assert "/report" not in client.get(f"/runs/{runs.explore_id}").text
    assert client.get(f"/runs/{runs.explore_id}/report").status_code == 404
    assert client.get("/runs/..%2Fx/report").status_code in (400, 404)


def test_a_time_that_never_came_reads_never(client: TestClient) -> None:
    from detente.serve import display

    text = MINI.read_text().replace(
        "metrics:\n", "metrics:\n  - {id: time_to_reciprocation, direction: minimize}\n", 1)
    key = _upload(client, text)
    sc = load_scenario(MINI)
    never = sc.calendar.horizon + 1
    result = whatif.run_what_if(sc, ["engage"], {}, 128, 2)
    ttr = np.asarray(result.summaries["engage"]["time_to_reciprocation"])
    r = client.post("/api/whatif", json={"scenario": key, "strategies": ["engage"],
                                          "worlds": 128, "seed": 2})
    assert r.status_code == 200, r.text
    row = re.search(r'<tr data-outcome="time_to_reciprocation">(.*?)</tr>', r.json()["table"],
                    re.S)
    assert row is not None
    cells = row.group(1)
    share = float(np.mean(ttr == never))
    if 0 < share < 1:
        assert f"never in {display.share_text(share)} of worlds" in cells
    if share == 1:
        assert ">never<" in cells  # the mean itself
    assert f">{never}<" not in cells and f"{never}]" not in cells
    # the rule itself, on values a test draws
    mixed = float(np.random.default_rng().integers(1, never))
    assert display.interval_text(mixed, never, None, never) == f"[{mixed:g}, never]"
    assert display.value_text(never - 0.5, None, never) == f"{never - 0.5:g}"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("{", 422, "malformed JSON"),
        ("[]", 422, "object"),
        ('{"scenario": "nope", "strategies": ["x"]}', 400, "unknown scenario"),
        ('{"scenario": "us-iran-2001", "strategies": ["nope"]}', 400, "unknown strategy"),
        ('{"scenario": "us-iran-2001", "strategies": ["containment"], "worlds": 100000000}',
         422, "less than or equal"),
        ('{"scenario": "us-iran-2001", "strategies": ["containment"], "worlds": -3}',
         422, "greater than or equal"),
        ('{"scenario": "us-iran-2001", "strategies": ["containment"], '
         '"values": {"parameters.perception_bias_iran": 7}}', 400, "outside its range"),
        ('{"scenario": "us-iran-2001", "strategies": ["containment"], '
         '"values": {"parameters.perception_bias_iran": NaN}}', 422, "finite"),
        ('{"scenario": "us-iran-2001", "strategies": ["containment"], "seed": -1}',
         422, "seed"),
        ('{"scenario": "us-iran-2001", "strategies": ["a", "b", "c"]}', 422, "strategies"),
        ('{"scenario": "us-iran-2001", "strategies": ["containment"], "extra": 1}',
         422, "extra"),
    ],
)
def test_bad_whatif_requests_get_one_clear_line(client: TestClient, body: str, status: int,
                                                words: str) -> None:
    r = client.post("/api/whatif", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert words.lower() in r.json()["error"].lower()
    assert "\n" not in r.json()["error"] and "Traceback" not in r.text
    assert client.get("/api/health").json() == {"ok": True}


def test_uploads_bombs_and_big_files_are_refused(client: TestClient) -> None:
    broken = MINI.read_text().replace("title:", "titel:", 1)
    r = client.post("/api/scenarios", content=broken.encode())
    assert r.status_code == 422
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if t.startswith("titel:"))
    assert any(p["line"] == line for p in r.json()["problems"]), r.json()
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{k}: &{k} [" + ", ".join([f"*{p}"] * 9) + "]\n"
        for p, k in zip("abcdef", "bcdefg", strict=True)
    )
    r = client.post("/api/scenarios", content=bomb.encode())
    assert r.status_code == 422 and "alias" in r.json()["problems"][0]["message"]
    big = b"x" * 10_000_000
    assert client.post("/api/scenarios", content=big).status_code == 413

    def stream():  # no Content-Length: the limit still holds while reading
        for _ in range(10):
            yield b"y" * 1_000_000

    assert client.post("/api/scenarios", content=stream()).status_code == 413
    assert client.post("/api/scenarios", content=b"\xff\xfe bad").status_code == 400
    assert client.post("/api/scenarios", content=b"   ").status_code == 400
    assert client.get("/api/health").status_code == 200


def test_prim_boxes_match_the_stored_run(client: TestClient, runs: StoredRuns) -> None:
    from detente.runs.run import open_run

    run = open_run(runs.db.parent, runs.explore_id)
    r = client.get(f"/api/runs/{runs.explore_id}/prim")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["step"] == run.info["selected_step"]
    stored = run.prim_box
    assert stored is not None
    got = pd.DataFrame(doc["box"]["restrictions"])
    assert list(got["uncertainty"]) == list(stored["uncertainty"])
    for col in ("low", "high", "quasi_p", "stability"):
        np.testing.assert_allclose(got[col], stored[col], rtol=1e-6)
    last = len(run.prim_trajectory) - 1  # type: ignore[arg-type]
    other = client.get(f"/api/runs/{runs.explore_id}/prim", params={"step": last}).json()
    assert other["box"]["step"] == last and other["step"] == last
    assert f'data-step="{last}"' in other["tradeoff"]
    for params, words in (({"step": 10_000}, "outside the trajectory"),
                          ({"outcome": "rapprochement > 100"}, "holds in 0"),
                          ({"outcome": "__import__('os')"}, ""),
                          ({"strategy": "nope"}, "not in this run")):
        r = client.get(f"/api/runs/{runs.explore_id}/prim", params=params)
        assert r.status_code == 400, (params, r.text)
        assert words in r.json()["error"]


def test_compare_run_explores_its_discovery(client: TestClient, runs: StoredRuns) -> None:
    r = client.get(f"/api/runs/{runs.compare_id}/prim",
                   params={"strategy": "engagement", "outcome": "rapprochement > 0.4"})
    assert r.status_code == 200, r.text
    assert "<svg" in r.json()["parcoords"]


def test_public_server_needs_the_token_and_limits_runs(runs: StoredRuns) -> None:
    guard = Guard(limits=Limits(runs_per_minute=2), public=True)
    client = TestClient(create_app(runs.db, guard))
    assert guard.token
    assert client.get("/").status_code == 401
    assert client.post("/api/whatif", json={}).status_code == 401
    assert client.get("/", params={"token": "wrong"}).status_code == 401
    ok = client.get("/", params={"token": guard.token})
    assert ok.status_code == 200 and client.cookies.get("detente_token") == guard.token
    key = _upload(client, MINI.read_text())
    body = {"scenario": key, "strategies": ["wait"], "worlds": 64}
    codes = [client.post("/api/whatif", json=body).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_loopback_server_refuses_other_host_names(client: TestClient) -> None:
    r = client.get("/", headers={"host": "attacker.example"})
    assert r.status_code == 400 and "127.0.0.1" in r.json()["error"]
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_time_and_concurrency_limits(runs: StoredRuns) -> None:
    guard = Guard(limits=Limits(run_seconds=0.0, wait_seconds=0.05, concurrent=1))
    client = TestClient(create_app(runs.db, guard))
    body = {"scenario": "us-iran-2001", "strategies": ["containment"], "worlds": 2048}
    r = client.post("/api/whatif", json=body)
    assert r.status_code == 408 and "fewer worlds" in r.json()["error"]
    with guard.slot():
        r = client.post("/api/whatif", json=body)
    assert r.status_code == 503 and "busy" in r.json()["error"]
    assert client.get("/api/health").status_code == 200


def test_serve_refuses_bad_ports(run_cli) -> None:  # type: ignore[no-untyped-def]
    import socket

    r = run_cli("serve", "--port", "70000")
    assert r.exit_code == 2 and "--port" in r.stderr and "Traceback" not in r.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run_cli("serve", "--port", str(port))
    assert r.exit_code == 2 and "in use" in r.stderr


def _wait_task(client: TestClient, task_id: str, seconds: float = 60) -> dict:  # type: ignore[type-arg]
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        doc = client.get(f"/api/tasks/{task_id}").json()
        if doc["status"] != "running":
            return doc  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} still running")


def test_long_run_progress_cancel_and_resume(runs: StoredRuns, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML
    from detente.store.duckdb import ResultStore

    monkeypatch.setenv("DETENTE_MODEL", "detente.experiments.testing:slow_synthetic_model")
    monkeypatch.setenv("DETENTE_TEST_MODEL_DELAY", "0.02")
    db = tmp_path / "out" / "results.duckdb"
    client = TestClient(create_app(db))
    key = _upload(client, SYNTHETIC_SCENARIO_YAML)
    body = {"scenario": key, "states": 40, "worlds": 8, "seed": 1}
    r = client.post("/api/tasks", json=body)
    assert r.status_code == 202, r.text
    task = r.json()["id"]
    assert client.post("/api/tasks", json=body).status_code == 429  # one at a time
    import time

    while (now := client.get(f"/api/tasks/{task}").json())["done"] < 3:
        assert now["status"] == "running", now
        time.sleep(0.02)
    client.delete(f"/api/tasks/{task}")
    doc = _wait_task(client, task)
    assert doc["status"] == "cancelled" and 0 < doc["done"] < doc["total"]
    assert "stored" in doc["message"]
    stored = ResultStore(db)
    runs_in_db = stored.runs()
    assert len(runs_in_db) == 1
    kept = len(stored.done_chunks(str(runs_in_db["run_id"].iloc[0])))
    assert kept >= doc["done"]  # nothing finished was lost
    again = client.post("/api/tasks", json=body).json()["id"]
    done = _wait_task(client, again)
    assert done["status"] == "done", done
    assert done["total"] <= 3 * 40 - kept  # the stored chunks were not run again
    assert client.get(f"/runs/{done['run_id']}").status_code == 200
    for bad, words in (({"scenario": key, "states": 10_000}, "less than or equal"),
                       ({"scenario": "nope"}, "unknown scenario")):
        r = client.post("/api/tasks", json=bad)
        assert r.status_code in (400, 422) and words in r.json()["error"]
    assert client.get("/api/tasks/nope").status_code == 400
