"""The engine's compiled kernels: built by the install, and one clear line when they are not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import detente
from detente.sim import native


def test_every_kernel_source_is_built() -> None:
    assert native._unbuilt() == []
    assert sorted(p.stem for p in Path(native.__file__).parent.glob("*.pyx"))


def test_a_copy_without_its_compiled_kernels_says_so_in_one_line(tmp_path: Path) -> None:
    src = Path(detente.__file__).parent
    shutil.copytree(src, tmp_path / "detente",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    code = "import sys; from detente.cli import main; sys.argv = ['detente'] + sys.argv[1:]; main()"
    res = subprocess.run(
        [sys.executable, "-c", code, "simulate", "us-iran-2001", "--strategy", "containment",
         "--worlds", "4"],
        capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin"},
        timeout=120,
    )
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "compiled kernels are not built" in lines[0], res.stderr
    assert "Traceback" not in res.stderr
