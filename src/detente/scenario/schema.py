"""The scenario schema (pydantic v2).

A scenario holds everything the engines need: countries, actors with clout, positions and
saliences per issue, issues as bounded continuous dimensions, institutions and veto rights,
policy instruments, strategies, a calendar with elections, exogenous shocks, outcome metrics
and free model parameters. Any number may be uncertain
(:class:`~detente.scenario.numbers.Uncertain`) and every element can carry provenance.
See ``docs/scenario-format.md`` for an annotated example.

Cross-references (actor -> country, position -> issue, veto -> issue, ...) and values outside
an issue's bounds are checked by :func:`reference_problems`, which reports every problem
with its field path rather than stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from detente.errors import InputError, did_you_mean
from detente.metrics import binary_metrics, step_metrics
from detente.scenario.numbers import Number, Provenance, Strict, Uncertain, nominal, span

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64),
]
"""Lower-case id: letters, digits, ``-``, ``_``, ``.``; starts with a letter or digit."""

Loc = tuple[str | int, ...]

ID_SECTIONS = (
    "countries",
    "issues",
    "actors",
    "institutions",
    "instruments",
    "strategies",
    "shocks",
    "metrics",
    "ablations",
)
"""The scenario's top-level lists whose elements carry a unique ``id``."""
_T = TypeVar("_T")


class Country(Provenance):
    """A state, bloc or non-state party: the principals and the third parties."""

    id: Identifier
    name: str
    role: Literal["principal", "third-party"] = "principal"
    description: str = ""


class Actor(Provenance):
    """A faction, institution, office, social group or third party with a stake in the issues.

    ``positions`` and ``saliences`` are keyed by issue id; an actor need not take a position on
    every issue (absent means it does not take part in bargaining on that issue).
    Saliences are on 0-100 (how much the issue matters relative to the actor's others).
    """

    id: Identifier
    name: str
    country: Identifier | None = None
    kind: Literal[
        "office",
        "institution",
        "faction",
        "society",
        "bureaucracy",
        "legislature",
        "firm",
        "government",
        "armed-group",
        "multilateral",
        "state",
    ] = "faction"
    camp: str | None = Field(default=None, description="Camp label, e.g. reformist, conservative.")
    clout: Number
    risk: Number | None = Field(
        default=None, description="Risk attitude in [-1, 1]: -1 averse, 0 neutral, 1 acceptant."
    )
    positions: dict[Identifier, Number] = Field(default_factory=dict)
    saliences: dict[Identifier, Number] = Field(default_factory=dict)
    ally_of: Identifier | None = Field(
        default=None,
        description="A third party whose support the given principal needs: when that "
        "principal is the focal side, the actor's clout, positions and saliences on the "
        "focal side's policy issues set the friction that erodes allied support.",
    )
    threat_to: Identifier | None = Field(
        default=None,
        description="A third party that menaces the given principal: when that principal is "
        "the internal side, the actor's clout (relative to its start) scales the regional "
        "part of the threat to it.",
    )
    description: str = ""


#: Roles an issue can play in the simulation engine (``sim``): which issue is the sanctions
#: level, the dialogue level (rapprochement), the other side's support for armed groups, its
#: WMD effort and its domestic reform.
IssueRole = Literal["sanctions", "dialogue", "terror-support", "wmd", "reform", "other"]
#: Constitutional roles of institutions.
InstitutionRole = Literal[
    "leader",
    "legislature",
    "presidency",
    "guardian",
    "judiciary",
    "security",
    "bureaucracy",
    "other",
]
#: Institution roles a country holds at most once.
UNIQUE_INSTITUTION_ROLES = ("leader", "legislature", "presidency", "guardian")


class Demand(Provenance):
    """A condition a country states for better relations: a level it demands on an issue.

    The internal side's actors read how far the issue has moved from its starting level toward
    ``level`` as the fulfilment of their stated conditions (``docs/model.md``, section 2,
    "Internal side"); a demand by another country is documentation only.
    """

    country: Identifier = Field(description="The country that states the condition.")
    level: Number = Field(description="The level it demands, on the issue's own scale.")


class Issue(Provenance):
    """A bounded continuous policy dimension with labelled anchor points."""

    id: Identifier
    name: str
    low: float = 0.0
    high: float = 100.0
    unit: str = ""
    anchors: dict[float, str] = Field(
        default_factory=dict, description="Labelled points on the scale, e.g. {0: 'none'}."
    )
    status_quo: Number | None = None
    role: IssueRole | None = Field(
        default=None,
        description="What the issue stands for in the simulation engine's mechanisms and "
        "metrics (at most one issue per role; 'other' for none in particular).",
    )
    demand: Demand | None = Field(
        default=None,
        description="A level a country demands on this issue as a condition (e.g. Iran: "
        "sanctions lifted); its source or judgment is required.",
    )
    policy_of: Identifier | None = Field(
        default=None,
        description="The principal whose own policy the issue's level is (its allies judge "
        "it); the issue with 'role: sanctions' is always the focal side's policy.",
    )
    description: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> Issue:
        if not self.low < self.high:
            raise ValueError(f"'low' ({self.low}) must be below 'high' ({self.high})")
        return self


class Veto(Strict):
    """The right to block moves on some issues that leave the holder worse off than tolerated."""

    issues: list[Identifier] = Field(min_length=1)
    tolerance: Number = Field(
        description="How far (in issue units) a move may hurt the holder before it blocks it."
    )


class Institution(Provenance):
    """A formal body: who speaks for it in bargaining, and what it can veto."""

    id: Identifier
    name: str
    country: Identifier
    holder: Identifier = Field(description="The actor whose position the institution acts on.")
    elected: bool = False
    vetoes: list[Veto] = Field(default_factory=list)
    role: InstitutionRole | None = Field(
        default=None,
        description="The institution's constitutional role (at most one per country for "
        "leader, legislature, presidency and guardian); the engine reports elections to the "
        "internal side's legislature and presidency.",
    )
    description: str = ""


#: Who may propose a focal-side step (docs/model.md 4c): the executive (the strategy under
#: test) and/or the country's ``role: legislature`` institution acting on its own.
Proposer = Literal["executive", "legislature"]


class Sunset(Strict):
    """The date a law lapses unless renewed (docs/model.md 4c).

    The instrument carrying it is the lapse itself: nobody proposes it; at the step of
    ``date`` it takes effect unless one of ``renewed_by`` is in force or approved, and a
    later ``renewed_by`` step re-enacts the law (withdraws the lapse).
    """

    date: dt.date
    renewed_by: list[Identifier] = Field(
        min_length=1, description="Instruments of the same owner that renew the law."
    )


class Instrument(Provenance):
    """A concrete policy step one country can take.

    ``effects`` are changes of issue levels once implemented; ``delay`` is the implementation
    delay in calendar steps (a distribution models bureaucratic foot-dragging);
    ``gesture`` is how conciliatory the step reads to the other side (-1 hostile .. 1 bold);
    ``reform_backing`` how visibly it backs the other country's reformers (0 .. 1).
    ``initiative``, ``locks``, ``cost_discount`` and ``sunset`` are the focal side's domestic
    politics (docs/model.md 4c): who may propose the step, whether it is a statute only
    the legislature can undo, how much it cheapens the owner's later conciliatory steps, and
    the date a law lapses.
    """

    id: Identifier
    name: str
    owner: Identifier = Field(description="Country that takes the step.")
    effects: dict[Identifier, Number] = Field(default_factory=dict)
    domestic_cost: Number = 0.0
    approvals: list[Identifier] = Field(
        default_factory=list, description="Actors whose consent the step needs."
    )
    delay: Number = 0.0
    reversible: bool = True
    gesture: Number = 0.0
    multilateral: bool = False
    reform_backing: Number = Field(
        default=0.0,
        description="How visibly the step backs the other country's reformers (0-1): 1 for a "
        "democracy-promotion programme; it raises the backlash hazard there.",
    )
    requires: list[Identifier] = Field(
        default_factory=list, description="Instruments that must be in force first."
    )
    initiative: list[Proposer] = Field(
        default_factory=lambda: list[Proposer](["executive"]),
        description="Who may propose the step: the executive (its strategy) and/or the "
        "legislature on its own (focal side).",
    )
    locks: bool = Field(
        default=False,
        description="A statute: while in force, its owner's steps moving its issues the other "
        "way need the legislature's floor majority.",
    )
    cost_discount: Number = Field(
        default=0.0,
        description="While in force, the owner's later conciliatory steps cost x (1 - this): "
        "a trade for legislative support (0-1).",
    )
    sunset: Sunset | None = Field(
        default=None, description="This step is a law's lapse, taking effect at the date."
    )
    description: str = ""

    @model_serializer(mode="wrap")
    def _without_default_politics(self, handler: SerializerFunctionWrapHandler) -> Any:
        # an instrument that leaves the domestic-politics fields at their defaults dumps (and
        # hashes) exactly as before they existed
        data = handler(self)
        if isinstance(data, dict):
            for key, default in _POLITICS_DEFAULTS.items():
                if key in data and data[key] == default:
                    del data[key]
        return data


_POLITICS_DEFAULTS: dict[str, Any] = {
    "initiative": ["executive"],
    "locks": False,
    "cost_discount": 0.0,
    "sunset": None,
}


class StrategySpec(Provenance):
    """A named strategy a country can follow: a registered strategy class and its parameters."""

    id: Identifier
    name: str = ""
    country: Identifier
    kind: str = Field(description="Registered strategy class name, e.g. 'moderate-engagement'.")
    params: dict[str, Number] = Field(default_factory=dict)
    instruments: list[Identifier] = Field(
        default_factory=list, description="The menu the strategy draws from (empty: all owned)."
    )
    option: bool = Field(default=False, description="One of the policy options under debate.")
    after_reciprocation: list[Identifier] = Field(
        default_factory=list,
        description="Conciliatory steps taken only once the other side reciprocates: the "
        "strategy's modest ceiling is the ladder level just below the first of them "
        "(strategy kinds with a 'ceiling' parameter).",
    )
    description: str = ""


class LeverRange(Strict):
    """The values one free strategy parameter may take in ``detente design``.

    Either a range ``low``..``high`` (``integer: true`` for whole numbers, e.g. a patience
    in steps) or a list of ``choices``.
    """

    low: float | None = None
    high: float | None = None
    integer: bool = False
    choices: list[float] | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_form(self) -> LeverRange:
        ranged = self.low is not None or self.high is not None
        if ranged == (self.choices is not None):
            raise ValueError("give either 'low' and 'high' or 'choices', not both")
        if self.choices is not None:
            if self.integer:
                raise ValueError("'integer' applies to a range; list whole numbers as choices")
            if any(not math.isfinite(c) for c in self.choices):
                raise ValueError("choices must be finite numbers")
            return self
        if self.low is None or self.high is None:
            raise ValueError("a lever range needs both 'low' and 'high'")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("'low' and 'high' must be finite numbers")
        if self.low >= self.high:
            raise ValueError(f"'low' ({self.low}) must be below 'high' ({self.high})")
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an integer lever needs whole-number 'low' and 'high'")
        return self


class Levers(Provenance):
    """The free parameters of one strategy, searched by ``detente design``."""

    strategy: str = Field(description="A scenario strategy id or a registered strategy kind.")
    params: dict[str, LeverRange] = Field(min_length=1)


class KeyUncertainty(Provenance):
    """One of the few uncertainties the scenario's argument turns on (shown first by the
    what-if page): an uncertainty, a ``sample_together`` group or a camp's strength
    (``camp[<country>/<camp>].clout``), with why it matters."""

    name: str = Field(min_length=1, max_length=200)


class DesignedStrategy(Provenance):
    """A strategy found by ``detente design``: a scenario strategy with some parameters fixed.

    It plays as ``strategy`` (its kind, country, menu and every parameter not listed here,
    uncertain ones sampled as usual) with the listed parameters set to these values.
    """

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.:-]*$", max_length=96)]
    strategy: str
    params: dict[str, Number] = Field(min_length=1)
    description: str = ""


class Election(Provenance):
    """A scheduled election converting public support into an elected institution's clout."""

    id: Identifier
    name: str = ""
    country: Identifier
    date: dt.date
    institution: Identifier
    vetting: Number = Field(
        default=0.0, description="Share of reform-minded candidates barred by vetting (0-1)."
    )


class Calendar(Strict):
    """Start date, step length, horizon and scheduled elections."""

    start: dt.date
    step: Literal["month", "quarter", "year"] = "quarter"
    horizon: int = Field(gt=0, le=400, description="Number of steps to simulate.")
    elections: list[Election] = Field(default_factory=list)

    @property
    def months(self) -> int:
        """Length of a step in months."""
        return {"month": 1, "quarter": 3, "year": 12}[self.step]

    def first_month(self) -> int:
        """Month index (``year * 12 + month - 1``) of the first step's period (quarters align)."""
        base = self.start.year * 12 + (self.start.month - 1)
        return base - base % 3 if self.step == "quarter" else base

    def step_of(self, date: dt.date) -> int:
        """The step whose period contains ``date`` (negative before, ``>= horizon`` after)."""
        return (date.year * 12 + date.month - 1 - self.first_month()) // self.months

    def end(self) -> dt.date:
        """The first day after the last step's period."""
        m = self.first_month() + self.horizon * self.months
        return dt.date(m // 12, m % 12 + 1, 1)


class Shock(Provenance):
    """An exogenous event type arriving at a rate (expected events per year)."""

    id: Identifier
    name: str
    rate: Number
    effects: dict[Identifier, Number] = Field(
        default_factory=dict, description="Change of issue levels when the shock hits."
    )
    clout: dict[Identifier, Number] = Field(
        default_factory=dict, description="Relative change of actors' clout when it hits."
    )
    threat: Number = Field(
        default=0.0,
        description="Change of the regional threat to the internal side (0-1 scale) when it "
        "hits; in [-1, 1].",
    )
    settlement: Number = Field(
        default=0.0,
        description="Change of the regional peace settlement (0-1 scale; the flagship's "
        "Arab-Israeli settlement) when it hits; in [-1, 1].",
    )
    description: str = ""


class Metric(Strict):
    """An outcome the experiments report, with an optional satisficing threshold."""

    id: Identifier
    name: str = ""
    description: str = ""
    unit: str = ""
    direction: Literal["maximize", "minimize", "info"] = "maximize"
    threshold: float | None = Field(
        default=None, description="Satisficing threshold on the metric's final value."
    )


class Ablation(Provenance):
    """A variant of the comparison with some uncertain numbers fixed (``detente ablate``).

    Every sampled state takes the values of ``fix`` and keeps its other numbers and its
    worlds' random numbers, so the variant's difference from the baseline is its effect
    (docs/experiments.md, "Ablations").
    """

    id: Identifier
    name: str = ""
    fix: dict[str, float] = Field(
        min_length=1, description="Uncertainty name -> the value every sampled state takes."
    )
    description: str = ""


class NotSampled(Provenance):
    """Uncertain numbers experiments and calibration leave at their nominal value.

    For numbers no mechanism of the simulation reads (a risk attitude only the static
    expected-utility model uses; a position on an issue its holder has no say on): sampling
    them would add inert dimensions. ``inputs`` are uncertainty names, ``*`` matching any
    run of characters (brackets are literal); each must match at least one uncertain number.
    ``reason`` says why the model gives them no role, the provenance where the article does.
    """

    inputs: list[str] = Field(min_length=1)
    reason: str = Field(min_length=1)


class SampleTogether(Provenance):
    """Uncertain numbers sampled as one group: one shared shift moves them all.

    ``inputs`` are uncertainty names with ``*`` wildcards (as in :class:`NotSampled`); each
    must match at least one sampled number, and a number goes to the first entry that
    matches it. Without ``per`` the matched numbers form one group ``together[<id>]``; with
    ``per: camp`` one group per country, camp and the rest of an actor number's path
    (``<id>[<country>/<camp>].<rest>``). ``reason`` says why their errors are shared
    (:mod:`detente.scenario.together`).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    inputs: list[str] = Field(min_length=1)
    per: Literal["camp"] | None = None
    reason: str = Field(min_length=1)


# ---------------------------------------------------------------------------------------
# History (docs/history.md): scripted policy, dated events, observations
# ---------------------------------------------------------------------------------------

#: The metrics the simulation engine records per world and step, in this order (a view of
#: the registry, :mod:`detente.metrics`; ``detente.sim.engine.METRICS`` is this tuple);
#: observation expressions may name them.
SIMULATED_METRICS: tuple[str, ...] = step_metrics()
#: Simulated metrics that are 0/1 in every world (conditions on their own).
BINARY_METRICS: tuple[str, ...] = binary_metrics()
#: Functions an observation expression may call: name -> what its one quoted id names.
OBSERVATION_FUNCTIONS: dict[str, str] = {
    "in_force": "instruments",
    "taken": "instruments",
    "level": "issues",
}
#: The functions whose value is a condition (in force / taken: true or false).
BINARY_FUNCTIONS: tuple[str, ...] = ("in_force", "taken")


class ScriptStep(Provenance):
    """One dated step of a script: an instrument switched on or off, or a cooperation level."""

    date: dt.date
    instrument: Identifier | None = Field(
        default=None, description="An instrument of the script's country, forced on or off."
    )
    action: Literal["on", "off"] | None = None
    level: float | None = Field(
        default=None, ge=0.0, le=1.0, description="The side's cooperation level from this step."
    )
    description: str = ""

    @field_validator("action", mode="before")
    @classmethod
    def _yaml_on_off(cls, value: object) -> object:
        # YAML 1.1 (PyYAML) reads the bare words on/off as booleans.
        if value is True:
            return "on"
        if value is False:
            return "off"
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> ScriptStep:
        if (self.instrument is None) == (self.level is None):
            raise ValueError("give either 'instrument' (with 'action') or 'level', not both")
        if self.instrument is not None and self.action is None:
            raise ValueError("'instrument' needs 'action: on' or 'action: off'")
        if self.level is not None and self.action is not None:
            raise ValueError("'action' goes with 'instrument', not with 'level'")
        return self


class Script(Provenance):
    """The dated policy one side followed, replayed before handing over to a strategy."""

    id: Identifier
    name: str = ""
    country: Identifier = Field(description="The scripted side; it owns every switched step.")
    then: str = Field(description="Strategy id of that country, or a registered kind.")
    until: dt.date | None = Field(
        default=None, description="Last date of the script (default: its last step's date)."
    )
    steps: list[ScriptStep] = Field(min_length=1)
    description: str = ""

    @property
    def last_date(self) -> dt.date:
        """``until``, or the date of the last step."""
        return self.until if self.until is not None else max(st.date for st in self.steps)


class ScheduledEvent(Provenance):
    """An exogenous shock at a known date (the effect fields of :class:`Shock`)."""

    id: Identifier
    name: str
    date: dt.date
    effects: dict[Identifier, Number] = Field(
        default_factory=dict, description="Change of issue levels at the date."
    )
    clout: dict[Identifier, Number] = Field(
        default_factory=dict, description="Relative change of actors' clout at the date."
    )
    threat: Number = Field(
        default=0.0, description="Change of the regional threat at the date; in [-1, 1]."
    )
    settlement: Number = Field(
        default=0.0, description="Change of the regional peace settlement at the date; in [-1, 1]."
    )
    description: str = ""


class Window(Strict):
    """A date range, both ends included (``{from: ..., to: ...}``)."""

    start: dt.date = Field(alias="from")
    stop: dt.date = Field(alias="to")


class Interval(Strict):
    """An observed value known to lie in ``[low, high]``."""

    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.low > self.high:
            raise ValueError(f"'low' ({self.low:g}) must not be above 'high' ({self.high:g})")
        return self


def _observed(value: Any) -> bool | float | Interval:
    if isinstance(value, bool | Interval):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value}")
        return float(value)
    if isinstance(value, dict) and set(value) == {"low", "high"}:
        return Interval.model_validate(value)
    raise ValueError(
        "expected true/false (a condition), a number or {low: .., high: ..} (a value); "
        f"found {value!r}"[:200]
    )


def _dump_observed(value: bool | float | Interval) -> Any:
    return value.model_dump() if isinstance(value, Interval) else value


class Observation(Provenance):
    """A dated fact about the world: an expression, what was observed, and how reliably."""

    id: Identifier
    date: dt.date | None = None
    window: Window | None = None
    expression: str = Field(max_length=1000)
    observed: Annotated[
        bool | float | Interval, PlainValidator(_observed), PlainSerializer(_dump_observed)
    ]
    error: float = Field(
        ge=0.0, description="Binary: flip probability in [0, 0.5); value: the sd (>= 0)."
    )
    description: str = ""

    @model_validator(mode="after")
    def _when(self) -> Observation:
        if (self.date is None) == (self.window is None):
            raise ValueError("give either 'date' or 'window: {from: .., to: ..}', not both")
        return self

    @property
    def first(self) -> dt.date:
        """The date, or the window's first day."""
        return self.window.start if self.window is not None else self.date  # type: ignore[return-value]

    @property
    def last(self) -> dt.date:
        """The date, or the window's last day."""
        return self.window.stop if self.window is not None else self.date  # type: ignore[return-value]


class History(Strict):
    """What happened after the calendar start: scripts, events and observations."""

    scripts: list[Script] = Field(default_factory=list)
    events: list[ScheduledEvent] = Field(default_factory=list)
    observations: list[Observation] = Field(default_factory=list)


class Scenario(Provenance):
    """A complete scenario: the system, the options and what is uncertain about them."""

    id: Identifier
    title: str
    kind: Literal["system", "bargaining"] = Field(
        default="system",
        description="'bargaining' scenarios only need actors and issues (static forecasts).",
    )
    description: str = ""
    question: str = ""
    reference: str = Field(default="", description="The text the scenario encodes.")
    countries: list[Country] = Field(default_factory=list)
    issues: list[Issue] = Field(min_length=1)
    actors: list[Actor] = Field(min_length=1)
    institutions: list[Institution] = Field(default_factory=list)
    instruments: list[Instrument] = Field(default_factory=list)
    strategies: list[StrategySpec] = Field(default_factory=list)
    calendar: Calendar | None = None
    shocks: list[Shock] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    ablations: list[Ablation] = Field(
        default_factory=list,
        description="Named variants that fix uncertain numbers (mechanisms switched off).",
    )
    not_sampled: list[NotSampled] = Field(
        default_factory=list,
        description="Uncertain numbers no mechanism reads, left out of sampling with a reason.",
    )
    sample_together: list[SampleTogether] = Field(
        default_factory=list,
        description="Uncertain numbers whose errors are shared, sampled as one group each.",
    )
    parameters: dict[str, Number] = Field(
        default_factory=dict, description="Model parameters of the engines (see docs/model.md)."
    )
    history: History | None = Field(
        default=None, description="Scripted policy, dated events and observations."
    )
    levers: list[Levers] = Field(
        default_factory=list,
        description="Free strategy parameters and their ranges, for 'detente design'.",
    )
    designed: list[DesignedStrategy] = Field(
        default_factory=list,
        description="Strategies found by 'detente design' (scenario strategies with "
        "parameters fixed).",
    )
    key_uncertainties: list[KeyUncertainty] = Field(
        default_factory=list,
        description="The few uncertainties the argument turns on, shown first by the "
        "what-if page (no number of the engine depends on it).",
    )

    @model_serializer(mode="wrap")
    def _without_empty_history(self, handler: SerializerFunctionWrapHandler) -> Any:
        # a scenario without history dumps (and hashes) exactly as before the field existed
        data = handler(self)
        if isinstance(data, dict) and data.get("history", 0) is None:
            del data["history"]
        # nor does one without levers, designed strategies or key uncertainties
        for key in ("levers", "designed", "key_uncertainties"):
            if isinstance(data, dict) and data.get(key, 0) == []:
                del data[key]
        return data

    @field_validator("parameters")
    @classmethod
    def _parameter_names(cls, value: dict[str, Number]) -> dict[str, Number]:
        for key in value:
            if not key.replace("_", "").isalnum():
                raise ValueError(f"parameter name {key!r} must be letters, digits and '_'")
        return value

    # -- lookups -------------------------------------------------------------------------
    def actor(self, actor_id: str) -> Actor:
        """The actor with this id (KeyError if absent)."""
        return _by_id(self.actors, actor_id)

    def issue(self, issue_id: str) -> Issue:
        """The issue with this id (KeyError if absent)."""
        return _by_id(self.issues, issue_id)

    def instrument(self, instrument_id: str) -> Instrument:
        """The instrument with this id (KeyError if absent)."""
        return _by_id(self.instruments, instrument_id)

    def strategy(self, strategy_id: str) -> StrategySpec:
        """The strategy with this id (KeyError if absent)."""
        return _by_id(self.strategies, strategy_id)

    def actors_of(self, country_id: str) -> list[Actor]:
        """Actors belonging to a country, in file order."""
        return [a for a in self.actors if a.country == country_id]


def _by_id(items: Sequence[_T], key: str) -> _T:
    for item in items:
        if getattr(item, "id", None) == key:
            return item
    raise KeyError(key)


# ---------------------------------------------------------------------------------------
# Cross-reference and bounds checks
# ---------------------------------------------------------------------------------------


def _duplicates(items: Sequence[Any], section: str) -> Iterator[tuple[Loc, str]]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.id in seen:
            yield (
                (section, i, "id"),
                f"duplicate id {item.id!r} (first used at {section}[{seen[item.id]}])",
            )
        else:
            seen[item.id] = i


def _environment_change_problems(
    loc: Loc, item: Shock | ScheduledEvent
) -> list[tuple[Loc, str]]:
    """A shock's or event's ``threat`` and ``settlement`` changes must lie in [-1, 1]."""
    out: list[tuple[Loc, str]] = []
    for name in ("threat", "settlement"):
        lo, hi = span(getattr(item, name))
        if lo < -1 or hi > 1:
            out.append(((*loc, name), f"{name} change must lie in [-1, 1] (a 0-1 scale), "
                        f"got {lo:g}..{hi:g}"))
    return out


def _unknown(kind: str, ref: str, known: set[str]) -> str:
    return f"unknown {kind} {ref!r}{did_you_mean(ref, known)}; expected one of the {kind} ids"


def reference_problems(
    s: Scenario, known_ids: Mapping[str, set[str]] | None = None
) -> list[tuple[Loc, str]]:
    """Every cross-reference and bounds problem of a parsed scenario, with its field path.

    Parameters
    ----------
    s : Scenario
    known_ids : mapping of section name to ids, optional
        Ids that exist in the file but were left out of ``s`` (because they failed schema
        validation); references to them are not reported again.

    Returns
    -------
    list of (loc, message)
        ``loc`` is a pydantic-style location tuple such as ``("actors", 3, "country")``,
        so the loader can map it back to a line in the YAML file.
    """
    out: list[tuple[Loc, str]] = []
    for section in ID_SECTIONS:
        out.extend(_duplicates(getattr(s, section), section))
    if s.calendar is not None:
        out.extend(_duplicates(s.calendar.elections, "calendar.elections"))

    extra = known_ids or {}
    countries = {c.id for c in s.countries} | extra.get("countries", set())
    issues = {i.id: i for i in s.issues}
    issue_ids = set(issues) | extra.get("issues", set())
    actors = {a.id for a in s.actors} | extra.get("actors", set())
    instruments = {i.id for i in s.instruments} | extra.get("instruments", set())
    institutions = {i.id for i in s.institutions} | extra.get("institutions", set())

    def check_country(loc: Loc, ref: str | None) -> None:
        if ref is not None and ref not in countries:
            out.append((loc, _unknown("country", ref, countries)))

    principals = {c.id for c in s.countries if c.role == "principal"}

    def check_principal(loc: Loc, ref: str | None, own: str | None = None) -> None:
        """``ref`` must be a principal country (and not the actor's own country ``own``)."""
        if ref is None or ref in extra.get("countries", set()):
            return
        if ref not in countries:
            out.append((loc, _unknown("country", ref, countries)))
        elif ref not in principals:
            out.append((loc, f"country {ref!r} is a third party; expected a principal "
                        f"(role: principal): {', '.join(sorted(principals)) or 'none'}"))
        elif ref == own:
            out.append((loc, f"an actor of {ref!r} cannot be its own ally or threat; "
                        "only another country's actor can"))

    def check_issue_values(loc: Loc, values: dict[str, Number], bounded: bool) -> None:
        for key, value in values.items():
            if key not in issue_ids:
                out.append(((*loc, key), _unknown("issue", key, issue_ids)))
            elif bounded and key in issues:
                issue = issues[key]
                lo, hi = span(value)
                if lo < issue.low or hi > issue.high:
                    out.append(
                        (
                            (*loc, key),
                            f"value {lo:g}..{hi:g} lies outside issue {key!r}'s bounds "
                            f"[{issue.low:g}, {issue.high:g}]",
                        )
                    )

    def non_negative(loc: Loc, value: Number | None, what: str) -> None:
        if value is not None and span(value)[0] < 0:
            out.append((loc, f"{what} must be >= 0, got {span(value)[0]:g}"))

    seen_roles: dict[str, str] = {}
    for i, issue in enumerate(s.issues):
        if issue.role is not None and issue.role != "other":
            if issue.role in seen_roles:
                out.append(
                    (
                        ("issues", i, "role"),
                        f"role {issue.role!r} is already taken by issue "
                        f"{seen_roles[issue.role]!r}; at most one issue per role",
                    )
                )
            else:
                seen_roles[issue.role] = issue.id
        check_principal(("issues", i, "policy_of"), issue.policy_of)
        if issue.status_quo is not None:
            lo, hi = span(issue.status_quo)
            if lo < issue.low or hi > issue.high:
                out.append(
                    (
                        ("issues", i, "status_quo"),
                        f"status quo {lo:g}..{hi:g} lies outside [{issue.low:g}, {issue.high:g}]",
                    )
                )
        if issue.demand is not None:
            out.extend(_demand_problems(("issues", i, "demand"), issue, issue.demand, countries))
        for anchor in issue.anchors:
            if not issue.low <= anchor <= issue.high:
                out.append(
                    (
                        ("issues", i, "anchors", str(anchor)),
                        f"anchor {anchor:g} lies outside [{issue.low:g}, {issue.high:g}]",
                    )
                )

    for i, a in enumerate(s.actors):
        check_country(("actors", i, "country"), a.country)
        check_principal(("actors", i, "ally_of"), a.ally_of, a.country)
        check_principal(("actors", i, "threat_to"), a.threat_to, a.country)
        non_negative(("actors", i, "clout"), a.clout, "clout")
        check_issue_values(("actors", i, "positions"), a.positions, bounded=True)
        check_issue_values(("actors", i, "saliences"), a.saliences, bounded=False)
        for key, sal in a.saliences.items():
            lo, hi = span(sal)
            if lo < 0 or hi > 100:
                out.append(
                    (
                        ("actors", i, "saliences", key),
                        f"salience must lie in [0, 100], got {lo:g}..{hi:g}",
                    )
                )
        for key in a.positions:
            if key in issue_ids and key not in a.saliences:
                out.append(
                    (
                        ("actors", i, "positions", key),
                        f"position given for issue {key!r} but no salience; add saliences.{key}",
                    )
                )
        for key in a.saliences:
            if key in issue_ids and key not in a.positions:
                out.append(
                    (
                        ("actors", i, "saliences", key),
                        f"salience given for issue {key!r} but no position",
                    )
                )
        if a.risk is not None:
            lo, hi = span(a.risk)
            if lo < -1 or hi > 1:
                out.append((("actors", i, "risk"), f"risk must lie in [-1, 1], got {lo:g}..{hi:g}"))

    inst_roles: dict[tuple[str, str], str] = {}
    for i, inst in enumerate(s.institutions):
        if inst.role in UNIQUE_INSTITUTION_ROLES:
            role_key: tuple[str, str] = (inst.country, inst.role)
            if role_key in inst_roles:
                out.append(
                    (
                        ("institutions", i, "role"),
                        f"country {inst.country!r} already has a {inst.role} "
                        f"({inst_roles[role_key]!r}); at most one per country",
                    )
                )
            else:
                inst_roles[role_key] = inst.id
        check_country(("institutions", i, "country"), inst.country)
        if inst.holder not in actors:
            out.append((("institutions", i, "holder"), _unknown("actor", inst.holder, actors)))
        for j, veto in enumerate(inst.vetoes):
            non_negative(("institutions", i, "vetoes", j, "tolerance"), veto.tolerance, "tolerance")
            for k, ref in enumerate(veto.issues):
                if ref not in issue_ids:
                    out.append(
                        (
                            ("institutions", i, "vetoes", j, "issues", k),
                            _unknown("issue", ref, issue_ids),
                        )
                    )

    for i, ins in enumerate(s.instruments):
        check_country(("instruments", i, "owner"), ins.owner)
        check_issue_values(("instruments", i, "effects"), ins.effects, bounded=False)
        non_negative(("instruments", i, "domestic_cost"), ins.domestic_cost, "domestic cost")
        non_negative(("instruments", i, "delay"), ins.delay, "delay")
        lo, hi = span(ins.gesture)
        if lo < -1 or hi > 1:
            out.append(
                (("instruments", i, "gesture"), f"gesture must lie in [-1, 1], got {lo:g}..{hi:g}")
            )
        lo, hi = span(ins.reform_backing)
        if lo < 0 or hi > 1:
            out.append(
                (
                    ("instruments", i, "reform_backing"),
                    f"reform_backing must lie in [0, 1], got {lo:g}..{hi:g}",
                )
            )
        for k, ref in enumerate(ins.approvals):
            if ref not in actors:
                out.append((("instruments", i, "approvals", k), _unknown("actor", ref, actors)))
        for k, ref in enumerate(ins.requires):
            if ref not in instruments:
                out.append(
                    (("instruments", i, "requires", k), _unknown("instrument", ref, instruments))
                )
        out.extend(_politics_problems(s, i, ins, inst_roles))

    out.extend(requirement_cycles(s.instruments))

    lapses = {ins.id for ins in s.instruments if ins.sunset is not None}
    owner = {x.id: x.owner for x in s.instruments}
    for i, st in enumerate(s.strategies):
        check_country(("strategies", i, "country"), st.country)
        for field_name in ("instruments", "after_reciprocation"):
            for k, ref in enumerate(getattr(st, field_name)):
                at: Loc = ("strategies", i, field_name, k)
                if ref not in instruments:
                    out.append((at, _unknown("instrument", ref, instruments)))
                elif ref in lapses:
                    out.append((at, f"instrument {ref!r} is a law's lapse (it has a sunset): it "
                                    "takes effect at its date, no strategy proposes it"))
                elif field_name != "instruments" and owner.get(ref, st.country) != st.country:
                    out.append((at, f"instrument {ref!r} belongs to {owner[ref]!r}; a strategy "
                                     f"of {st.country!r} can only take its own country's steps"))

    if s.calendar is not None:
        for i, el in enumerate(s.calendar.elections):
            loc: Loc = ("calendar", "elections", i)
            check_country((*loc, "country"), el.country)
            if el.institution not in institutions:
                out.append(
                    ((*loc, "institution"), _unknown("institution", el.institution, institutions))
                )
            lo, hi = span(el.vetting)
            if lo < 0 or hi > 1:
                out.append(((*loc, "vetting"), f"vetting must lie in [0, 1], got {lo:g}..{hi:g}"))
            if el.date < s.calendar.start:
                out.append(
                    ((*loc, "date"), f"election date {el.date} is before the calendar start")
                )

    for i, sh in enumerate(s.shocks):
        non_negative(("shocks", i, "rate"), sh.rate, "rate")
        check_issue_values(("shocks", i, "effects"), sh.effects, bounded=False)
        for key in sh.clout:
            if key not in actors:
                out.append((("shocks", i, "clout", key), _unknown("actor", key, actors)))
        out.extend(_environment_change_problems(("shocks", i), sh))

    if s.history is not None:
        out.extend(history_problems(s, extra))
    out.extend(ablation_problems(s))
    out.extend(not_sampled_problems(s))
    out.extend(sample_together_problems(s))
    if s.key_uncertainties:
        from detente.scenario.key_uncertainties import key_uncertainty_problems

        out.extend(key_uncertainty_problems(s))

    if s.kind == "system":
        if not s.countries:
            out.append((("countries",), "a 'system' scenario needs at least one country"))
        if s.calendar is None:
            out.append((("calendar",), "a 'system' scenario needs a calendar"))
    return out


def ablation_problems(s: Scenario) -> list[tuple[Loc, str]]:
    """Ablations that fix a number the scenario does not sample, or give no provenance."""
    if not s.ablations:
        return []
    from detente.scenario.uncertainty import uncertainties  # it imports this module

    params = uncertainties(s)
    names = {p.name for p in params} | {m for p in params for m in p.members}
    out: list[tuple[Loc, str]] = []
    for i, ab in enumerate(s.ablations):
        if not ab.has_provenance:
            out.append(
                (("ablations", i), "an ablation needs a 'source' or a 'judgment' saying why")
            )
        for key in ab.fix:
            if key not in names:
                out.append(
                    (
                        ("ablations", i, "fix", key),
                        f"unknown uncertainty {key!r}{did_you_mean(key, names)}; an ablation "
                        "fixes numbers the scenario gives a range",
                    )
                )
    return out


def not_sampled_problems(s: Scenario) -> list[tuple[Loc, str]]:
    """``not_sampled`` patterns that match no uncertain number, or entries without provenance."""
    if not s.not_sampled:
        return []
    from detente.scenario.uncertainty import name_pattern, uncertain_numbers

    names = [name for _, name, u in uncertain_numbers(s) if u.is_range]
    out: list[tuple[Loc, str]] = []
    for i, entry in enumerate(s.not_sampled):
        if not entry.has_provenance:
            out.append(
                (("not_sampled", i), "an entry needs a 'source' or a 'judgment' for its reason")
            )
        for k, pattern in enumerate(entry.inputs):
            rx = name_pattern(pattern)
            if not any(rx.fullmatch(n) for n in names):
                out.append(
                    (
                        ("not_sampled", i, "inputs", k),
                        f"{pattern!r} matches no uncertain number of the scenario"
                        f"{did_you_mean(pattern, names)}",
                    )
                )
    return out


def sample_together_problems(s: Scenario) -> list[tuple[Loc, str]]:
    """``sample_together`` entries that group nothing, overlap, or give no provenance."""
    if not s.sample_together:
        return []
    from detente.scenario.together import together_problems
    from detente.scenario.uncertainty import groupable_numbers

    return together_problems(s, groupable_numbers(s))


def _demand_problems(
    loc: Loc, issue: Issue, demand: Demand, countries: set[str]
) -> list[tuple[Loc, str]]:
    """An issue's demand: a known country, a level inside the issue's bounds, provenance."""
    out: list[tuple[Loc, str]] = []
    if demand.country not in countries:
        out.append(((*loc, "country"), _unknown("country", demand.country, countries)))
    lo, hi = span(demand.level)
    if lo < issue.low or hi > issue.high:
        out.append(
            (
                (*loc, "level"),
                f"demanded level {lo:g}..{hi:g} lies outside issue {issue.id!r}'s bounds "
                f"[{issue.low:g}, {issue.high:g}]",
            )
        )
    if not demand.has_provenance:
        out.append((loc, "a demand needs a 'source' (or a 'judgment' with its reason)"))
    return out


def _politics_problems(
    s: Scenario, i: int, ins: Instrument, inst_roles: Mapping[tuple[str, str], str]
) -> list[tuple[Loc, str]]:
    """Problems of an instrument's domestic-politics fields (docs/model.md 4c)."""
    loc: Loc = ("instruments", i)
    out: list[tuple[Loc, str]] = []
    if not ins.initiative:
        out.append(((*loc, "initiative"), "give at least one proposer: executive, legislature"))
    elif len(set(ins.initiative)) < len(ins.initiative):
        out.append(((*loc, "initiative"), "a proposer is listed twice"))
    if "legislature" in ins.initiative and (ins.owner, "legislature") not in inst_roles:
        out.append(((*loc, "initiative"), f"'legislature' may propose {ins.id!r}, but country "
                    f"{ins.owner!r} has no institution with 'role: legislature'"))
    lo, hi = span(ins.cost_discount)
    if lo < 0 or hi >= 1:
        out.append(((*loc, "cost_discount"), f"cost discount must lie in [0, 1), got "
                    f"{lo:g}..{hi:g}"))
    if ins.sunset is None:
        return out
    sl: Loc = (*loc, "sunset")
    if ins.initiative != ["executive"]:
        out.append(((*loc, "initiative"), "a law's lapse (sunset) is proposed by nobody; drop "
                    "'initiative'"))
    by_id = {x.id: x for x in s.instruments}
    for k, ref in enumerate(ins.sunset.renewed_by):
        other = by_id.get(ref)
        if other is None:
            out.append(((*sl, "renewed_by", k), _unknown("instrument", ref, set(by_id))))
        elif ref == ins.id or other.owner != ins.owner or other.sunset is not None:
            out.append(((*sl, "renewed_by", k), f"{ref!r} cannot renew {ins.id!r}: a renewal "
                        f"is another step of {ins.owner!r} without a sunset of its own"))
    if s.calendar is not None and ins.sunset.date < s.calendar.start:
        out.append(((*sl, "date"), f"sunset {ins.sunset.date} is before the calendar start "
                    f"{s.calendar.start}"))
    return out


def _provenance_problems(loc: Loc, item: Provenance) -> list[tuple[Loc, str]]:
    if item.has_provenance:
        return []
    return [(loc, "every history entry needs a 'source' (or a 'judgment' with its reason)")]


def _date_problem(s: Scenario, loc: Loc, date: dt.date, what: str) -> tuple[Loc, str] | None:
    """A date outside the scenario's calendar (None when inside or without a calendar)."""
    cal = s.calendar
    if cal is None:
        return None
    if date < cal.start:
        return (loc, f"{what} {date} is before the calendar start {cal.start}")
    if date >= cal.end():
        last = cal.end() - dt.timedelta(days=1)
        return (loc, f"{what} {date} is after the calendar's last day {last} (the horizon)")
    return None


def history_problems(
    s: Scenario, known_ids: Mapping[str, set[str]] | None = None
) -> list[tuple[Loc, str]]:
    """Every problem of the scenario's ``history`` section, with its field path.

    Checks ids, provenance, dates inside the calendar, that scripts switch only instruments
    their own country owns (the other side's choices are observations, docs/history.md),
    withdraw only reversible ones and hand over to a strategy of their country, that
    events' issues and actors exist, and the observations (:func:`observation_problems`).
    Whether a ``then`` that is not a scenario strategy is a registered kind is checked when
    the script is compiled (:func:`detente.sim.system.resolve_strategy`).
    """
    h = s.history
    if h is None:
        return []
    extra = known_ids or {}
    out: list[tuple[Loc, str]] = []
    out.extend(_duplicates(h.scripts, "history.scripts"))
    out.extend(_duplicates(h.events, "history.events"))
    countries = {c.id for c in s.countries} | extra.get("countries", set())
    issue_ids = {i.id for i in s.issues} | extra.get("issues", set())
    actors = {a.id for a in s.actors} | extra.get("actors", set())
    instruments = {i.id: i for i in s.instruments}
    strategies = {st.id: st for st in s.strategies}
    for i, sc in enumerate(h.scripts):
        loc: Loc = ("history", "scripts", i)
        out.extend(_provenance_problems(loc, sc))
        if sc.id in strategies:
            out.append(
                ((*loc, "id"), f"script id {sc.id!r} is also a strategy id; a script is used "
                 "as a strategy, so its id must differ from every strategy's")
            )
        if sc.country not in countries:
            out.append(((*loc, "country"), _unknown("country", sc.country, countries)))
        then = strategies.get(sc.then)
        if then is not None and then.country != sc.country:
            out.append(
                ((*loc, "then"), f"strategy {sc.then!r} belongs to {then.country!r}; a script "
                 f"of {sc.country!r} must hand over to a strategy of {sc.country!r}")
            )
        if sc.then in {x.id for x in h.scripts}:
            out.append(((*loc, "then"), f"{sc.then!r} is a script; hand over to a strategy"))
        last = max(st.date for st in sc.steps)
        if sc.until is not None:
            if sc.until < last:
                out.append(
                    ((*loc, "until"), f"until {sc.until} is before the script's last step {last}")
                )
            bad = _date_problem(s, (*loc, "until"), sc.until, "until")
            if bad:
                out.append(bad)
        for j, st in enumerate(sc.steps):
            sl: Loc = (*loc, "steps", j)
            out.extend(_provenance_problems(sl, st))
            bad = _date_problem(s, (*sl, "date"), st.date, "step date")
            if bad:
                out.append(bad)
            if j and st.date < sc.steps[j - 1].date:
                out.append(((*sl, "date"), f"steps must be in date order; {st.date} comes "
                            f"after {sc.steps[j - 1].date}"))
            if st.instrument is None:
                continue
            ins = instruments.get(st.instrument)
            if ins is None:
                if st.instrument not in extra.get("instruments", set()):
                    out.append(((*sl, "instrument"),
                                _unknown("instrument", st.instrument, set(instruments))))
            elif ins.owner != sc.country:
                out.append(
                    ((*sl, "instrument"), f"instrument {st.instrument!r} belongs to "
                     f"{ins.owner!r}, not to the scripted side {sc.country!r}; the other side's "
                     "choices are observations, never scripts")
                )
            elif ins.sunset is not None:
                out.append(
                    ((*sl, "instrument"), f"instrument {st.instrument!r} is a law's lapse "
                     "(it has a sunset): it takes effect at its date unless renewed; script "
                     "the renewal instead")
                )
            elif st.action == "off" and not ins.reversible:
                out.append(
                    ((*sl, "action"), f"instrument {st.instrument!r} is not reversible "
                     "(reversible: false), so a script cannot withdraw it")
                )
    for i, ev in enumerate(h.events):
        loc = ("history", "events", i)
        out.extend(_provenance_problems(loc, ev))
        bad = _date_problem(s, (*loc, "date"), ev.date, "event date")
        if bad:
            out.append(bad)
        for key in ev.effects:
            if key not in issue_ids:
                out.append(((*loc, "effects", key), _unknown("issue", key, issue_ids)))
        for key in ev.clout:
            if key not in actors:
                out.append(((*loc, "clout", key), _unknown("actor", key, actors)))
        out.extend(_environment_change_problems(loc, ev))
    out.extend(observation_problems(s, h.observations, ("history", "observations")))
    return out


def observation_problems(
    s: Scenario, observations: Sequence[Observation], prefix: Loc
) -> list[tuple[Loc, str]]:
    """Problems of observations (the scenario's own or a held-out file's) against ``s``.

    Dates and windows inside the calendar, the expression parsed with the observation
    vocabulary (:data:`SIMULATED_METRICS`, :data:`OBSERVATION_FUNCTIONS` over the scenario's
    instruments and issues), the observed value of the expression's kind (true/false for a
    condition, a number or interval for a value) and the error in its range.
    """
    from detente.experiments.outcome_expr import check_expression, is_condition

    ids = {"instruments": [i.id for i in s.instruments], "issues": [i.id for i in s.issues]}
    functions = {fn: ids[what] for fn, what in OBSERVATION_FUNCTIONS.items()}
    out: list[tuple[Loc, str]] = list(_duplicates(observations, ".".join(map(str, prefix))))
    for i, ob in enumerate(observations):
        loc: Loc = (*prefix, i)
        out.extend(_provenance_problems(loc, ob))
        if ob.window is not None:
            if ob.window.start > ob.window.stop:
                out.append(((*loc, "window"), f"window starts ({ob.window.start}) after it "
                            f"ends ({ob.window.stop})"))
            for key, date in (("from", ob.window.start), ("to", ob.window.stop)):
                bad = _date_problem(s, (*loc, "window", key), date, "window " + key)
                if bad:
                    out.append(bad)
        elif ob.date is not None:
            bad = _date_problem(s, (*loc, "date"), ob.date, "observation date")
            if bad:
                out.append(bad)
        try:
            tree = check_expression(ob.expression, SIMULATED_METRICS, functions, "expression")
        except InputError as exc:
            out.extend(((*loc, "expression"), p.message) for p in exc.problems)
            continue
        binary = is_condition(tree, BINARY_METRICS, BINARY_FUNCTIONS)
        if binary and not isinstance(ob.observed, bool):
            out.append(((*loc, "observed"), f"the expression is a condition, so 'observed' must "
                        f"be true or false; found {ob.observed!r}"))
        elif not binary and isinstance(ob.observed, bool):
            out.append(((*loc, "observed"), "the expression is a value, so 'observed' must be a "
                        "number or {low: .., high: ..}; found " + str(ob.observed).lower()))
        elif binary and not ob.error < 0.5:
            out.append(((*loc, "error"), f"a condition's error is the probability the record is "
                        f"wrong and must be below 0.5; found {ob.error:g}"))
        elif isinstance(ob.observed, float) and ob.error <= 0:
            out.append(((*loc, "error"), "a point value's error is its sd and must be > 0 (use "
                        "an interval {low, high} for an exact range)"))
    return out


def requirement_cycles(instruments: Sequence[Instrument]) -> list[tuple[Loc, str]]:
    """Every cycle in the instruments' ``requires`` lists, each reported once with its path.

    An instrument that (directly or through others) requires itself can never be put in
    force. The search is an iterative depth-first walk, so chains of any length are checked
    without recursion; unknown ids are left to the reference check.
    """
    index = {ins.id: i for i, ins in enumerate(instruments)}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    out: list[tuple[Loc, str]] = []
    for root in instruments:
        if root.id in state:
            continue
        path: list[str] = [root.id]
        state[root.id] = 1
        pending = [iter(root.requires)]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                pending.pop()
                continue
            if nxt not in index:
                continue
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                shown = " -> ".join(cycle if len(cycle) <= 12 else [*cycle[:5], "...", *cycle[-5:]])
                where = index[path[-1]]
                k = instruments[where].requires.index(nxt)
                out.append(
                    (
                        ("instruments", where, "requires", k),
                        f"requirement cycle of {len(cycle) - 1} instrument(s): {shown}; "
                        "an instrument cannot require itself",
                    )
                )
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                pending.append(iter(instruments[index[nxt]].requires))
    return out


def issue_positions(s: Scenario, issue_id: str) -> list[tuple[Actor, float, float]]:
    """Actors taking part on an issue with their nominal position and salience."""
    rows = []
    for a in s.actors:
        if issue_id in a.positions:
            rows.append((a, nominal(a.positions[issue_id]), nominal(a.saliences[issue_id])))
    return rows


__all__ = [
    "BINARY_FUNCTIONS",
    "BINARY_METRICS",
    "OBSERVATION_FUNCTIONS",
    "SIMULATED_METRICS",
    "Ablation",
    "Actor",
    "Calendar",
    "Country",
    "Demand",
    "Election",
    "History",
    "Institution",
    "Instrument",
    "Interval",
    "Issue",
    "KeyUncertainty",
    "Metric",
    "NotSampled",
    "Observation",
    "Scenario",
    "ScheduledEvent",
    "Script",
    "ScriptStep",
    "Shock",
    "StrategySpec",
    "Uncertain",
    "Veto",
    "Window",
    "ablation_problems",
    "history_problems",
    "issue_positions",
    "not_sampled_problems",
    "observation_problems",
    "reference_problems",
    "requirement_cycles",
]
