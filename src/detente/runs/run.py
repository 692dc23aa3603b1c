"""A stored run, read-only, as pandas objects: what :func:`detente.open_run` returns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from detente.errors import InputError
from detente.runs.directory import REPORT_HTML, RUN_JSON, SCENARIO_YAML, RunDir, find_run
from detente.runs.scenario_text import scenario_from_text, text_sha256
from detente.scenario.schema import DesignedStrategy, Scenario

if TYPE_CHECKING:
    import pandas as pd

RESULT_KEYS = frozenset(
    {"comparison", "drivers", "summary", "trajectory", "box", "indices", "discovery"}
)
"""Keys of ``run.json`` that hold results rather than settings."""


class Run:
    """One run's stored results (nothing is recomputed, nothing is written).

    Every table is read from the run's folder when asked for; a table the run did not
    produce is ``None`` (e.g. ``sensitivity`` of a comparison, ``trajectories`` of a run made
    with another model).

    Parameters
    ----------
    directory : RunDir
        The run's folder; use :func:`open_run` to find it.
    """

    def __init__(self, directory: RunDir) -> None:
        self.directory = directory
        self._info = directory.info()

    def __repr__(self) -> str:
        return f"Run({self.run_id!r}, kind={self.kind!r}, path={str(self.path)!r})"

    @property
    def path(self) -> Path:
        """The run's folder."""
        return self.directory.path

    @property
    def run_id(self) -> str:
        """The run's id (a hash of everything that determines its numbers)."""
        return str(self._info.get("run_id") or self.directory.run_id)

    @property
    def kind(self) -> str:
        """``compare``, ``explore`` or ``sensitivity``."""
        return str(self._info.get("kind", "compare"))

    @property
    def info(self) -> dict[str, Any]:
        """``run.json`` as a dict: settings, timings and what the run found."""
        return dict(self._info)

    @property
    def settings(self) -> dict[str, Any]:
        """How the run was made: scenario, strategies, states, worlds, seed, sampler, ..."""
        return {k: v for k, v in self._info.items() if k not in RESULT_KEYS}

    # -- the scenario ----------------------------------------------------------------------
    @property
    def scenario_text(self) -> str:
        """The scenario's YAML exactly as the run read it."""
        text = self.directory.text(SCENARIO_YAML)
        if text is None:
            raise InputError.single(str(self.path), f"the run holds no {SCENARIO_YAML}")
        recorded = self._info.get("scenario_sha256")
        if recorded and text_sha256(text) != recorded:
            raise InputError.single(
                str(self.path / SCENARIO_YAML),
                f"does not match the SHA-256 recorded in {RUN_JSON} ({recorded[:12]}...); "
                "the file was changed after the run",
            )
        return text

    @property
    def scenario(self) -> Scenario:
        """The scenario the run used, parsed from its stored text (never reloaded by id), with
        the designed strategies the run took by id (``design-<run>:<k>``), which ``run.json``
        keeps under ``designed`` because they are not in the text."""
        scenario = scenario_from_text(self.scenario_text, str(self.path / SCENARIO_YAML))
        added = self._info.get("designed")
        if not isinstance(added, list) or not added:
            return scenario
        try:
            entries = [DesignedStrategy.model_validate(d) for d in added]
        except ValidationError as exc:
            raise InputError.single(str(self.path / RUN_JSON), "its 'designed' entries are not "
                                    f"designed strategies: {exc.errors()[0]['msg']}") from None
        ids = {e.id for e in entries}
        kept = [d for d in scenario.designed if d.id not in ids]
        return scenario.model_copy(update={"designed": [*kept, *entries]})

    # -- the results -----------------------------------------------------------------------
    @property
    def comparison(self) -> pd.DataFrame | None:
        """``[strategy, outcome, mean, lo, hi, regret_mean, regret_max, satisficing, rank]``."""
        return self.directory.table("comparison.csv")

    @property
    def summaries(self) -> pd.DataFrame | None:
        """Per (state, strategy) means over worlds: ``[state, strategy, worlds, outcome...]``."""
        return self.directory.table("state_means.csv")

    @property
    def parameters(self) -> pd.DataFrame | None:
        """The sampled states: one row per state (index ``state``), one column per
        uncertainty."""
        return self.directory.table("parameters.csv", index="state")

    @property
    def trajectories(self) -> pd.DataFrame | None:
        """Per-step quantiles pooled over sampled states:
        ``[strategy, step, date, metric, mean, p05, p25, p50, p75, p95]``."""
        frame = self.directory.table("trajectories.csv")
        if frame is not None:
            frame["date"] = frame["date"].astype(str)
        return frame

    @property
    def drivers(self) -> pd.DataFrame | None:
        """``[parameter, rho, p_value, significant]``: uncertainties most associated with the
        leading strategy's lead (see :attr:`drivers_subject`)."""
        return self.directory.table("drivers.csv")

    @property
    def drivers_subject(self) -> dict[str, str] | None:
        """``{"strategy", "outcome"}``: whose lead, on which outcome, the drivers explain."""
        subject = self._info.get("drivers_subject")
        return dict(subject) if isinstance(subject, dict) else None

    @property
    def summary(self) -> str | None:
        """The plain-language summary (Markdown)."""
        return self.directory.text("summary.md")

    @property
    def discovery(self) -> dict[str, Any] | None:
        """Scenario discovery: ``detente run``'s PRIM on where the leader falls short, or an
        ``explore`` run's box statistics."""
        if self.kind == "explore":
            keys = ("strategy", "outcome", "cases", "selected_step", "box_stats", "resampling")
            return {k: self._info[k] for k in keys if k in self._info}
        found = self._info.get("discovery")
        return dict(found) if isinstance(found, dict) else None

    @property
    def prim_trajectory(self) -> pd.DataFrame | None:
        """PRIM's peeling trajectory ``[step, coverage, density, mass, n_restricted]``."""
        return self.directory.table("prim_trajectory.csv")

    @property
    def prim_box(self) -> pd.DataFrame | None:
        """The chosen PRIM box ``[uncertainty, low, high, full_low, full_high, quasi_p,
        stability]`` (runs before quasi-p and stability were added lack the last two)."""
        return self.directory.table("prim_box.csv")

    @property
    def sensitivity(self) -> pd.DataFrame | None:
        """Sobol ``[parameter, S1, S1_conf, ST, ST_conf]`` or Morris indices."""
        return self.directory.table("sensitivity.csv")

    @property
    def report_path(self) -> Path | None:
        """The run's HTML report, when one was built."""
        path = self.path / REPORT_HTML
        return path if path.is_file() else None


def open_run(path_or_dir: str | Path | None = None, run_id: str | None = None) -> Run:
    """Open a stored run for reading.

    Parameters
    ----------
    path_or_dir : path or str, optional
        An output folder (default ``detente-out``; its latest run unless ``run_id`` says
        otherwise), one run's folder (``detente-out/runs/<id>``), a ``.duckdb`` results
        store (its folder), or a run id under ``detente-out/``.
    run_id : str, optional
        The run to open in that folder; a unique prefix is enough.

    Returns
    -------
    Run
        Read-only access to the run's tables as pandas DataFrames.

    Raises
    ------
    InputError
        When nothing there is a run, or ``run_id`` names no run (one line each).

    Examples
    --------
    A tiny comparison of two strategies on the flagship, written to a temporary folder
    (``detente compare`` does the same from the command line):

    >>> import tempfile
    >>> import detente
    >>> from detente.experiments import jobs
    >>> out = tempfile.mkdtemp()
    >>> done = jobs.compare("us-iran-2001", strategies=["containment", "moderate-engagement"],
    ...                     states=3, worlds=4, seed=1, out=out, progress=False)
    >>> run = detente.open_run(out)          # the latest run in that folder
    >>> run.run_id == done.run_id
    True
    >>> run.scenario.id, run.settings["states"], run.settings["worlds"]
    ('us-iran-2001', 3, 4)
    >>> list(run.comparison.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['strategy', 'outcome', 'mean', 'lo', 'hi', 'regret_mean', 'regret_max', 'satisficing',
     'rank', 'lead', 'lead_lo', 'lead_hi', 'tied_with_best', 'decisive']
    >>> run.summaries.groupby("strategy")["worlds"].sum().to_dict()
    {'containment': 12, 'moderate-engagement': 12}
    >>> run.parameters.index.name, len(run.parameters)
    ('state', 3)
    >>> run.trajectories is None  # only `detente run` stores fan-chart trajectories
    True
    >>> detente.open_run(out, run_id=done.run_id[:20]).path == run.path  # a prefix will do
    True
    """
    return Run(find_run(path_or_dir, run_id))
