"""The constraints file is a tested lock: every requirement pinned, inside pyproject's range.

``constraints.txt`` pins what the README's commands and ``.ci/run`` install; ``pyproject.toml``
keeps the ranges for library users. These tests fail when a dependency is added without a
pin, when a pin leaves its range, or when the environment running the tests was installed
with other versions than the pins (so CI really tests the pinned set).
"""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import REPO


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for number, raw in enumerate((REPO / "constraints.txt").read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt:{number}: expected NAME==VERSION, got {raw!r}"
        pins[canonicalize_name(name)] = Version(version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        found.extend(Requirement(r) for r in extra)
    return found


def test_every_requirement_is_pinned_inside_its_range() -> None:
    pins = _pins()
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} has no pin in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]} outside pyproject's {req.specifier}"
        )


def test_torch_is_the_cpu_build_on_disk() -> None:
    assert _pins()[canonicalize_name("torch")] == Version("2.13.0")


def test_installed_versions_are_the_pinned_ones() -> None:
    """The environment under test was installed from the pins (as .ci/run does)."""
    mismatched = []
    for name, pinned in _pins().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue  # an extra this environment did not install
        if Version(installed.base_version) != pinned and installed != pinned:
            mismatched.append(f"{name}: installed {installed}, pinned {pinned}")
    if mismatched and Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        pytest.skip("not the project's own .venv (.ci/run makes it): " + "; ".join(mismatched))
    assert not mismatched, mismatched
