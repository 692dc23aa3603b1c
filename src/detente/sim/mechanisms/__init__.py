"""The simulation's mechanisms, one module each, each a pure function over arrays.

Each module is named after its section of ``docs/model.md``, which states its equation,
sources and parameter ranges (``iran_response``: section 2, Iran's response;
``closing``: section 4, the closing of the Iranian system; ``environment``: section 5,
regional threat, settlement and allied alignment; ``congress``: section 4c, the U.S.
Congress's own acts, ILSA's sunset, retreat and the ILSA trade);
the step functions of :mod:`detente.sim.engine` (one per section, driven by
:func:`detente.sim.engine.run_layout`) call them.
"""
