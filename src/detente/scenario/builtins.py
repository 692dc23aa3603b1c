"""Built-in scenarios shipped as data files inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SCENARIO_PACKAGE = "detente.data.scenarios"


def builtin_dir() -> Path:
    """Directory holding the built-in scenario files."""
    return Path(str(resources.files(SCENARIO_PACKAGE)))


def builtin_names() -> list[str]:
    """Names of the built-in scenarios (file stems), sorted."""
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def builtin_path(name: str) -> Path | None:
    """Path of a built-in scenario, or None if there is none with that name."""
    path = builtin_dir() / f"{name}.yaml"
    return path if path.is_file() else None
