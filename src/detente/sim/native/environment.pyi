import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
U8 = NDArray[np.uint8]

def shock_rows(
    level_now: F, level: F, transient: F, fade: F, low: F, high: F, span: F,
    menace_issues: NDArray[np.int64], hits: U8, menace: U8, moves: F, f_clout: F, o_clout: F,
    third_clout: F,
) -> tuple[F, F, F, F]: ...
class ShockRun:
    n: int
    n_i: int
    n_f: int
    n_o: int
    n_x: int
    def __init__(
        self, n: int, fade: F, low: F, high: F, span: F, menace_issues: NDArray[np.int64],
        menace: U8, moves: F, n_f: int, n_o: int, n_x: int,
    ) -> None: ...

def shock_rows_of(
    run: ShockRun, level_now: F, level: F, transient: F, hits: U8, f_clout: F, o_clout: F,
    third_clout: F,
) -> tuple[F, F, F, F]: ...
def shock_moves(
    effects: F, clout_focal: F, clout_internal: F, clout_third: F, threat: F, settlement: F,
) -> F: ...
def shock_hits(uniforms: F, chance: F) -> U8: ...
def jolt_rows(
    level: F, transient: F, low: F, high: F, d_level: F, d_focal: F, d_internal: F,
    d_third: F, f_clout: F, o_clout: F, third_clout: F,
) -> None: ...
class EnvironmentRun:
    def __init__(
        self, clout0: F, threat_mask: U8, threat_start: F, regional_share: F, decay: F,
        chance: F, progress: F, position: F, salience: F, span: F, direction: F, symmetry: F,
        neutral: F, erosion: F, recovery: F, via: F, dt: float, weighted: NDArray[np.intp],
        hostility_gain: F, n: int,
    ) -> None: ...

def threat_pace_rows(run: EnvironmentRun, hostility: F) -> tuple[F, F, F]: ...
def opened_rows(level: F, j: int, threshold: F, opened: U8) -> None: ...

def environment_rows(
    run: EnvironmentRun, threat: F, push: F, rate: F, fade: F, third_clout: F, threat_jump: F,
    settlement: F, uniform: F, settlement_jump: F, level: F, hostility: F, allied: F,
    played_o: F, menace: F,
) -> tuple[F, F, F, F]: ...
def weighted_terms(salience: F) -> NDArray[np.intp]: ...
def bite_rows(allied: F, allied0: F, share: F) -> F: ...
def regional_rows(clout: F, clout0: F, threat: U8) -> F: ...
def threat_rows(
    threat: F, push: F, rate: F, fade: F, regional: F, jump: F, start: F, share: F, decay: F,
) -> F: ...
def settlement_rows(settlement: F, uniform: F, jump: F, chance: F, progress: F) -> F: ...
def friction_rows(
    level: F, position: F, clout: F, salience: F, span: F, direction: F, symmetry: F,
    hostility: F,
) -> F: ...
def alignment_rows(
    allied: F, friction: F, moderation: F, menace: F, erosion: F, recovery: F, via: F,
    dt: float,
) -> F: ...
