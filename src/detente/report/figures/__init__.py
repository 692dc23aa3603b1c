"""Figures for every result: pure functions from contract frames to matplotlib Figures.

One module per figure family; :mod:`~detente.report.figures.style` holds the palette and
the deterministic save helpers.
"""

from __future__ import annotations

from detente.report.figures.bargaining import (
    eum_rounds_chart,
    eum_rounds_grid,
    position_map,
    scenario_position_map,
    scenario_table,
)
from detente.report.figures.comparison import comparison_chart
from detente.report.figures.discovery import discovery_chart
from detente.report.figures.fan import fan_chart
from detente.report.figures.sensitivity import drivers_chart, sensitivity_chart
from detente.report.figures.structure import structure_chart
from detente.report.figures.style import PALETTE, figure_bytes, save_figure

__all__ = [
    "PALETTE",
    "comparison_chart",
    "discovery_chart",
    "drivers_chart",
    "eum_rounds_chart",
    "eum_rounds_grid",
    "fan_chart",
    "figure_bytes",
    "position_map",
    "save_figure",
    "scenario_position_map",
    "scenario_table",
    "sensitivity_chart",
    "structure_chart",
]
