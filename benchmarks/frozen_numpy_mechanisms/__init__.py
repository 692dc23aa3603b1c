"""Frozen copies of the mechanisms the frozen NumPy engine calls (benchmarks only).

``src/detente/sim/mechanisms/*.py`` and ``src/detente/sim/domestic_bargain.py`` as they were at
commit 37ba840, before the engine's mechanisms were compiled (:mod:`detente.sim.native`), so
that ``benchmarks/frozen_numpy_engine.py`` stays the NumPy engine whatever the package's
mechanisms become. Do not edit them except to keep them importable.
"""
