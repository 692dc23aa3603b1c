from typing import Any

import numpy as np
from numpy.typing import NDArray

class VoteTables:
    n_actors: int
    def __init__(
        self,
        effects: NDArray[np.float64],
        n_iss: NDArray[np.int64],
        iss_pad: NDArray[np.int64],
        usal_pad: NDArray[np.float32],
        tol: NDArray[np.float32],
        sal_kt: NDArray[np.float32],
    ) -> None: ...

def voted_pairs(
    cand: NDArray[np.uint8],
    level: NDArray[np.float64],
    position: NDArray[Any],
    clout: NDArray[np.float64],
    tables: VoteTables,
    sign: float,
    threshold: NDArray[np.float64],
    proposer: int,
    gate: NDArray[np.uint8],
    belief: NDArray[np.float64],
    trust: NDArray[np.float64],
    rel: NDArray[np.float64],
) -> NDArray[np.bool_]: ...
