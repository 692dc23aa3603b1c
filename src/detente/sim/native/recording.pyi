from typing import Any

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]

VECTOR: int
EXPIT: int
ZERO: int

def record_step(
    out: F32, slot: int, values: tuple[Any, ...], codes: I64, rows: I64
) -> None: ...
def flush(staged: F32, out: F32, first: int, count: int) -> None: ...
