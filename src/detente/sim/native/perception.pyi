
import numpy as np
from numpy.typing import NDArray

PARAMETERS: tuple[str, ...]

def perceive_and_learn(
    t: int,
    played_f: NDArray[np.float64],
    played_o: NDArray[np.float64],
    eps_f: NDArray[np.float64],
    eps_o: NDArray[np.float64],
    params: NDArray[np.float64],
    smooth_own_f: NDArray[np.float64],
    smooth_own_o: NDArray[np.float64],
    smooth_perceived_o: NDArray[np.float64],
    perceived_f: NDArray[np.float64],
    perceived_o: NDArray[np.float64],
    log_odds_f: NDArray[np.float64],
    log_odds_o: NDArray[np.float64],
) -> None: ...
