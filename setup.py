"""Build the engine's compiled kernels: every ``src/detente/sim/native/*.pyx`` is one module.

Everything else about the package is in pyproject.toml. Cython and the C compiler run at
install time (``pip install -e .``), so no ``detente`` command pays a compile
(docs/performance.md, "Compiled engine"). The modules are compiled in parallel, one per
CPU, without debug information (a third of gcc's time here): about 30 s on 2 cores.
"""

import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NATIVE = Path("src/detente/sim/native")
NO_DEBUG_INFO = [] if sys.platform == "win32" else ["-g0"]


class ParallelBuildExt(build_ext):
    """``build_ext`` compiling the modules in parallel unless ``--parallel`` says otherwise."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1


setup(
    ext_modules=[
        Extension(f"detente.sim.native.{pyx.stem}", [str(pyx)], extra_compile_args=NO_DEBUG_INFO)
        for pyx in sorted(NATIVE.glob("*.pyx"))
    ],
    cmdclass={"build_ext": ParallelBuildExt},
)
