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
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, StringConstraints, field_validator, model_validator

from detente.errors import did_you_mean
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


class Instrument(Provenance):
    """A concrete policy step one country can take.

    ``effects`` are changes of issue levels once implemented; ``delay`` is the implementation
    delay in calendar steps (a distribution models bureaucratic foot-dragging);
    ``gesture`` is how conciliatory the step reads to the other side (-1 hostile .. 1 bold).
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
    requires: list[Identifier] = Field(
        default_factory=list, description="Instruments that must be in force first."
    )
    description: str = ""


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
    parameters: dict[str, Number] = Field(
        default_factory=dict, description="Model parameters of the engines (see docs/model.md)."
    )

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
        if issue.status_quo is not None:
            lo, hi = span(issue.status_quo)
            if lo < issue.low or hi > issue.high:
                out.append(
                    (
                        ("issues", i, "status_quo"),
                        f"status quo {lo:g}..{hi:g} lies outside [{issue.low:g}, {issue.high:g}]",
                    )
                )
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
        for k, ref in enumerate(ins.approvals):
            if ref not in actors:
                out.append((("instruments", i, "approvals", k), _unknown("actor", ref, actors)))
        for k, ref in enumerate(ins.requires):
            if ref not in instruments:
                out.append(
                    (("instruments", i, "requires", k), _unknown("instrument", ref, instruments))
                )

    out.extend(requirement_cycles(s.instruments))

    for i, st in enumerate(s.strategies):
        check_country(("strategies", i, "country"), st.country)
        for k, ref in enumerate(st.instruments):
            if ref not in instruments:
                out.append(
                    (("strategies", i, "instruments", k), _unknown("instrument", ref, instruments))
                )

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

    if s.kind == "system":
        if not s.countries:
            out.append((("countries",), "a 'system' scenario needs at least one country"))
        if s.calendar is None:
            out.append((("calendar",), "a 'system' scenario needs a calendar"))
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
    "Actor",
    "Calendar",
    "Country",
    "Election",
    "Institution",
    "Instrument",
    "Issue",
    "Metric",
    "Scenario",
    "Shock",
    "StrategySpec",
    "Uncertain",
    "Veto",
    "issue_positions",
    "reference_problems",
    "requirement_cycles",
]
