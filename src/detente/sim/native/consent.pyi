from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.sim.native.votes import VoteTables

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

class Ratification:
    def __init__(
        self,
        votes: VoteTables,
        consent: ConsentTables,
        sign: float,
        vote_threshold: NDArray[np.float64],
        proposer: int,
        vote_gate: NDArray[np.uint8],
        trust: NDArray[np.float64],
        vote_rel: NDArray[np.float64],
        gate: NDArray[np.uint8],
        low: NDArray[np.float64],
        high: NDArray[np.float64],
        kind: int,
        reversible: NDArray[np.uint8],
    ) -> None: ...

def vote_and_ratify(
    run: Ratification,
    reversal: Ratification | None,
    cand: NDArray[np.uint8],
    active: NDArray[np.uint8],
    pending: NDArray[np.uint8],
    req_ok: NDArray[np.uint8],
    level: NDArray[np.float64],
    position: NDArray[Any],
    clout: NDArray[np.float64],
    belief: NDArray[np.float64],
    prospective: NDArray[np.float64],
    excess: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_] | None]: ...
def vote_and_ratify_states(
    run: Ratification,
    reversal: Ratification | None,
    cand: NDArray[np.uint8],
    active: NDArray[np.uint8],
    pending: NDArray[np.uint8],
    req_ok: NDArray[np.uint8],
    level: NDArray[np.float64],
    position: NDArray[Any],
    clout: NDArray[np.float64],
    belief: NDArray[np.float64],
    prospective: NDArray[np.float64],
    excess: NDArray[np.float64],
    n_states: int,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_] | None]: ...
