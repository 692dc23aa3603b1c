"""The one registry of the simulation's outcome metrics.

Every metric the engine records, and every per-world summary ``compare`` stores, is one
:class:`Metric` of :data:`REGISTRY`: its id (a column of the ``summaries`` table and a name an
observation expression may use), label, scale, kind (0/1 per world or a value), the scenario
role it needs, the direction a scenario usually declares for it, and how it is made:

``rule="step"``
    recorded by the engine at every step (a trajectory); its per-world summary is the value
    at the last step, under the same id.
``rule="world"``
    recorded once per world by the engine (e.g. ``backlash_events``).
``rule="max" | "mean" | "min" | "first_step"``
    a per-world summary of the step metric ``source``: its maximum, mean or minimum over the
    steps, or the first step (1-based) at which it is 1 (``horizon + 1`` if never).

The former lists are views of it: :data:`detente.sim.engine.METRICS` and
``detente.scenario.schema.SIMULATED_METRICS`` (:func:`step_metrics`),
``BINARY_METRICS`` (:func:`binary_metrics`), the engine's per-scenario support
(:func:`metrics_for`), the summary rules of ``detente.sim.api`` and the needs named by
``validate`` (:func:`need_text`). The tuple's order is the order of the engine's trajectories
and of the stored summary columns, so it must not be reordered.

A metric needs a *role* of the scenario (``Need``), never a flagship id: an issue with a
``role:`` (``detente.sim.system.ISSUE_ROLES``), an elected internal institution with a role
(``REPORTED_ROLES``), a reform camp on the internal side, or an election of the focal side's
legislature. A scenario that lacks the role does not get the metric at all, and ``validate``
names the role for any metric it declares that it cannot get. ``docs/model.md`` ("Metrics")
lists the registry; a test keeps the two in step.

This module imports nothing from the rest of the package at import time, so the scenario
schema can use it without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from detente.sim.system import System

Scale = Literal[
    "0/1", "share", "level", "count", "quarters", "cost", "balance", "probability", "friction"
]
Rule = Literal["step", "world", "max", "mean", "min", "first_step"]
Direction = Literal["maximize", "minimize", "info"]
NeedKind = Literal[
    "issue", "institution", "reform-camp", "focal-legislature-election", "focal-ally"
]

#: What each scale means, for the docs and for labels.
SCALES: dict[str, str] = {
    "0/1": "1 or 0 per world (its mean is a share of worlds)",
    "share": "a share, 0 to 1",
    "level": "an issue level, on the issue's own scale",
    "count": "a count",
    "quarters": "quarters (steps); horizon + 1 if never",
    "cost": "cost points",
    "balance": "a balance, -1 (hawks) to 1 (engagers)",
    "probability": "a probability, 0 to 1",
    "friction": "a weighted gap, 0 (allies share the line) to 2 (opposite ends, hostile steps)",
}


@dataclass(frozen=True)
class Need:
    """The scenario role a metric needs (absent it, the metric is not reported at all).

    ``kind="issue"``: an issue whose ``role`` is ``ISSUE_ROLES[role]``;
    ``kind="institution"``: an elected institution of the internal side whose role is
    ``REPORTED_ROLES[role]``; ``"reform-camp"``: an internal actor whose camp contains
    'reform'; ``"focal-legislature-election"``: an election of the focal side's elected
    legislature; ``"focal-ally"``: a third-party actor with ``ally_of`` the focal side.
    """

    kind: NeedKind
    role: str = ""


@dataclass(frozen=True)
class Metric:
    """One outcome metric: what it is, what it needs and how it is made (module docstring)."""

    id: str
    label: str
    scale: Scale
    rule: Rule
    direction: Direction
    """The direction a scenario usually declares; an undeclared metric is still ranked
    for information only (``detente.experiments.analysis.outcome_spec``)."""
    needs: Need | None = None
    source: str = ""
    """For a summary rule: the step metric it summarises."""

    @property
    def kind(self) -> Literal["binary", "value"]:
        """``"binary"`` when the metric is 0/1 in every world (a condition on its own)."""
        return "binary" if self.scale == "0/1" else "value"

    @property
    def issue_role(self) -> str | None:
        """The ``ISSUE_ROLES`` key whose issue level the metric is, if it is one."""
        if self.needs is not None and self.needs.kind == "issue" and self.scale == "level":
            return self.needs.role
        return None


def _level(id_: str, label: str, role: str, direction: Direction) -> Metric:
    return Metric(id_, label, "level", "step", direction, Need("issue", role))


#: Every metric, in the order of the engine's trajectories and of the stored summaries.
REGISTRY: tuple[Metric, ...] = (
    Metric(
        "reform_share", "Reformist share of the internal side's clout", "share", "step",
        "maximize", Need("reform-camp"),
    ),
    Metric(
        "legislature_reform_majority", "Reformists control the elected legislature", "0/1", "step",
        "maximize", Need("institution", "legislature"),
    ),
    Metric(
        "presidency_reform", "Reformists hold the presidency", "0/1", "step", "maximize",
        Need("institution", "presidency"),
    ),
    _level("sanctions", "Sanctions level", "sanctions", "info"),
    _level("dialogue", "Dialogue level", "dialogue", "maximize"),
    Metric(
        "rapprochement", "Rapprochement reached (dialogue past its threshold)", "0/1", "step",
        "maximize", Need("issue", "dialogue"),
    ),
    _level("terror_support", "Support for armed groups", "terror", "minimize"),
    _level("wmd", "WMD and missile effort", "wmd", "minimize"),
    _level("reform", "Reform level", "reform", "maximize"),
    Metric("allied_support", "Allied support for the focal line", "share", "step", "maximize"),
    Metric(
        "focal_domestic_cost", "Focal side's domestic political cost", "cost", "step", "minimize",
    ),
    Metric("unreciprocated", "Unreciprocated concessions", "count", "step", "minimize"),
    Metric("public_support", "Internal public support for reform", "share", "step", "info"),
    Metric(
        "focal_belief", "Focal side's belief that the other reciprocates", "probability", "step",
        "info",
    ),
    Metric(
        "internal_belief", "Internal side's belief that the focal side reciprocates", "probability",
        "step", "info",
    ),
    Metric("focal_level", "Focal side's played level", "share", "step", "info"),
    Metric("internal_level", "Internal side's played level", "share", "step", "info"),
    Metric(
        "focal_legislature_balance", "Focal legislature's hawk/engager balance", "balance", "step",
        "info", Need("focal-legislature-election"),
    ),
    Metric(
        "vetting", "Share of the internal side's reform vote barred by vetting", "share", "step",
        "info",
    ),
    Metric(
        "disillusion", "Reformist voters' disillusion (added since the start)", "share", "step",
        "info",
    ),
    Metric(
        "regional_threat", "Regional threat to the internal side", "share", "step", "info",
    ),
    Metric("settlement", "Regional (Arab-Israeli) settlement", "share", "step", "info"),
    Metric(
        "allied_friction", "Friction between the focal line and its allies", "friction", "step",
        "info", Need("focal-ally"),
    ),
    Metric(
        "time_to_reciprocation", "Quarters to the first reciprocated move", "quarters", "world",
        "minimize",
    ),
    Metric(
        "max_unreciprocated", "Most unreciprocated concessions at once", "count", "max",
        "minimize", source="unreciprocated",
    ),
    Metric(
        "max_focal_domestic_cost", "Highest domestic political cost", "cost", "max", "minimize",
        source="focal_domestic_cost",
    ),
    Metric(
        "mean_reform_share", "Mean reformist share over the horizon", "share", "mean",
        "maximize", Need("reform-camp"), source="reform_share",
    ),
    Metric(
        "min_reform_share", "Lowest reformist share", "share", "min", "maximize",
        Need("reform-camp"), source="reform_share",
    ),
    Metric(
        "time_to_rapprochement", "Quarters to rapprochement", "quarters", "first_step",
        "minimize", Need("issue", "dialogue"), source="rapprochement",
    ),
    Metric("backlash_events", "Backlash events", "count", "world", "minimize"),
)

_BY_ID: dict[str, Metric] = {m.id: m for m in REGISTRY}


def metric(id_: str) -> Metric:
    """The registry entry ``id_``.

    Raises
    ------
    KeyError
        ``id_`` is no metric of the registry (the message lists the close ones).
    """
    try:
        return _BY_ID[id_]
    except KeyError:
        from detente.errors import did_you_mean

        raise KeyError(
            f"{id_!r} is not a metric of the registry{did_you_mean(id_, _BY_ID)}"
        ) from None


def step_metrics() -> tuple[str, ...]:
    """Ids of the metrics the engine records per step, in trajectory order."""
    return tuple(m.id for m in REGISTRY if m.rule == "step")


def binary_metrics() -> tuple[str, ...]:
    """Ids of the step metrics that are 0/1 in every world (conditions on their own)."""
    return tuple(m.id for m in REGISTRY if m.rule == "step" and m.kind == "binary")


def never_value(id_: str, horizon: int) -> float | None:
    """The value standing for "never" of metric ``id_`` (``horizon + 1`` for a time-to metric,
    scale ``quarters``), or None when the metric has no such value."""
    known = {m.id: m for m in REGISTRY}
    m = known.get(id_)
    return float(horizon + 1) if m is not None and m.scale == "quarters" else None


def supported(m: Metric, system: System) -> bool:
    """Whether ``system`` has the role ``m`` needs (a summary: also its source's)."""
    if m.source and not supported(metric(m.source), system):
        return False
    need = m.needs
    if need is None:
        return True
    if need.kind == "issue":
        return system.roles[need.role] >= 0
    if need.kind == "institution":
        return need.role in system.reported
    if need.kind == "reform-camp":
        return bool(system.internal.reform.any())
    if need.kind == "focal-ally":
        return bool(system.environment.ally.any())
    fe = system.focal_elections
    return fe is not None and bool(fe.legislature.any())


def metrics_for(system: System, rules: tuple[Rule, ...] = ("step",)) -> tuple[Metric, ...]:
    """The metrics of the given rules that ``system`` supports, in registry order."""
    return tuple(m for m in REGISTRY if m.rule in rules and supported(m, system))


def need_text(m: Metric) -> str:
    """What a scenario must give for ``m``, in the words ``validate`` prints ("" if nothing)."""
    from detente.sim.system import ISSUE_ROLES, REPORTED_ROLES

    need = m.needs
    if need is None:
        return ""
    if need.kind == "issue":
        return f"an issue with 'role: {ISSUE_ROLES[need.role]}'"
    if need.kind == "institution":
        return (
            f"an elected institution of the internal side with 'role: {REPORTED_ROLES[need.role]}'"
        )
    if need.kind == "reform-camp":
        return "an actor of the internal side whose camp contains 'reform'"
    if need.kind == "focal-ally":
        return "a third-party actor with 'ally_of' the focal side"
    return "an election of the focal side's elected 'role: legislature' institution"


def markdown_table() -> str:
    """The registry as the Markdown table of docs/model.md ("Metrics"), one row per metric."""
    rows = [
        "| id | label | scale | kind | rule | needs | direction |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in REGISTRY:
        rule = m.rule if not m.source else f"{m.rule} of `{m.source}`"
        rows.append(
            f"| `{m.id}` | {m.label} | {SCALES[m.scale]} | {m.kind} | {rule} | "
            f"{need_text(m) or '-'} | {m.direction} |"
        )
    return "\n".join(rows) + "\n"


__all__ = [
    "REGISTRY",
    "SCALES",
    "Metric",
    "Need",
    "binary_metrics",
    "markdown_table",
    "metric",
    "metrics_for",
    "need_text",
    "never_value",
    "step_metrics",
    "supported",
]
