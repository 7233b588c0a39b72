"""Benchmark: validating 1,000,000 client rows × 10 outcomes vs pandas reading the same CSV.

Target (issue 4): ``validate.outcomes`` on the data takes at most 3× the time
``pandas.read_csv`` takes to read the clients file. Both are timed in this one run, on the
same files, in ``--repeats`` interleaved rounds after one warm-up validation.

Run::

    python benchmarks/bench_validate.py            # 1,000,000 rows
    python benchmarks/bench_validate.py --rows 200000 --repeats 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialkit import validate
from trialkit.protocol import load_protocol
from trialkit.protocol.model import Protocol

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
TEAMS = [f"T{i:02d}" for i in range(1, 25)]
SATISFACTION = ["Very poor", "Poor", "Fair", "Good", "Very good"]
CONTROL = [
    "I have no control over my daily life",
    "I have some control over my daily life but not enough",
    "I have adequate control over my daily life",
    "I have as much control over my daily life as I want",
]
EXTRA_OUTCOMES: list[dict[str, Any]] = [
    {"name": "phone_contacts", "type": "count", "range": [0, 500]},
    {"name": "care_rating", "type": "ordinal", "levels": SATISFACTION},
    {"name": "readmitted", "type": "binary"},
    {"name": "independence", "type": "continuous", "range": [0, 100]},
]


def bench_protocol() -> Protocol:
    """The flagship protocol with four more client outcomes: ten at the client level."""
    base = load_protocol(FLAGSHIP).model_dump(mode="json")
    for extra in EXTRA_OUTCOMES:
        base["outcomes"].append(
            {
                **extra,
                "label": extra["name"],
                "role": "exploratory",
                "level": "client",
                "direction": "higher_is_better",
                "timing": "Six months",
                "measurement": "Survey",
            }
        )
    return Protocol.model_validate(base)


def write_data(folder: Path, rows: int, seed: int = 1) -> list[Path]:
    """Clients (the big file) and small staff, spend and team files."""
    rng = np.random.default_rng(seed)
    clients = pd.DataFrame(
        {
            "client_id": np.char.add("C", np.arange(rows).astype(str)),
            "team_id": np.array(TEAMS)[rng.integers(0, 24, rows)],
            "loneliness": rng.integers(3, 10, rows),
            "wellbeing": rng.integers(7, 36, rows),
            "control_over_life": np.array(CONTROL)[rng.integers(0, 4, rows)],
            "days_to_support": rng.integers(0, 200, rows),
            "cost_of_care": rng.gamma(1.2, 3000, rows).round(2),
            "safeguarding_concern": rng.integers(0, 2, rows),
            "phone_contacts": rng.poisson(4, rows),
            "care_rating": np.array(SATISFACTION)[rng.integers(0, 5, rows)],
            "readmitted": np.array(["yes", "no"])[rng.integers(0, 2, rows)],
            "independence": rng.uniform(0, 100, rows).round(1),
            "loneliness_baseline": rng.integers(3, 10, rows),
            "wellbeing_baseline": rng.integers(7, 36, rows),
            "age": rng.integers(18, 100, rows),
            "lives_alone": rng.integers(0, 2, rows),
            "most_deprived": rng.integers(0, 2, rows),
            "age_75_plus": rng.integers(0, 2, rows),
        }
    )
    missing = rng.random(rows) < 0.1
    clients.loc[missing, "wellbeing"] = np.nan
    staff = pd.DataFrame(
        {
            "staff_id": [f"S{i}" for i in range(192)],
            "team_id": TEAMS * 8,
            "job_satisfaction": "Satisfied",
            "job_satisfaction_baseline": "Neither",
            "intention_to_leave": 0,
            "sickness_days": 2,
            "years_in_role": 3,
            "joined_on": "2024-05-01",
            "left_on": "",
            "leaving_reason": "",
            "felt_autonomy": 3.0,
            "visits_completed": 18,
        }
    )
    budget_teams = list(range(1, 24, 2))  # allocation(): odd teams have the budget
    team = np.array(budget_teams * 8)
    spend = pd.DataFrame(
        {
            "spend_id": [f"P{i}" for i in range(96)],
            "team_id": np.array(TEAMS)[team],
            "staff_id": [f"S{t}" for t in team],  # staff S<t> works in team t
            "client_id": [f"C{i}" for i in range(96)],
            "spent_on": "2027-04-01",
            "amount": 25.0,
            "currency": "GBP",
            "category": "transport",
            "justification": "Bus pass so the client can reach the day centre.",
            "justified_on": "2027-04-02",
            "review_verdict": "appropriate",
            "loss": 0.0,
        }
    )
    teams = pd.DataFrame(
        {
            "team_id": TEAMS,
            "caseload": 20.0,
            "imd_score": 30.0,
            "team_size": 7.0,
            "budget_used": [i % 2 for i in range(24)],
        }
    )
    for outcome in load_protocol(FLAGSHIP).outcomes:
        exposure = getattr(outcome, "exposure", None)  # a rate's denominator, if declared
        if exposure:
            {"client": clients, "staff": staff}[outcome.level][exposure] = 1.0
    paths = []
    for name, frame in (("clients", clients), ("staff", staff), ("spend", spend), ("teams", teams)):
        paths.append(folder / f"{name}.csv")
        frame.to_csv(paths[-1], index=False)
    return paths


def allocation() -> pd.DataFrame:
    """Alternating arms, blocks of six teams."""
    return pd.DataFrame(
        {
            "unit_id": TEAMS,
            "block": [str(i // 6) for i in range(24)],
            "cluster": TEAMS,
            "arm": ["usual", "budget"] * 12,
            "probability": 0.5,
        }
    )


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    """Time pandas' read and trialkit's validation, interleaved; print times and ratios.

    Reads and validations alternate, so a change in the machine's load affects both; the
    ratio reported is the median of the per-round ratios.
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    protocol = bench_protocol()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_data(Path(tmp), args.rows)
        alloc = allocation()
        size = paths[0].stat().st_size
        validate.outcomes(protocol, alloc, paths)  # warm-up: imports, pandera's backends
        reads, checks = [], []
        for _ in range(args.repeats):
            reads.append(_timed(lambda: pd.read_csv(paths[0])))
            checks.append(_timed(lambda: validate.outcomes(protocol, alloc, paths)))
    ratios = [c / r for c, r in zip(checks, reads, strict=True)]
    print(
        f"rows {args.rows:,} × 10 outcomes ({size / 1e6:.0f} MB CSV), {args.repeats} "
        "interleaved rounds"
    )
    print(f"pandas.read_csv     median {statistics.median(reads):6.2f} s   min {min(reads):6.2f} s")
    print(
        f"validate.outcomes   median {statistics.median(checks):6.2f} s   min {min(checks):6.2f} s"
    )
    print(
        f"ratio               median {statistics.median(ratios):6.2f}×   "
        f"of minima {min(checks) / min(reads):.2f}×   (target ≤ 3×)"
    )


if __name__ == "__main__":
    main()
