"""Experiments under deep uncertainty: sampling, robustness, scenario discovery, sensitivity.

Vocabulary follows the EMA Workbench: *uncertainties* are the scenario's ranged numbers,
*levers* are the strategies compared, *outcomes* are the metrics the engine summarises per
world. See ``docs/experiments.md``.
"""
