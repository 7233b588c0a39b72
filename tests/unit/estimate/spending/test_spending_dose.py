"""The effect per £100 spent (2SLS) against linearmodels and a dense CR2; dose bins by hand."""

from __future__ import annotations

import itertools
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from linearmodels.iv import IV2SLS

from trialkit.estimate.spending.dose import DoseEffect, dose_bins, dose_effect
from trialkit.estimate.spending.ledger import Ledger

RTOL = 1e-8
COVARIATES = ("baseline", "age")


@pytest.fixture(scope="module")
def clients(ledger: Ledger) -> pd.DataFrame:
    return ledger.client_spend().dropna(subset=["outcome"]).reset_index(drop=True)


def _fit(clients: pd.DataFrame, **kwargs: Any) -> DoseEffect:
    options: dict[str, Any] = {
        "arm": "budget",
        "control": "usual",
        "covariates": COVARIATES,
        "cluster": "cluster",
        "blocks": "block",
    } | kwargs
    return dose_effect(clients, "outcome", **options)


def _linearmodels(clients: pd.DataFrame):  # type: ignore[no-untyped-def]
    exog = pd.DataFrame(
        {
            "const": 1.0,
            "baseline": clients["baseline"],
            "age": clients["age"],
            "south": (clients["block"] == "South").astype(float),
        }
    )
    endog = (clients["spend"] / 100).rename("dose")  # control clients' spend included
    instrument = (clients["arm"] == "budget").astype(float).rename("budget")
    return IV2SLS(clients["outcome"], exog, endog, instrument).fit(
        cov_type="clustered", clusters=pd.factorize(clients["cluster"])[0], debiased=True
    )


@pytest.mark.parametrize("statistic", ["estimate", "std_error"])
def test_cr1_matches_linearmodels_clustered(clients: pd.DataFrame, statistic: str) -> None:
    ours = _fit(clients, se_type="CR1")
    theirs = _linearmodels(clients)
    expected = {"estimate": theirs.params["dose"], "std_error": theirs.std_errors["dose"]}
    assert getattr(ours, statistic) == pytest.approx(expected[statistic], rel=RTOL), statistic


def test_first_stage_f_matches_linearmodels(clients: pd.DataFrame) -> None:
    ours = _fit(clients, se_type="CR1")
    theirs = _linearmodels(clients).first_stage.diagnostics
    assert ours.first_stage_f == pytest.approx(theirs.loc["dose", "f.stat"], rel=RTOL)


def test_cr2_is_the_dense_sandwich_of_the_second_stage(
    clients: pd.DataFrame, dense_cr2: ModuleType
) -> None:
    """CR2 on the fitted-regressor design with structural residuals (estimatr's iv_robust)."""
    ours = _fit(clients)
    z = np.column_stack(
        [
            np.ones(len(clients)),
            clients["arm"] == "budget",
            clients[list(COVARIATES)],
            clients["block"] == "South",
        ]
    ).astype(float)
    dose = clients["spend"].to_numpy() / 100
    x = z.copy()
    x[:, 1] = dose
    x_hat = x.copy()
    x_hat[:, 1] = z @ np.linalg.lstsq(z, dose, rcond=None)[0]
    y = clients["outcome"].to_numpy()
    beta = np.linalg.lstsq(x_hat, y, rcond=None)[0]
    resid = y - x @ beta
    bread = np.linalg.inv(x_hat.T @ x_hat)
    hat = x_hat @ bread @ x_hat.T
    meat = np.zeros_like(bread)
    codes = pd.factorize(clients["cluster"])[0]
    for g in np.unique(codes):
        idx = np.nonzero(codes == g)[0]
        adjust = dense_cr2._inv_sqrt_psd(np.eye(idx.size) - hat[np.ix_(idx, idx)])
        score = x_hat[idx].T @ adjust @ resid[idx]
        meat += np.outer(score, score)
    vcov = bread @ meat @ bread
    assert ours.estimate == pytest.approx(beta[1], rel=RTOL)
    assert ours.std_error == pytest.approx(np.sqrt(vcov[1, 1]), rel=RTOL)
    assert ours.n_clusters == 16 and ours.n_obs == len(clients)


def test_effect_is_per_hundred(clients: pd.DataFrame) -> None:
    per_pound, per_hundred = _fit(clients, per=1.0), _fit(clients)
    assert per_hundred.estimate == pytest.approx(100 * per_pound.estimate, rel=1e-10)
    assert per_hundred.std_error == pytest.approx(100 * per_pound.std_error, rel=1e-10)
    assert per_hundred.p_value == pytest.approx(per_pound.p_value, rel=1e-8)
    assert per_hundred.first_stage_f == pytest.approx(per_pound.first_stage_f, rel=1e-8)


def test_mean_dose_and_covariates_are_recorded(clients: pd.DataFrame) -> None:
    effect = _fit(clients)
    budget = clients[clients["arm"] == "budget"]
    assert effect.mean_dose == pytest.approx(budget["spend"].mean() / 100, rel=1e-12)
    assert effect.adjusted_for == COVARIATES
    assert effect.ci_low < effect.estimate < effect.ci_high


def test_dose_bins_match_direct_computation(clients: pd.DataFrame) -> None:
    found = dose_bins(clients, "outcome", arm="budget")
    budget = clients[clients["arm"] == "budget"]
    none = budget[budget["spend"] == 0]
    assert (found[0].spend_low, found[0].spend_high, found[0].clients) == (0.0, 0.0, len(none))
    assert found[0].outcome_mean == pytest.approx(none["outcome"].mean(), rel=1e-12)
    receivers = budget[budget["spend"] > 0]
    edges = receivers["spend"].quantile([0, 0.25, 0.5, 0.75, 1.0]).to_numpy()
    assert [(b.spend_low, b.spend_high) for b in found[1:]] == list(itertools.pairwise(edges))
    cut = pd.cut(receivers["spend"], edges, right=False, labels=False)
    cut = cut.fillna(len(edges) - 2)  # the largest spend closes the last bin
    means = receivers.groupby(cut)["outcome"].agg(["size", "mean"])
    assert [b.clients for b in found[1:]] == means["size"].tolist()
    assert [b.outcome_mean for b in found[1:]] == pytest.approx(means["mean"].tolist())
    assert sum(b.clients for b in found) == len(budget)


def test_dose_bins_with_tied_spends_merge(clients: pd.DataFrame) -> None:
    tied = clients.assign(spend=np.where(clients["spend"] > 0, 50.0, 0.0))
    found = dose_bins(tied, "outcome", arm="budget")
    assert [(b.spend_low, b.spend_high) for b in found] == [(0.0, 0.0), (50.0, 50.0)]
    assert sum(b.clients for b in found) == int((tied["arm"] == "budget").sum())
