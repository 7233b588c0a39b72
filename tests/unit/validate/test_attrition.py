"""Attrition counts, WWC boundary verdicts and CONSORT flow counts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from validate_frames import Writer, make_allocation, make_clients, make_teams

from trialkit import validate
from trialkit.protocol.model import Protocol
from trialkit.validate.wwc import CAUTIOUS, OPTIMISTIC, attrition_verdict, max_differential


def test_boundary_table_shape() -> None:
    assert len(OPTIMISTIC) == 66 and len(CAUTIOUS) == 58
    assert (CAUTIOUS[0], OPTIMISTIC[0]) == (5.7, 10.0)
    assert all(c < o for c, o in zip(CAUTIOUS, OPTIMISTIC, strict=False))


@pytest.mark.parametrize(
    "overall,differential,cautious,optimistic",
    [
        (0.08, 0.03, "low", "low"),
        (0.30, 0.06, "high", "low"),
        (0.30, 0.09, "high", "high"),
        (0.60, 0.0, "high", "low"),
        (0.70, 0.0, "high", "high"),
        (0.10, 0.063, "low", "low"),
    ],
)
def test_wwc_verdicts(overall: float, differential: float, cautious: str, optimistic: str) -> None:
    assert attrition_verdict(overall, differential, "cautious") == cautious
    assert attrition_verdict(overall, differential, "optimistic") == optimistic


def test_limits_are_proportions() -> None:
    assert max_differential(0.0, "cautious") == 0.057
    assert max_differential(0.654, "optimistic") == 0.003
    assert max_differential(0.656, "optimistic") is None


def _row(frame: pd.DataFrame, **equal: str) -> dict[str, Any]:
    mask = pd.Series(True, index=frame.index)
    for column, value in equal.items():
        mask &= frame[column] == value
    rows = frame[mask].to_dict("records")
    assert len(rows) == 1
    return {str(k): v for k, v in rows[0].items()}


def test_counts_flow_and_reasons(protocol: Protocol, write_data: Writer) -> None:
    clients = make_clients()
    alloc = make_allocation()
    budget = set(alloc.loc[alloc["arm"] == "budget", "unit_id"])
    lose = clients.index[clients["team_id"].isin(budget)][:9]  # three budget teams wholly
    clients.loc[lose, "loneliness"] = None
    clients["missing_reason"] = None
    clients.loc[lose, "missing_reason"] = ["moved away"] * 6 + ["declined"] * 3
    data = validate.outcomes(protocol, alloc, write_data(clients))
    counts = data.attrition.to_frame()
    ind = _row(counts, outcome="loneliness", level="individual", arm="budget")
    assert (ind["assigned"], ind["followed_up"], ind["analysed"]) == (36, 27, 27)
    assert _row(counts, outcome="loneliness", level="cluster", arm="budget")["followed_up"] == 9
    check = _row(data.attrition.checks_frame(), outcome="loneliness", level="individual")
    assert check["overall"] == pytest.approx(9 / 72)
    assert check["differential"] == pytest.approx(0.25)
    assert (check["cautious"], check["optimistic"]) == ("high", "high")
    flow = data.flow()
    assert flow.outcome == "loneliness"
    arm = next(a for a in flow.arms if a.arm == "budget")
    assert (arm.clusters_allocated, arm.clusters_lost, arm.individuals_lost) == (12, 3, 9)
    assert dict(arm.lost_reasons) == {"moved away": 6, "declined": 3}
    assert arm.sizes_allocated is not None and arm.sizes_allocated.mean == 3.0


def test_received_reads_take_up_for_each_arm(protocol: Protocol, write_data: Writer) -> None:
    teams = make_teams()
    teams["budget_used"] = ["no"] * 24
    teams.loc[1, "budget_used"] = "yes"  # one budget team used it
    teams.loc[0, "budget_used"] = "yes"  # one usual-practice team got it anyway
    data = validate.outcomes(protocol, make_allocation(), write_data(teams=teams))
    arms = {a.arm: a for a in data.flow().arms}
    assert arms["budget"].clusters_received == 1
    assert arms["usual"].clusters_received == 11
    assert arms["budget"].individuals_received == 3
