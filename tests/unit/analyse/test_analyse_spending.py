"""The spending section of the flagship's real pipeline run, against pandas on its files.

``council_run`` simulates, registers, randomises, analyses and reports the flagship; this
re-reads the data files it wrote (the spend ledger, clients, teams and the allocation) and
recomputes each number the section shows with plain pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from trialkit.analyse.spending_rows import SpendingSection

RTOL = 1e-9


@pytest.fixture(scope="module")
def section(council_run: Any) -> SpendingSection:
    spending = council_run.results.spending
    assert spending is not None, "the flagship declares a spend ledger"
    return spending  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def files(council_run: Any) -> dict[str, pd.DataFrame]:
    out = Path(council_run.report).parent
    arms = pd.read_csv(out / "allocation.csv", dtype=str).set_index("unit_id")["arm"]
    found = {
        name: pd.read_csv(out / "data" / f"{name}.csv", dtype={"client_id": str})
        for name in ("spend", "client", "team")
    }
    for frame in found.values():
        frame["arm"] = frame["team_id"].map(arms)
    spend = found["spend"]
    found["client"]["spend"] = (
        found["client"]["client_id"].map(spend.groupby("client_id")["amount"].sum()).fillna(0.0)
    )
    return found


def _budget(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["arm"] == "budget"]


def test_take_up_totals_and_reach(section: SpendingSection, files: dict[str, pd.DataFrame]) -> None:
    row = next(r for r in section.take_up if r.arm == "budget")
    spends = _budget(files["spend"])
    per_client = spends.groupby("client_id")["amount"].sum()
    assert row.spends == len(spends) > 0
    assert row.total == pytest.approx(spends["amount"].sum(), rel=RTOL)
    assert row.clients_receiving == int((per_client > 0).sum())
    assert row.clients == len(_budget(files["client"]))
    assert row.units == int((files["team"]["arm"] == "budget").sum())
    assert row.units_spending == spends["team_id"].nunique()
    assert row.workers_spending == spends["staff_id"].nunique()
    assert row.per_client_mean == pytest.approx(per_client.mean(), rel=RTOL)


def test_categories_and_periods_add_up(
    section: SpendingSection, files: dict[str, pd.DataFrame]
) -> None:
    spends = _budget(files["spend"])
    by_category = spends.groupby("category")["amount"].sum()
    rows = {r.category: r.total for r in section.categories if r.arm == "budget"}
    assert rows == pytest.approx(by_category.to_dict(), rel=RTOL)
    months = pd.to_datetime(spends["spent_on"]).dt.strftime("%Y-%m")
    by_month = spends.groupby(months)["amount"].sum()
    rows = {r.period: r.total for r in section.periods if r.arm == "budget"}
    assert rows == pytest.approx(by_month.to_dict(), rel=RTOL)


def test_rule_counts_match_the_findings(section: SpendingSection) -> None:
    for count in section.rule_counts:
        found = {
            f.spend_id for f in section.findings if f.rule == count.rule and f.arm == count.arm
        }
        assert count.spends == len(found), count.rule


def test_equity_shares_and_spend_per_client(
    section: SpendingSection, files: dict[str, pd.DataFrame]
) -> None:
    clients = _budget(files["client"])
    assert section.equity
    for row in section.equity:
        level = clients[clients[row.subgroup].astype("string") == row.level]
        assert row.clients == len(level)
        assert row.share_receiving == pytest.approx((level["spend"] > 0).mean(), rel=RTOL)
        assert row.per_client == pytest.approx(level["spend"].mean(), rel=RTOL)
        assert row.share_ci[0] <= row.share_receiving <= row.share_ci[1]


def test_dose_rows_cover_continuous_client_outcomes(
    section: SpendingSection, files: dict[str, pd.DataFrame]
) -> None:
    assert {r.outcome for r in section.dose} == {"loneliness", "wellbeing", "cost_of_care"}
    clients = files["client"].merge(files["team"].drop(columns="arm"), on="team_id")
    for row in section.dose:
        analysed = clients.dropna(subset=[row.outcome, *row.adjusted_for])
        assert row.n_obs == len(analysed), row.outcome
        assert row.mean_dose == pytest.approx(_budget(analysed)["spend"].mean() / 100, rel=RTOL)
        assert row.first_stage_f is not None and row.first_stage_f > 0
        bins = [b for b in section.dose_bins if b.outcome == row.outcome]
        assert sum(b.clients for b in bins) == len(_budget(analysed))


def test_misuse_counts_review_verdicts(council_run: Any, files: dict[str, pd.DataFrame]) -> None:
    spends = _budget(files["spend"])
    misuse = council_run.results.misuse
    assert misuse is not None
    assert misuse.reviewed == int(spends["review_verdict"].notna().sum())
    assert misuse.cases == int(spends["review_verdict"].isin(["misuse", "fraud"]).sum())


def test_census_review_severity_and_green_tape(
    council_run: Any, section: SpendingSection, files: dict[str, pd.DataFrame]
) -> None:
    spends = files["spend"]
    assert section.review is not None and section.review.design == "census"
    assert section.review.spends == len(spends)
    assert section.review.reviewed == int(spends["review_verdict"].notna().sum())
    for row in section.severity:
        chosen = spends[spends["review_verdict"] == row.verdict]
        assert row.spends == len(chosen), row.verdict
        assert row.loss == pytest.approx(chosen["loss"].sum(), rel=RTOL, abs=1e-9)
    tape = council_run.results.protocol.costs.green_tape
    lost = _budget(spends)[_budget(spends)["review_verdict"].isin(["misuse", "fraud"])]
    (row,) = section.green_tape
    assert row.saved == pytest.approx(tape.cost_per_unit * row.units, rel=RTOL)
    assert row.misuse_loss == pytest.approx(lost["loss"].sum(), rel=RTOL, abs=1e-9)
