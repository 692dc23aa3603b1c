"""Data shipped inside the package: built-in scenarios and the reference data sets.

The reference data (DEU III, the emission-standards case, KTAB inputs) is real data that
nobody on the project wrote, with its licence and attribution in ``reference/README.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

REFERENCE_PACKAGE = "detente.data"


def reference_dir() -> Path:
    """Directory of the shipped reference data (``deu3/``, ``bargaining-cases/``, ``ktab/``)."""
    return Path(str(resources.files(REFERENCE_PACKAGE))) / "reference"


def deu3_path() -> Path:
    """The shipped DEU III table (CC BY 4.0, Arregui & Perarnaud 2021)."""
    return reference_dir() / "deu3" / "deu3.tsv"
