"""The simulation's mechanisms: one pure function over arrays per mechanism of docs/model.md.

Each module holds the mechanisms of one section of the model (``environment``: regional
threat, settlement and allied alignment, section 5); the engine
(:func:`detente.sim.engine.run_layout`) calls them in its step loop.
"""
