"""The engine's allocator setting (detente.sim.allocator): applied once, opt-out, no numbers."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

CHECK = """
import json, sys
from detente.sim import allocator
first = allocator.tune_allocator()
print(json.dumps([first, allocator.tune_allocator()]))
"""


def _tuned(env_value: str | None) -> list[bool]:
    env = dict(os.environ)
    env.pop("DETENTE_MALLOC", None)
    if env_value is not None:
        env["DETENTE_MALLOC"] = env_value
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True,
                         text=True, check=True)
    return list(json.loads(out.stdout))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_the_allocator_is_tuned_once_and_can_be_left_alone() -> None:
    assert _tuned(None) == [True, True]
    assert _tuned("default") == [False, False]
