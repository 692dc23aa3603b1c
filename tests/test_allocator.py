"""detente.allocator: freed memory stays mapped, so a repeated allocation faults no pages in."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="M_TOP_PAD is glibc's",
)

# Allocate, touch and free a chunk-sized working set (many arrays below and above the mmap
# threshold, as a simulation chunk does), several times; count the minor faults of the
# repeats after the first.
_PROGRAM = """
import json, resource, sys
import numpy as np
from detente.allocator import retain_freed_memory
made = retain_freed_memory() if sys.argv[1] == "retain" else False
def chunk():
    arrays = [np.ones(2048 * k) for k in (1, 2, 8, 30, 60, 120) for _ in range(6)]
    return sum(float(a[-1]) for a in arrays)
chunk()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    chunk()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"made": made, "faults": faults}))
"""


def _faults(mode: str, **env: str) -> dict[str, int]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _PROGRAM, mode], env={**clean, **env},
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


@glibc
def test_retained_memory_is_reused_without_page_faults() -> None:
    plain, retained = _faults("plain"), _faults("retain")
    assert retained["made"]
    # 5 repeats of a ~14 MB working set: thousands of faults when glibc trims it, none kept
    assert plain["faults"] > 1000
    assert retained["faults"] < plain["faults"] / 20


# Bytes of mmap'ed chunks (mallinfo2's hblkhd) while a 1 MB array is alive: glibc's fixed
# 128 kB threshold maps it on its own unless the threshold was raised.
_MAPPED = """
import ctypes, json, sys
import numpy as np
from detente.allocator import retain_freed_memory
made = retain_freed_memory() if sys.argv[1] == "retain" else False
class Info(ctypes.Structure):
    _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
if not hasattr(libc, "mallinfo2"):
    print(json.dumps({"made": made, "mapped": None}))
    raise SystemExit
libc.mallinfo2.restype = Info
before = libc.mallinfo2().hblkhd
a = np.ones(2**17)
print(json.dumps({"made": made, "mapped": libc.mallinfo2().hblkhd - before}))
"""


@glibc
def test_arrays_below_the_raised_threshold_come_from_the_heap() -> None:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = {mode: json.loads(subprocess.run(
        [sys.executable, "-c", _MAPPED, mode], env=clean, check=True, capture_output=True,
        text=True).stdout) for mode in ("plain", "retain")}
    if out["plain"]["mapped"] is None:
        pytest.skip("glibc older than 2.33 (no mallinfo2)")
    assert out["plain"]["mapped"] >= 2**20  # the first large array: its own mapping
    assert out["retain"]["made"] and out["retain"]["mapped"] == 0


@glibc
def test_the_users_own_malloc_settings_are_left_alone() -> None:
    assert not _faults("retain", MALLOC_TRIM_THRESHOLD_="131072")["made"]
    assert not _faults("retain", GLIBC_TUNABLES="glibc.malloc.top_pad=0")["made"]


def test_the_command_line_makes_the_setting() -> None:
    """detente.cli.main asks for it before running a command (its only process-wide act)."""
    program = ("import sys, detente.allocator as a, detente.cli as c\n"
               "sys.argv = ['detente', '--help']\n"
               "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
               "print(a._done)")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", program], env=clean, check=True,
                         capture_output=True, text=True)
    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip().splitlines()[-1] == str(expected)
