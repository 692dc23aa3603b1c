"""Command-line options shared by several commands, with their ranges checked at the edge.

A value outside its range becomes a usage error (one line, exit 2), so a negative seed or a
seed beyond what the results database stores (a signed 64-bit integer) never reaches NumPy
or DuckDB. The range is checked in a callback rather than with ``min``/``max`` so that the
help shows the range in words instead of a 19-digit bound.
"""

from __future__ import annotations

from typing import Annotated

import typer

from detente.experiments.budget import SEED_MAX


def _seed_in_range(value: int) -> int:
    if not 0 <= value <= SEED_MAX:
        raise typer.BadParameter(f"expected a seed from 0 to 2**63-1, got {value}")
    return value


SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed",
        metavar="N",
        callback=_seed_in_range,
        help="Seed (0 to 2**63-1): same seed, same numbers.",
    ),
]
