"""Equity of spending against statsmodels (CR1), a dense CR2 and closed forms."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.estimate.spending.equity import EquityGap, EquityLevel, equity
from trialkit.estimate.spending.ledger import Ledger

RTOL = 1e-9


@pytest.fixture(scope="module")
def clients(ledger: Ledger) -> pd.DataFrame:
    return ledger.client_spend()


def _budget(clients: pd.DataFrame, column: str) -> pd.DataFrame:
    rows = clients[(clients["arm"] == "budget") & clients[column].notna()]
    return rows.assign(received=(rows["spend"] > 0).astype(float))


def _statsmodels(rows: pd.DataFrame, column: str, y: str, *, intercept: bool):  # type: ignore[no-untyped-def]
    dummies = pd.get_dummies(rows[column], dtype=float)
    x = dummies.assign(**{dummies.columns[0]: 1.0}) if intercept else dummies
    groups = pd.factorize(rows["cluster"])[0]
    return sm.OLS(rows[y].to_numpy(), x.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )


def _levels(found: tuple[EquityLevel, ...]) -> dict[str, EquityLevel]:
    return {row.level: row for row in found}


@pytest.mark.parametrize("column", ["most_deprived", "age_75_plus"])
@pytest.mark.parametrize(
    ("statistic", "y"), [("share_receiving", "received"), ("per_client", "spend")]
)
def test_level_means_and_cr1_intervals_match_statsmodels(
    clients: pd.DataFrame, column: str, statistic: str, y: str
) -> None:
    found, _ = equity(
        clients, subgroup=column, column=column, arm="budget", levels=("0", "1"), se_type="CR1"
    )
    rows = _budget(clients, column)
    res = _statsmodels(rows, column, y, intercept=False)
    ci = res.conf_int(alpha=0.05)
    interval = "share_ci" if statistic == "share_receiving" else "per_client_ci"
    for j, level in enumerate(("0", "1")):
        row = _levels(found)[level]
        assert row.clients == int((rows[column] == level).sum())
        assert getattr(row, statistic) == pytest.approx(res.params[j], rel=RTOL), "mean"
        assert getattr(row, interval) == pytest.approx(tuple(ci[j]), rel=RTOL), "ci"


@pytest.mark.parametrize(
    ("statistic", "y"), [("share_receiving", "received"), ("per_client", "spend")]
)
def test_gaps_and_cr1_inference_match_statsmodels(
    clients: pd.DataFrame, statistic: str, y: str
) -> None:
    _, gaps = equity(
        clients,
        subgroup="most_deprived",
        column="most_deprived",
        arm="budget",
        levels=("0", "1"),
        se_type="CR1",
    )
    gap = next(g for g in gaps if g.statistic == statistic)
    res = _statsmodels(_budget(clients, "most_deprived"), "most_deprived", y, intercept=True)
    assert (gap.level, gap.reference) == ("1", "0")
    assert gap.estimate == pytest.approx(res.params[1], rel=RTOL), "estimate"
    assert gap.std_error == pytest.approx(res.bse[1], rel=RTOL), "std_error"
    assert gap.p_value == pytest.approx(res.pvalues[1], rel=1e-7), "p_value"
    assert (gap.ci_low, gap.ci_high) == pytest.approx(tuple(res.conf_int()[1]), rel=RTOL)
    assert gap.df == res.df_resid_inference == 7  # G - 1 over the 8 budget teams


def test_cr2_and_bell_mccaffrey_df_match_a_dense_implementation(
    clients: pd.DataFrame, dense_cr2: ModuleType
) -> None:
    found, gaps = equity(
        clients, subgroup="most_deprived", column="most_deprived", arm="budget", levels=("0", "1")
    )
    rows = _budget(clients, "most_deprived")
    level = (rows["most_deprived"] == "1").to_numpy(float)
    x = np.column_stack([np.ones(len(rows)), level])
    cluster = pd.factorize(rows["cluster"])[0]
    for gap in gaps:
        y = rows["received" if gap.statistic == "share_receiving" else "spend"].to_numpy()
        beta, vcov, df = dense_cr2.dense_cr2(x, y, cluster)
        assert gap.estimate == pytest.approx(beta[1], rel=RTOL), gap.statistic
        assert gap.std_error == pytest.approx(np.sqrt(vcov[1, 1]), rel=1e-8), gap.statistic
        assert gap.df == pytest.approx(df[1], rel=1e-8), gap.statistic
    beta, vcov, df = dense_cr2.dense_cr2(
        np.column_stack([1 - level, level]), rows["spend"].to_numpy(), cluster
    )
    deprived = _levels(found)["1"]
    crit = stats.t.ppf(0.975, df[1])
    expected = (beta[1] - crit * np.sqrt(vcov[1, 1]), beta[1] + crit * np.sqrt(vcov[1, 1]))
    assert deprived.per_client_ci == pytest.approx(expected, rel=1e-8)


def test_cr0_level_variance_is_the_closed_form(clients: pd.DataFrame) -> None:
    """CR0 variance of a level's mean: sum over units of (its residual sum)^2 / n_l^2."""
    found, _ = equity(
        clients,
        subgroup="most_deprived",
        column="most_deprived",
        arm="budget",
        levels=("0", "1"),
        se_type="CR0",
    )
    rows = _budget(clients, "most_deprived")
    for level, group in rows.groupby("most_deprived"):
        resid = group["spend"] - group["spend"].mean()
        variance = (resid.groupby(group["cluster"], observed=True).sum() ** 2).sum()
        se = np.sqrt(variance) / len(group)
        crit = stats.t.ppf(0.975, rows["cluster"].nunique() - 1)
        mean = group["spend"].mean()
        assert _levels(found)[str(level)].per_client_ci == pytest.approx(
            (mean - crit * se, mean + crit * se), rel=RTOL
        )


def test_reference_is_the_first_declared_level(clients: pd.DataFrame) -> None:
    found, gaps = equity(
        clients, subgroup="most_deprived", column="most_deprived", arm="budget", levels=("1", "0")
    )
    assert [r.level for r in found] == ["1", "0"]
    assert {(g.level, g.reference) for g in gaps} == {("0", "1")}


def test_clients_missing_the_subgroup_are_left_out(clients: pd.DataFrame) -> None:
    found, _ = equity(clients, subgroup="age", column="age_75_plus", arm="budget")
    budget = clients[clients["arm"] == "budget"]
    assert budget["age_75_plus"].isna().any()
    assert sum(r.clients for r in found) == int(budget["age_75_plus"].notna().sum())


def test_a_statistic_without_variation_gives_a_point_and_no_gap(clients: pd.DataFrame) -> None:
    everyone = clients.assign(
        spend=np.where(clients["arm"] == "budget", clients["spend"] + 10.0, clients["spend"])
    )
    found, gaps = equity(
        everyone, subgroup="most_deprived", column="most_deprived", arm="budget", levels=("0", "1")
    )
    assert all(r.share_receiving == 1.0 and r.share_ci == (1.0, 1.0) for r in found)
    assert [g.statistic for g in gaps] == ["per_client"]
    assert all(isinstance(g, EquityGap) and g.std_error > 0 for g in gaps)


def test_a_single_level_has_no_gap(clients: pd.DataFrame) -> None:
    rows = clients.assign(most_deprived="0")
    found, gaps = equity(rows, subgroup="most_deprived", column="most_deprived", arm="budget")
    assert [r.level for r in found] == ["0"] and gaps == ()


def test_standard_errors_must_be_cluster_robust(clients: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="ignores the clusters"):
        equity(clients, subgroup="d", column="most_deprived", arm="budget", se_type="HC2")


def test_spend_of_looks_up_each_set_of_ids(ledger: Ledger) -> None:
    # The ledger reuses the last lookup for the same ids: each caller gets its own copy,
    # and other ids (reordered here) are looked up afresh.
    cols = ledger.columns
    assert ledger.clients is not None
    ids = ledger.clients[cols.client]
    totals = ledger.spends.groupby(cols.client)[cols.amount].sum()
    expected = totals.reindex(ids.to_numpy()).fillna(0.0).to_numpy(float)
    first = ledger.spend_of(ids)
    np.testing.assert_allclose(first, expected, rtol=1e-12, atol=0)
    first[:] = -1.0
    np.testing.assert_allclose(ledger.spend_of(ids.copy()), expected, rtol=1e-12, atol=0)
    reordered = ids.iloc[::-1].reset_index(drop=True)
    np.testing.assert_allclose(ledger.spend_of(reordered), expected[::-1], rtol=1e-12, atol=0)
    assert (expected > 0).any() and (expected == 0).any()
