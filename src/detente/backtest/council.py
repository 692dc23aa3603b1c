"""Council of the EU voting weights by treaty period, as capabilities for DEU III issues.

Weighted votes of the member states under qualified majority voting (QMV):

- ``EU15`` (Amsterdam rules, 1995 to 30 April 2004): DE, FR, IT, UK 10; ES 8; BE, NL, EL,
  PT 5; AT, SE 4; DK, IE, FI 3; LU 2. Total 87, qualified majority 62.
- ``NICE`` (Treaty of Nice, from 1 November 2004): DE, FR, IT, UK 29; ES, PL 27; RO 14;
  NL 13; BE, CZ, EL, HU, PT 12; AT, BG, SE 10; DK, IE, LT, SK, FI 7 (HR 7 from July 2013);
  CY, EE, LV, LU, SI 4; MT 3. Totals 321 (EU-25), 345 (EU-27), 352 (EU-28).

Sources (checked against each other): the EU Council weights table of the public R package
``sumtxt/coresize`` (``eucouncil_weights.csv``, columns ``eu15`` and ``eu25_av``, itself from
the EU's legislation summary of the Nice Treaty and Bräuninger's IOP 2.0), the EU-25 table
with total 321 on euabc.com ("Voting in the Council"), and the Irish Times explainer of the
Nice Treaty ("62 votes out of a possible 87"). See ``docs/validation.md``.

The DEU III date fields are corrupted, so the period of an issue is inferred from who holds
positions: a *proposal* is of the Nice era when any of its issues has a position of a state
that joined on 1 May 2004 (CY, CZ, EE, HU, LV, LT, MT, PL, SI, SK), and of the EU-15 era
otherwise. The interim May-October 2004 weights (Amsterdam rules for 25) are not used: the
proposals recorded with the new members were decided under Nice rules at the latest by
November 2004, and the DEU data cannot tell the few weeks apart.

The Commission and the Parliament have no Council votes. They get the capability
``k * mean Council weight of the member states taking part in the issue``; ``k`` (named
``institution_weight``) is fitted by grouped cross-validation in the backtest. ``k = 1``
treats each institution like an average member state, as the equal-capability compromise
model does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from detente.backtest.scoring import FloatArray
from detente.scenario.table import ActorTable

Period = Literal["EU15", "NICE"]

INSTITUTIONS = ("com", "ep")
"""DEU actor codes of the Commission and the European Parliament (no Council votes)."""

ACCESSION_2004 = frozenset({"cy", "cz", "ee", "hu", "lv", "lt", "mt", "pl", "si", "sk"})
"""DEU codes of the ten states that joined on 1 May 2004."""

EU15_WEIGHTS: Mapping[str, float] = {
    "de": 10, "fr": 10, "it": 10, "uk": 10, "es": 8,
    "be": 5, "nl": 5, "el": 5, "pt": 5, "at": 4, "se": 4,
    "dk": 3, "ie": 3, "fi": 3, "lu": 2,
}  # fmt: skip
"""QMV weights of the EU-15 under the Amsterdam rules (total 87)."""

NICE_WEIGHTS: Mapping[str, float] = {
    "de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "ro": 14, "nl": 13,
    "be": 12, "cz": 12, "el": 12, "hu": 12, "pt": 12, "at": 10, "bu": 10, "se": 10,
    "dk": 7, "ie": 7, "lt": 7, "sk": 7, "fi": 7, "cr": 7,
    "cy": 4, "ee": 4, "lv": 4, "lu": 4, "si": 4, "mt": 3,
}  # fmt: skip
"""QMV weights under the Treaty of Nice (DEU codes: ``bu`` Bulgaria, ``cr`` Croatia)."""

WEIGHTS: Mapping[Period, Mapping[str, float]] = {"EU15": EU15_WEIGHTS, "NICE": NICE_WEIGHTS}


def infer_periods(tables: list[ActorTable]) -> dict[str, Period]:
    """Treaty period of every proposal (``meta['proposal']``, else the issue id).

    ``"NICE"`` when any issue of the proposal has a position of a 2004 accession state,
    ``"EU15"`` otherwise.
    """
    out: dict[str, Period] = {}
    for t in tables:
        key = t.meta.get("proposal", t.issue)
        nice = bool(ACCESSION_2004.intersection(t.actors))
        if nice or key not in out:
            out[key] = "NICE" if nice else out.get(key, "EU15")
    return out


def council_capability(
    table: ActorTable,
    period: Period,
    institution_weight: float = 1.0,
    rule: Literal["qmv", "equal"] = "qmv",
) -> FloatArray:
    """Capabilities of the actors of one DEU issue on the Council-votes scale.

    Member states get their QMV weight of ``period`` (``rule="qmv"``) or, for unanimity,
    all the same weight, the mean of their QMV weights (``rule="equal"``), so the Council's
    total is the same under both rules. The Commission and the Parliament get
    ``institution_weight`` times the mean weight of the member states taking part.

    Raises
    ------
    ValueError
        When a member state has no weight in ``period`` or no member state takes part.
    """
    weights = WEIGHTS[period]
    members = [a for a in table.actors if a not in INSTITUTIONS]
    missing = [a for a in members if a not in weights]
    if missing:
        raise ValueError(f"issue {table.issue}: no {period} Council weight for {missing}")
    if not members:
        raise ValueError(f"issue {table.issue}: no member state takes part")
    mean = float(np.mean([weights[a] for a in members]))
    cap = [
        institution_weight * mean
        if a in INSTITUTIONS
        else (mean if rule == "equal" else float(weights[a]))
        for a in table.actors
    ]
    return np.array(cap, dtype=np.float64)


@dataclass(frozen=True)
class CouncilParts:
    """Per-issue sums that make the Council-weighted compromise a function of ``k``.

    ``forecast(k) = (m_num + k * i_num) / (m_den + k * i_den)`` where ``m_*`` sum
    ``capability * salience (* position)`` over member states and ``i_*`` the same over the
    Commission and the Parliament with capability 1 x the mean member weight.
    """

    m_num: FloatArray
    m_den: FloatArray
    i_num: FloatArray
    i_den: FloatArray

    def forecast(self, k: float) -> FloatArray:
        """Council-weighted compromise of every issue for institution weight ``k``."""
        return np.asarray((self.m_num + k * self.i_num) / (self.m_den + k * self.i_den))


def council_parts(
    tables: list[ActorTable], periods: Mapping[str, Period], rule_aware: bool = False
) -> CouncilParts:
    """The sums of :class:`CouncilParts` for every table.

    With ``rule_aware`` member states weigh equally on unanimity issues (``meta['voting']``
    starting with "Unan") and by QMV weight otherwise.
    """
    parts = np.zeros((4, len(tables)))
    for n, t in enumerate(tables):
        unan = t.meta.get("voting", "").lower().startswith("unan")
        rule: Literal["qmv", "equal"] = "equal" if rule_aware and unan else "qmv"
        cap = council_capability(t, periods[t.meta.get("proposal", t.issue)], 1.0, rule)
        inst = np.isin(np.array(t.actors), INSTITUTIONS)
        w = cap * t.salience
        parts[:, n] = (
            np.sum((w * t.position)[~inst]),
            np.sum(w[~inst]),
            np.sum((w * t.position)[inst]),
            np.sum(w[inst]),
        )
    return CouncilParts(*parts)


def with_council_capability(
    table: ActorTable, period: Period, institution_weight: float = 1.0
) -> ActorTable:
    """A copy of ``table`` whose capabilities are Council QMV weights (see above)."""
    return replace(table, capability=council_capability(table, period, institution_weight))
