"""Command-line options shared by several commands, with their ranges checked at the edge.

Typer turns a value outside ``min``/``max`` into a usage error (one line, exit 2), so a
negative seed or a seed beyond what the results database stores (a signed 64-bit integer)
never reaches NumPy or DuckDB.
"""

from __future__ import annotations

from typing import Annotated

import typer

from detente.experiments.budget import SEED_MAX

SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed", min=0, max=SEED_MAX, help="Seed (0 to 2**63-1): same seed, same numbers."
    ),
]
