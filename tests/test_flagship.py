"""The flagship scenario us-iran-2001 holds the whole system of the article, with provenance.

Also checks that the annotated example in docs/scenario-format.md still validates, so the
format reference cannot drift from the schema.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from detente.cli import app
from detente.scenario import load_scenario, nominal, span
from detente.scenario.numbers import Provenance, Uncertain
from detente.scenario.schema import Scenario
from detente.scenario.uncertainty import uncertain_numbers
from detente.scenario.yaml_loader import load_scenario_file
from detente.sim.parameters import SimParameters

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "docs" / "contracts.md"
FORMAT_DOC = ROOT / "docs" / "scenario-format.md"

REQUIRED_ISSUES = {
    "us-sanctions",
    "ilsa",
    "dialogue",
    "terror-support",
    "wmd",
    "iran-reform",
    "narcotics-refugees",
    "caspian-transit",
    "legal-claims",
}
# The steps the article lists (DESIGN.md, "The system in the article"), plus hostile ones.
REQUIRED_US_INSTRUMENTS = {
    "us-narcotics-undcp",
    "us-ngo-refugee-aid",
    "us-ofac-ngo-licence",
    "us-end-fingerprinting",
    "us-drop-wb-opposition",
    "us-allow-wto-talks",
    "us-contracts-pending",
    "us-oil-swaps",
    "us-lift-trade-ban",
    "us-ilsa-for-support",
    "us-settle-claims",
    "us-accept-caspian-transit",
    "us-dialogue-offer",
    "us-renew-ilsa",
    "us-tighten-sanctions",
    "us-oppose-ilsa-renewal",
}
REQUIRED_IRAN_INSTRUMENTS = {
    "ir-respond-positively",
    "ir-curb-armed-groups",
    "ir-wmd-restraint",
    "ir-visas-legislators",
    "ir-open-dialogue",
}
# Actors the article names whose veto the model must represent: actor id -> vetoed issues.
REQUIRED_VETOES = {
    "supreme-leader": {"dialogue", "terror-support", "wmd", "iran-reform"},
    "guardian-council": {"iran-reform"},
    "majlis": {"iran-reform"},
    "judiciary": {"iran-reform"},
    "revolutionary-guards": {"terror-support", "wmd"},
    "congress": {"us-sanctions", "ilsa"},
    "treasury-ofac": {"us-sanctions"},
}
OPTIONS = {"containment", "moderate-engagement", "dismantle-sanctions"}


@pytest.fixture(scope="module")
def flagship() -> Scenario:
    return load_scenario("us-iran-2001")


def _contract_names(heading: str, stop: str) -> list[str]:
    """Back-quoted names in docs/contracts.md between a heading and a stop phrase."""
    text = CONTRACTS.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.index(stop, start)
    return re.findall(r"`([a-z][a-z0-9_-]*)`", text[start:end])


def contract_parameters() -> set[str]:
    names = _contract_names("## Flagship model parameters", "Strategy kinds")
    engine = {f.name for f in dataclasses.fields(SimParameters)}
    return {n for n in names if ("_" in n or n in engine) and n != "us-iran-2001"}


def contract_strategy_kinds() -> set[str]:
    text = CONTRACTS.read_text(encoding="utf-8")
    start = text.index("Strategy kinds used by scenarios")
    para = text[start:].split("\n\n", 1)[0]
    kinds = set(re.findall(r"`([a-z][a-z-]*)`", para))
    return kinds - {"patience", "step", "max_level"}


# ---------------------------------------------------------------------------------------
# Provenance walker: every written number is an Uncertain range with its own or its
# entity's provenance (rule documented in docs/scenario-format.md, section 14).
# ---------------------------------------------------------------------------------------


def _is_number_field(model: BaseModel, name: str) -> bool:
    return "Uncertain" in str(type(model).model_fields[name].annotation)


def walk_numbers(
    obj: Any, path: str = "", entity: bool | None = None
) -> Iterator[tuple[str, float | Uncertain, bool | None]]:
    """Yield (path, number, enclosing entity has provenance) for every written Number.

    ``entity`` is None at the top level (the scenario's own provenance does not count).
    Plain floats are yielded only where the field is a Number and was written in the file.
    """
    if isinstance(obj, Uncertain):
        yield path, obj, entity
    elif isinstance(obj, BaseModel):
        if isinstance(obj, Provenance) and not isinstance(obj, Scenario):
            entity = obj.has_provenance
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            sub = f"{path}.{name}" if path else name
            if name not in obj.model_fields_set:
                continue
            if isinstance(value, float) and _is_number_field(obj, name):
                yield sub, value, entity
            elif isinstance(value, dict) and _is_number_field(obj, name):
                for key, v in value.items():
                    if isinstance(v, float):
                        yield f"{sub}.{key}", v, entity
                    else:
                        yield from walk_numbers(v, f"{sub}.{key}", entity)
            else:
                yield from walk_numbers(value, sub, entity)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from walk_numbers(item, f"{path}[{getattr(item, 'id', i)}]", entity)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from walk_numbers(value, f"{path}.{key}", entity)


def provenance_problems(s: Scenario) -> list[str]:
    problems = []
    # a reference strategy (not an option) may define itself by fixed values with provenance
    defining = tuple(f"strategies[{st.id}].params." for st in s.strategies if not st.option)
    for path, x, entity in walk_numbers(s):
        if not isinstance(x, Uncertain):
            problems.append(f"{path}: plain number {x!r}; write a range with provenance")
            continue
        if path.startswith(defining) and x.value is not None and x.has_provenance:
            continue
        if not x.is_range:
            problems.append(f"{path}: no range (low < high)")
        if not (x.has_provenance or entity):
            problems.append(f"{path}: no source/judgment on the number or its entity")
    for section in (
        "countries",
        "issues",
        "actors",
        "institutions",
        "instruments",
        "strategies",
        "shocks",
    ):
        for item in getattr(s, section):
            if not item.has_provenance:
                problems.append(f"{section}[{item.id}]: entity without source/judgment")
    if s.calendar is not None:
        for el in s.calendar.elections:
            if not el.has_provenance:
                problems.append(f"calendar.elections[{el.id}]: entity without source/judgment")
    for name, value in s.parameters.items():
        if not (isinstance(value, Uncertain) and value.has_provenance):
            problems.append(f"parameters.{name}: needs its own source/judgment")
    return problems


# ---------------------------------------------------------------------------------------
# Counts and coverage
# ---------------------------------------------------------------------------------------


def test_counts_meet_the_foundation_minimums(flagship: Scenario) -> None:
    third = {c.id for c in flagship.countries if c.role == "third-party"}
    assert len(flagship.actors_of("iran")) >= 12
    assert len(flagship.actors_of("us")) >= 8
    assert sum(1 for a in flagship.actors if a.country in third) >= 6
    assert len(flagship.issues) >= 7
    assert len(flagship.instruments) >= 15
    assert {c.id for c in flagship.countries if c.role == "principal"} == {"us", "iran"}


def test_required_issues_and_anchors(flagship: Scenario) -> None:
    ids = {i.id for i in flagship.issues}
    assert ids >= REQUIRED_ISSUES
    for issue in flagship.issues:
        assert issue.status_quo is not None, issue.id
        assert issue.low in issue.anchors and issue.high in issue.anchors, issue.id
        assert len(issue.anchors) >= 3, issue.id


def test_third_parties_cover_the_article(flagship: Scenario) -> None:
    third_countries = {c.id for c in flagship.countries if c.role == "third-party"}
    for needed in (
        "europe",
        "japan",
        "russia",
        "iraq",
        "afghanistan",
        "armed-groups",
        "multilateral",
    ):
        assert needed in third_countries
    multilateral = {a.id for a in flagship.actors_of("multilateral")}
    assert multilateral >= {"world-bank", "wto", "undcp", "unhcr"}


def test_iran_has_both_camps_and_society(flagship: Scenario) -> None:
    iran = flagship.actors_of("iran")
    camps = {a.camp for a in iran}
    assert {"reformist", "conservative"} <= camps
    society = [a for a in iran if a.kind == "society"]
    assert {a.id for a in society} >= {"youth", "middle-class", "women", "unemployed"}
    # society: low formal clout
    assert all(nominal(a.clout) <= 3 for a in society)


def test_instruments_are_complete(flagship: Scenario) -> None:
    ids = {i.id for i in flagship.instruments}
    assert ids >= REQUIRED_US_INSTRUMENTS | REQUIRED_IRAN_INSTRUMENTS
    for ins in flagship.instruments:
        assert ins.owner in {"us", "iran"}, ins.id
        assert ins.effects, ins.id
        # The engine never reads (docs/model.md 4c): the approvals and the domestic cost of a
        # step only Congress proposes (its bill needs its floor and survives the veto or not;
        # its cost is not the executive's), nor the approvals and delay of a law's lapse (it
        # takes effect at its date); a number there would be a sampled input with no path.
        fields = ("domestic_cost", "delay", "gesture")
        if ins.sunset is not None:
            fields = ("domestic_cost", "gesture")
        elif "executive" not in ins.initiative:
            fields = ("delay", "gesture")
        else:
            assert ins.approvals, ins.id
        for field in fields:
            assert field in ins.model_fields_set, f"{ins.id}.{field} left at its default"
            assert isinstance(getattr(ins, field), Uncertain), f"{ins.id}.{field}"
    # Both sides have conciliatory and hostile steps.
    for owner in ("us", "iran"):
        gestures = [nominal(i.gesture) for i in flagship.instruments if i.owner == owner]
        assert min(gestures) < 0 < max(gestures), owner


def test_ofac_foot_dragging_is_the_slowest_moderate_step(flagship: Scenario) -> None:
    licence = flagship.instrument("us-ofac-ngo-licence")
    moderate = flagship.strategy("moderate-engagement").instruments
    assert "treasury-ofac" in licence.approvals
    slowest = max(span(flagship.instrument(i).delay)[1] for i in moderate)
    assert span(licence.delay)[1] == slowest
    assert span(licence.delay)[1] >= 6  # can take well over a year


def test_vetoes(flagship: Scenario) -> None:
    vetoed: dict[str, set[str]] = {}
    for inst in flagship.institutions:
        for v in inst.vetoes:
            vetoed.setdefault(inst.holder, set()).update(v.issues)
            assert isinstance(v.tolerance, Uncertain)
    for holder, issues in REQUIRED_VETOES.items():
        assert vetoed.get(holder, set()) >= issues, holder


def test_strategies(flagship: Scenario) -> None:
    options = {s.id: s for s in flagship.strategies if s.option}
    assert set(options) == OPTIONS
    assert {s.kind for s in options.values()} == OPTIONS
    assert all(s.country == "us" for s in options.values())
    kinds = {(s.country, s.kind) for s in flagship.strategies}
    assert {("us", "tit-for-tat"), ("us", "grim"), ("iran", "internal-bargaining")} <= kinds
    assert {s.kind for s in flagship.strategies} <= contract_strategy_kinds()
    grit = flagship.strategy("moderate-engagement")
    assert set(grit.params) == {"patience", "step", "max_level", "threshold", "confirm"}
    # the article's menu: the modest steps first, the ILSA trade, the bolder steps only after
    # Iran reciprocates (THE MIDDLE PATH; UNLIKELY ALLIES)
    assert grit.instruments[:6] == ["us-narcotics-undcp", "us-ngo-refugee-aid",
                                    "us-ofac-ngo-licence", "us-end-fingerprinting",
                                    "us-drop-wb-opposition", "us-allow-wto-talks"]
    assert "us-ilsa-for-support" in grit.instruments
    assert set(grit.after_reciprocation) == {"us-contracts-pending", "us-oil-swaps",
                                             "us-accept-caspian-transit", "us-settle-claims",
                                             "us-lift-trade-ban"}
    assert set(grit.after_reciprocation) <= set(grit.instruments)
    # dismantling: the article's list, in its order, on top of the moderate steps it goes
    # beyond; not the offer of talks (deferred), the Caspian route or the claims (THE MIDDLE
    # PATH)
    dismantle = flagship.strategy("dismantle-sanctions").instruments
    assert dismantle[:4] == ["us-contracts-pending", "us-oil-swaps", "us-lift-trade-ban",
                             "us-oppose-ilsa-renewal"]
    assert set(dismantle[4:]) == set(grit.instruments[:6])
    # containment answers provocations with the hostile steps; never the bold ones
    containment = flagship.strategy("containment")
    assert set(containment.params) == {"threshold", "hostile", "fall", "tighten", "memory"}
    assert "us-tighten-sanctions" in containment.instruments
    assert "us-lift-trade-ban" not in containment.instruments


def test_calendar_and_elections(flagship: Scenario) -> None:
    cal = flagship.calendar
    assert cal is not None
    assert (str(cal.start), cal.step, cal.horizon) == ("2001-07-01", "quarter", 34)
    institutions = {i.id: i for i in flagship.institutions}
    by_date = {(str(e.date)[:7], e.country): e for e in cal.elections}
    for month, country in [
        ("2004-02", "iran"),
        ("2005-06", "iran"),
        ("2002-11", "us"),
        ("2004-11", "us"),
        ("2006-11", "us"),
        ("2008-11", "us"),
        ("2008-02", "iran"),
        ("2009-06", "iran"),
    ]:
        assert (month, country) in by_date, (month, country)
    for e in cal.elections:
        inst = institutions[e.institution]
        assert inst.elected and inst.country == e.country, e.id
    # the vetting state (docs/model.md section 4) carries the Majlis elections' vetting; the
    # presidential ones add the stricter screening of presidential candidates
    for key in (("2004-02", "iran"), ("2008-02", "iran")):
        assert by_date[key].vetting == 0.0
    for key in (("2005-06", "iran"), ("2009-06", "iran")):
        vet = by_date[key].vetting
        assert isinstance(vet, Uncertain) and vet.is_range
    assert "8 June 2001" in flagship.description


def test_parameters_are_exactly_the_contract_names(flagship: Scenario) -> None:
    names = contract_parameters()
    assert len(names) >= 19
    assert set(flagship.parameters) == names
    # the reciprocity trap: low priors, and Iran's trap at least as deep as Washington's
    p = {k: nominal(v) for k, v in flagship.parameters.items()}
    assert p["prior_reciprocating_us"] < 0.5 and p["prior_reciprocating_iran"] < 0.5
    assert p["prior_reciprocating_iran"] <= p["prior_reciprocating_us"]
    assert p["reciprocity_threshold_iran"] >= p["reciprocity_threshold_us"]


def test_every_number_has_a_range_and_provenance(flagship: Scenario) -> None:
    assert provenance_problems(flagship) == []
    # the walker sees every Uncertain that detente.scenario.uncertainty sees
    walked = sum(1 for _, x, _ in walk_numbers(flagship) if isinstance(x, Uncertain))
    assert walked == len(uncertain_numbers(flagship))
    for _, _, u in uncertain_numbers(flagship):
        if u.source is not None:
            heading = u.source.split(":", 1)[0]
            assert heading == heading.upper(), u.source  # article section heading
            assert len(u.source) <= 100, u.source  # a short phrase, not a quotation


def test_positions_and_saliences_in_bounds(flagship: Scenario) -> None:
    bounds = {i.id: (i.low, i.high) for i in flagship.issues}
    for a in flagship.actors:
        assert span(a.clout)[0] > 0, a.id
        for issue, pos in a.positions.items():
            lo, hi = span(pos)
            assert bounds[issue][0] <= lo <= hi <= bounds[issue][1], (a.id, issue)
            assert issue in a.saliences, (a.id, issue)
        for issue, sal in a.saliences.items():
            lo, hi = span(sal)
            assert 0 <= lo <= hi <= 100, (a.id, issue)
        if a.risk is not None:
            assert -1 <= span(a.risk)[0] <= span(a.risk)[1] <= 1, a.id


def test_numbers_are_internally_consistent(flagship: Scenario) -> None:
    """Plausibility checks the article supports (not hard-coded totals)."""
    for country in ("us", "iran"):
        total = sum(nominal(a.clout) for a in flagship.actors_of(country))
        assert 95 <= total <= 105, (country, total)  # clout = shares of a principal's influence
    iran = flagship.actors_of("iran")
    leader = flagship.actor("supreme-leader")
    assert nominal(leader.clout) == max(nominal(a.clout) for a in iran)
    dialogue_sq = nominal(flagship.issue("dialogue").status_quo)  # type: ignore[arg-type]
    assert nominal(leader.positions["dialogue"]) < dialogue_sq  # opposed to dialogue
    reform = sum(nominal(a.clout) for a in iran if a.camp == "reformist")
    assert 0.25 <= reform / sum(nominal(a.clout) for a in iran) <= 0.5  # conservatives dominate
    # Iran's consensus: lift all sanctions first
    assert all(
        nominal(a.positions["us-sanctions"]) <= 10 for a in iran if "us-sanctions" in a.positions
    )
    # oil companies want a thaw; Congress backs sanctions; Europe opposes ILSA
    pos = {a.id: a.positions for a in flagship.actors}
    assert nominal(pos["oil-companies"]["us-sanctions"]) < nominal(pos["congress"]["us-sanctions"])
    assert nominal(pos["congress-hawks"]["us-sanctions"]) > nominal(
        pos["congress-engagers"]["us-sanctions"]
    )
    assert nominal(pos["eu"]["us-sanctions"]) < nominal(flagship.issue("us-sanctions").status_quo)  # type: ignore[arg-type]
    # the boldest U.S. step costs more at home than any moderate one
    moderate = flagship.strategy("moderate-engagement").instruments[:6]
    bold = flagship.instrument("us-lift-trade-ban")
    assert all(
        nominal(bold.domestic_cost) > nominal(flagship.instrument(i).domestic_cost)
        for i in moderate
    )


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------


def test_cli_validate_and_show_json(flagship: Scenario) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", "us-iran-2001"])
    assert ok.exit_code == 0, ok.output
    assert "ok: us-iran-2001" in ok.output
    res = runner.invoke(app, ["show", "us-iran-2001", "--json"])
    assert res.exit_code == 0, res.output
    counts = json.loads(res.output)["counts"]
    assert counts["actors_iran"] == len(flagship.actors_of("iran")) >= 12
    assert counts["actors_us"] == len(flagship.actors_of("us")) >= 8
    assert counts["third_party_actors"] >= 6
    assert counts["issues"] == len(flagship.issues) >= 7
    assert counts["instruments"] == len(flagship.instruments) >= 15
    assert counts["strategies"] == len(flagship.strategies)
    assert counts["elections"] >= 6


def test_cli_show_tables() -> None:
    res = CliRunner().invoke(app, ["show", "us-iran-2001"])
    assert res.exit_code == 0, res.output
    assert "supreme-leader" in res.output and "us-ofac-ngo-licence" in res.output


# ---------------------------------------------------------------------------------------
# docs/scenario-format.md
# ---------------------------------------------------------------------------------------


def _doc_block(marker: str, lang: str) -> str:
    text = FORMAT_DOC.read_text(encoding="utf-8")
    m = re.search(rf"<!-- example: {marker} -->\s*```{lang}\n(.*?)```", text, re.S)
    assert m, f"no {lang} block after <!-- example: {marker} --> in {FORMAT_DOC.name}"
    return m.group(1)


def test_doc_example_validates_and_follows_the_rules(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(_doc_block("system", "yaml"), encoding="utf-8")
    s = load_scenario_file(path)
    assert s.kind == "system" and s.calendar is not None
    assert provenance_problems(s) == []
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output


def test_doc_csv_example_loads(tmp_path: Path) -> None:
    tables = pytest.importorskip("detente.scenario.tables")
    path = tmp_path / "actors.csv"
    path.write_text(_doc_block("csv", "csv"), encoding="utf-8")
    (table,) = tables.load_actor_csv(path)
    assert table.n == 4


def test_doc_mentions_every_schema_field() -> None:
    from detente.scenario import schema

    text = FORMAT_DOC.read_text(encoding="utf-8")
    missing = []
    for obj in vars(schema).values():
        if (
            isinstance(obj, type)
            and issubclass(obj, BaseModel)
            and obj.__module__ == schema.__name__
        ):
            for name in obj.model_fields:
                if f"`{name}`" not in text and f"{name}:" not in text:
                    missing.append(f"{obj.__name__}.{name}")
    for name in Uncertain.model_fields:
        if f"`{name}`" not in text:
            missing.append(f"Uncertain.{name}")
    assert missing == []
