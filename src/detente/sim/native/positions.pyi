import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]
U8 = NDArray[np.uint8]
I64 = NDArray[np.int64]

def issue_share(level: F64, i: int, low: float, span: float) -> F64: ...
def drivers(
    perceived: F64,
    neutral: F64,
    belief: F64,
    belief0: F64,
    level: F64,
    sanctions: int,
    low_s: float,
    span_s: float,
    bite: F64,
    sanc0: F64,
    start: F64,
    demand: F64,
    hostile: F64,
    backing: F64,
    threat: F64,
    threat0: F64,
) -> F64: ...
class DriversRun:
    n: int
    def __init__(
        self,
        n: int,
        neutral: F64,
        belief0: F64,
        sanctions: int,
        low_s: float,
        span_s: float,
        sanc0: F64,
        start: F64,
        demand: F64,
        threat0: F64,
    ) -> None: ...

def drivers_of(
    run: DriversRun,
    perceived: F64,
    belief: F64,
    level: F64,
    bite: F64,
    hostile: F64,
    backing: F64,
    threat: F64,
) -> F64: ...
def fulfilment(level: F64, start: F64, demand: F64) -> F64: ...
def pressure(hostile: F64, tightening: F64, backing: F64) -> F64: ...
def goodwill(gesture: F64, belief: F64, gg: F64, bg: F64) -> F64: ...
def willingness(
    met: F64, belief: F64, threat: F64, gesture: F64, pressure: F64, cg: F64, bg: F64,
    tg: F64, pg: F64,
) -> F64: ...
def positions(
    base: F32,
    alt: F32,
    control: U8,
    reform: U8,
    elected: I64,
    holder_reform: U8,
    gesture: F64,
    belief: F64,
    sanctions: F64,
    met: F64,
    pressure: F64,
    threat: F64,
    settlement: F64,
    camp_span: F32,
    dict_span: F32,
    span: F64,
    low: F64,
    high: F64,
    terror: int,
    wmd: int,
    used: I64,
    params: F64,
    fill_unused: bool = ...,
    out_arr: F32 | None = ...,
) -> F32: ...
class PositionsRun:
    def __init__(
        self,
        base: F32,
        alt: F32,
        elected: I64,
        holder_reform: U8,
        camp_span: F32,
        dict_span: F32,
        span: F64,
        low: F64,
        high: F64,
        terror: int,
        wmd: int,
        used: I64,
        params: F64,
        fill_unused: bool = ...,
    ) -> None: ...

def positions_of(
    run: PositionsRun,
    control: U8,
    reform: U8,
    gesture: F64,
    belief: F64,
    sanctions: F64,
    met: F64,
    pressure: F64,
    threat: F64,
    settlement: F64,
    out_arr: F32 | None = ...,
) -> F32: ...
def requires_met(active: U8, requires: U8) -> NDArray[np.bool_]: ...
class ProspectiveScratch:
    n_i: int
    def __init__(self, low: F64, high: F64) -> None: ...

def prospective_levels(
    level: F64,
    f_start: I64,
    f_active: U8,
    o_start: I64,
    o_active: U8,
    never: int,
    effects_f: F64,
    effects_o: F64,
    low: F64,
    high: F64,
    scratch: ProspectiveScratch | None = ...,
) -> tuple[F64 | None, NDArray[np.bool_], NDArray[np.bool_]]: ...
def prospective_levels_states(
    level: F64,
    f_start: I64,
    f_active: U8,
    o_start: I64,
    o_active: U8,
    never: int,
    effects_f: F64,
    effects_o: F64,
    low: F64,
    high: F64,
    scratch: ProspectiveScratch | None,
    n_states: int,
) -> tuple[F64, NDArray[np.bool_], NDArray[np.bool_], U8 | None]: ...
def prospective(level: F64, moves_f: F64, moves_o: F64, low: F64, high: F64) -> F64: ...
