"""Commands about scenarios: ``scenarios``, ``validate``, ``show``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from detente.cli.output import ReadableHelp, narrow_table
from detente.errors import InputError
from detente.formatting import interval, number
from detente.scenario import builtin_names, load_scenario, nominal
from detente.scenario.builtins import builtin_path
from detente.scenario.numbers import Uncertain
from detente.scenario.schema import Scenario
from detente.scenario.uncertainty import not_sampled

if TYPE_CHECKING:
    import pandas as pd

console = Console(highlight=False, markup=False)
"""Markup is off: scenario text such as a name ``[/x]`` is printed as written, never parsed."""

ScenarioArg = Annotated[str, typer.Argument(help="Built-in scenario name or path to a YAML file.")]


def _fmt(x: float | Uncertain | None) -> str:
    if x is None:
        return ""
    if isinstance(x, Uncertain) and x.is_range:
        lo, hi = x.bounds()
        return f"{number(x.nominal)} {interval(lo, hi)}"
    return number(nominal(x))


def counts(s: Scenario) -> dict[str, int]:
    """How many of each element a scenario holds (third parties counted by country role)."""
    third = {c.id for c in s.countries if c.role == "third-party"}
    per_country: dict[str, int] = {}
    for a in s.actors:
        key = a.country if a.country is not None else "none"
        per_country[key] = per_country.get(key, 0) + 1
    return {
        "countries": len(s.countries),
        "actors": len(s.actors),
        "third_party_actors": sum(1 for a in s.actors if a.country in third),
        "issues": len(s.issues),
        "institutions": len(s.institutions),
        "instruments": len(s.instruments),
        "strategies": len(s.strategies),
        "shocks": len(s.shocks),
        "metrics": len(s.metrics),
        "elections": len(s.calendar.elections) if s.calendar else 0,
        **{f"actors_{k}": v for k, v in sorted(per_country.items())},
    }


def scenarios() -> None:
    """List the built-in scenarios."""
    table = narrow_table("Built-in scenarios")
    for col in ("name", "title", "actors", "issues", "instruments"):
        table.add_column(col, overflow="fold")
    for name in builtin_names():
        path = builtin_path(name)
        assert path is not None
        s = load_scenario(path)
        table.add_row(
            name, s.title, str(len(s.actors)), str(len(s.issues)), str(len(s.instruments))
        )
    console.print(table)


def validate(
    scenario: ScenarioArg,
    inputs: Annotated[
        bool,
        typer.Option(
            "--inputs",
            help="Also screen every sampled input for a path to a ranked outcome and list "
            "the inert ones (runs the engine: a minute or more for the flagship).",
        ),
    ] = False,
    worlds: Annotated[
        int | None,
        typer.Option("--worlds", help="With --inputs: worlds per screened state [default: 16]."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="With --inputs: the seed every state shares.")
    ] = 0,
    bases: Annotated[
        int | None,
        typer.Option(
            "--bases",
            help="With --inputs: also move each input from this many base states spread "
            "over the whole space (0: from the nominal state only) [default: 8; the inputs "
            "found inert are looked at again with 64 worlds and 32 base states].",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="With --inputs: exit 1 when any input is inert.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --inputs: print the screen as JSON.")
    ] = False,
) -> None:
    """Validate a scenario; print every problem (exit 2) or a one-line summary.

    Warnings (a strategy that can never act, a role the engine needs, ...) go to stderr,
    one line each; they do not change the exit code. ``--inputs`` also lists the sampled
    inputs that move no outcome ``compare`` ranks (a finding: exit 0, or 1 with
    ``--strict``).
    """
    if not inputs:
        given = [name for name, on in (("--json", as_json), ("--strict", strict)) if on]
        given += [f"--worlds {worlds}"] if worlds is not None else []
        given += [f"--seed {seed}"] if seed != 0 else []
        given += [f"--bases {bases}"] if bases is not None else []
        if given:
            raise InputError.single("<command line>", f"{', '.join(given)}: needs --inputs")
    s = load_scenario(scenario)
    from detente.sim.checks import check_scripts, scenario_warnings  # the engine: ~1 s

    check_scripts(s, scenario)
    for warning in scenario_warnings(s, scenario):
        typer.echo(f"warning: {warning}", err=True)
    c = counts(s)
    summary = (
        f"ok: {s.id} - {c['actors']} actors, {c['issues']} issues, "
        f"{c['instruments']} instruments, {c['institutions']} institutions"
    )
    if not inputs:
        console.print(summary)
        return
    from detente.experiments.inert import BASES, RECHECK_BASES, WORLDS, screen_inputs

    if bases is not None and bases < 0:
        raise InputError.single("<command line>", f"--bases must be >= 0 (got {bases})")
    typer.echo(f"screening {s.id}'s sampled inputs one at a time ...", err=True)
    n_bases = BASES if bases is None else bases
    frame = screen_inputs(s, worlds=WORLDS if worlds is None else worlds, seed=seed,
                          bases=n_bases, recheck_bases=RECHECK_BASES if n_bases else 0)
    if as_json:
        typer.echo(json.dumps(screen_json(s, frame), indent=2, allow_nan=False))
    else:
        console.print(summary)
        print_screen(frame)
        print_not_sampled(s)
    if strict and bool(frame["inert"].any()):
        raise typer.Exit(1)


def screen_json(s: Scenario, frame: pd.DataFrame) -> dict[str, object]:
    """``validate --inputs --json``: the screen's settings, counts and inert inputs."""
    from detente.experiments.inert import count_by_kind, inert_inputs

    return {
        "scenario": s.id,
        "inputs": len(frame),
        "inert": int(frame["inert"].sum()),
        "by_kind": {str(k): int(v) for k, v in count_by_kind(frame).items()},
        "tolerance": frame.attrs["tolerance"],
        "worlds": frame.attrs["worlds"],
        "seed": frame.attrs["seed"],
        "bases": frame.attrs["bases"],
        "recheck": frame.attrs["recheck"],
        "strategies": frame.attrs["strategies"],
        "metrics": frame.attrs["metrics"],
        "inert_inputs": inert_inputs(frame).to_dict("records"),
        "not_sampled": [{"input": k, "reason": v} for k, v in not_sampled(s).items()],
    }


def print_not_sampled(s: Scenario) -> None:
    """How many uncertain numbers the scenario leaves out of sampling, by reason."""
    dropped = not_sampled(s)
    if not dropped:
        return
    import pandas as pd

    counts = pd.Series(dropped).value_counts(sort=False)
    table = narrow_table(f"Not sampled ({len(dropped)} numbers, scenario's not_sampled)")
    table.add_column("numbers", justify="right")
    table.add_column("reason", overflow="fold")
    for reason, n in counts.items():
        table.add_row(str(n), str(reason))
    console.print(table)


def print_screen(frame: pd.DataFrame) -> None:
    """The inert inputs as a table (path, kind), their count by kind, and the settings."""
    from detente.experiments.inert import count_by_kind, inert_inputs

    inert = inert_inputs(frame)
    if len(inert):
        table = narrow_table("Inert inputs: no path to any ranked outcome")
        table.add_column("input (scenario path)", overflow="fold")
        table.add_column("kind", overflow="fold")
        for row in inert.itertuples(index=False):
            table.add_row(str(row.input), str(row.kind))
        console.print(table)
        kinds = narrow_table("Inert inputs by kind")
        kinds.add_column("kind", overflow="fold")
        kinds.add_column("inert", justify="right")
        for kind, n in count_by_kind(frame).items():
            kinds.add_row(str(kind), str(n))
        console.print(kinds)
    attrs = frame.attrs
    console.print(
        f"{len(inert)} of {len(frame)} sampled inputs are inert: no effect above "
        f"{attrs['tolerance']:g} of a metric's scale on any of {len(attrs['metrics'])} ranked "
        f"metrics under any of {len(attrs['strategies'])} strategies ({attrs['worlds']} "
        f"worlds per state, seed {attrs['seed']}, one input at a time from the nominal "
        f"state and {attrs['bases']} base states; the {attrs['recheck']['inputs']} found "
        f"inert looked at again with {attrs['recheck']['worlds']} worlds and "
        f"{attrs['recheck']['bases']} base states)."
    )


def show(
    scenario: ScenarioArg,
    as_json: Annotated[
        bool, typer.Option("--json", help="Emit the validated model as JSON.")
    ] = False,
) -> None:
    """Show a scenario's actors, issues, instruments and institutions as tables."""
    s = load_scenario(scenario)
    if as_json:
        payload = s.model_dump(mode="json", exclude_none=True)
        payload["counts"] = counts(s)
        typer.echo(json.dumps(payload, indent=2, allow_nan=False))
        return
    console.print(Text.assemble((s.title, "bold"), f" ({s.id})"))
    if s.description:
        console.print(s.description)
    issues = narrow_table("Issues")
    for col in ("id", "name", "scale", "status quo", "anchors"):
        issues.add_column(col, overflow="fold")
    for i in s.issues:
        anchors = "; ".join(f"{number(k)}: {v}" for k, v in sorted(i.anchors.items()))
        issues.add_row(
            i.id,
            i.name,
            f"{number(i.low)}-{number(i.high)} {i.unit}".strip(),
            _fmt(i.status_quo),
            anchors,
        )
    console.print(issues)
    actors = narrow_table("Actors")
    actors.add_column("id", no_wrap=True)
    for col in ("country\nkind\ncamp", "clout\nrisk", "position / salience per issue"):
        actors.add_column(col, overflow="fold")
    for a in s.actors:
        stakes = "\n".join(
            f"{issue}: {_fmt(pos)} / {_fmt(a.saliences.get(issue))}"
            for issue, pos in a.positions.items()
        )
        who = "\n".join(x for x in (a.country or "", a.kind, a.camp or "") if x)
        actors.add_row(a.id, who, f"{_fmt(a.clout)}\n{_fmt(a.risk)}", stakes)
    console.print(actors)
    if s.institutions:
        inst = narrow_table("Institutions and vetoes")
        for col in ("id", "country", "holder", "elected", "vetoes (issues: tolerance)"):
            inst.add_column(col, overflow="fold")
        for it in s.institutions:
            vetoes = "; ".join(f"{','.join(v.issues)}: {_fmt(v.tolerance)}" for v in it.vetoes)
            inst.add_row(it.id, it.country, it.holder, "yes" if it.elected else "", vetoes)
        console.print(inst)
    if s.instruments:
        ins = narrow_table("Instruments")
        ins.add_column("id", no_wrap=True)
        for col in ("owner", "effects", "cost\ndelay\ngesture", "approvals", "revers."):
            ins.add_column(col, overflow="fold")
        for instrument in s.instruments:
            effects = "\n".join(
                f"{k} {'+' if nominal(v) > 0 else ''}{number(nominal(v))}"
                for k, v in instrument.effects.items()
            )
            ins.add_row(
                instrument.id,
                instrument.owner,
                effects,
                "\n".join(
                    _fmt(x)
                    for x in (instrument.domestic_cost, instrument.delay, instrument.gesture)
                ),
                "\n".join(instrument.approvals),
                "yes" if instrument.reversible else "no",
            )
        console.print(ins)
    if s.strategies:
        st = narrow_table("Strategies")
        for col in ("id", "country", "kind", "option", "params"):
            st.add_column(col, overflow="fold")
        for x in s.strategies:
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in x.params.items())
            st.add_row(x.id, x.country, x.kind, "yes" if x.option else "", params)
        console.print(st)


def register(app: typer.Typer) -> None:
    """Attach the scenario commands to the app."""
    app.command("scenarios", cls=ReadableHelp)(scenarios)
    app.command("validate", cls=ReadableHelp)(validate)
    app.command("show", cls=ReadableHelp)(show)
