import numpy as np
from numpy.typing import NDArray

def triangular_delays(
    low_rows: NDArray[np.float64],
    mode_rows: NDArray[np.float64],
    high_rows: NDArray[np.float64],
    k: NDArray[np.int64],
    u: NDArray[np.float64],
    w: NDArray[np.int64],
) -> NDArray[np.float64]: ...
def stream_uniforms(
    states: NDArray[np.uint64],
    n_each: int,
    block: int,
    steps: int,
    width: int,
    w: NDArray[np.int64],
    t: NDArray[np.int64],
    k: NDArray[np.int64],
) -> NDArray[np.float64]: ...
def schedule(
    approved: NDArray[np.uint8],
    u: NDArray[np.float64],
    start: NDArray[np.int64],
    low_rows: NDArray[np.float64],
    mode_rows: NDArray[np.float64],
    high_rows: NDArray[np.float64],
    t: int,
) -> None: ...
def schedule_starts(
    approved_f: NDArray[np.uint8],
    approved_o: NDArray[np.uint8],
    forced: NDArray[np.uint8],
    states_f: NDArray[np.uint64],
    states_o: NDArray[np.uint64],
    n_each: int,
    block: int,
    steps: int,
    f_start: NDArray[np.int64],
    o_start: NDArray[np.int64],
    f_offered: NDArray[np.uint8],
    low_f: NDArray[np.float64],
    mode_f: NDArray[np.float64],
    high_f: NDArray[np.float64],
    low_o: NDArray[np.float64],
    mode_o: NDArray[np.float64],
    high_o: NDArray[np.float64],
    gest_pos_rows: NDArray[np.uint8],
    t: int,
) -> None: ...
class ScheduleRun:
    def __init__(
        self,
        states_f: NDArray[np.uint64],
        states_o: NDArray[np.uint64],
        n_each: int,
        block: int,
        steps: int,
        low_f: NDArray[np.float64],
        mode_f: NDArray[np.float64],
        high_f: NDArray[np.float64],
        low_o: NDArray[np.float64],
        mode_o: NDArray[np.float64],
        high_o: NDArray[np.float64],
        gest_pos_rows: NDArray[np.uint8],
    ) -> None: ...

def schedule_starts_of(
    run: ScheduleRun,
    approved_f: NDArray[np.uint8],
    approved_o: NDArray[np.uint8],
    forced: NDArray[np.uint8],
    f_start: NDArray[np.int64],
    o_start: NDArray[np.int64],
    f_offered: NDArray[np.uint8],
    t: int,
) -> None: ...
def start_due(
    f_active: NDArray[np.uint8],
    o_active: NDArray[np.uint8],
    f_start: NDArray[np.int64],
    o_start: NDArray[np.int64],
    f_since: NDArray[np.int64],
    withdrawn_f: NDArray[np.uint8],
    withdrawn_o: NDArray[np.uint8],
    forced: NDArray[np.uint8],
    t: int,
    never: int,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]: ...
def move_levels(
    level: NDArray[np.float64],
    steps_a: NDArray[np.uint8],
    effects_a: NDArray[np.float64],
    steps_b: NDArray[np.uint8],
    effects_b: NDArray[np.float64],
    moves_a: NDArray[np.float64],
    moves_b: NDArray[np.float64],
    sign: float,
    low_rows: NDArray[np.float64],
    high_rows: NDArray[np.float64],
) -> bool: ...
def implement_levels(
    level: NDArray[np.float64],
    drop_f: NDArray[np.uint8],
    effects_f: NDArray[np.float64],
    drop_o: NDArray[np.uint8],
    effects_o: NDArray[np.float64],
    new_f: NDArray[np.uint8],
    new_o: NDArray[np.uint8],
    low_rows: NDArray[np.float64],
    high_rows: NDArray[np.float64],
    moves_df: NDArray[np.float64],
    moves_do: NDArray[np.float64],
    moves_nf: NDArray[np.float64],
    moves_no: NDArray[np.float64],
) -> int: ...
class ImplementRun:
    n: int
    def __init__(
        self,
        n: int,
        effects_f: NDArray[np.float64],
        effects_o: NDArray[np.float64],
        low_rows: NDArray[np.float64],
        high_rows: NDArray[np.float64],
    ) -> None: ...

def implement_levels_of(
    run: ImplementRun,
    level: NDArray[np.float64],
    drop_f: NDArray[np.uint8],
    drop_o: NDArray[np.uint8],
    new_f: NDArray[np.uint8],
    new_o: NDArray[np.uint8],
    moves_df: NDArray[np.float64],
    moves_do: NDArray[np.float64],
    moves_nf: NDArray[np.float64],
    moves_no: NDArray[np.float64],
    only: NDArray[np.uint8] | None = None,
) -> int: ...
def implement_step(
    run: ImplementRun,
    level: NDArray[np.float64],
    f_active: NDArray[np.uint8],
    o_active: NDArray[np.uint8],
    f_start: NDArray[np.int64],
    o_start: NDArray[np.int64],
    f_since: NDArray[np.int64],
    withdrawn_f: NDArray[np.uint8],
    withdrawn_o: NDArray[np.uint8],
    forced: NDArray[np.uint8],
    t: int,
    never: int,
    states: int = 1,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], int, int, NDArray[np.uint8] | None]: ...
class PlayedRun:
    def __init__(
        self,
        announce: NDArray[np.float64],
        sp_f: NDArray[np.float64],
        sn_f: NDArray[np.float64],
        sp_o: NDArray[np.float64],
        sn_o: NDArray[np.float64],
        neutral: NDArray[np.float64],
        never: int,
        w_f: NDArray[np.float64],
        w_o: NDArray[np.float64],
    ) -> None: ...

def posture_weights_of(
    run: PlayedRun,
    f_active: NDArray[np.uint8],
    f_start: NDArray[np.int64],
    o_active: NDArray[np.uint8],
    o_start: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def played_levels_of(
    run: PlayedRun,
    conc_f: NDArray[np.float64],
    host_f: NDArray[np.float64],
    conc_o: NDArray[np.float64],
    host_o: NDArray[np.float64],
    own_f: NDArray[np.float64],
    own_o: NDArray[np.float64],
    t: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
def posture_weights(
    f_active: NDArray[np.uint8],
    f_start: NDArray[np.int64],
    o_active: NDArray[np.uint8],
    o_start: NDArray[np.int64],
    announce_weight: NDArray[np.float64],
    never: int,
    out_f: NDArray[np.float64] | None = ...,
    out_o: NDArray[np.float64] | None = ...,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def posture_levels(
    conc_sum: NDArray[np.float64],
    host_sum: NDArray[np.float64],
    sp: NDArray[np.float64],
    sn: NDArray[np.float64],
    neutral: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
def played_levels(
    conc_f: NDArray[np.float64],
    host_f: NDArray[np.float64],
    conc_o: NDArray[np.float64],
    host_o: NDArray[np.float64],
    sp_f: NDArray[np.float64],
    sn_f: NDArray[np.float64],
    sp_o: NDArray[np.float64],
    sn_o: NDArray[np.float64],
    neutral: NDArray[np.float64],
    own_f: NDArray[np.float64],
    own_o: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
def started_weights(
    new_f: NDArray[np.uint8],
    new_o: NDArray[np.uint8],
    f_by_leg: NDArray[np.uint8],
    factor: NDArray[np.float64],
    conciliatory: NDArray[np.uint8],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
def book_costs(
    gest_f: NDArray[np.float64],
    gest_o: NDArray[np.float64],
    paid_cost: NDArray[np.float64],
    f_offered: NDArray[np.uint8],
    first_reciprocation: NDArray[np.int64],
    unreciprocated: NDArray[np.float64],
    cost: NDArray[np.float64],
    keep: NDArray[np.float64],
    naivety: NDArray[np.float64],
    horizon: int,
    t: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]: ...
def started_costs(
    new_f: NDArray[np.uint8],
    new_o: NDArray[np.uint8],
    f_by_leg: NDArray[np.uint8],
    factor: NDArray[np.float64],
    conciliatory: NDArray[np.uint8],
    gp_f_rows: NDArray[np.float64],
    gp_o_rows: NDArray[np.float64],
    cost_rows: NDArray[np.float64],
    f_offered: NDArray[np.uint8],
    first_reciprocation: NDArray[np.int64],
    unreciprocated: NDArray[np.float64],
    cost: NDArray[np.float64],
    keep: NDArray[np.float64],
    naivety: NDArray[np.float64],
    horizon: int,
    t: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]] | None: ...
def started_costs_by_state(
    new_f: NDArray[np.uint8],
    new_o: NDArray[np.uint8],
    f_by_leg: NDArray[np.uint8],
    factor: NDArray[np.float64],
    conciliatory: NDArray[np.uint8],
    gp_f_rows: NDArray[np.float64],
    gp_o_rows: NDArray[np.float64],
    cost_rows: NDArray[np.float64],
    f_offered: NDArray[np.uint8],
    first_reciprocation: NDArray[np.int64],
    unreciprocated: NDArray[np.float64],
    cost: NDArray[np.float64],
    keep: NDArray[np.float64],
    naivety: NDArray[np.float64],
    horizon: int,
    t: int,
    states: int,
) -> tuple[
    NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8] | None
]: ...
def record_gestures(
    new_o: NDArray[np.uint8],
    counted: NDArray[np.uint8],
    gp_rows: NDArray[np.float64],
    gn_rows: NDArray[np.float64],
    menace_hits: NDArray[np.float64],
    reciprocated: NDArray[np.float64],
    hostile: NDArray[np.float64],
) -> bool: ...
