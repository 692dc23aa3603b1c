"""Build the engine's compiled kernels: every ``src/detente/sim/native/*.pyx`` is one module.

Everything else about the package is in pyproject.toml. Cython and the C compiler run at
install time (``pip install -e .``), so no ``detente`` command pays a compile
(docs/performance.md, "Compiled engine").
"""

from pathlib import Path

from setuptools import Extension, setup

NATIVE = Path("src/detente/sim/native")

setup(
    ext_modules=[
        Extension(f"detente.sim.native.{pyx.stem}", [str(pyx)])
        for pyx in sorted(NATIVE.glob("*.pyx"))
    ]
)
