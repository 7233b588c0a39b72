"""Small frames for the flagship protocol, built in code: a hand-made allocation of its 24
teams and a few clients, staff and spends per team. Nothing here is read from disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
TEAMS = [f"T{i:02d}" for i in range(1, 25)]
LOCALITIES = ["Central", "North", "South", "East"]
#: Writes the demo frames (optionally edited) as files; returns their paths.
Writer = Callable[..., list[Path]]
LIKERT = ["Very dissatisfied", "Dissatisfied", "Neither", "Satisfied", "Very satisfied"]


def make_allocation() -> pd.DataFrame:
    """Teams in four localities of six, alternating usual/budget within each."""
    return pd.DataFrame(
        {
            "unit_id": TEAMS,
            "block": [LOCALITIES[i // 6] for i in range(24)],
            "cluster": TEAMS,
            "arm": ["usual" if i % 2 == 0 else "budget" for i in range(24)],
            "probability": [0.5] * 24,
        }
    )


def make_teams() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "team_id": TEAMS,
            "caseload": [20.0 + i % 7 for i in range(24)],
            "imd_score": [30.0 + i for i in range(24)],
            "team_size": [6.0 + i % 3 for i in range(24)],
            "budget_used": ["no" if i % 2 == 0 else ("yes" if i % 6 else "no") for i in range(24)],
        }
    )


def make_clients(per_team: int = 3) -> pd.DataFrame:
    rows = []
    levels = [
        "I have no control over my daily life",
        "I have some control over my daily life but not enough",
        "I have adequate control over my daily life",
        "I have as much control over my daily life as I want",
    ]
    for t, team in enumerate(TEAMS):
        for k in range(per_team):
            n = t * per_team + k
            rows.append(
                {
                    "client_id": f"C{n:04d}",
                    "team_id": team,
                    "loneliness": 3 + n % 7,
                    "wellbeing": 7 + n % 29,
                    "control_over_life": levels[n % 4],
                    "days_to_support": n % 50,
                    "cost_of_care": 100.0 * (n % 40),
                    "safeguarding_concern": n % 2,
                    "loneliness_baseline": 3 + (n + 1) % 7,
                    "wellbeing_baseline": 8 + n % 20,
                    "age": 40 + n % 50,
                    "lives_alone": "yes" if n % 3 else "no",
                    "most_deprived": n % 2,
                    "age_75_plus": int(40 + n % 50 >= 75),
                    "referral_date": "2027-03-15",
                }
            )
    return pd.DataFrame(rows)


def make_staff(per_team: int = 2) -> pd.DataFrame:
    rows = []
    for t, team in enumerate(TEAMS):
        for k in range(per_team):
            n = t * per_team + k
            rows.append(
                {
                    "staff_id": f"S{n:03d}",
                    "team_id": team,
                    "job_satisfaction": LIKERT[n % 5],
                    "job_satisfaction_baseline": LIKERT[(n + 2) % 5],
                    "intention_to_leave": n % 2,
                    "sickness_days": n % 9,
                    "fte_years": 0.25 + (n % 4) / 8,
                    "joined_on": "2026-05-01",
                    "left_on": "2027-06-30" if n % 7 == 3 else "",
                    "leaving_reason": "Resigned" if n % 7 == 3 else "",
                    "felt_autonomy": 1 + (n % 9) / 2,
                    "visits_completed": 10 + n % 12,
                    "years_in_role": 1 + n % 10,
                }
            )
    return pd.DataFrame(rows)


def make_spend(per_team: int = 2) -> pd.DataFrame:
    """A clean spend ledger: spends in the budget teams only, within every rule."""
    rows = []
    for t, team in enumerate(TEAMS):
        if t % 2 == 0:  # usual practice: no budget, no spends
            continue
        for k in range(per_team):
            rows.append(
                {
                    "spend_id": f"P{len(rows):03d}",
                    "team_id": team,
                    "staff_id": f"S{t * 2 + k % 2:03d}",
                    "client_id": f"C{t * 3 + 2 * (k % 2):04d}",
                    "spent_on": f"2027-03-{10 + k:02d}",
                    "amount": 40.0 + k,
                    "currency": "GBP",
                    "category": "transport",
                    "justification": "Bus pass so the client can reach the day centre.",
                    "justified_on": f"2027-03-{11 + k:02d}",
                    "review_verdict": "appropriate",
                    "loss": 0.0,
                }
            )
    return pd.DataFrame(rows)


def make_outcome_spend(per_team: int = 2) -> pd.DataFrame:
    """A spend file for protocols without a ledger (tests/data), where spending is one
    monitoring outcome, ``unjustified_spend``."""
    return pd.DataFrame(
        [
            {"spend_id": f"P{t * per_team + k:03d}", "team_id": team, "unjustified_spend": 0}
            for t, team in enumerate(TEAMS)
            for k in range(per_team)
        ]
    )
