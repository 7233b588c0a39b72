"""Take-up, categories, periods and review counts against direct computations on the frames."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.spending.ledger import Ledger, review_counts
from trialkit.estimate.spending.uptake import categories, periods, take_up

CAP = 300.0


def _arm(ledger: Ledger, arm: str) -> pd.DataFrame:
    return ledger.spends[ledger.spends["arm"] == arm]


def _direct(ledger: Ledger, arm: str) -> dict[str, object]:
    """Every take-up statistic of ``arm`` computed afresh with plain pandas and loops."""
    spends = _arm(ledger, arm)
    per_client = spends.pivot_table(
        index="client_id", values="amount", aggfunc="sum", observed=True
    )["amount"]
    firsts = [min(group["spent_on"]) for _, group in spends.groupby("staff_id")]
    days = sorted((f - pd.Timestamp(ledger.start)).days for f in firsts)
    return {
        "units": int((ledger.units["arm"] == arm).sum()),
        "units_spending": len(set(spends["team_id"])),
        "workers": int((ledger.workers["arm"] == arm).sum()),
        "workers_spending": len(set(spends["staff_id"])),
        "clients": int((ledger.clients["arm"] == arm).sum()),
        "clients_receiving": int((per_client > 0).sum()),
        "spends": len(spends),
        "total": sum(spends["amount"]),
        "mean_spend": sum(spends["amount"]) / len(spends),
        "per_client_mean": per_client.sum() / len(per_client),
        "per_client_quantiles": tuple(per_client.quantile([0.1, 0.25, 0.5, 0.75, 0.9])),
        "days_to_first_spend": float(np.median(days)),
    }


@pytest.mark.parametrize("arm", ["budget", "usual"])
@pytest.mark.parametrize(
    "statistic",
    [
        "units",
        "units_spending",
        "workers",
        "workers_spending",
        "clients",
        "clients_receiving",
        "spends",
        "total",
        "mean_spend",
        "per_client_mean",
        "per_client_quantiles",
        "days_to_first_spend",
    ],
)
def test_take_up_matches_direct_computation(ledger: Ledger, arm: str, statistic: str) -> None:
    row = next(r for r in take_up(ledger) if r.arm == arm)
    assert getattr(row, statistic) == pytest.approx(_direct(ledger, arm)[statistic], rel=1e-12), (
        statistic
    )


def test_cap_headroom_counts_clients_at_or_over_the_cap(ledger: Ledger) -> None:
    row = next(r for r in take_up(ledger) if r.arm == "budget")
    totals = _arm(ledger, "budget").groupby("client_id")["amount"].sum()
    assert row.clients_at_cap == sum(1 for t in totals if t >= CAP - 1e-6)
    assert row.clients_at_cap >= 3  # the fixture tops up three clients to or over the cap
    assert row.cap_used_median == pytest.approx(float(np.median(totals / CAP)), rel=1e-12)


def test_control_without_budget_has_no_cap_statistics(ledger: Ledger) -> None:
    row = next(r for r in take_up(ledger) if r.arm == "usual")
    assert row.cap_used_median is None and row.clients_at_cap is None


def test_arm_without_budget_or_spend_is_left_out(ledger: Ledger) -> None:
    clean = replace(ledger, spends=_arm(ledger, "budget"))
    assert [r.arm for r in take_up(clean)] == ["budget"]


def test_no_dates_no_days_to_first_spend(ledger: Ledger) -> None:
    assert all(r.days_to_first_spend is None for r in take_up(replace(ledger, start=None)))


def test_categories_in_declared_order_with_labels(ledger: Ledger) -> None:
    rows = [r for r in categories(ledger) if r.arm == "budget"]
    assert [(r.category, r.label, r.allowed) for r in rows] == [
        ("transport", "Transport", True),
        ("social", "Social activity", True),
        ("cash", "Cash given to a client", False),
    ]
    spends = _arm(ledger, "budget")
    for row in rows:
        chosen = spends[spends["category"] == row.category]["amount"]
        assert (row.spends, row.total) == (len(chosen), pytest.approx(chosen.sum(), rel=1e-12))
        assert row.share_of_total == pytest.approx(chosen.sum() / spends["amount"].sum())


def test_undeclared_category_keeps_its_code_and_counts_as_allowed(ledger: Ledger) -> None:
    spends = ledger.spends.assign(category=ledger.spends["category"].replace("cash", "other"))
    row = next(
        r
        for r in categories(replace(ledger, spends=spends))
        if r.arm == "budget" and r.category == "other"
    )
    assert (row.label, row.allowed) == ("other", True)


def test_periods_in_time_order_and_sum_to_the_arm_total(ledger: Ledger) -> None:
    rows = [r for r in periods(ledger) if r.arm == "budget"]
    spends = _arm(ledger, "budget")
    assert [r.period for r in rows] == sorted(set(spends["period"]))
    for row in rows:
        chosen = spends[spends["period"] == row.period]
        assert row.spends == len(chosen)
        assert row.total == pytest.approx(chosen["amount"].sum(), rel=1e-12)
        assert row.workers_spending == len(set(chosen["staff_id"]))
    assert sum(r.total for r in rows) == pytest.approx(spends["amount"].sum(), rel=1e-12)


def test_review_counts_pool_arms_with_a_budget(ledger: Ledger) -> None:
    spends = _arm(ledger, "budget")
    verdict = spends["review_verdict"]
    cases = spends[verdict.isin(["misuse", "fraud"])]
    counts = review_counts(ledger)
    assert counts.spends == len(spends)
    assert counts.reviewed == int(verdict.notna().sum())
    assert counts.cases == len(cases) > 0
    assert counts.mean_loss == pytest.approx(cases["loss"].mean(), rel=1e-12)
