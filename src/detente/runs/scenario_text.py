"""A scenario together with the exact text it was read from.

A run stores its scenario's YAML text and that text's SHA-256, so the scenario a run used
can always be read back as it was, whatever happens later to the file or to a built-in of
the same id (see :mod:`detente.runs.directory`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from detente.scenario import Scenario, scenario_source
from detente.scenario.memo import Lru
from detente.scenario.yaml_loader import parse_yaml, read_text, scenario_from_data


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_PARSED: Lru[str, Scenario] = Lru(4)


def scenario_from_text(text: str, src: str) -> Scenario:
    """Parse and validate scenario YAML text; problems name ``src``.

    The last few texts parsed in this process are remembered by their SHA-256: ``detente
    run`` reads its scenario for the simulation and again from the run's folder for the
    report (0.2 s each for the flagship). A scenario is a frozen model that nothing
    changes in place, so sharing it is safe; a text with problems is never remembered,
    so they are reported naming ``src`` every time.
    """
    return _PARSED.get(text_sha256(text), lambda: _parse(text, src))


def _parse(text: str, src: str) -> Scenario:
    data, node = parse_yaml(text, src)
    return scenario_from_data(data, src, node)


def load_scenario_with_text(name_or_path: str | Path) -> tuple[Scenario, str]:
    """Load a built-in scenario or a file, returning the validated scenario and its text.

    The text is read once, so the scenario and the text stored with a run always match.
    """
    path = scenario_source(name_or_path)
    text = read_text(path)
    return scenario_from_text(text, str(path)), text
