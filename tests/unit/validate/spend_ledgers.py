"""Hand-built spend ledgers for the flagship: one case of every compliance rule, one row of
every data error. Budget (arm `budget`, even teams T02, T04, …): £300 per client over the
pilot, £150 per client per month, £1,500 per worker per month, £6,000 per team per month,
justified within 5 working days (GB-ENG), categories with `cash` excluded."""

from __future__ import annotations

from typing import Any

import pandas as pd
from validate_frames import TEAMS, make_spend

#: Clients and staff per team in the files written with these ledgers (more than the
#: demo's, so that a worker and a team can reach their monthly caps).
CLIENTS_PER_TEAM = 60
STAFF_PER_TEAM = 6
JUSTIFICATION = "Taxi to a hospital appointment the client would otherwise miss."


def client(team: int, k: int) -> str:
    """The id of client ``k`` of team index ``team`` (0 = T01)."""
    return f"C{team * CLIENTS_PER_TEAM + k:04d}"


def worker(team: int, k: int) -> str:
    """The id of worker ``k`` of team index ``team``."""
    return f"S{team * STAFF_PER_TEAM + k:03d}"


def spend(
    team: int, *, staff: int = 0, on: int = 0, day: str, amount: float, **changes: Any
) -> dict[str, Any]:
    """One compliant spend (justified the next day, reviewed), with ``changes``."""
    next_day = (pd.Timestamp(day) + pd.Timedelta(days=1)).date().isoformat()
    return {
        "spend_id": "",
        "team_id": TEAMS[team],
        "staff_id": worker(team, staff),
        "client_id": client(team, on),
        "spent_on": day,
        "amount": amount,
        "currency": "GBP",
        "category": "transport",
        "justification": JUSTIFICATION,
        "justified_on": next_day,
        "review_verdict": "appropriate",
        "loss": 0.0,
    } | changes


def _base() -> list[dict[str, Any]]:
    """The demo's clean ledger, its clients and workers renumbered for these files."""
    rows = make_spend().to_dict("records")
    for k, row in enumerate(rows):
        team = TEAMS.index(str(row["team_id"]))
        row["staff_id"] = worker(team, k % 2)
        row["client_id"] = client(team, 50 + k % 2)
    return rows


def _numbered(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["spend_id"] = [f"P{k:04d}" for k in range(len(frame))]
    return frame


def every_rule() -> tuple[pd.DataFrame, dict[str, tuple[int, str]]]:
    """The clean ledger plus one case of every rule.

    Returns the ledger and, per rule, the spreadsheet row and column of its one finding.
    """
    rows = _base()
    expected: dict[str, tuple[int, str]] = {}

    def add(rule: str | None, row: dict[str, Any], column: str = "amount") -> None:
        rows.append(row)
        if rule is not None:
            expected[rule] = (len(rows) + 1, column)

    # T02: £140 in March and April, then £40 in May: £320 on one client, over £300.
    add(None, spend(1, on=1, day="2027-03-15", amount=140))
    add(None, spend(1, on=1, day="2027-04-15", amount=140))
    add("cap_per_client", spend(1, on=1, day="2027-05-14", amount=40))
    # T04: £100 then £60 on one client in June: £160, over £150 a month.
    add(None, spend(3, on=2, day="2027-06-01", amount=100))
    add("cap_per_client_per_period", spend(3, on=2, day="2027-06-15", amount=60))
    # T06: one worker spends £150 on each of 11 clients in July: £1,650, over £1,500.
    for k in range(10):
        add(None, spend(5, on=k, day=f"2027-07-{k + 1:02d}", amount=150))
    add("cap_per_worker_per_period", spend(5, on=10, day="2027-07-20", amount=150))
    # T08: five workers, 47 spends of £130 on as many clients in August: £6,110 > £6,000.
    for k in range(46):
        add(None, spend(7, staff=k % 5, on=k, day=f"2027-08-{k % 20 + 2:02d}", amount=130))
    add("cap_per_unit_per_period", spend(7, staff=0, on=46, day="2027-08-31", amount=130))
    add(
        "excluded_category",
        spend(9, on=1, day="2027-03-17", amount=25, category="cash"),
        "category",
    )
    # Spent Wed 24 March, justified Thu 1 April: 6 weekdays, but Good Friday and Easter
    # Monday are bank holidays in England, so 4 working days: on time.
    add(None, spend(11, on=1, day="2027-03-24", amount=30, justified_on="2027-04-01"))
    # Spent Tue 1 June, justified Thu 10 June: 7 working days, over 5.
    add(
        "late_justification",
        spend(11, on=2, day="2027-06-01", amount=30, justified_on="2027-06-10"),
        "justified_on",
    )
    add(
        "missing_justification",
        spend(13, on=1, day="2027-04-06", amount=45, justification="", justified_on=""),
        "justification",
    )
    add("control_arm_spend", spend(0, on=1, day="2027-04-07", amount=35), "team_id")
    add(
        "not_reviewed",
        spend(15, on=1, day="2027-04-08", amount=20, review_verdict="", loss=None),
        "review_verdict",
    )
    return _numbered(rows), expected


#: One data error per row: (rule, changes to a compliant spend, column, message pattern).
DATA_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ("negative amount", {"amount": -20}, "amount", r"-20 is negative"),
    ("unparseable amount", {"amount": "£12.50"}, "amount", r"'£12.50' is not an amount"),
    ("empty amount", {"amount": None}, "amount", r"the amount is empty"),
    ("other currency", {"currency": "EUR"}, "currency", r"'EUR' is not the budget's currency"),
    (
        "unknown client",
        {"client_id": "C9999"},
        "client_id",
        r"client 'C9999' is not in clients.csv \(unknown client\)",
    ),
    (
        "unknown worker",
        {"staff_id": "S999"},
        "staff_id",
        r"worker 'S999' is not in staff.csv \(unknown worker\)",
    ),
    ("unknown category", {"category": "fuel"}, "category", r"'fuel' is not a declared category"),
    (
        "not a date",
        {"spent_on": "2027-13-45", "justified_on": "2027-04-01"},
        "spent_on",
        r"'2027-13-45' is not a date",
    ),
    (
        "before the pilot",
        {"spent_on": "2027-02-14", "justified_on": "2027-02-15"},
        "spent_on",
        r"2027-02-14 is before the budget began \(2027-03-01",
    ),
    (
        "after the trial",
        {"spent_on": "2027-12-20", "justified_on": "2027-12-21"},
        "spent_on",
        r"2027-12-20 is after the trial ended \(2027-12-17",
    ),
    (
        "justified before spent",
        {"justified_on": "2027-04-01"},
        "justified_on",
        r"justified on 2027-04-01, before the spend itself \(2027-04-12\)",
    ),
    (
        "unknown verdict",
        {"review_verdict": "ok"},
        "review_verdict",
        r"'ok' is not a review verdict: appropriate, poor_value, misuse, fraud",
    ),
    ("negative loss", {"review_verdict": "misuse", "loss": -5}, "loss", r"-5 is negative"),
    (
        "loss over amount",
        {"review_verdict": "fraud", "loss": 90},
        "loss",
        r"a loss of 90 is more than the amount spent \(60\)",
    ),
    (
        "loss without verdict",
        {"review_verdict": "", "loss": 10},
        "loss",
        r"a loss of 10 is recorded, but the spend has no review verdict",
    ),
]


def data_errors() -> pd.DataFrame:
    """The clean ledger plus one row per entry of :data:`DATA_ERRORS`, in that order."""
    rows = _base()
    for _, changes, _, _ in DATA_ERRORS:
        rows.append(spend(3, on=3, day="2027-04-12", amount=60) | changes)
    return _numbered(rows)
