"""Compiled kernels of the simulation engine, built from Cython when detente is installed.

Each module compiles the per-world loops of one mechanism of :mod:`detente.sim.engine`
(docs/model.md names the section); the engine's function of the same name prepares the
arrays and calls it. They are compiled by ``pip install`` (setuptools runs Cython and the
C compiler), so no run pays a compile (docs/performance.md, "Compiled engine").
"""
