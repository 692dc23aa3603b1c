"""Uncertain numbers sampled together: one shared draw moves a group of numbers at once.

A scenario holds hundreds of actor positions and saliences, each with its own range. Sampled
one by one they are independent, which says the analyst's errors about, say, the seven
conservative actors' ideal level of dialogue cancel out; the likelier error is shared ("the
hard-liners are harder than we think"). One such number rarely flips a vote on its own
(``docs/validation.md``, "Inert inputs"), the camp's shared error can. An entry of the
scenario's ``sample_together`` section (:class:`~detente.scenario.schema.SampleTogether`)
makes the numbers its patterns match *one* uncertainty:

* without ``per``, all of them form one group, named ``together[<id>]``;
* with ``per: camp``, actor numbers form one group per country, camp and the rest of the
  number's path: ``<id>[<country>/<camp>].<rest>`` (e.g.
  ``stances[iran/conservative].positions.dialogue``), the camp's shared error on one issue.

A group's value is a *shift* ``s`` in ``[-1, 1]`` (triangular, mode 0): at ``s = 0`` every
member is at its nominal value, at ``s = 1`` at its high bound, at ``s = -1`` at its low
bound, linearly in between on each side (:func:`member_value`). Members keep their ranges
and best estimates; what changes is that their errors are shared (comonotone), as in the
grouped factors of Saltelli et al., *Global Sensitivity Analysis: The Primer* (2008), 4.3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detente.scenario.numbers import Uncertain
from detente.scenario.patterns import name_pattern
from detente.scenario.schema import Loc, Scenario

#: The range and nominal value of a group's shift.
SHIFT_LOW, SHIFT_NOMINAL, SHIFT_HIGH = -1.0, 0.0, 1.0


@dataclass(frozen=True)
class Member:
    """One number of a group: its uncertainty name and the range its shift maps onto."""

    name: str
    low: float
    nominal: float
    high: float


@dataclass(frozen=True)
class Group:
    """One sampled group: its uncertainty name, the entry it comes from, and its members
    (in the scenario's order)."""

    name: str
    entry: int
    members: tuple[Member, ...]


def member_value(member: Member, shift: float) -> float:
    """The member's value at group shift ``shift`` (nominal at 0, its bounds at -1 and 1)."""
    if shift >= 0:
        return member.nominal + shift * (member.high - member.nominal)
    return member.nominal + shift * (member.nominal - member.low)


def _group_key(
    scenario: Scenario, loc: Loc, name: str, entry_id: str, per: str | None
) -> str | None:
    """The group name of number ``name`` under an entry, or None if ``per`` cannot place it."""
    if per is None:
        return f"together[{entry_id}]"
    if loc[0] != "actors":
        return None
    actor = scenario.actors[int(loc[1])]
    country = actor.country or "none"
    camp = actor.camp or actor.id
    rest = name.split("].", 1)[1] if "]." in name else ""
    return f"{entry_id}[{country}/{camp}].{rest}"


def groups(
    scenario: Scenario, numbers: Sequence[tuple[Loc, str, Uncertain]]
) -> tuple[list[Group], dict[str, str]]:
    """The scenario's groups over ``numbers`` (its sampled numbers), and each member's group.

    A number goes to the first entry whose patterns match it; numbers an entry matches but
    cannot place (``per: camp`` on a number that is not an actor's) stay on their own, and
    :func:`together_problems` reports them.

    Returns
    -------
    (groups, group_of)
        ``groups`` in the order of their first member; ``group_of[member name]`` the group.
    """
    rules = [
        (i, entry.id, entry.per, [name_pattern(p) for p in entry.inputs])
        for i, entry in enumerate(scenario.sample_together)
    ]
    members: dict[str, list[Member]] = {}
    entry_of: dict[str, int] = {}
    group_of: dict[str, str] = {}
    for loc, name, u in numbers:
        for i, entry_id, per, patterns in rules:
            if not any(rx.fullmatch(name) for rx in patterns):
                continue
            key = _group_key(scenario, loc, name, entry_id, per)
            if key is not None:
                low, high = u.bounds()
                members.setdefault(key, []).append(Member(name, low, u.nominal, high))
                entry_of.setdefault(key, i)
                group_of[name] = key
            break
    found = [Group(key, entry_of[key], tuple(ms)) for key, ms in members.items()]
    return found, group_of


def together_problems(
    scenario: Scenario, numbers: Sequence[tuple[Loc, str, Uncertain]]
) -> list[tuple[Loc, str]]:
    """Entries without provenance, patterns that match no sampled number (or only numbers an
    earlier entry took), ``per: camp`` patterns matching numbers that are not an actor's."""
    out: list[tuple[Loc, str]] = []
    names = [name for _, name, _ in numbers]
    taken: set[str] = set()
    for i, entry in enumerate(scenario.sample_together):
        if not entry.has_provenance:
            out.append((("sample_together", i),
                        "an entry needs a 'source' or a 'judgment' for its reason"))
        mine: set[str] = set()
        for k, pattern in enumerate(entry.inputs):
            rx = name_pattern(pattern)
            hits = [(loc, n) for loc, n, _ in numbers if rx.fullmatch(n)]
            where = ("sample_together", i, "inputs", k)
            if not hits:
                out.append((where, f"{pattern!r} matches no sampled uncertain number"))
                continue
            fresh = [(loc, n) for loc, n in hits if n not in taken]
            if not fresh:
                out.append((where, f"{pattern!r} matches only numbers an earlier entry groups"))
            if entry.per == "camp":
                stray = [n for loc, n in fresh if loc[0] != "actors"]
                if stray:
                    out.append((where, f"per: camp groups actors' numbers; {stray[0]!r} is not "
                                       "an actor's"))
            mine.update(n for _, n in fresh)
        taken |= mine
    clash = sorted(set(names) & {g.name for g in groups(scenario, numbers)[0]})
    if clash:
        out.append((("sample_together",), f"group name {clash[0]!r} is also a number's name"))
    return out
