// detente serve: the page's only script (no library, no request beyond this server).
"use strict";

function $(sel, root) { return (root || document).querySelector(sel); }
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function fmt(v) {
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (v === 0) return "0";
  return String(Number(v.toPrecision(3)));
}
async function api(url, options) {
  const res = await fetch(url, options);
  let body = null;
  try { body = await res.json(); } catch (e) { body = { error: res.status + " " + res.statusText }; }
  if (!res.ok) { const err = new Error(body.error || res.statusText); err.body = body; err.status = res.status; throw err; }
  return body;
}

// ---- what-if ----------------------------------------------------------------------------
function whatIf() {
  const setup = JSON.parse($("#setup").textContent);
  const settings = {};          // lever id -> value (only those moved or shown)
  let timer = null, seq = 0;

  function slider(lever, box, removable) {
    const wrap = el("div", { class: "lever", "data-lever": lever.id });
    const head = el("div", { class: "lever-head" });
    head.append(el("span", { class: "lever-label", title: lever.id }, lever.label));
    const out = el("output", { class: "lever-value" });
    head.append(out);
    if (removable) {
      const x = el("button", { type: "button", class: "remove", title: "remove" }, "×");
      x.addEventListener("click", () => { delete settings[lever.id]; wrap.remove(); schedule(0); });
      head.append(x);
    }
    const input = el("input", { type: "range", min: lever.low, max: lever.high, step: lever.step,
                                value: lever.nominal, "aria-label": lever.label, "data-lever": lever.id });
    const ends = el("div", { class: "ends small" });
    ends.append(el("span", {}, lever.shift ? "lower (−1)" : fmt(lever.low)));
    ends.append(el("span", {}, lever.shift ? "best estimate (0)" : "best estimate " + fmt(lever.nominal)));
    ends.append(el("span", {}, lever.shift ? "higher (+1)" : fmt(lever.high)));
    const show = () => {
      const v = Number(input.value);
      out.textContent = (lever.shift ? (v > 0 ? "+" : "") : "") + fmt(v) + (v === lever.nominal ? " (best estimate)" : "");
    };
    input.addEventListener("input", () => { settings[lever.id] = Number(input.value); show(); schedule(350); });
    input.addEventListener("change", () => { settings[lever.id] = Number(input.value); show(); schedule(0); });
    show();
    wrap.append(head, input, ends);
    if (lever.detail) wrap.append(el("p", { class: "detail small" }, lever.detail));
    box.append(wrap);
  }

  setup.levers.forEach(l => slider(l, $("#levers"), false));
  const list = $("#lever-list");
  setup.all.forEach(l => list.append(el("option", { value: l.id }, l.label !== l.id ? l.label : "")));
  $("#lever-search").addEventListener("change", e => {
    const lever = setup.allLevers[e.target.value];
    if (!lever) return;
    if (!$(`.lever[data-lever="${CSS.escape(lever.id)}"]`)) slider(lever, $("#levers"), true);
    e.target.value = "";
  });

  function strategyLevers() {
    const box = $("#strategy-levers");
    box.textContent = "";
    const chosen = [$("#strategy-a").value, $("#strategy-b").value].filter(Boolean);
    let any = false;
    for (const s of new Set(chosen)) {
      if ((setup.designs || {})[s]) { box.append(el("p", { class: "small design-note" }, setup.designs[s])); any = true; }
      for (const l of setup.strategyLevers[s] || []) { slider(l, box, false); any = true; if (l.id in settings) box.lastChild.querySelector("input").value = settings[l.id]; }
    }
    if (!any) box.append(el("p", { class: "small" }, "The chosen strategies have no uncertain settings."));
  }
  strategyLevers();

  function schedule(ms) { clearTimeout(timer); timer = setTimeout(run, ms); }

  async function run() {
    const mine = ++seq;
    const strategies = [$("#strategy-a").value, $("#strategy-b").value].filter(Boolean);
    const values = {};
    for (const input of document.querySelectorAll("input[type=range][data-lever]")) {
      const id = input.dataset.lever;
      if (id in settings) values[id] = Number(input.value);
    }
    const body = { scenario: setup.scenario, strategies: [...new Set(strategies)], values,
                   worlds: Number($("#worlds").value), seed: Number($("#seed").value || 0) };
    $("#status").textContent = "Simulating " + body.worlds.toLocaleString("en") + " worlds…";
    document.body.classList.add("busy");
    try {
      const r = await api("/api/whatif", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (mine !== seq) return;
      $("#error").hidden = true;
      $("#charts").innerHTML = r.charts;
      $("#table").innerHTML = r.table;
      $("#legend").textContent = "";
      r.strategies.forEach((s, i) => { $("#legend").append(el("span", { class: "swatch", "data-n": String(i) }), document.createTextNode(s + "   ")); });
      const moved = Object.keys(body.values).length;
      $("#status").textContent = moved ? `${moved} uncertaint${moved === 1 ? "y" : "ies"} moved from the best estimate` : "All uncertainties at their best estimates";
      $("#timing").textContent = `${r.worlds.toLocaleString("en")} worlds per strategy, seed ${r.seed}, ${r.seconds.toFixed(2)} s`;
      document.body.dataset.runs = String(Number(document.body.dataset.runs || 0) + 1);
    } catch (err) {
      if (mine !== seq) return;
      $("#error").hidden = false;
      $("#error").textContent = err.message;
      $("#status").textContent = "Not run";
    } finally {
      if (mine === seq) document.body.classList.remove("busy");
    }
  }

  $("#scenario").addEventListener("change", e => { location.href = "/?scenario=" + encodeURIComponent(e.target.value); });
  for (const id of ["#strategy-a", "#strategy-b"]) $(id).addEventListener("change", () => { strategyLevers(); schedule(0); });
  for (const id of ["#worlds", "#seed"]) $(id).addEventListener("change", () => schedule(0));
  $("#reset").addEventListener("click", () => {
    for (const k of Object.keys(settings)) delete settings[k];
    for (const input of document.querySelectorAll("input[type=range][data-lever]")) { input.value = input.getAttribute("value"); input.dispatchEvent(new Event("input")); delete settings[input.dataset.lever]; }
    schedule(0);
  });
  $("#whatif").addEventListener("submit", e => { e.preventDefault(); schedule(0); });
  run();
}

// ---- a stored run: PRIM -------------------------------------------------------------------
function primPage() {
  const form = $("#prim-form");
  if (!form) return;
  const runId = form.dataset.run;
  async function load(step) {
    const params = new URLSearchParams({ strategy: $("#prim-strategy").value, outcome: $("#prim-outcome").value });
    if (step !== undefined) params.set("step", step);
    document.body.classList.add("busy");
    try {
      const r = await api(`/api/runs/${encodeURIComponent(runId)}/prim?` + params);
      $("#prim-error").hidden = true;
      $("#tradeoff").innerHTML = r.tradeoff;
      $("#box").innerHTML = r.boxHtml;
      $("#parcoords").innerHTML = r.parcoords;
      for (const c of document.querySelectorAll("#tradeoff circle[data-step]")) {
        c.addEventListener("click", () => load(Number(c.dataset.step)));
        c.addEventListener("keydown", e => { if (e.key === "Enter" || e.key === " ") load(Number(c.dataset.step)); });
      }
    } catch (err) {
      $("#prim-error").hidden = false;
      $("#prim-error").textContent = err.message;
    } finally { document.body.classList.remove("busy"); }
  }
  form.addEventListener("submit", e => { e.preventDefault(); load(); });
  if ($("#prim-outcome").value.trim()) load();
  else { $("#prim-error").hidden = false; $("#prim-error").textContent = "Type a condition on the outcomes above (e.g. one of the scenario's goals) and press Find boxes."; }
}

// ---- long runs ---------------------------------------------------------------------------
function taskPanel() {
  const form = $("#task-form");
  if (!form) return;
  let current = null, timer = null;
  async function poll() {
    try {
      const t = await api("/api/tasks/" + current);
      $("#task-progress").max = Math.max(1, t.total);
      $("#task-progress").value = t.done;
      const share = t.total ? Math.round(100 * t.done / t.total) : 0;
      $("#task-status").textContent = t.status === "running"
        ? `running: ${share}% of ${t.total || "?"} chunks, ${t.seconds} s`
        : `${t.status}: ${t.message}`;
      document.body.dataset.task = t.status;
      if (t.status === "running") { timer = setTimeout(poll, 400); return; }
      $("#task-cancel").hidden = true;
      $("#task-start").disabled = false;
      if (t.run_id) { const a = $("#task-open"); a.href = "/runs/" + t.run_id; a.hidden = false; }
    } catch (err) { $("#task-status").textContent = err.message; $("#task-start").disabled = false; }
  }
  form.addEventListener("submit", async e => {
    e.preventDefault();
    clearTimeout(timer);
    const body = { scenario: $("#task-scenario").value, states: Number($("#task-states").value),
                   worlds: Number($("#task-worlds").value), seed: Number($("#task-seed").value || 0) };
    $("#task").hidden = false; $("#task-open").hidden = true; $("#task-cancel").hidden = false;
    try {
      const t = await api("/api/tasks", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      current = t.id; $("#task-start").disabled = true; document.body.dataset.task = "running"; poll();
    } catch (err) { $("#task-status").textContent = err.message; $("#task-cancel").hidden = true; }
  });
  $("#task-cancel").addEventListener("click", async () => {
    if (current) { try { await api("/api/tasks/" + current, { method: "DELETE" }); } catch (err) { $("#task-status").textContent = err.message; } }
  });
}

// ---- the scenario editor ------------------------------------------------------------------
function editor() {
  const area = $("#yaml"), gutter = $("#gutter");
  let bad = new Set();
  function lines() {
    const n = area.value.split("\n").length;
    let s = "";
    for (let i = 1; i <= n; i++) s += (bad.has(i) ? "▶" : " ") + String(i).padStart(5) + "\n";
    gutter.textContent = s;
    gutter.scrollTop = area.scrollTop;
  }
  area.addEventListener("input", lines);
  area.addEventListener("scroll", () => { gutter.scrollTop = area.scrollTop; });
  function goto(line) {
    const parts = area.value.split("\n");
    let start = 0;
    for (let i = 0; i < line - 1 && i < parts.length; i++) start += parts[i].length + 1;
    area.focus();
    area.setSelectionRange(start, start + (parts[line - 1] || "").length);
    const lh = parseFloat(getComputedStyle(area).lineHeight) || 16;
    area.scrollTop = Math.max(0, (line - 5) * lh);
    gutter.scrollTop = area.scrollTop;
  }
  async function check() {
    const text = area.value;
    const max = Number(area.dataset.max);
    $("#problems").textContent = "";
    $("#run-it").hidden = true;
    bad = new Set();
    if (new Blob([text]).size > max) { $("#edit-status").textContent = `The scenario is larger than ${max.toLocaleString("en")} bytes; the server refuses it.`; return; }
    $("#edit-status").textContent = "Checking…";
    try {
      const r = await api("/api/scenarios", { method: "POST", headers: { "Content-Type": "text/yaml" }, body: text });
      $("#edit-status").textContent = `No problems: scenario “${r.id}” (${r.title}) is ready.`;
      const a = $("#run-it"); a.href = r.whatif; a.hidden = false;
    } catch (err) {
      const problems = (err.body && err.body.problems) || [];
      $("#edit-status").textContent = problems.length ? `${problems.length} problem${problems.length === 1 ? "" : "s"} to fix:` : err.message;
      for (const p of problems) {
        const where = p.line ? `line ${p.line}${p.column ? ", column " + p.column : ""}` : "whole file";
        const li = el("li", { "data-line": p.line || "" });
        li.append(el("b", {}, where), document.createTextNode(": " + (p.path ? p.path + ": " : "") + p.message));
        if (p.line) { bad.add(p.line); li.addEventListener("click", () => goto(p.line)); li.classList.add("jump"); }
        $("#problems").append(li);
      }
    }
    lines();
  }
  $("#check").addEventListener("click", check);
  $("#file").addEventListener("change", e => {
    const f = e.target.files[0];
    if (!f) return;
    const max = Number(area.dataset.max);
    if (f.size > max) { $("#edit-status").textContent = `${f.name} is ${f.size.toLocaleString("en")} bytes, over the ${max.toLocaleString("en")}-byte limit.`; return; }
    const reader = new FileReader();
    reader.onload = () => { area.value = reader.result; lines(); check(); };
    reader.readAsText(f);
  });
  $("#start-from").addEventListener("change", e => { if (e.target.value) location.href = "/edit?scenario=" + encodeURIComponent(e.target.value); });
  lines();
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "whatif") whatIf();
  if (page === "runs") { primPage(); taskPanel(); }
  if (page === "edit") editor();
});
