"""Model parameters of the two-level simulation, with documented defaults.

A system scenario sets them under ``parameters:`` by the names below (the flagship names are
fixed in ``docs/contracts.md``); any name not set keeps its default. An unknown name is an
input error with a "did you mean" hint, so a typo never silently leaves a default in place.
Every parameter is explained, with its source, in ``docs/model.md``.

Time units: rates marked "per year" are converted to the calendar step (a quarter is 0.25).
Levels and beliefs live on ``[0, 1]``; issue changes are in issue units unless noted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from detente.errors import InputError, InputProblem, did_you_mean
from detente.scenario.numbers import nominal
from detente.scenario.schema import Scenario


def _p(default: float, doc: str) -> float:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class SimParameters:
    """Every tunable number of the simulation engine (frozen; build with :func:`parameters_from`).

    The attribute ``metadata["doc"]`` of each dataclass field holds its one-line meaning;
    :func:`parameter_docs` lists them for the documentation and the CLI.
    """

    # --- perception (Jervis 1976) and Bayesian type beliefs ---------------------------------
    perception_noise_us: float = _p(
        0.15, "sd of the noise on the U.S. reading of an Iranian move (0-1 scale)"
    )
    perception_noise_iran: float = _p(
        0.2, "sd of the noise on the Iranian reading of a U.S. move (0-1 scale)"
    )
    perception_bias_us: float = _p(
        -0.05, "additive bias of the U.S. reading (negative = reads moves as more hostile)"
    )
    perception_bias_iran: float = _p(
        -0.1, "additive bias of the Iranian reading (negative = reads moves as more hostile)"
    )
    prior_reciprocating_us: float = _p(0.15, "U.S. prior that Iran is a reciprocating type")
    prior_reciprocating_iran: float = _p(0.1, "Iranian prior that the U.S. is a reciprocating type")
    reciprocity_threshold_us: float = _p(
        0.5, "U.S. belief its approval holders need before the boldest step (scaled by gesture)"
    )
    reciprocity_threshold_iran: float = _p(
        0.5, "Iranian belief its approval holders need before the boldest step (scaled by gesture)"
    )
    type_benign_level: float = _p(
        0.25, "mean level a reciprocating type shows at least (it matches better moves)"
    )
    type_hostile_level: float = _p(0.05, "mean level a hostile (non-reciprocating) type shows")
    type_noise: float = _p(0.25, "sd of a type's moves around its mean in the belief's likelihood")
    belief_learning_rate: float = _p(
        0.5, "weight of one quarter's log-likelihood ratio (cognitive conservatism <1)"
    )
    belief_forgetting: float = _p(0.05, "share of the log-odds gap to the prior forgotten per step")
    memory: float = _p(
        0.5, "weight of the newest observation in smoothed (EWMA) perceived and own levels"
    )
    # --- mapping levels to instruments ------------------------------------------------------
    neutral_level: float = _p(
        0.1, "cooperation level meaning 'no new step either way' (status quo posture)"
    )
    announce_weight: float = _p(
        0.5, "share of an approved but not yet implemented step already visible to the other side"
    )
    # --- domestic ratification (Putnam 1988; Tsebelis 2002) ---------------------------------
    majority_threshold: float = _p(
        0.5, "clout x salience share of a country's actors that must prefer a move"
    )
    agenda_power: float = _p(
        0.2, "how far below the majority threshold an executive's own proposal may pass"
    )
    approval_tolerance: float = _p(
        10.0, "loss (issue units) an approval holder without a veto tolerates"
    )
    revocation_margin: float = _p(
        0.1, "extra majority needed to reverse a step the internal side took"
    )
    # --- Iran's internal bargaining ---------------------------------------------------------
    belief_gain: float = _p(
        0.3,
        "shift of both Iranian camps' positions on the response issues (share of range) per "
        "unit of belief that the U.S. reciprocates above its starting value",
    )
    responsiveness_reformist: float = _p(
        1.0, "multiplier of the camp shifts for reformist-camp actors"
    )
    responsiveness_other: float = _p(
        0.5, "multiplier of the camp shifts for all other actors (conservatives, Leader)"
    )
    dictation_effect: float = _p(
        0.3,
        "how far sanctions in place make dialogue read as capitulation "
        "(share of range at full sanctions)",
    )
    # --- Iran's response per issue and camp (docs/model.md section 2, "Internal side") -----
    goodwill_gain: float = _p(
        0.4,
        "shift of reformist-camp positions on the response issues (share of range) per unit "
        "of perceived U.S. gesture",
    )
    conditions_gain: float = _p(
        0.4,
        "shift of the other camp's positions on the response issues (share of range) when "
        "Iran's stated conditions are met in full",
    )
    condition_saturation: float = _p(
        0.0,
        "form of the response to partly met conditions: 0 linear, toward 1 saturating (first "
        "steps count most), toward -1 accelerating (only near-full fulfilment counts)",
    )
    condition_curvature: float = _p(
        3.0, "how sharply the saturating or accelerating form bends (its exponential rate)"
    )
    pocketing_gain: float = _p(
        0.3,
        "fall of the other camp's positions (share of range) per unit of U.S. gesture made "
        "under full pressure (concessions pocketed or read as dictation)",
    )
    threat_gain: float = _p(
        0.0,
        "shift of the other camp's positions (share of range) per unit rise of the regional "
        "threat: positive seeks a bargain, negative closes ranks",
    )
    settlement_gain: float = _p(
        0.3,
        "shift of every Iranian position on support for armed groups toward curbing "
        "(share of range) at a comprehensive Arab-Israeli settlement",
    )
    terror_goodwill_gain: float = _p(
        0.02,
        "shift of positions on support for armed groups toward curbing (share of range) per "
        "unit of perceived U.S. gesture",
    )
    wmd_threat_gain: float = _p(
        0.3,
        "rise of every Iranian position on the WMD effort (share of range) per unit rise of "
        "the regional threat",
    )
    wmd_goodwill_gain: float = _p(
        0.02,
        "shift of positions on the WMD effort toward restraint (share of range) per unit of "
        "perceived U.S. gesture",
    )
    # --- Iranian domestic politics ----------------------------------------------------------
    public_reform_support: float = _p(0.65, "initial share of the Iranian public backing reform")
    demographic_drift: float = _p(
        0.01, "yearly drift of public support toward reform (youth bulge)"
    )
    engagement_gain: float = _p(
        0.08, "yearly support gained per unit of visible economic gain from engagement"
    )
    rally_effect: float = _p(
        0.06, "yearly support lost per unit of U.S. hostility and sanctions read as dictation"
    )
    support_noise: float = _p(0.01, "sd of quarterly random movement of public support")
    backlash_hazard: float = _p(
        0.6, "yearly rate of conservative repression events at a reform share of 0.5"
    )
    backlash_threat_elasticity: float = _p(
        3.0, "how steeply that rate grows with the reformists' share of clout"
    )
    backlash_severity: float = _p(
        0.15, "share of unelected reformist clout lost in one repression event"
    )
    clout_adjustment_rate: float = _p(
        0.3, "yearly rate at which factions' clout follows public support"
    )
    # --- the closing of the system (docs/model.md section 4; 0 = the former model) ---------
    backlash_backing_elasticity: float = _p(
        0.0, "growth of the log backlash rate with visible U.S. backing of reformers (0-1)"
    )
    vetting_base: float = _p(
        0.0, "starting and resting share of the reform vote barred by candidate vetting"
    )
    vetting_threat_rate: float = _p(
        0.0, "yearly rise of vetting (share of its gap to 1) per unit of reform share gained"
    )
    vetting_backlash_jump: float = _p(
        0.0, "share of vetting's gap to 1 closed by one backlash event"
    )
    vetting_decay: float = _p(0.0, "yearly rate at which vetting relaxes toward its base")
    disillusion_rate: float = _p(
        0.0, "yearly growth of reformist disillusion per unit of reform rolled back (share)"
    )
    disillusion_backlash_jump: float = _p(
        0.0, "share of disillusion's gap to 1 added by one backlash event (<0: mobilises)"
    )
    disillusion_decay: float = _p(0.0, "yearly rate at which reformist disillusion fades")
    turnout_sensitivity: float = _p(
        0.0, "share of reformist turnout lost at full disillusion"
    )
    election_bonus: float = _p(
        0.5, "extra clout of an elected institution per unit of winning margin"
    )
    # --- third parties, U.S. cost, outcomes -------------------------------------------------
    allied_support_initial: float = _p(
        0.4, "initial allied support for the focal side's line (0-1)"
    )
    allied_sanctions_share: float = _p(
        0.5,
        "share of the sanctions' bite on the internal side that needs allies to join "
        "(0 = unilateral sanctions bite fully)",
    )
    # --- international environment (docs/model.md 5): threat, settlement, allied friction ---
    threat_initial: float = _p(
        0.5, "regional threat to the internal side at the start (0 = none, 1 = war at its borders)"
    )
    threat_regional_share: float = _p(
        0.5,
        "share of the starting threat due to hostile neighbours (threat_to actors), which "
        "follows their clout; the rest is the focal side's forces and pressure",
    )
    threat_hostility: float = _p(
        0.2, "yearly rise of the regional threat per unit of the focal side's hostile share"
    )
    threat_decay: float = _p(
        0.5, "yearly rate at which the regional threat relaxes toward its starting level"
    )
    settlement_hazard: float = _p(
        0.0,
        "yearly rate of a breakthrough toward a regional (Arab-Israeli) settlement "
        "(0 = no settlement process)",
    )
    settlement_progress: float = _p(
        0.3, "share of the remaining way to a comprehensive settlement one breakthrough covers"
    )
    friction_symmetry: float = _p(
        0.5,
        "weight of an ally's gap where the focal side is softer than the ally "
        "(1 = symmetric distance, 0 = only a harder line causes friction)",
    )
    moderation_via_friction: float = _p(
        0.5,
        "how far the internal side's moderation erodes allied support only through the "
        "friction (1) rather than on its own (0)",
    )
    allied_erosion: float = _p(
        0.3,
        "yearly erosion of allied support per unit of friction with the allies plus Iranian "
        "moderation",
    )
    allied_recovery: float = _p(
        0.3, "yearly recovery of allied support per unit of Iranian threat (terror, WMD, attacks)"
    )
    us_cost_tolerance: float = _p(
        3.0,
        "U.S. domestic cost the administration bears before it stops new concessions and "
        "starts withdrawing old ones",
    )
    us_cost_decay: float = _p(0.1, "share of accumulated U.S. domestic cost that fades per step")
    naivety_cost: float = _p(
        0.5, "domestic cost per unit of unreciprocated gesture per step (looking naive)"
    )
    # --- focal-side elections (the U.S. mechanism) -------------------------------------------
    us_election_swing: float = _p(
        0.25,
        "shift of the focal legislature's hawk/engager balance per unit of the voters' verdict "
        "(reciprocated gesture minus unreciprocated gesture and hostile acts) at an election",
    )
    us_mandate_renewal: float = _p(
        0.5, "share of the accumulated U.S. domestic cost a presidential election clears"
    )
    # --- focal-side legislature and retreat (docs/model.md 4c) -------------------------------
    us_veto_override: float = _p(
        0.5,
        "probability that a legislature's two-thirds majority for its own bill holds against "
        "the executive's veto",
    )
    us_retreat_rate: float = _p(
        1.0,
        "yearly rate at which an executive past its cost tolerance withdraws its costliest "
        "reversible conciliatory step (0 = it only stops new ones)",
    )
    shock_decay: float = _p(
        0.5, "yearly rate at which shock and repression effects on issue levels fade"
    )
    dialogue_threshold: float = _p(
        0.5, "share of the dialogue issue's range at which direct dialogue counts as open"
    )

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int | float) or v != v:
                problems.append(f"{f.name} must be a number, got {v!r}")
        if problems:
            raise InputError([InputProblem("<parameters>", m) for m in problems])


def parameter_docs() -> dict[str, tuple[float, str]]:
    """Each parameter's default and one-line meaning, in declaration order."""
    return {f.name: (float(f.default), str(f.metadata["doc"])) for f in fields(SimParameters)}  # type: ignore[arg-type]


def parameters_from(
    values: Mapping[str, float] | Scenario, source: str = "<parameters>"
) -> SimParameters:
    """Build the parameters from a scenario's ``parameters:`` (nominal values) or a mapping.

    Raises
    ------
    InputError
        One problem per unknown name, with a "did you mean" hint.
    """
    if isinstance(values, Scenario):
        source = f"scenario {values.id}"
        raw = {k: nominal(v) for k, v in values.parameters.items()}
    else:
        raw = {k: float(v) for k, v in values.items()}
    known = {f.name for f in fields(SimParameters)}
    bad = [k for k in raw if k not in known]
    if bad:
        raise InputError(
            [
                InputProblem(
                    source,
                    f"unknown model parameter {k!r}{did_you_mean(k, known)}",
                    path=f"parameters.{k}",
                )
                for k in bad
            ]
        )
    return SimParameters(**raw)


__all__ = ["SimParameters", "parameter_docs", "parameters_from"]
