import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]
I64 = NDArray[np.int64]

PUBLIC_SUPPORT: int
BACKLASH: int
VETTING_AND_DISILLUSION: int
CLOUT_DRIFT: int
INTERNAL_ELECTIONS: int
HAZARD_PIVOT: float

class DomesticRun:
    n: int
    def __init__(
        self,
        n: int,
        low: F64,
        high: F64,
        span: F64,
        i_sanctions: int,
        i_reform: int,
        dt: float,
        mobile: U8,
        reform_camp: U8,
        o_base: F64,
        reform_backing: F64,
        e_vetting: F64,
        sanc_n0: F64,
        drift: F64,
        engagement_gain: F64,
        rally_effect: F64,
        dictation_effect: F64,
        support_noise: F64,
        hazard: F64,
        threat_elasticity: F64,
        backing_elasticity: F64,
        severity: F64,
        vetting_base: F64,
        vetting_threat_rate: F64,
        vetting_jump: F64,
        vetting_decay: F64,
        disillusion_rate: F64,
        disillusion_jump: F64,
        disillusion_decay: F64,
        public_support0: F64,
        clout_rate: F64,
        turnout_sensitivity: F64,
        election_bonus: F64,
        backed: NDArray[np.intp],
    ) -> None: ...

class MultilateralRun:
    def __init__(self, n: int, weight: F64, total: F64) -> None: ...

def multilateral_share(run: MultilateralRun, active: U8) -> F64 | None: ...

def domestic_step(
    run: DomesticRun,
    first: int,
    last: int,
    support: F64,
    backing: F64,
    vetting: F64,
    disillusion: F64,
    o_clout: F64,
    o_reform: U8,
    o_control: U8,
    level: F64,
    transient: F64,
    backlash_events: I64,
    hit: U8,
    share: F64,
    bite: F64,
    multi: F64,
    hostile: F64,
    f_active: U8,
    share0: F64,
    reform0: F64,
    u_support: F64,
    u_backlash: F64,
    e_holder: I64,
    e_actor: I64,
    e_column: I64,
) -> None: ...
def backed_steps(backing: F64) -> NDArray[np.intp]: ...
def reform_share(clout: F64, reform: U8) -> F64: ...
def visible_backing(active: U8, reform_backing: F64) -> F64: ...
def backlash_hazard(
    share: F64, backing: F64, hazard: F64, threat_elasticity: F64, backing_elasticity: F64
) -> F64: ...
def vetting_update(
    vetting: F64,
    share: F64,
    share0: F64,
    hit: U8,
    base: F64,
    threat_rate: F64,
    backlash_jump: F64,
    decay: F64,
    dt: float,
) -> F64: ...
def disillusion_update(
    disillusion: F64, blocked: F64, hit: U8, rate: F64, backlash_jump: F64, decay: F64,
    dt: float,
) -> F64: ...
def reform_blocked(level: F64, level0: F64, span: float) -> F64: ...
def election_vote_share(
    support: F64, vetting: F64, election_vetting: F64, disillusion: F64,
    turnout_sensitivity: F64,
) -> F64: ...
def election_verdict(
    reciprocated: F64, unreciprocated: F64, hostile: F64, swing: F64
) -> F64: ...
def balance_clout(balance: F64, hawk: U8, engager: U8) -> F64: ...
