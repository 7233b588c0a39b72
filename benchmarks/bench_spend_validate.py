"""Benchmark: validating a 1,000,000-row spend ledger vs pandas reading the same CSV.

Target (issue 14): ``validate.outcomes`` of the ledger (with the unit, client and staff
files it is checked against) takes at most 3× the time ``pandas.read_csv`` takes to read
the ledger. Both are timed in this one run, on the same files, in ``--repeats``
interleaved rounds after one warm-up validation; the ratio of the minima is the figure,
and the ratio of the medians is printed beside it (other work on the machine moves single
rounds). pandas (3.1 and later) parses a large CSV on every core; the ratio against its
one-thread parse (``low_memory=False``) is printed too, as the core count moves the first.
``validate.outcomes`` parses the files with the same ``pandas.read_csv`` defaults, then
checks them on one core while a second thread looks up the ledger's workers and clients,
sorts ids, codes the ledger's columns through their distinct values and hashes the files.
On a busy machine the second thread gains little: then the total work is what counts, and
the ratio of CPU time (every thread's, minima) is printed too, with the load average: it
moves far less with other work on the machine than the ratio of seconds.

The ledger is the flagship's, scaled up so that a million spends stay realistic: 1,200
teams (600 with the budget), ten workers and 300 clients per team, spends from March to
early December with skewed amounts (median about £13), so that caps are rarely broken;
a few spends are late, unjustified, not reviewed, in an excluded category or in a
control team, and about 3 % were judged poor value, misuse or fraud: about 1 % of spends
have a compliance finding.

Run::

    python benchmarks/bench_spend_validate.py                 # 1,000,000 spends
    python benchmarks/bench_spend_validate.py --rows 200000 --repeats 1

Beside validation, each round times its floor: the work ``validate.outcomes`` cannot skip
(trialkit's own functions, none of its checks). The four files are read as validate
reads them; then, on two threads as validate runs them, the files are hashed for the
provenance while the ledger's workers and clients are looked up in their files, the ids
of the ledger and the client file are checked for duplicates, the five ledger columns
coded through their distinct values are factorised and the blank justifications found,
and the main thread finds each spend's unit in the allocation. What is left between the
floor and 3× the read is all that the checks (each column's coding, the rules, the
findings, the frames and the CONSORT counts) may take.

A change meant only to be faster must give the same results: ``--save results.pkl``
keeps the findings and the coded frames of the first validation, and ``--same-as
results.pkl`` (another checkout, same ``--rows``) checks that they are identical (each
finding's fields and their types, every frame by ``DataFrame.equals`` and dtypes).
Run it with ``PYTHONPATH=.`` so that it validates with this checkout's trialkit.
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median

import numpy as np
import pandas as pd

from trialkit import validate
from trialkit.protocol import load_protocol
from trialkit.validate.coding import blank_mask
from trialkit.validate.linking import unit_positions
from trialkit.validate.readers import read_table
from trialkit.validate.schema import duplicated
from trialkit.validate.spending_values import positions_in
from trialkit.validate.stage import _hashed_inputs
from trialkit.validate.texts import factorize_text

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
N_TEAMS, WORKERS, CLIENTS = 1200, 10, 300
CATEGORIES = ["transport", "equipment", "social", "digital", "cash"]
CATEGORY_SHARES = [0.42, 0.25, 0.2, 0.128, 0.002]
NEEDS = [
    "Bus pass so the client can reach the day centre",
    "Taxi to a hospital appointment the client would otherwise miss",
    "Kettle tipper so the client can make a hot drink safely",
    "Phone top-up to keep in touch with family",
    "Library trip with a worker to rebuild confidence outside",
    "Grab rail fitted the same week instead of waiting for the panel",
    "Lunch club membership for a client living alone",
    "Replacement hearing aid batteries",
]
BECAUSE = [
    "as agreed in the support plan.",
    "the client named this as the thing that would help most.",
    "no other service could provide it within a month.",
    "it prevents a likely admission this winter.",
    "the family asked for help with it at the review.",
]
LIKERT = ["Very dissatisfied", "Dissatisfied", "Neither", "Satisfied", "Very satisfied"]
CONTROL = [
    "I have no control over my daily life",
    "I have some control over my daily life but not enough",
    "I have adequate control over my daily life",
    "I have as much control over my daily life as I want",
]


def teams() -> list[str]:
    """Team ids, T0001 … T1200."""
    return [f"T{i:04d}" for i in range(1, N_TEAMS + 1)]


def allocation() -> pd.DataFrame:
    """Alternating arms within localities of 300 teams."""
    ids = teams()
    return pd.DataFrame(
        {
            "unit_id": ids,
            "block": [f"L{i // 300}" for i in range(N_TEAMS)],
            "cluster": ids,
            "arm": ["usual", "budget"] * (N_TEAMS // 2),
            "probability": 0.5,
        }
    )


def _people(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The unit, client and staff files (outcomes drawn at random)."""
    ids = np.array(teams())
    n_c, n_s = N_TEAMS * CLIENTS, N_TEAMS * WORKERS
    units = pd.DataFrame(
        {
            "team_id": ids,
            "caseload": rng.integers(15, 30, N_TEAMS),
            "imd_score": rng.uniform(5, 60, N_TEAMS).round(1),
            "team_size": rng.integers(6, 12, N_TEAMS),
            "budget_used": [i % 2 for i in range(N_TEAMS)],
        }
    )
    clients = pd.DataFrame(
        {
            "client_id": np.char.add("C", np.arange(n_c).astype(str)),
            "team_id": np.repeat(ids, CLIENTS),
            "loneliness": rng.integers(3, 10, n_c),
            "wellbeing": rng.integers(7, 36, n_c),
            "control_over_life": np.array(CONTROL)[rng.integers(0, 4, n_c)],
            "days_to_support": rng.integers(0, 200, n_c),
            "cost_of_care": rng.gamma(1.2, 3000, n_c).round(2),
            "safeguarding_concern": rng.integers(0, 2, n_c),
            "loneliness_baseline": rng.integers(3, 10, n_c),
            "wellbeing_baseline": rng.integers(7, 36, n_c),
            "age": rng.integers(18, 100, n_c),
            "lives_alone": rng.integers(0, 2, n_c),
            "most_deprived": rng.integers(0, 2, n_c),
            "age_75_plus": rng.integers(0, 2, n_c),
        }
    )
    left = rng.random(n_s) < 0.15
    staff = pd.DataFrame(
        {
            "staff_id": np.char.add("S", np.arange(n_s).astype(str)),
            "team_id": np.repeat(ids, WORKERS),
            "job_satisfaction": np.array(LIKERT)[rng.integers(0, 5, n_s)],
            "job_satisfaction_baseline": np.array(LIKERT)[rng.integers(0, 5, n_s)],
            "intention_to_leave": rng.integers(0, 2, n_s),
            "sickness_days": rng.integers(0, 20, n_s),
            "joined_on": "2024-05-01",
            "left_on": np.where(left, "2027-09-30", ""),
            "leaving_reason": np.where(left, "resigned", ""),
            "felt_autonomy": rng.uniform(1, 5, n_s).round(1),
            "visits_completed": rng.integers(5, 40, n_s),
            "years_in_role": rng.integers(0, 30, n_s),
        }
    )
    for outcome in load_protocol(FLAGSHIP).outcomes:
        exposure = getattr(outcome, "exposure", None)  # a rate's denominator, if declared
        frame = {"client": clients, "staff": staff}.get(outcome.level)
        if exposure and frame is not None:
            frame[exposure] = rng.uniform(0.3, 1.0, len(frame)).round(2)
    return units, clients, staff


def ledger(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """``rows`` spends in the budget teams (and a few in control teams)."""
    team = 2 * rng.integers(0, N_TEAMS // 2, rows) + 1  # budget teams: odd indexes
    stray = rng.random(rows) < 0.0005
    team[stray] -= 1  # a few spends in control teams
    start, days = np.datetime64("2027-03-01"), 285
    spent = start + rng.integers(0, days, rows).astype("timedelta64[D]")
    late = (rng.random(rows) < 0.004) * rng.integers(6, 20, rows)
    delay = rng.geometric(0.45, rows) - 1 + late
    justified = (spent + delay.astype("timedelta64[D]")).astype(str)
    unjustified = rng.random(rows) < 0.002
    justified[unjustified] = ""
    amount = np.minimum(np.exp(rng.normal(2.6, 0.7, rows)), 280).round(2)
    verdict = rng.choice(
        ["appropriate", "poor_value", "misuse", "fraud", ""],
        size=rows,
        p=[0.967, 0.02, 0.008, 0.002, 0.003],
    )
    loss = np.where(np.isin(verdict, ["misuse", "fraud"]), amount, 0.0)
    loss = np.where(verdict == "poor_value", (amount * 0.5).round(2), loss)
    text = np.char.add(
        np.char.add(np.array(NEEDS)[rng.integers(0, len(NEEDS), rows)], ": "),
        np.array(BECAUSE)[rng.integers(0, len(BECAUSE), rows)],
    )
    text[unjustified] = ""
    return pd.DataFrame(
        {
            "spend_id": np.char.add("P", np.arange(rows).astype(str)),
            "team_id": np.array(teams())[team],
            "staff_id": np.char.add(
                "S", (team * WORKERS + rng.integers(0, WORKERS, rows)).astype(str)
            ),
            "client_id": np.char.add(
                "C", (team * CLIENTS + rng.integers(0, CLIENTS, rows)).astype(str)
            ),
            "spent_on": spent.astype(str),
            "amount": amount,
            "currency": "GBP",
            "category": rng.choice(CATEGORIES, size=rows, p=CATEGORY_SHARES),
            "justification": text,
            "justified_on": justified,
            "review_verdict": verdict,
            "loss": np.where(verdict == "", np.nan, loss),
        }
    )


def write_data(folder: Path, rows: int, seed: int = 14) -> list[Path]:
    """The ledger first, then the unit, client and staff files."""
    rng = np.random.default_rng(seed)
    units, clients, staff = _people(rng)
    frames = {"spend": ledger(rows, rng), "teams": units, "clients": clients, "staff": staff}
    paths = []
    for name, frame in frames.items():
        paths.append(folder / f"{name}.csv")
        frame.to_csv(paths[-1], index=False)
    return paths


def floor(paths: list[Path], alloc: pd.DataFrame, pool: ThreadPoolExecutor) -> None:
    """The work validation cannot skip (see the module's docstring), overlapped as
    ``validate.outcomes`` overlaps it."""
    ids = frozenset({"spend_id", "team_id", "staff_id", "client_id"})
    spends, _, clients, staff = (read_table(p, id_columns=ids).frame for p in paths)
    hashing = pool.submit(_hashed_inputs, paths)

    def looked_up() -> None:
        positions_in(spends["staff_id"], pd.Index(staff["staff_id"]))
        positions_in(spends["client_id"], pd.Index(clients["client_id"]))
        duplicated(clients["client_id"])
        duplicated(spends["spend_id"])
        for column in ("currency", "review_verdict", "category", "justified_on", "spent_on"):
            factorize_text(spends[column])
        blank_mask(spends["justification"])

    lookups = pool.submit(looked_up)
    unit_positions(spends["team_id"], alloc)
    hashing.result()
    lookups.result()


def _timed(fn: Callable[[], object], cpu: list[float]) -> float:
    """Seconds ``fn`` took; the CPU seconds of every thread of the process go to ``cpu``."""
    start, used = time.perf_counter(), time.process_time()
    fn()
    cpu.append(time.process_time() - used)
    return time.perf_counter() - start


def main() -> None:
    """Time pandas' read of the ledger and trialkit's validation, interleaved."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--save", type=Path, help="keep the results here (a pickle)")
    parser.add_argument("--same-as", type=Path, help="check the results against a --save")
    args = parser.parse_args()
    protocol = load_protocol(FLAGSHIP)
    alloc = allocation()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_data(Path(tmp), args.rows)
        size = paths[0].stat().st_size
        data = validate.outcomes(protocol, alloc, paths)  # warm-up: imports, holidays
        reads, serial, checks, floors = [], [], [], []
        read_cpu: list[float] = []
        check_cpu: list[float] = []
        floor_cpu: list[float] = []
        with ThreadPoolExecutor(max_workers=2) as pool:
            floor(paths, alloc, pool)  # warm-up
            for _ in range(args.repeats):
                reads.append(_timed(lambda: pd.read_csv(paths[0]), read_cpu))
                serial.append(_timed(lambda: pd.read_csv(paths[0], low_memory=False), []))
                checks.append(_timed(lambda: validate.outcomes(protocol, alloc, paths), check_cpu))
                floors.append(_timed(lambda: floor(paths, alloc, pool), floor_cpu))
    assert data.spending is not None
    results = _results(data)
    if args.save:
        args.save.write_bytes(pickle.dumps(results))
    if args.same_as:
        _same(results, pickle.loads(args.same_as.read_bytes()))
    counts = ", ".join(f"{rule} {n:,}" for rule, n in data.spending.counts().items() if n)
    print(f"ledger {args.rows:,} spends ({size / 1e6:.0f} MB CSV), {args.repeats} rounds")
    print(f"findings {len(data.spending.findings):,}: {counts}")
    for what, times in (
        ("pandas.read_csv(ledger)", reads),
        ("  one thread (low_memory=False)", serial),
        ("validate.outcomes", checks),
        ("  its floor (no check)", floors),
    ):
        print(f"{what:<32} min {min(times):5.2f} s  median {median(times):5.2f} s")
        print(f"  runs {_runs(times)}")
    print(
        f"ratio of minima          {min(checks) / min(reads):6.2f}×   (target ≤ 3×); "
        f"of medians {median(checks) / median(reads):.2f}×"
    )
    print(
        f"  floor                  {min(floors) / min(reads):6.2f}×   (reads, hashes, look-ups); "
        f"left for the checks under 3×: {3 * min(reads) - min(floors):.2f} s, they take "
        f"{min(checks) - min(floors):.2f} s; in CPU time {min(floor_cpu) / min(read_cpu):.2f}×"
    )
    print(
        f"  against one thread     {min(checks) / min(serial):6.2f}×; "
        f"of medians {median(checks) / median(serial):.2f}×"
    )
    print(
        f"  in CPU time            {min(check_cpu) / min(read_cpu):6.2f}×   (validate min "
        f"{min(check_cpu):.2f} s, read_csv min {min(read_cpu):.2f} s, all threads); "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def _results(data: validate.TrialData) -> tuple[list[object], dict[str, pd.DataFrame]]:
    """What validation gave: each finding's fields with their types, and the frames."""
    assert data.spending is not None
    findings: list[object] = [
        tuple((type(getattr(f, name)).__name__, repr(getattr(f, name))) for name in f.__slots__)
        for f in data.spending.findings
    ]
    return findings, dict(data.frames)


def _same(
    found: tuple[list[object], dict[str, pd.DataFrame]],
    saved: tuple[list[object], dict[str, pd.DataFrame]],
) -> None:
    """Stop unless ``found`` equals ``saved`` (see :func:`_results`)."""
    (findings, frames), (findings_before, before) = found, saved
    assert findings == findings_before, "the findings differ"
    assert frames.keys() == before.keys(), "other levels"
    for name, frame in frames.items():
        old = before[name]
        same = frame.equals(old) and list(frame.columns) == list(old.columns)
        assert same and frame.dtypes.equals(old.dtypes), f"the {name} frame differs"
    print(f"identical to the saved results: {len(findings):,} findings, frames equal")


def _runs(times: list[float]) -> str:
    return " ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    main()
