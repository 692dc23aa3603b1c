"""The simulation's mechanisms, one module each, as pure functions over arrays.

Each function is named after its section of ``docs/model.md`` and states its equation and
sources; the engine (:func:`detente.sim.engine.run_layout`) calls them.
"""
