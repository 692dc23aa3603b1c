import numpy as np
from numpy.typing import NDArray

def seed_words(
    prefix: NDArray[np.uint32], first_block: int, out: NDArray[np.uint64]
) -> None: ...
def seeded_states(words: NDArray[np.uint64], out: NDArray[np.uint64]) -> None: ...
def uniforms_world_major(
    states: NDArray[np.uint64], first: NDArray[np.int64], count: NDArray[np.int64],
    out: NDArray[np.float64],
) -> None: ...
def uniforms_step_major(
    states: NDArray[np.uint64], first: NDArray[np.int64], count: NDArray[np.int64],
    out: NDArray[np.float64],
) -> None: ...
