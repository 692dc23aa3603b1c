"""Small synthetic inputs in the contract formats, for tests, docs and previews.

:func:`demo_scenario` is a reduced U.S.-Iran system (two principals with camps and vetoes,
third parties, three issues, elections); the ``demo_*`` frame builders produce the
experiment result frames of ``docs/contracts.md`` from a fixed random seed, so the figures
and the report can be exercised without running any engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from detente.scenario.schema import Scenario


def _actor(
    aid: str,
    name: str,
    country: str,
    camp: str | None,
    clout: float | dict[str, Any],
    positions: dict[str, float],
    saliences: dict[str, float],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": aid,
        "name": name,
        "country": country,
        "camp": camp,
        "clout": clout,
        "positions": positions,
        "saliences": saliences,
        **extra,
    }


def demo_scenario() -> Scenario:
    """A reduced U.S.-Iran scenario with camps, vetoes, elections, strategies and metrics."""
    sanc, dia, ter = "sanctions", "dialogue", "terror-support"
    data: dict[str, Any] = {
        "id": "demo-us-iran",
        "title": "Demo: U.S. policy toward Iran, 2001 (reduced)",
        "question": "Which U.S. policy toward Iran holds up best across what we are unsure of?",
        "reference": "Demo scenario for tests",
        "countries": [
            {"id": "us", "name": "United States"},
            {"id": "iran", "name": "Iran"},
            {"id": "eu", "name": "Europe", "role": "third-party"},
            {"id": "ru", "name": "Russia", "role": "third-party"},
        ],
        "issues": [
            {
                "id": sanc,
                "name": "U.S. sanctions",
                "unit": "0-100 scale",
                "anchors": {0: "none", 50: "partial", 100: "full embargo"},
                "status_quo": {"low": 80, "mode": 90, "high": 95, "source": "DETAILS: ILSA"},
            },
            {
                "id": dia,
                "name": "Direct dialogue",
                "anchors": {0: "no contact", 100: "relations"},
                "status_quo": 10,
            },
            {"id": ter, "name": "Iran's support for armed groups", "status_quo": 70},
        ],
        "actors": [
            _actor(
                "administration",
                "Bush administration",
                "us",
                None,
                {"low": 50, "mode": 60, "high": 70, "judgment": "dominant in foreign policy"},
                {sanc: 85, dia: 30},
                {sanc: 70, dia: 50},
            ),
            _actor(
                "state-dept",
                "State Department",
                "us",
                None,
                20,
                {sanc: 75, dia: 45},
                {sanc: 50, dia: 60},
                kind="bureaucracy",
            ),
            _actor(
                "ofac", "Treasury OFAC", "us", None, 10, {sanc: 95}, {sanc: 40}, kind="bureaucracy"
            ),
            _actor(
                "congress-hawks",
                "Congress: sanctions hawks",
                "us",
                "hawks",
                35,
                {sanc: 100, dia: 5},
                {sanc: 90, dia: 40},
            ),
            _actor(
                "congress-doves",
                "Congress: contact caucus",
                "us",
                "doves",
                10,
                {sanc: 60, dia: 70},
                {sanc: 40, dia: 50},
            ),
            _actor(
                "oil",
                "Oil companies",
                "us",
                "doves",
                15,
                {sanc: 20, dia: 60},
                {sanc: 80, dia: 30},
                kind="firm",
            ),
            _actor(
                "leader",
                "Supreme Leader",
                "iran",
                "conservative",
                60,
                {dia: 10, ter: 80, sanc: 90},
                {dia: 80, ter: 70, sanc: 30},
                kind="office",
            ),
            _actor(
                "guardians",
                "Council of Guardians",
                "iran",
                "conservative",
                30,
                {dia: 5, ter: 85},
                {dia: 60, ter: 50},
                kind="institution",
            ),
            _actor(
                "irgc",
                "Revolutionary Guards",
                "iran",
                "conservative",
                35,
                {dia: 0, ter: 95},
                {dia: 50, ter: 90},
                kind="institution",
            ),
            _actor(
                "president",
                "President Khatami",
                "iran",
                "reformist",
                30,
                {dia: 60, ter: 40, sanc: 20},
                {dia: 70, ter: 40, sanc: 60},
                kind="office",
            ),
            _actor(
                "majlis",
                "Majlis (reformist majority)",
                "iran",
                "reformist",
                25,
                {dia: 70, ter: 30},
                {dia: 60, ter: 30},
                kind="legislature",
            ),
            _actor(
                "students",
                "Students",
                "iran",
                "reformist",
                10,
                {dia: 90, ter: 20},
                {dia: 50, ter: 20},
                kind="society",
            ),
            _actor(
                "europe",
                "European Union",
                "eu",
                None,
                25,
                {sanc: 10, dia: 80},
                {sanc: 60, dia: 50},
                kind="state",
            ),
            _actor(
                "russia",
                "Russia",
                "ru",
                None,
                20,
                {sanc: 0, ter: 60},
                {sanc: 30, ter: 20},
                kind="state",
            ),
        ],
        "institutions": [
            {
                "id": "congress",
                "name": "U.S. Congress",
                "country": "us",
                "holder": "congress-hawks",
                "elected": True,
                "vetoes": [{"issues": [sanc], "tolerance": 10}],
            },
            {
                "id": "council",
                "name": "Council of Guardians",
                "country": "iran",
                "holder": "guardians",
                "vetoes": [{"issues": [dia, ter], "tolerance": 5}],
            },
            {
                "id": "leadership",
                "name": "Office of the Supreme Leader",
                "country": "iran",
                "holder": "leader",
                "vetoes": [{"issues": [dia], "tolerance": 15}],
            },
            {
                "id": "majlis-inst",
                "name": "Majlis",
                "country": "iran",
                "holder": "majlis",
                "elected": True,
            },
        ],
        "strategies": [
            {
                "id": "containment",
                "name": "Containment",
                "country": "us",
                "kind": "containment",
                "option": True,
            },
            {
                "id": "moderate-engagement",
                "name": "Moderate engagement (GRIT)",
                "country": "us",
                "kind": "moderate-engagement",
                "option": True,
                "params": {"patience": {"low": 2, "high": 6, "judgment": "quarters of patience"}},
            },
            {
                "id": "dismantle",
                "name": "Dismantle sanctions now",
                "country": "us",
                "kind": "dismantle-sanctions",
                "option": True,
            },
        ],
        "calendar": {
            "start": "2001-07-01",
            "step": "quarter",
            "horizon": 16,
            "elections": [
                {
                    "id": "us-midterm-2002",
                    "name": "U.S. midterms",
                    "country": "us",
                    "date": "2002-11-05",
                    "institution": "congress",
                },
                {
                    "id": "majlis-2004",
                    "name": "Majlis election",
                    "country": "iran",
                    "date": "2004-02-20",
                    "institution": "majlis-inst",
                    "vetting": {"low": 0.2, "high": 0.6, "source": "BACKLASH: vetting"},
                },
            ],
        },
        "metrics": [
            {
                "id": "rapprochement",
                "name": "Rapprochement",
                "unit": "share of worlds",
                "direction": "maximize",
                "threshold": 0.5,
            },
            {
                "id": "sanctions",
                "name": "Sanctions level",
                "unit": "0-100",
                "direction": "minimize",
            },
            {
                "id": "reformist_share",
                "name": "Reformist share of clout",
                "unit": "%",
                "direction": "maximize",
                "threshold": 40,
            },
            {
                "id": "us_cost",
                "name": "U.S. domestic cost",
                "unit": "index",
                "direction": "minimize",
            },
        ],
        "parameters": {
            "perception_noise_us": {"low": 0.05, "high": 0.3, "judgment": "noisy channel"},
            "prior_reciprocating_us": {
                "low": 0.05,
                "mode": 0.15,
                "high": 0.3,
                "source": "DETAILS: lack of trust",
            },
            "backlash_hazard": {"low": 0.02, "high": 0.2, "source": "BACKLASH"},
        },
    }
    return Scenario.model_validate(data)


STRATEGIES = ("containment", "moderate-engagement", "dismantle")
METRICS = ("rapprochement", "sanctions", "reformist_share", "us_cost")


def demo_quantiles(seed: int = 1, steps: int = 16) -> pd.DataFrame:
    """A ``trajectory_quantiles`` frame for the demo strategies and metrics."""
    rng = np.random.default_rng(seed)
    rows = []
    dates = pd.period_range("2001Q3", periods=steps, freq="Q").astype(str)
    for k, strategy in enumerate(STRATEGIES):
        for metric in METRICS:
            base = {
                "rapprochement": 0.05,
                "sanctions": 90.0,
                "reformist_share": 45.0,
                "us_cost": 1.0,
            }[metric]
            trend = {
                "rapprochement": 0.04 * k,
                "sanctions": -2.5 * k,
                "reformist_share": 0.5 * k - 0.6,
                "us_cost": 0.3 * k,
            }[metric]
            spread = {
                "rapprochement": 0.05,
                "sanctions": 4.0,
                "reformist_share": 3.0,
                "us_cost": 0.3,
            }[metric]
            for step in range(steps):
                mid = base + trend * step + rng.normal(0, spread * 0.1)
                width = spread * (1 + 0.15 * step)
                q = mid + width * np.array([-1.64, -0.67, 0.0, 0.67, 1.64])
                if metric == "rapprochement":
                    q = np.clip(q, 0, 1)
                rows.append(
                    {
                        "strategy": strategy,
                        "step": step,
                        "date": dates[step],
                        "metric": metric,
                        "mean": float(q[2]),
                        "p05": q[0],
                        "p25": q[1],
                        "p50": q[2],
                        "p75": q[3],
                        "p95": q[4],
                    }
                )
    return pd.DataFrame(rows)


def demo_comparison() -> pd.DataFrame:
    """A comparison frame for the demo strategies and metrics."""
    rows = []
    values = {
        "rapprochement": (0.05, 0.30, 0.35),
        "sanctions": (90.0, 60.0, 25.0),
        "reformist_share": (38.0, 44.0, 41.0),
        "us_cost": (1.0, 3.0, 6.5),
    }
    spread = {"rapprochement": 0.08, "sanctions": 8.0, "reformist_share": 4.0, "us_cost": 1.0}
    satisficing = {"rapprochement": (0.02, 0.31, 0.38), "reformist_share": (0.35, 0.62, 0.5)}
    for metric, vals in values.items():
        best = max(vals) if metric in ("rapprochement", "reformist_share") else min(vals)
        order = sorted(vals, reverse=metric in ("rapprochement", "reformist_share"))
        for k, strategy in enumerate(STRATEGIES):
            v = vals[k]
            sat = satisficing.get(metric)
            rows.append(
                {
                    "strategy": strategy,
                    "outcome": metric,
                    "mean": v,
                    "lo": v - spread[metric],
                    "hi": v + spread[metric],
                    "regret_mean": abs(best - v) + 0.3 * spread[metric],
                    "regret_max": abs(best - v) + 2 * spread[metric],
                    "satisficing": np.nan if sat is None else sat[k],
                    "rank": order.index(v) + 1,
                }
            )
    return pd.DataFrame(rows)


def demo_prim() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A PRIM trajectory and chosen box (one restriction a finding, two weak)."""
    steps = np.arange(12)
    coverage = 1.0 - 0.045 * steps - 0.002 * steps**2
    density = 0.3 + 0.55 * (1 - np.exp(-steps / 4))
    n_restricted = np.minimum(1 + steps // 3, 3)
    trajectory = pd.DataFrame(
        {
            "step": steps,
            "coverage": coverage,
            "density": density,
            "mass": 1.0 - 0.07 * steps,
            "n_restricted": n_restricted,
        }
    )
    box = pd.DataFrame(
        {
            "uncertainty": [
                "parameters.prior_reciprocating_us",
                "parameters.backlash_hazard",
                "calendar.elections[majlis-2004].vetting",
            ],
            "low": [0.05, 0.11, 0.2],
            "high": [0.12, 0.2, 0.6],
            "full_low": [0.05, 0.02, 0.2],
            "full_high": [0.3, 0.2, 0.6],
            "quasi_p": [0.0004, 0.03, 0.41],
            "stability": [0.96, 0.44, 0.12],
        }
    )
    return trajectory, box


def demo_sobol() -> pd.DataFrame:
    """Sobol indices for a handful of parameters."""
    names = [
        "parameters.prior_reciprocating_us",
        "parameters.backlash_hazard",
        "parameters.perception_noise_us",
        "issues[sanctions].status_quo",
        "actors[administration].clout",
        "strategies[moderate-engagement].params.patience",
    ]
    st = np.array([0.45, 0.3, 0.12, 0.08, 0.05, 0.02])
    return pd.DataFrame(
        {
            "parameter": names,
            "S1": st * 0.7,
            "S1_conf": st * 0.1 + 0.01,
            "ST": st,
            "ST_conf": st * 0.12 + 0.01,
        }
    )


def demo_morris() -> pd.DataFrame:
    """Morris indices for a handful of parameters."""
    sob = demo_sobol()
    return pd.DataFrame(
        {
            "parameter": sob["parameter"],
            "mu_star": sob["ST"] * 10,
            "mu_star_conf": sob["ST_conf"] * 10,
            "sigma": sob["ST"] * 6,
        }
    )


def demo_eum_rounds(n: int = 8) -> pd.DataFrame:
    """An expected-utility model's round-by-round median and mean."""
    r = np.arange(n + 1)
    return pd.DataFrame(
        {
            "round": r,
            "median": 30 + 20 * (1 - np.exp(-r / 2)),
            "mean": 40 + 12 * (1 - np.exp(-r / 3)),
        }
    )
