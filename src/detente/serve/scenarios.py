"""The scenarios the page may run: the built-ins and the ones uploaded in this session.

An upload is YAML text checked by the same loader as the CLI (size, alias bombs, schema,
cross-references), so each problem comes back with its line and column. Accepted uploads
are kept in memory only (the last :data:`MAX_UPLOADS`), under ``upload:<hash>``: the page
never reads or writes a path the request names.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from detente.errors import InputError, did_you_mean
from detente.runs.directory import SCENARIO_YAML
from detente.runs.scenario_text import scenario_from_text, text_sha256
from detente.scenario import Scenario, load_scenario
from detente.scenario.builtins import builtin_names

UPLOAD_PREFIX = "upload:"
MAX_UPLOADS = 20
UPLOAD_SOURCE = "uploaded.yaml"


@lru_cache(maxsize=8)
def builtin(name: str) -> Scenario:
    """A built-in scenario, loaded once."""
    return load_scenario(name)


def system_builtins() -> list[str]:
    """Built-in scenarios the simulation can run (``kind: system``)."""
    return [n for n in builtin_names() if builtin(n).kind == "system"]


class Scenarios:
    """Built-in scenarios and this server's uploads, by the key the page uses."""

    def __init__(self) -> None:
        self._uploads: OrderedDict[str, tuple[Scenario, str]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, text: str) -> tuple[str, Scenario]:
        """Validate uploaded YAML; keep it and return its key when it is a runnable scenario.

        Raises
        ------
        InputError
            Every problem, each with its line and column where known.
        """
        scenario = scenario_from_text(text, UPLOAD_SOURCE)
        if scenario.kind != "system":
            raise InputError.single(
                UPLOAD_SOURCE, "kind: bargaining scenarios have no simulation to run; "
                "the what-if needs kind: system", line=None
            )
        key = UPLOAD_PREFIX + text_sha256(text)[:12]
        with self._lock:
            self._uploads[key] = (scenario, text)
            self._uploads.move_to_end(key)
            while len(self._uploads) > MAX_UPLOADS:
                self._uploads.popitem(last=False)
        return key, scenario

    def get(self, key: str) -> Scenario:
        """The scenario under ``key`` (a built-in name or an upload key)."""
        with self._lock:
            found = self._uploads.get(key)
        if found is not None:
            return found[0]
        names = system_builtins()
        if key in names:
            return builtin(key)
        raise InputError.single("scenario", f"unknown scenario {key!r}"
                                f"{did_you_mean(key, [*names, *self._uploads])}")

    def for_run(self, folder: Path, scenario_id: str, sha256: str) -> str:
        """The key of the scenario a stored run was made with: the built-in of that id when
        its text is the run's (same SHA-256), else the run's own ``scenario.yaml``, checked
        and kept as an upload.

        Raises
        ------
        InputError
            The run stores no scenario text, or the text no longer loads.
        """
        from detente.scenario import scenario_source

        if scenario_id in system_builtins():
            text = scenario_source(scenario_id).read_text(encoding="utf-8")
            if text_sha256(text) == sha256:
                return scenario_id
        path = folder / SCENARIO_YAML
        if not path.is_file():
            raise InputError.single("run", f"{folder.name} stores no {SCENARIO_YAML}")
        return self.check(path.read_text(encoding="utf-8"))[0]

    def text(self, key: str) -> str | None:
        """The YAML text of an upload, or None."""
        with self._lock:
            found = self._uploads.get(key)
        return found[1] if found else None

    def choices(self) -> list[tuple[str, str]]:
        """``(key, label)`` of every scenario the page offers, built-ins first."""
        out = [(n, f"{n} (built-in)") for n in system_builtins()]
        with self._lock:
            out += [(k, f"{sc.id} (uploaded, {k.removeprefix(UPLOAD_PREFIX)[:6]})")
                    for k, (sc, _) in reversed(self._uploads.items())]
        return out


__all__ = ["MAX_UPLOADS", "UPLOAD_PREFIX", "Scenarios", "builtin", "system_builtins"]
