"""Build the engine's compiled kernels: every ``src/detente/sim/native/*.pyx`` is one module.

Everything else about the package is in pyproject.toml. Cython and the C compiler run at
install time (``pip install -e .``), so no ``detente`` command pays a compile
(docs/performance.md, "Compiled engine"). The modules are compiled in parallel, one per
CPU, without debug information (a third of gcc's time here; ``CFLAGS=-g`` keeps it, for
profiling the kernels line by line, and keeps ``-O3``, which an environment ``CFLAGS`` would
otherwise replace with Python's own flags): about 30 s on 2 cores.

Three flags undo defaults that only cost here and change no value: ``-fno-wrapv`` (Python's
own build flags ask signed integers to wrap; the kernels never overflow one, and wrapping
forbids gcc some loop transformations), ``-fno-math-errno`` (``sqrt`` and friends need not
set ``errno``, so gcc uses the instruction inline) and ``-fno-trapping-math`` (the kernels
never read the floating-point exception flags, so gcc may compute both sides of a select).
Results stay bit for bit the same (IEEE operations are correctly rounded either way; no
``-ffast-math``, no ``-march``, so no fused multiply-adds): about 4 % fewer instructions in
the kernels and their argument checks (docs/performance.md, "Fifth pass").
"""

import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NATIVE = Path("src/detente/sim/native")
# debug information only when asked for (CFLAGS=-g ..., for profiling the kernels per line);
# an environment CFLAGS replaces Python's (-O3 among them), so the optimised code is asked
# for again: a profile of unoptimised kernels would mislead
DEBUG_INFO = ["-O3"] if "-g" in os.environ.get("CFLAGS", "").split() else ["-g0"]
UNIX_FLAGS = [*DEBUG_INFO, "-fno-wrapv", "-fno-math-errno", "-fno-trapping-math"]
COMPILE_FLAGS = [] if sys.platform == "win32" else UNIX_FLAGS


class ParallelBuildExt(build_ext):
    """``build_ext`` compiling the modules in parallel unless ``--parallel`` says otherwise."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1


setup(
    ext_modules=[
        Extension(f"detente.sim.native.{pyx.stem}", [str(pyx)], extra_compile_args=COMPILE_FLAGS)
        for pyx in sorted(NATIVE.glob("*.pyx"))
    ],
    cmdclass={"build_ext": ParallelBuildExt},
)
