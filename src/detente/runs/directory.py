"""The run directory: every artifact of one run, stored under the run's id.

Layout under an output root (default ``detente-out/``)::

    detente-out/
      results.duckdb        the results store (all runs, keyed by run id)
      latest                one line: the id of the newest run written here
      report.html           a copy of the newest ``detente run`` report
      runs/<run_id>/
        run.json            what the run was and found (settings, timings, discovery, ...)
        scenario.yaml       the scenario's exact text (its SHA-256 is in run.json)
        comparison.csv, drivers.csv, summary.md, parameters.csv, state_means.csv,
        trajectories.csv, prim_trajectory.csv, prim_box.csv, sensitivity.csv
                            the tables the job produced (each only when it produced it)
        report.html         the run's HTML report

Guarantees
----------
- A run's artifacts are written together into a hidden staging folder that is renamed to
  ``runs/<run_id>/`` only when all of them are complete, so a crash or an interrupt never
  leaves a half-written run; ``latest`` and ``report.html`` are written under a temporary
  name and renamed.
- Runs never overwrite each other: a run id hashes everything that determines the numbers
  (see :mod:`detente.experiments.runner`), so only the same run written again replaces its
  own folder.
- ``latest`` is a plain file, not a symbolic link, so it works on every file system.

Readers (the report, :func:`detente.open_run`) only read; the experiment jobs
(:mod:`detente.experiments.jobs`) are the only writers of a run's tables.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from detente.errors import InputError, did_you_mean
from detente.fileio import check_output_dir, check_path_length, os_error, write_text_atomic

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_ROOT = Path("detente-out")
DB_NAME = "results.duckdb"
RUNS = "runs"
LATEST = "latest"
RUN_JSON = "run.json"
SCENARIO_YAML = "scenario.yaml"
REPORT_HTML = "report.html"

Artifact: TypeAlias = "str | pd.DataFrame | Mapping[str, Any]"
"""What a run stores: text (``.md``, ``.yaml``, ``.html``), a table (``.csv``) or JSON."""


def dumps(payload: Mapping[str, Any]) -> str:
    """JSON text of a payload (no NaN: the text is strict JSON)."""
    return json.dumps(payload, indent=2, allow_nan=False, default=str) + "\n"


def _serialise(name: str, artifact: Artifact) -> str:
    import pandas as pd

    if isinstance(artifact, pd.DataFrame):
        index = artifact.index.name is not None
        return str(artifact.to_csv(index=index))
    if isinstance(artifact, str):
        return artifact
    return dumps(artifact)


class RunDir:
    """One run's folder: writes its artifacts once, reads them back by name.

    Parameters
    ----------
    path : Path
        ``<root>/runs/<run_id>``.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def run_id(self) -> str:
        """The run's id (the folder's name)."""
        return self.path.name

    @property
    def root(self) -> Path:
        """The output root holding ``runs/``, ``latest`` and the results store."""
        return self.path.parent.parent

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # -- writing -------------------------------------------------------------------------
    @classmethod
    def write(cls, root: Path, run_id: str, artifacts: Mapping[str, Artifact]) -> RunDir:
        """Store a finished run's artifacts (file name -> content) and point ``latest`` at it.

        All files are written into a staging folder that is renamed to ``runs/<run_id>``
        when complete. A run id hashes everything that determines the numbers, so a folder
        that already holds this id holds the same numbers: its files that this write does
        not produce (a ``run``'s trajectories and report, when a ``compare`` with the same
        settings follows it) are kept, and ``run.json`` keeps the keys the new one lacks.
        Nothing is lost; what both have comes from the newer write.
        """
        runs = check_output_dir(Path(root) / RUNS)
        final = runs / run_id
        stage = runs / f".{run_id}.tmp{os.getpid()}"
        old = runs / f".{run_id}.old{os.getpid()}"
        try:
            if stage.exists():
                shutil.rmtree(stage)
            stage.mkdir(parents=True)
            for name, artifact in artifacts.items():
                if name == RUN_JSON and isinstance(artifact, Mapping) and final.is_dir():
                    artifact = {**cls(final).stored_info(), **artifact}
                (stage / name).write_text(
                    _serialise(name, artifact), encoding="utf-8", newline="\n"
                )
            if final.is_dir():
                for kept in final.iterdir():
                    if kept.is_file() and not (stage / kept.name).exists():
                        shutil.copy2(kept, stage / kept.name)
            if final.exists():
                final.rename(old)
            stage.rename(final)
        except OSError as exc:
            raise os_error(final, "write the run directory", exc) from None
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)
        write_text_atomic(Path(root) / LATEST, run_id + "\n")
        return cls(final)

    def write_report(self, html: str, out: Path | None = None) -> Path:
        """Write the run's HTML report (default ``report.html`` in the run's folder)."""
        return write_text_atomic(out if out is not None else self.path / REPORT_HTML, html)

    def publish_report(self) -> Path:
        """Copy the run's report to ``<root>/report.html`` (the newest ``detente run``)."""
        html = (self.path / REPORT_HTML).read_text(encoding="utf-8")
        return write_text_atomic(self.root / REPORT_HTML, html)

    # -- reading -------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        """True when the run stored the artifact ``name`` (a file name such as ``drivers.csv``)."""
        return (self.path / name).is_file()

    def text(self, name: str) -> str | None:
        """The artifact's text, or None when the run has none."""
        path = self.path / name
        if not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError.single(str(path), f"cannot read the run's file: {exc}") from None

    def table(self, name: str, index: str | None = None) -> pd.DataFrame | None:
        """A CSV artifact as a DataFrame (``index``: the column to index by), or None."""
        path = self.path / name
        if not path.is_file():
            return None
        import pandas as pd

        try:
            frame = pd.read_csv(path, index_col=index)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise InputError.single(str(path), f"cannot read the CSV file: {exc}") from None
        if index is not None:
            frame.index = frame.index.astype("int64")
        return frame

    def stored_info(self) -> dict[str, Any]:
        """``run.json`` when it is readable, else an empty mapping (for merging into)."""
        try:
            return self.info()
        except InputError:
            return {}

    def info(self) -> dict[str, Any]:
        """``run.json``: the run's settings and what it found."""
        text = self.text(RUN_JSON)
        path = self.path / RUN_JSON
        if text is None:
            raise InputError.single(str(self.path), f"not a run directory: it holds no {RUN_JSON}")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError.single(str(path), f"cannot read the JSON file: {exc}") from None
        if not isinstance(data, dict):
            raise InputError.single(str(path), "expected a JSON object describing the run")
        return data


# ---------------------------------------------------------------------------------------
# finding a run
# ---------------------------------------------------------------------------------------


def run_ids(root: Path) -> list[str]:
    """Ids of the runs stored under ``root``, newest first."""
    runs = Path(root) / RUNS
    if not runs.is_dir():
        return []
    found = [p for p in runs.iterdir() if not p.name.startswith(".") and (p / RUN_JSON).is_file()]
    found.sort(key=lambda p: ((p / RUN_JSON).stat().st_mtime, p.name), reverse=True)
    return [p.name for p in found]


def latest_id(root: Path) -> str | None:
    """The run ``<root>/latest`` names, else the newest run folder, else None."""
    ids = run_ids(root)
    pointer = Path(root) / LATEST
    if pointer.is_file():
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            name = ""
        if name in ids:
            return name
    return ids[0] if ids else None


def _pick(root: Path, wanted: str | None, source: str) -> RunDir:
    ids = run_ids(root)
    if not ids:
        raise InputError.single(source, f"holds no runs (no {RUNS}/<run id>/{RUN_JSON})")
    if wanted is None:
        return RunDir(Path(root) / RUNS / (latest_id(root) or ids[0]))
    if wanted in ids:
        return RunDir(Path(root) / RUNS / wanted)
    matches = [r for r in ids if r.startswith(wanted)]
    if len(matches) == 1:
        return RunDir(Path(root) / RUNS / matches[0])
    what = "is ambiguous" if matches else "is not a run here"
    raise InputError.single(
        source,
        f"run {wanted!r} {what}{did_you_mean(wanted, ids)}; "
        f"runs: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}",
    )


def find_run(target: str | Path | None = None, run_id: str | None = None) -> RunDir:
    """The run a user names.

    Parameters
    ----------
    target : path or str, optional
        An output root (holding ``runs/``; default ``detente-out``), one run's folder
        (``detente-out/runs/<id>``), a results store file (``.duckdb``: its folder is the
        root), or a run id (or a unique prefix of one) under ``detente-out/``.
    run_id : str, optional
        The run within the root (a unique prefix is enough); default: the latest.

    Raises
    ------
    InputError
        One line saying what the target is and what was expected.
    """
    if target is None:
        if not DEFAULT_ROOT.is_dir():
            raise InputError.single(
                str(DEFAULT_ROOT),
                "no such folder: no run has been stored here yet (run 'detente run' first, "
                "or name an output folder)",
            )
        target = DEFAULT_ROOT
    path = Path(target)
    source = str(target)
    check_path_length(path)
    if path.is_file() and path.suffix == ".duckdb":
        return _pick(path.parent, run_id, str(path.parent))
    if path.is_dir():
        if (path / RUN_JSON).is_file():
            if run_id is not None and not path.name.startswith(run_id):
                raise InputError.single(
                    source, f"is the folder of run {path.name!r}, not of run {run_id!r}"
                )
            return RunDir(path)
        if (path / RUNS).is_dir():
            return _pick(path, run_id, source)
        if (path / DB_NAME).is_file():
            raise InputError.single(
                source,
                f"not a run directory: it holds {DB_NAME} but no {RUNS}/ folder (written by "
                "an older detente?); rerun the experiment to store its run",
            )
        raise InputError.single(
            source,
            f"not a run directory: it holds no {RUNS}/ folder; "
            "expected the output directory of 'detente run' (default detente-out/)",
        )
    if path.exists():
        raise InputError.single(
            source,
            "not a run directory or a results database; "
            "expected the output directory of 'detente run'",
        )
    if run_id is None and (DEFAULT_ROOT / RUNS).is_dir() and os.sep not in source:
        return _pick(DEFAULT_ROOT, source, source)
    raise InputError.single(
        source,
        f"no such run directory, and no runs in {DEFAULT_ROOT}/ to look the name up as a run id",
    )
