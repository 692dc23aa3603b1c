import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

def ladder_rows(level: F64, neutral: F64, conc_rank: F64, host_rank: F64) -> B: ...
def renewal_rows(
    t: int, sunset: I64, renewed_by: U8, is_renewal: U8, committed: U8, menu: U8, gesture: F64
) -> B: ...
def renewed_rows(renewed_by: U8, steps: U8) -> B: ...
def spent_rows(renewed_by: U8, steps: U8) -> B: ...
def retreat_rows(
    withdrawable: U8, cost: F64, since: I64, over: U8, u: F64, chance: F64
) -> B: ...
def initiative_rows(
    judged: F64, start: F64, pos: F64, floor: int, floor_start: F64, stake: U8,
    tolerance: F64, effects: F64, eligible: U8,
) -> B: ...
def against_rows(gesture: F64, level: F64, neutral: F64, mask: U8) -> B: ...
def override_rows(
    majority: U8, against: U8, supermajority: U8, u: F64, hold: F64
) -> tuple[B, B]: ...
def lock_rows(active: U8, locks: U8, effects: F64) -> B: ...
def sunset_rows(
    t: int, sunset: I64, renewed_by: U8, committed: U8, approved_now: U8, lapse_active: U8
) -> tuple[B, B]: ...
def proposals(
    level: F64, neutral: F64, conc_rank: F64, host_rank: F64, menu: U8, active: U8,
    pending: U8, by_leg: U8, reversible: U8, gest_pos: U8, req_ok: U8,
    renew: bool, t: int, sunset: I64, renewed_by: U8, is_renewal: U8, renew_menu: U8,
    gesture: F64,
    retreat: bool, cost_now: F64, tolerance: F64, u: F64, chance: F64, cost: F64, since: I64,
    held: NDArray[np.int8], start: I64, never: int,
) -> tuple[B, B, B]: ...
def bill_moves(
    t: int, sunset: I64, renewed_by: U8, committed: U8, active: U8, approved: U8
) -> F64: ...
def bill_candidates(
    prospective: F64, moved: F64, low: F64, high: F64, start: F64, pos: F64, floor: int,
    floor_start: F64, stake: U8, tolerance: F64, effects: F64, by_legislature: U8,
    committed: U8, killed: U8, renewed_by: U8, req_ok: U8,
) -> tuple[B, F64, bool]: ...
def law_sunset_rows(
    t: int, sunset: I64, renewed_by: U8, committed: U8, active: U8, withdrawn: U8
) -> tuple[B, bool]: ...
