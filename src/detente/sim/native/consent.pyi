from typing import Any

import numpy as np
from numpy.typing import NDArray

def ratify_worlds(
    cand: NDArray[np.uint8],
    prospective: NDArray[np.float64],
    position: NDArray[Any],
    belief: NDArray[np.float64],
    threshold: NDArray[np.float64],
    gate: NDArray[np.uint8],
    sign: float,
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    effects: NDArray[np.float64],
    order: NDArray[np.int64],
    check_start: NDArray[np.int64],
    pair_start: NDArray[np.int64],
    issue: NDArray[np.int64],
    holder: NDArray[np.int64],
    stake: NDArray[np.float64],
    veto: NDArray[np.uint8],
    tol: NDArray[np.float64],
    limit: NDArray[np.float64],
    ext_x: NDArray[np.float64],
    rel: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]: ...

class ConsentTables:
    def __init__(
        self,
        effects: NDArray[np.float64],
        order: NDArray[np.int64],
        check_start: NDArray[np.int64],
        pair_start: NDArray[np.int64],
        issue: NDArray[np.int64],
        holder: NDArray[np.int64],
        stake: NDArray[np.float64],
        veto: NDArray[np.uint8],
        tol: NDArray[np.float64],
        limit: NDArray[np.float64],
        ext_x: NDArray[np.float64],
        rel: NDArray[np.float64],
    ) -> None: ...

def ratify_tabled(
    cand: NDArray[np.uint8],
    prospective: NDArray[np.float64],
    position: NDArray[Any],
    belief: NDArray[np.float64],
    threshold: NDArray[np.float64],
    gate: NDArray[np.uint8],
    sign: float,
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    tables: ConsentTables,
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]: ...
