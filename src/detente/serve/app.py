"""The web app of ``detente serve``: a what-if page, the stored runs, a scenario editor.

Pages are rendered on the server (Jinja2); charts are inline SVG (:mod:`detente.serve.svg`);
the one script and the one style sheet ship in the package (``static/``), so the page makes
no request anywhere but to this server. Every answer to a bad request is a 4xx with
``{"error": "one line"}`` (and ``problems`` with lines for a scenario); an unexpected
failure is a 500 with one line, and the server goes on.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import pandas as pd
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from detente.errors import InputError
from detente.experiments import whatif
from detente.experiments.budget import SEED_MAX
from detente.formatting import number, p_value, percent
from detente.metrics import binary_metrics
from detente.report.design_section import DESIGN_PREFIX
from detente.runs.directory import RUNS
from detente.serve import designs, display, explorer, svg, tasks
from detente.serve.guard import TOKEN_COOKIE, Guard, RefusedError
from detente.serve.scenarios import UPLOAD_PREFIX, Scenarios

#: Worlds one strategy of a what-if may ask for (two strategies: twice that in all).
MAX_WORLDS = whatif.MAX_WHATIF_WORLDS // 2
#: What a stored HTML report may load: its inline style sheet and data: images, nothing else.
REPORT_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
#: Metrics drawn as fan charts when the scenario declares none.
DEFAULT_CHARTS = ("rapprochement", "dialogue", "reform_share", "sanctions")


@dataclass
class ServerState:
    """What the app's requests share: where runs are, the scenarios, limits, caches."""

    root: Path
    guard: Guard
    scenarios: Scenarios
    prim: explorer.PrimCache
    tasks: tasks.Tasks


class RunRequest(BaseModel):
    """A comparison started from the page."""

    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(min_length=1, max_length=200)
    states: int = Field(default=32, ge=2, le=tasks.MAX_STATES)
    worlds: int = Field(default=32, ge=1, le=tasks.MAX_WORLDS)
    seed: int = Field(default=0, ge=0, le=SEED_MAX)


class WhatIfRequest(BaseModel):
    """A what-if: a scenario, one or two strategies, lever settings, worlds and seed."""

    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(min_length=1, max_length=200)
    strategies: list[Annotated[str, Field(max_length=100)]] = Field(min_length=1, max_length=2)
    values: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict, max_length=1000
    )
    worlds: int = Field(default=2000, ge=64, le=MAX_WORLDS)
    seed: int = Field(default=0, ge=0, le=SEED_MAX)


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("detente.serve", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = number
    env.filters["percent"] = percent
    env.filters["p_value"] = p_value
    return env


def _static(name: str) -> bytes:
    return (resources.files("detente.serve") / "static" / name).read_bytes()


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _problems(exc: InputError) -> list[dict[str, Any]]:
    return [
        {"line": p.line, "column": p.column, "path": p.path, "message": p.message,
         "text": str(p)}
        for p in exc.problems
    ]


def _validation_line(exc: RequestValidationError) -> str:
    lines = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            return f"malformed JSON: {ctx.get('error', err.get('msg'))}"
        given = err.get("input")
        shown = "" if isinstance(given, (dict, list)) or given is None else f" (got {given!r})"
        lines.append(f"{loc or 'body'}: {err.get('msg')}{shown}")
    return "; ".join(lines) or "invalid request"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def create_app(
    db: str | Path | None = None,
    guard: Guard | None = None,
) -> FastAPI:
    """The app for the runs next to ``db`` (default ``detente-out/results.duckdb``)."""
    db_path = Path(db) if db is not None else Path("detente-out") / "results.duckdb"
    if db_path.suffix != ".duckdb":  # a folder: its results.duckdb
        db_path = db_path / "results.duckdb"
    state = ServerState(
        root=db_path.parent,
        guard=guard or Guard(),
        scenarios=Scenarios(),
        prim=explorer.PrimCache(),
        tasks=tasks.Tasks(db_path.parent, db_path),
    )
    env = _templates()
    app = FastAPI(title="detente", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.detente = state

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(
            token_required=state.guard.token is not None, **context)
        return HTMLResponse(html, status_code=status)

    # -- guards -----------------------------------------------------------------------------
    @app.middleware("http")
    async def guard_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        g = state.guard
        if not g.host_allowed(request.headers.get("host", "")):
            return _error(400, "this server answers only requests addressed to 127.0.0.1 or "
                               "localhost")
        offered = (request.headers.get("x-detente-token") or request.cookies.get(TOKEN_COOKIE)
                   or request.query_params.get("token"))
        if not g.token_ok(offered):
            message = ("this server needs its access token: open the address with ?token=... "
                       "that `detente serve` printed when it started")
            if request.url.path.startswith("/api/"):
                return _error(401, message)
            return HTMLResponse(f"<!doctype html><title>detente: token needed</title>"
                                f"<p>{message}</p>", status_code=401)
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return _error(400, "Content-Length is not a number")
            if int(length) > g.limits.max_body:
                return _error(413, f"the request is {int(length):,} bytes, over the "
                                   f"{g.limits.max_body:,}-byte limit")
        response = await call_next(request)
        if request.query_params.get("token") and g.token is not None and offered == g.token:
            response.set_cookie(TOKEN_COOKIE, g.token, httponly=True, samesite="strict")
        response.headers.setdefault("Content-Security-Policy", (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'"
        ))
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def read_body(request: Request) -> bytes:
        """The body, refused (413) past the limit whatever Content-Length said."""
        limit = state.guard.limits.max_body
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RefusedError(413, f"the request is over the {limit:,}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

    @app.exception_handler(RefusedError)
    async def refused(request: Request, exc: RefusedError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return _error(400, "; ".join(str(p) for p in exc.problems), problems=_problems(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_line(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail) if exc.status_code != 404 else f"no page {request.url.path}"
        if request.url.path.startswith("/api/"):
            return _error(exc.status_code, message)
        return page("message.html.j2", title="Not found", message=message,
                    status=exc.status_code)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        return _error(500, f"internal error ({type(exc).__name__}): {exc}"[:300])

    # -- static -----------------------------------------------------------------------------
    @app.get("/static/{name}")
    def static(name: str) -> Response:
        kinds = {"app.js": "text/javascript", "app.css": "text/css", "LICENSE.txt": "text/plain"}
        if name not in kinds:
            return _error(404, f"no file {name}")
        return Response(_static(name), media_type=kinds[name],
                        headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    # -- what-if ----------------------------------------------------------------------------
    def lever_json(lever: whatif.Lever) -> dict[str, Any]:
        span = lever.high - lever.low
        return {"id": lever.id, "label": lever.label, "low": lever.low, "high": lever.high,
                "nominal": lever.nominal, "detail": lever.detail, "shift": lever.shift,
                "step": 0.01 if lever.shift else _step(span)}

    @app.get("/", response_class=HTMLResponse)
    def whatif_page(
        scenario: str | None = None,
        worlds: Annotated[int, Query(ge=64, le=MAX_WORLDS)] = 2000,
        run: Annotated[str | None, Query(max_length=130)] = None,
        a: Annotated[str | None, Query(max_length=100)] = None,
        b: Annotated[str | None, Query(max_length=100)] = None,
    ) -> HTMLResponse:
        if run:  # a design run's designs: its own scenario
            info = explorer.load_run(state.root, run).info
            scenario = state.scenarios.for_run(
                state.root / RUNS / run, str(info.get("scenario", "")),
                str(info.get("scenario_sha256", "")))
        choices = state.scenarios.choices()
        key = scenario or (choices[0][0] if choices else "")
        sc = state.scenarios.get(key)
        asked = [x for x in (a, b) if x]
        played = with_designs(sc, asked)
        sens, source = explorer.sensitivity_indices(state.root, sc.id)
        key_levers, note = whatif.key_levers(sc, sens, source)
        levers = whatif.all_levers(sc)
        strategies = [s for s in sc.strategies if s.country == _focal(sc)]
        options = [s.id for s in strategies if s.option] or [s.id for s in strategies]
        known = [s.id for s in strategies]
        designs = {d.id: _design_text(d) for d in played.designed if d.id in asked}
        unknown = [x for x in asked if x not in known and x not in designs]
        if unknown:
            raise InputError.single("strategy", f"unknown strategy {unknown[0]!r} "
                                    f"(this scenario has {', '.join(known)})")
        first = a or next((o for o in options if o != b), "")
        picked = [first, b if b is not None else next((o for o in options if o != first), "")]
        strategy_choices = [(x, x) for x in known] + [
            (d, f"{d} (designed)") for d in designs]
        setup = {
            "scenario": key,
            "levers": [lever_json(lv) for lv in key_levers],
            "all": [{"id": lv.id, "label": lv.label} for lv in levers.values()
                    if not lv.id.startswith("strategies[")],
            "allLevers": {lv.id: lever_json(lv) for lv in levers.values()},
            "strategyLevers": {s.id: [lever_json(lv) for lv in
                                      whatif.strategy_levers(sc, s.id)] for s in strategies},
            "strategies": known + list(designs),
            "designs": designs,
            "defaults": picked,
            "maxWorlds": MAX_WORLDS,
        }
        return page("whatif.html.j2", title="What-if", scenario=sc, key=key, choices=choices,
                    note=note, setup_json=json.dumps(setup), strategies=strategy_choices,
                    defaults=picked, uploaded=key.startswith(UPLOAD_PREFIX),
                    has_camps=any(lv.shift for lv in key_levers),
                    worlds=worlds, world_choices=sorted({500, 1000, 2000, 5000, 10000, worlds}),
                    active="whatif")

    @app.post("/api/whatif")
    async def whatif_api(request: Request) -> JSONResponse:
        body = await read_body(request)
        req = _parse(WhatIfRequest, body)
        return await _run_in_thread(lambda: run_whatif(req, _client(request)))

    baselines: OrderedDict[tuple[str, str, int, int], whatif.WhatIf] = OrderedDict()
    baseline_lock = threading.Lock()

    def baseline(key: str, sc: Any, strategies: list[str], worlds: int, seed: int,
                 progress: Callable[[int], None]) -> whatif.WhatIf:
        """The strategies at the best estimates (kept for the last few settings)."""
        parts: dict[str, whatif.WhatIf] = {}
        for s in strategies:
            cache_key = (key, s, worlds, seed)
            with baseline_lock:
                found = baselines.get(cache_key)
            if found is None:
                found = whatif.run_what_if(sc, [s], {}, worlds, seed, progress=progress)
                with baseline_lock:
                    baselines[cache_key] = found
                    while len(baselines) > 32:
                        baselines.popitem(last=False)
            parts[s] = found
        return whatif.WhatIf(
            quantiles=pd.concat([p.quantiles for p in parts.values()], ignore_index=True),
            summaries={s: p.summaries[s] for s, p in parts.items()},
            values={}, worlds=worlds, seed=seed, seconds=0.0,
            outcomes=pd.concat([p.outcomes for p in parts.values()], ignore_index=True),
        )

    def with_designs(sc: Any, names: list[str]) -> Any:
        """``sc`` with the designed strategies ``names`` asks for (``design-<run>:<k>``), read
        from their design runs' ``pareto.csv`` next to the database (as ``compare`` does)."""
        from detente.design.job import designed_strategies

        return designed_strategies(sc, [n for n in names if n.startswith(DESIGN_PREFIX)],
                                   state.root)

    def run_whatif(req: WhatIfRequest, client: str) -> JSONResponse:
        sc = with_designs(state.scenarios.get(req.scenario), req.strategies)
        known = {s.id for s in sc.strategies} | {d.id for d in sc.designed}
        unknown = [s for s in req.strategies if s not in known]
        if unknown:
            raise InputError.single("strategies", f"unknown strategy {unknown[0]!r} "
                                    f"(this scenario has {', '.join(sorted(known))})")
        strategies = list(dict.fromkeys(req.strategies))
        values = whatif.check_settings(whatif.all_levers(sc), req.values)
        state.guard.admit_run(client)
        with state.guard.slot():
            deadline = state.guard.deadline()
            result = whatif.run_what_if(sc, strategies, values, req.worlds, req.seed,
                                        progress=deadline)
            base = (baseline(req.scenario, sc, strategies, req.worlds, req.seed, deadline)
                    if values else None)
        charts = _charts(sc, result, strategies, base)
        table = env.get_template("outcomes.html.j2").render(
            rows=_outcome_rows(result, strategies, base), strategies=strategies,
            colours=svg.PALETTE, moved=bool(values))
        return JSONResponse({
            "charts": charts, "table": table, "seconds": round(result.seconds, 3),
            "worlds": result.worlds, "seed": result.seed, "strategies": strategies,
            "values": result.values,
        })

    # -- stored runs ------------------------------------------------------------------------
    @app.get("/runs", response_class=HTMLResponse)
    def runs_page() -> HTMLResponse:
        return page("runs.html.j2", title="Stored runs", runs=explorer.list_runs(state.root),
                    root=state.root, active="runs", choices=state.scenarios.choices(),
                    max_states=tasks.MAX_STATES, max_worlds=tasks.MAX_WORLDS)

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(run_id: str) -> HTMLResponse:
        run = explorer.load_run(state.root, run_id)
        if run.kind == "design":
            view = designs.design_view(state.root, run_id, run.scenario)
            return page("design.html.j2", title=f"Design run {run_id}", run=run,
                        info=run.info, d=view, report=run.report_path is not None,
                        active="runs")
        strategy, outcome, include, why = explorer.default_question(run)
        if not outcome:
            outcome, why = explorer.suggested_condition(run)
        rows = explorer.comparison_rows(run)
        units = {m.id: m.unit for m in run.scenario.metrics}
        table = _comparison_table(rows, units, display.never_values(run.scenario))
        names = []
        means = run.summaries
        if means is not None:
            names = [str(s) for s in dict.fromkeys(means["strategy"])]
        sens = run.sensitivity
        return page("run.html.j2", title=f"Run {run_id}", run=run, info=run.info,
                    report=run.report_path is not None,
                    table=table, strategies=names, strategy=strategy or (names or [""])[0],
                    outcome=outcome or "", why=why, include=include,
                    sensitivity=None if sens is None else sens.head(20).to_dict("records"),
                    active="runs")

    @app.get("/runs/{run_id}/report")
    def report_page(run_id: str) -> Response:
        html = explorer.report_html(state.root, run_id)
        if html is None:
            return page("message.html.j2", title="No report", status=404,
                        message=f"run {run_id} has no HTML report yet; build one with "
                                f"`detente report {state.root} --run {run_id}`")
        # the stored report is one self-contained file: its own inline style sheet and
        # data: images, no script; it may load nothing else
        return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_POLICY})

    @app.post("/api/tasks")
    async def start_task(request: Request) -> JSONResponse:
        body = await read_body(request)
        req = _parse(RunRequest, body)
        sc = state.scenarios.get(req.scenario)
        state.guard.admit_run(_client(request))
        text = state.scenarios.text(req.scenario)
        task = state.tasks.start(req.scenario, req.scenario, req.states, req.worlds, req.seed,
                                 _client(request), text=text)
        return JSONResponse({**task.view(), "title": sc.title}, status_code=202)

    @app.get("/api/tasks/{task_id}")
    def task_api(task_id: str) -> JSONResponse:
        return JSONResponse(state.tasks.get(task_id).view())

    @app.delete("/api/tasks/{task_id}")
    def cancel_task(task_id: str) -> JSONResponse:
        return JSONResponse(state.tasks.cancel(task_id).view())

    @app.get("/api/runs")
    def runs_api() -> JSONResponse:
        return JSONResponse({"runs": explorer.list_runs(state.root)})

    @app.get("/api/runs/{run_id}/prim")
    async def prim_api(
        run_id: str,
        strategy: Annotated[str | None, Query(max_length=100)] = None,
        outcome: Annotated[str | None, Query(max_length=300)] = None,
        step: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    ) -> JSONResponse:
        return await _run_in_thread(lambda: prim_answer(run_id, strategy, outcome, step))

    def prim_answer(run_id: str, strategy: str | None, outcome: str | None,
                    step: int | None) -> JSONResponse:
        run = explorer.load_run(state.root, run_id)
        with state.guard.slot():
            setup = state.prim.get(run, strategy, outcome)
            chosen = setup.chosen if step is None else step
            box = explorer.box_at(setup, chosen)
        restricted = [r["uncertainty"] for r in box["restrictions"]]
        others = [str(c) for c in setup.x.columns if c not in restricted]
        axes = (restricted + others)[: max(8, len(restricted))][:14]
        html = env.get_template("box.html.j2").render(box=box, setup=setup)
        return JSONResponse({
            "step": chosen,
            "box": box,
            "strategy": setup.strategy,
            "outcome": setup.outcome,
            "tradeoff": svg.tradeoff_chart(setup.trajectory, setup.chosen, chosen),
            "boxHtml": html,
            "parcoords": svg.parallel_coordinates(
                setup.x, setup.y, setup.bounds, np.asarray(box["limits"]), axes=axes),
        })

    # -- scenario editor --------------------------------------------------------------------
    @app.get("/edit", response_class=HTMLResponse)
    def edit_page(scenario: str | None = None) -> HTMLResponse:
        text = ""
        if scenario:
            text = state.scenarios.text(scenario) or ""
            if not text:
                from detente.scenario import scenario_source

                state.scenarios.get(scenario)  # refuses an unknown name
                text = scenario_source(scenario).read_text(encoding="utf-8")
        return page("edit.html.j2", title="Scenario editor", text=text,
                    choices=state.scenarios.choices(), active="edit",
                    max_body=state.guard.limits.max_body)

    @app.post("/api/scenarios")
    async def upload_api(request: Request) -> JSONResponse:
        body = await read_body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "the file is not UTF-8 text")
        if not text.strip():
            return _error(400, "the scenario is empty")
        try:
            key, sc = await _run_in_thread(lambda: state.scenarios.check(text))
        except InputError as exc:
            return _error(422, f"{len(exc.problems)} problem(s) in the scenario",
                          problems=_problems(exc))
        return JSONResponse({"ok": True, "key": key, "id": sc.id, "title": sc.title,
                             "whatif": f"/?scenario={key}"})

    @app.get("/api/health")
    def health() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.get("/help", response_class=HTMLResponse)
    def help_page() -> RedirectResponse:
        return RedirectResponse("/")

    return app


_Model = TypeVar("_Model", bound=BaseModel)


def _parse(model: type[_Model], body: bytes) -> _Model:
    """A JSON body as ``model``; a bad one becomes a 422 with one line."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


async def _run_in_thread(func: Callable[[], Any]) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func)


def _focal(sc: Any) -> str | None:
    options = [s.country for s in sc.strategies if s.option]
    return options[0] if options else (sc.strategies[0].country if sc.strategies else None)


def _design_text(d: Any) -> str:
    """What a designed strategy plays: its base strategy and the levers it fixes."""
    fixed = ", ".join(f"{k} = {number(v)}" for k, v in d.params.items())
    return f"{d.description or d.id}: {d.strategy} with {fixed}"


def _step(span: float) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    return float(10 ** math.floor(math.log10(span / 100)))


def _charts(sc: Any, result: whatif.WhatIf, strategies: list[str],
            base: whatif.WhatIf | None = None) -> str:
    frame = result.quantiles
    reported = set(frame.metric)
    declared = [m for m in sc.metrics if m.id in reported]
    units = {m.id: m.unit for m in sc.metrics}
    names = [m.id for m in declared] or [m for m in DEFAULT_CHARTS if m in reported]
    shares = binary_metrics()
    out = []
    for m in names:
        share = m in shares or units.get(m) in ("0/1", "share of worlds")
        unit = units.get(m) or ""
        title = f"{m} ({'% of worlds' if share else unit})" if (share or unit) else m
        out.append(svg.fan_chart(frame, m, strategies, title=title, share=share,
                                 baseline=None if base is None else base.quantiles))
    return "".join(out)


def _change(now: float, then: float, unit: str) -> str:
    """The change of a mean from the best estimates, signed (percentage points for shares)."""
    diff = now - then
    if abs(diff) < 1e-12:
        return "±0"
    if unit in ("0/1",):
        return f"{diff * 100:+.1f} pp"
    text = number(diff)
    return text if text.startswith("-") else "+" + text


def _outcome_rows(result: whatif.WhatIf, strategies: list[str],
                  base: whatif.WhatIf | None = None) -> list[dict[str, Any]]:
    table = result.outcomes
    before: dict[tuple[str, str], float] | None = None
    if base is not None:
        o = base.outcomes
        before = {(str(s), str(m)): float(v)
                  for s, m, v in zip(o["strategy"], o["outcome"], o["mean"], strict=True)}
    rows = []
    for outcome, g in table.groupby("outcome", sort=False):
        cells: list[dict[str, str] | None] = []
        for s in strategies:
            r = g[g.strategy == s]
            if not len(r):
                cells.append(None)
                continue
            row = r.iloc[0]
            unit = str(row["unit"])
            change = ""
            if before is not None and (s, str(outcome)) in before:
                change = _change(float(row["mean"]), before[(s, str(outcome))], unit)
            never = _never(row)
            share_never = row.get("share_never", math.nan)
            cells.append({
                "change": change,
                "mean": display.value_text(row["mean"], unit, never),
                "interval": "" if unit in ("0/1",) else display.interval_text(
                    row["p05"], row["p95"], None, never),
                "share": "" if math.isnan(row["share_meeting"]) else percent(row["share_meeting"]),
                "never": f"never in {display.share_text(share_never)} of worlds"
                if never is not None and 0 < share_never < 1 else "",
            })
        first = g.iloc[0]
        never_first = _never(first)
        threshold = first["threshold"]
        goal = ""
        if first["direction"] != "info" and threshold is not None and not (
            isinstance(threshold, float) and math.isnan(threshold)
        ):
            goal = (">= " if first["direction"] == "maximize" else "<= ") + number(threshold)
        rows.append({"outcome": outcome, "direction": first["direction"], "goal": goal,
                     "unit": first["unit"], "cells": cells,
                     "never_note": "" if never_first is None else display.never_note(never_first)})
    return rows


def _never(row: Any) -> float | None:
    """The row's "never" value (``horizon + 1``) when its outcome is a time-to metric."""
    never = row.get("never")
    if never is None or (isinstance(never, float) and math.isnan(never)):
        return None
    return float(never)


def _comparison_table(rows: list[dict[str, Any]], units: Mapping[str, str | None],
                      nevers: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    order = list(dict.fromkeys(str(r.get("outcome")) for r in rows))
    rows = sorted(rows, key=lambda r: (order.index(str(r.get("outcome"))),
                                       r.get("rank") is None, r.get("rank") or 0))
    out = []
    for r in rows:
        unit = units.get(str(r.get("outcome")))
        never = (nevers or {}).get(str(r.get("outcome")))
        if r.get("rank") is not None:
            r = {**r, "rank": int(r["rank"])}
        out.append({
            **r,
            "mean_text": display.value_text(r.get("mean"), unit, never),
            "interval_text": display.interval_text(r.get("lo"), r.get("hi"), unit, never),
            "lead_text": "" if r.get("lead") is None else (
                f"{number(r.get('lead'))} [{number(r.get('lead_lo'))}, "
                f"{number(r.get('lead_hi'))}]"),
        })
    return out


__all__ = ["MAX_WORLDS", "WhatIfRequest", "create_app"]
