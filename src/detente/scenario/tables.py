"""Loaders that turn actor tables on disk into :class:`ActorTable` objects.

Three file formats and one in-memory source produce the same thing, one table per issue:

- plain CSV with the header ``actor,capability,position,salience`` (optional columns
  ``issue`` to hold several issues in one file, and ``low``/``high`` for the scale);
- KTAB's CSV (KAPSARC Toolkit for Behavioral Analysis): line 1 ``scenario, description,
  nActors, nDims``, line 2 ``Actor, Description, Power, Pos1, Sal1, ...``; one table per
  dimension; trailing commas and spaces are tolerated;
- the DEU III TSV (EU legislative decisions; see the data README): one table per issue with
  the reference point ``rp``, the outcome ``out`` and the proposal id, voting rule and
  procedure in ``meta``;
- a :class:`~detente.scenario.schema.Scenario` (:func:`tables_from_scenario`).

Bad input never raises a traceback: every problem of a file (missing columns, non-numeric
or non-finite cells, negative capability or salience, positions off the scale, empty,
binary or oversized files) becomes one :class:`~detente.errors.InputProblem` with file,
line and column name, and all of them are raised together in one
:class:`~detente.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from detente.errors import InputError, InputProblem
from detente.scenario.builtins import builtin_path
from detente.scenario.numbers import nominal
from detente.scenario.schema import Scenario, issue_positions
from detente.scenario.table import MAX_MAGNITUDE, ActorTable
from detente.scenario.textfile import read_bounded

MAX_BYTES = 20_000_000
"""Largest table file accepted (20 MB); bigger files are rejected rather than read."""

PLAIN_COLUMNS = ("actor", "capability", "position", "salience")
DEU_ACTORS = (
    "com", "ep", "at", "be", "bu", "cr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "el", "hu",
    "ie", "it", "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "si", "sk", "es", "se", "uk",
)  # fmt: skip
"""Actor codes of the DEU III position (``p<code>``) and salience (``s<code>``) columns."""


# ---------------------------------------------------------------------------------------
# Reading text safely
# ---------------------------------------------------------------------------------------


def read_table_text(path: Path) -> str:
    """Read a table file as text, or raise InputError (missing, empty, binary, too large)."""
    src = str(path)
    raw = read_bounded(path, MAX_BYTES)
    if b"\x00" in raw[:65536]:
        raise InputError.single(
            src, "file looks binary (contains NUL bytes); expected a text table"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if not text.strip():
        raise InputError.single(src, "file is empty; expected a header line and actor rows")
    return text


def csv_rows(text: str, src: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """Split CSV/TSV text into (line number, cells), whatever its line endings.

    LF, CRLF and CR-only endings are all line ends (a CR inside a quoted cell stays in the
    cell). A cell longer than :func:`csv.field_size_limit` or text the csv module cannot
    read raises InputError naming the file and line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = (
                f"a cell is longer than {csv.field_size_limit():,} characters; "
                "expected short cells (a name or a number)"
            )
        else:
            message = f"cannot read this line as CSV ({message})"
        raise InputError.single(src, message, line=max(reader.line_num, 1)) from None
    return rows


@dataclass
class _Problems:
    """Collects problems of one file; raises them all at once."""

    source: str
    items: list[InputProblem] = field(default_factory=list)

    def add(self, message: str, line: int | None = None, column: str | None = None) -> None:
        self.items.append(InputProblem(self.source, message, line=line, path=column))

    def number(self, cell: str, line: int, column: str, *, missing_ok: bool = False) -> float:
        """Parse a cell as a finite float; record a problem and return NaN otherwise."""
        text = cell.strip().strip('"').strip()
        if text == "":
            if not missing_ok:
                self.add("empty cell; expected a number", line, column)
            return math.nan
        try:
            value = float(text)
        except ValueError:
            self.add(f"expected a number, found {text[:30]!r}", line, column)
            return math.nan
        if not math.isfinite(value):
            self.add(f"expected a finite number, found {text!r}", line, column)
            return math.nan
        if abs(value) > MAX_MAGNITUDE:
            self.add(
                f"{text[:30]} is too large; expected a magnitude of at most {MAX_MAGNITUDE:g} "
                "(rescale the column)",
                line,
                column,
            )
            return math.nan
        return value

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


def _check_rows(
    probs: _Problems,
    rows: Sequence[tuple[int, str, float, float, float]],
    columns: tuple[str, str, str],
    scale: tuple[float, float] | None,
) -> None:
    """Negative capability/salience and positions off the scale, one problem each."""
    cap_col, pos_col, sal_col = columns
    for line, _, cap, pos, sal in rows:
        if cap < 0:
            probs.add(f"capability must be >= 0, found {cap:g}", line, cap_col)
        if sal < 0:
            probs.add(f"salience must be >= 0, found {sal:g}", line, sal_col)
        if scale is not None and math.isfinite(pos) and not scale[0] <= pos <= scale[1]:
            probs.add(
                f"position {pos:g} lies outside the scale [{scale[0]:g}, {scale[1]:g}]",
                line,
                pos_col,
            )


def _table(
    issue: str,
    rows: Sequence[tuple[int, str, float, float, float]],
    scale: tuple[float, float],
    source: str,
    **extra: object,
) -> ActorTable:
    return ActorTable(
        source=source,
        issue=issue,
        actors=tuple(r[1] for r in rows),
        capability=np.array([r[2] for r in rows], dtype=np.float64),
        position=np.array([r[3] for r in rows], dtype=np.float64),
        salience=np.array([r[4] for r in rows], dtype=np.float64),
        scale=scale,
        **extra,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------
# Plain CSV
# ---------------------------------------------------------------------------------------


def load_actor_csv(path: str | Path, scale: tuple[float, float] | None = None) -> list[ActorTable]:
    """Load a plain actor table ``actor,capability,position,salience``.

    Parameters
    ----------
    path : str or Path
        The CSV file. Header names are matched case-insensitively; an optional ``issue``
        column splits the rows into several tables (in order of first appearance), and
        optional ``low``/``high`` columns give the issue's scale.
    scale : (float, float), optional
        The issue's bounds. Default: from ``low``/``high`` columns when present, else
        0-100 when every position lies inside it, else the range of the positions.

    Returns
    -------
    list of ActorTable
        One table per issue (a single ``"issue"`` table when there is no issue column).
    """
    path = Path(path)
    src = str(path)
    text = read_table_text(path)
    probs = _Problems(src)
    lines = csv_rows(text, src)
    header = [h.strip().lower() for h in lines[0][1]]
    missing = [c for c in PLAIN_COLUMNS if c not in header]
    if missing:
        probs.add(
            f"missing column(s) {', '.join(missing)}; expected a header "
            f"{','.join(PLAIN_COLUMNS)} (optional: issue, low, high)",
            1,
        )
        probs.raise_if_any()
    idx = {name: header.index(name) for name in header}
    by_issue: dict[str, list[tuple[int, str, float, float, float]]] = {}
    bounds: dict[str, tuple[float, float]] = {}
    for line, cells in lines[1:]:
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        actor = cells[idx["actor"]].strip()
        if not actor:
            probs.add("empty actor name", line, "actor")
        values = [probs.number(cells[idx[c]], line, c) for c in PLAIN_COLUMNS[1:]]
        issue = cells[idx["issue"]].strip() if "issue" in idx else "issue"
        by_issue.setdefault(issue or "issue", []).append((line, actor, *values))  # type: ignore[arg-type]
        if "low" in idx and "high" in idx:
            lo = probs.number(cells[idx["low"]], line, "low")
            hi = probs.number(cells[idx["high"]], line, "high")
            if math.isfinite(lo) and math.isfinite(hi):
                if lo >= hi:
                    probs.add(f"low ({lo:g}) must be below high ({hi:g})", line, "low")
                bounds.setdefault(issue or "issue", (lo, hi))
    if not by_issue:
        probs.add("no actor rows after the header", 2)
    tables: list[ActorTable] = []
    for issue, rows in by_issue.items():
        positions = [r[3] for r in rows if math.isfinite(r[3])]
        sc = scale or bounds.get(issue)
        if sc is None:
            inside = all(0.0 <= p <= 100.0 for p in positions)
            sc = (0.0, 100.0) if inside or not positions else (min(positions), max(positions))
        _check_rows(probs, rows, ("capability", "position", "salience"), sc)
        if not probs.items:
            tables.append(_table(issue, rows, sc if sc[0] < sc[1] else (sc[0], sc[0] + 1.0), src))
    probs.raise_if_any()
    return tables


# ---------------------------------------------------------------------------------------
# KTAB CSV
# ---------------------------------------------------------------------------------------


def _ktab_rows(text: str, src: str) -> list[tuple[int, list[str]]]:
    """Split KTAB text into (line number, stripped cells) with trailing empty cells dropped."""
    out = []
    for number, raw in csv_rows(text, src):
        cells = [c.strip() for c in raw]
        while cells and cells[-1] == "":
            cells.pop()
        if cells:
            out.append((number, cells))
    return out


def is_ktab(text: str) -> bool:
    """True when ``text`` has KTAB's shape: line 1 ends with two integers, line 2 starts 'Actor'."""
    try:
        rows = _ktab_rows("\n".join(text.splitlines()[:2]), "")
    except InputError:
        return False
    if len(rows) < 2 or len(rows[0][1]) < 4:
        return False
    first, second = rows[0][1], rows[1][1]
    try:
        int(first[2])
        int(first[3])
    except ValueError:
        return False
    return second[0].lower() == "actor"


def load_ktab(path: str | Path) -> list[ActorTable]:
    """Load a KTAB spatial-model CSV: one :class:`ActorTable` per dimension, scale 0-100.

    Power (capability) is shared across dimensions; each dimension has its own position and
    salience column pair. Dimension names come from the position header with a trailing
    ``Position`` removed (``"XYZ Position"`` -> ``"XYZ"``). ``meta`` carries the scenario
    name and description from line 1.
    """
    path = Path(path)
    src = str(path)
    text = read_table_text(path)
    probs = _Problems(src)
    rows = _ktab_rows(text, src)
    if len(rows) < 2 or not is_ktab(text):
        probs.add(
            "not a KTAB file: expected line 1 'scenario, description, nActors, nDims' and "
            "line 2 'Actor, Description, Power, Pos1, Sal1, ...'",
            1,
        )
        probs.raise_if_any()
    (_, first), (hline, header) = rows[0], rows[1]
    n_actors, n_dims = int(first[2]), int(first[3])
    if n_dims < 1:
        probs.add(f"nDims is {n_dims}; expected at least 1", 1)
    want = 3 + 2 * n_dims
    if len(header) < want:
        probs.add(
            f"header has {len(header)} columns; {n_dims} dimension(s) need {want} "
            "(Actor, Description, Power, then position and salience per dimension)",
            hline,
        )
    probs.raise_if_any()
    dims = []
    for d in range(n_dims):
        name = header[3 + 2 * d]
        for suffix in (" position", "position"):
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)].strip()
                break
        dims.append(name or f"dim{d + 1}")
    per_dim: list[list[tuple[int, str, float, float, float]]] = [[] for _ in range(n_dims)]
    body = rows[2:]
    for line, cells in body:
        if len(cells) < want:
            probs.add(f"row has {len(cells)} cells; expected {want}", line)
            continue
        actor = cells[0]
        cap = probs.number(cells[2], line, header[2])
        for d in range(n_dims):
            pos = probs.number(cells[3 + 2 * d], line, header[3 + 2 * d])
            sal = probs.number(cells[4 + 2 * d], line, header[4 + 2 * d])
            per_dim[d].append((line, actor, cap, pos, sal))
    if len(body) != n_actors:
        probs.add(f"line 1 announces {n_actors} actors but {len(body)} actor rows follow", 1)
    for d in range(n_dims):
        cols = (header[2], header[3 + 2 * d], header[4 + 2 * d])
        _check_rows(probs, per_dim[d], cols, (0.0, 100.0))
    probs.raise_if_any()
    meta = {"scenario": first[0], "description": first[1]}
    return [_table(dims[d], per_dim[d], (0.0, 100.0), src, meta=meta) for d in range(n_dims)]


# ---------------------------------------------------------------------------------------
# DEU III TSV
# ---------------------------------------------------------------------------------------

DEU_ID_COLUMNS = ("prnr", "isnr", "counvte", "proc", "rp", "out")


def load_deu(path: str | Path, capability: Literal["equal", "gdp"] = "equal") -> list[ActorTable]:
    """Load the DEU III issues: one :class:`ActorTable` per issue (scale 0-100).

    Parameters
    ----------
    path : str or Path
        The TSV described in the data README (header, a GDP line, one line per issue).
    capability : {"equal", "gdp"}
        ``"equal"`` (default) gives every actor capability 1, so the compromise model is the
        salience-weighted mean used in the literature; ``"gdp"`` uses line 2's GDP figures
        (as prepared upstream, the Commission and Parliament carry the largest member's
        figure; a blank GDP cell gets the mean of the others).

    Returns
    -------
    list of ActorTable
        Every issue, in file order. Actors take part when both their position and their
        salience are given. ``reference`` is ``rp`` and ``outcome`` is ``out`` (None when
        blank); ``meta`` holds ``proposal`` (prnr), ``issue`` (isnr), ``voting`` (QMV/Unan),
        ``procedure`` (COD/CNS) and ``name`` (prname).
    """
    path = Path(path)
    src = str(path)
    text = read_table_text(path)
    probs = _Problems(src)
    lines = csv_rows(text, src, delimiter="\t")
    header = [h.strip() for h in lines[0][1]]
    needed = [*DEU_ID_COLUMNS, *(f"p{a}" for a in DEU_ACTORS), *(f"s{a}" for a in DEU_ACTORS)]
    missing = [c for c in needed if c not in header]
    if missing:
        probs.add(
            f"missing DEU column(s) {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}", 1
        )
        probs.raise_if_any()
    col = {name: header.index(name) for name in needed}
    if len(lines) < 2:
        probs.add("missing line 2 (GDP per actor) and issue lines", 2)
        probs.raise_if_any()
    gdp_cells = lines[1][1]
    gdp = np.ones(len(DEU_ACTORS))
    if capability == "gdp":
        cells = gdp_cells + [""] * (len(header) - len(gdp_cells))
        vals = [probs.number(cells[col[f"p{a}"]], 2, f"p{a}", missing_ok=True) for a in DEU_ACTORS]
        arr = np.array(vals, dtype=np.float64)
        fill = float(np.nanmean(arr)) if np.isfinite(arr).any() else 1.0
        gdp = np.where(np.isfinite(arr), arr, fill)
    tables: list[ActorTable] = []
    for line, cells in lines[2:]:
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        rows = []
        for k, a in enumerate(DEU_ACTORS):
            pos = probs.number(cells[col[f"p{a}"]], line, f"p{a}", missing_ok=True)
            sal = probs.number(cells[col[f"s{a}"]], line, f"s{a}", missing_ok=True)
            if math.isfinite(pos) and math.isfinite(sal):
                rows.append((line, a, float(gdp[k]), pos, sal))
        _check_rows(probs, rows, ("capability", "p<actor>", "s<actor>"), (0.0, 100.0))
        rp = probs.number(cells[col["rp"]], line, "rp", missing_ok=True)
        out = probs.number(cells[col["out"]], line, "out", missing_ok=True)
        for name, v in (("rp", rp), ("out", out)):
            if math.isfinite(v) and not 0.0 <= v <= 100.0:
                probs.add(f"{name} {v:g} lies outside the scale [0, 100]", line, name)
        meta = {
            "proposal": cells[col["prnr"]].strip(),
            "issue": cells[col["isnr"]].strip(),
            "voting": cells[col["counvte"]].strip(),
            "procedure": cells[col["proc"]].strip(),
            "name": cells[header.index("prname")].strip() if "prname" in header else "",
            "line": str(line),
        }
        issue_id = meta["issue"] or f"line{line}"
        tables.append(
            _table(
                issue_id,
                rows,
                (0.0, 100.0),
                src,
                reference=rp if math.isfinite(rp) else None,
                outcome=out if math.isfinite(out) else None,
                meta=meta,
            )
        )
    if not tables and not probs.items:
        probs.add("no issue lines after the GDP line", 3)
    probs.raise_if_any()
    return tables


# ---------------------------------------------------------------------------------------
# Scenarios and dispatch
# ---------------------------------------------------------------------------------------


def tables_from_scenario(scenario: Scenario, source: str = "") -> list[ActorTable]:
    """One table per scenario issue: nominal clout, position and salience of the actors taking part.

    Actors without a position on an issue do not take part; a missing salience counts as 50
    (see :func:`~detente.scenario.schema.issue_positions`). The issue's nominal status quo
    becomes the table's reference point. ``source`` (the scenario's file) is carried by every
    table so later problems name it.
    """
    tables = []
    for issue in scenario.issues:
        rows = issue_positions(scenario, issue.id)
        sq = issue.status_quo
        tables.append(
            ActorTable(
                issue=issue.id,
                actors=tuple(a.id for a, _, _ in rows),
                capability=np.array([nominal(a.clout) for a, _, _ in rows], dtype=np.float64),
                position=np.array([p for _, p, _ in rows], dtype=np.float64),
                salience=np.array([s for _, _, s in rows], dtype=np.float64),
                scale=(issue.low, issue.high),
                reference=nominal(sq) if sq is not None else None,
                meta={"scenario": scenario.id, "name": issue.name, "unit": issue.unit},
                source=source or f"<scenario {scenario.id}>",
            )
        )
    return tables


def load_tables(
    path_or_name: str | Path, salience_scale: SalienceScale = "auto"
) -> list[ActorTable]:
    """Load actor tables from a scenario name or file, a KTAB CSV, a DEU TSV or a plain CSV.

    Dispatch is by content, not by extension alone: YAML/JSON files and built-in scenario
    names go through the scenario loader; a file whose first header cell is ``prnrnmc`` is
    DEU III; a file with KTAB's two-line header is KTAB; anything else is read as a plain
    ``actor,capability,position,salience`` CSV. Saliences are then put on the 0-100 scale
    the models expect (see :func:`on_percent_scale`).
    """
    from detente.scenario import load_scenario, scenario_source

    text_name = str(path_or_name)
    path = Path(text_name)
    if not path.exists() and builtin_path(text_name) is not None:
        found = scenario_source(text_name)
        tables = tables_from_scenario(load_scenario(found), str(found))
    elif not path.exists():
        load_scenario(text_name)  # raises a helpful InputError (did-you-mean, built-ins)
        tables = []
    elif path.suffix.lower() in (".yaml", ".yml", ".json"):
        tables = tables_from_scenario(load_scenario(path), str(path))
    else:
        text = read_table_text(path)
        if text.lstrip('"').startswith("prnrnmc"):
            tables = load_deu(path)
        elif is_ktab(text):
            tables = load_ktab(path)
        else:
            tables = load_actor_csv(path)
    return on_percent_scale(tables, salience_scale)


# ---------------------------------------------------------------------------------------
# Salience scale
# ---------------------------------------------------------------------------------------

SalienceScale = Literal["auto", "unit", "percent"]
"""How saliences are read: ``unit`` 0-1, ``percent`` 0-100, ``auto`` 0-1 when all are <= 1."""

SALIENCE_READING = "salience_scale"
"""``meta`` key recording how a table's saliences were read (``"0-1"`` or ``"0-100"``)."""

DETECTED = "salience_scale_detected"
"""``meta`` key set to ``"yes"`` when ``auto`` chose the 0-1 reading."""


def on_percent_scale(tables: list[ActorTable], scale: SalienceScale) -> list[ActorTable]:
    """Put the saliences of one file's tables on 0-100, recording the reading in ``meta``.

    Only the expected-utility model depends on the salience scale (it reads a salience of
    100 as "always resists"); the weighted models are invariant to it. Files such as the
    emission-standards example of the public Python replication write saliences as 0-1,
    which read as 0-100 would make every actor a hundred times too yielding. With
    ``"auto"`` a file whose saliences are all at most 1 (and not all zero) is read as 0-1
    and multiplied by 100; ``"unit"`` and ``"percent"`` force either reading.
    """
    if not tables:
        return tables
    if scale == "auto":
        top = max((float(np.max(t.salience)) for t in tables if t.n), default=0.0)
        unit = 0.0 < top <= 1.0
    else:
        unit = scale == "unit"
    reading = "0-1" if unit else "0-100"
    extra = {SALIENCE_READING: reading}
    if unit and scale == "auto":
        extra[DETECTED] = "yes"
    return [
        replace(
            t,
            salience=t.salience * 100.0 if unit else t.salience,
            meta={**t.meta, **extra},
        )
        for t in tables
    ]


def salience_note(tables: Sequence[ActorTable]) -> str | None:
    """One line saying the 0-1 reading was chosen automatically, or None when it was not."""
    detected = [t for t in tables if t.meta.get(DETECTED) == "yes"]
    if not detected:
        return None
    return (
        f"{detected[0].source or 'input'}: every salience is at most 1, so saliences were read "
        "on a 0-1 scale (multiplied by 100); pass --salience-scale percent to read them as "
        "0-100"
    )


__all__ = [
    "load_actor_csv",
    "load_deu",
    "load_ktab",
    "load_tables",
    "on_percent_scale",
    "read_table_text",
    "salience_note",
    "tables_from_scenario",
]
