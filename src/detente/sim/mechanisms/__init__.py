"""The simulation's mechanisms, one module each, each a pure function over arrays.

Each module is named after its section of ``docs/model.md``, which states its equation,
sources and parameter ranges; :func:`detente.sim.engine.run_layout` calls it in that section.
"""
