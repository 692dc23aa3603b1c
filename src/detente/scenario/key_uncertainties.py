"""The scenario's own key uncertainties (``key_uncertainties:``), and camps' strength.

A scenario may name the few uncertainties its argument turns on; the what-if page
(``detente serve``) shows their sliders first. An entry names an uncertainty
(``parameters.perception_bias_iran``), a ``sample_together`` group
(``stances[iran/conservative].positions.dialogue``) or a camp's strength
(``camp[iran/conservative].clout``: the clout of every actor of one camp of one country
moved together, :mod:`detente.experiments.whatif`), each with its provenance. The section
changes no number the engine reads, and an empty one is left out of the scenario's hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detente.errors import did_you_mean

if TYPE_CHECKING:
    from detente.scenario.schema import Loc, Scenario

#: Prefix of a camp-strength name.
CAMP_PREFIX = "camp["


def camp_id(country: str, camp: str) -> str:
    """The name of a camp's strength: ``camp[<country>/<camp>].clout``."""
    return f"{CAMP_PREFIX}{country}/{camp}].clout"


def camp_members(scenario: Scenario) -> dict[tuple[str, str], list[str]]:
    """``{(country, camp): [actor ids]}`` for each camp with at least two actors of uncertain
    clout (a one-actor camp's strength is that actor's clout, an uncertainty of its own)."""
    from detente.scenario.uncertainty import uncertainties

    uncertain = {p.name for p in uncertainties(scenario)}
    found: dict[tuple[str, str], list[str]] = {}
    for actor in scenario.actors:
        if actor.camp and actor.country and f"actors[{actor.id}].clout" in uncertain:
            found.setdefault((actor.country, actor.camp), []).append(actor.id)
    return {k: v for k, v in found.items() if len(v) > 1}


def key_uncertainty_problems(s: Scenario) -> list[tuple[Loc, str]]:
    """Entries naming nothing the what-if can move, named twice, or without provenance."""
    if not s.key_uncertainties:
        return []
    from detente.scenario.uncertainty import uncertainties

    names = [p.name for p in uncertainties(s)]
    names += [camp_id(*k) for k in camp_members(s)]
    known = set(names)
    out: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(s.key_uncertainties):
        if entry.name not in known:
            out.append(((("key_uncertainties", i, "name")),
                        f"{entry.name!r} is not an uncertainty, a sample_together group or a "
                        f"camp's strength of this scenario{did_you_mean(entry.name, names)}"))
        elif entry.name in seen:
            out.append((("key_uncertainties", i, "name"), f"{entry.name!r} is listed twice"))
        seen.add(entry.name)
        if not entry.has_provenance:
            out.append((("key_uncertainties", i),
                        "a key uncertainty needs a 'source' or a 'judgment' saying why it matters"))
    return out


__all__ = ["CAMP_PREFIX", "camp_id", "camp_members", "key_uncertainty_problems"]
