"""A count over its exposure (days lost per FTE-year): the plan's rate difference.

The plan analyses such an outcome as the rate ``count / exposure`` weighted by the exposure
(least squares on the arms, the plan's HC2 or CR2 errors). Checked here, on clustered data:

- the estimate is the difference of the arms' ratio-of-means rates, sum(count) / sum(exposure),
  in closed form, and each arm's rate is the fitted rate of statsmodels' Poisson GLM with
  ``offset = log(exposure)`` (its maximum-likelihood estimate, to 1e-9);
- with CR0 the standard error is the cluster-robust delta-method (linearisation) standard
  error of the ratio estimator, in closed form, equal to statsmodels' WLS with clustered
  errors (no small-sample correction) and to the Poisson GLM's clustered sandwich carried
  to the rate difference by the delta method;
- the plan's CR2 is larger, as its small-sample correction is (the CR2 algebra itself is
  checked against a dense implementation in ``test_cr2_reference.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trialkit.estimate.frequentist.ols import ols


def _staff(seed: int = 4, teams: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(teams), rng.integers(4, 11, teams))
    arm = np.where(team % 2 == 0, "usual", "budget")
    fte = np.where(rng.random(team.size) < 0.7, 1.0, rng.choice([0.5, 0.6, 0.8], team.size))
    exposure = np.round(
        fte * 0.5 * np.where(rng.random(team.size) < 0.85, 1.0, rng.uniform(0.1, 1.0, team.size)), 3
    )
    frailty = rng.gamma(4.0, 0.25, teams)[team]
    rate = 8.3 * frailty * np.where(arm == "budget", 0.85, 1.0)
    days = rng.negative_binomial(2, 2 / (2 + rate * exposure))
    return pd.DataFrame(
        {
            "days": days.astype(float),
            "fte_years": exposure,
            "arm": arm,
            "team": team,
            "rate": days / exposure,
        }
    )


def _ratio(df: pd.DataFrame, arm: str) -> float:
    rows = df[df.arm == arm]
    return float(rows.days.sum() / rows.fte_years.sum())


def _delta_se(df: pd.DataFrame) -> float:
    """Linearisation: z_i = (y_i - R e_i) / E within each arm, summed by team, squared."""
    variance = 0.0
    for arm in ("usual", "budget"):
        rows = df[df.arm == arm]
        z = (rows.days - _ratio(df, arm) * rows.fte_years) / rows.fte_years.sum()
        variance += float((z.groupby(rows.team).sum() ** 2).sum())
    return float(np.sqrt(variance))


def test_rate_difference_is_the_ratio_of_means_and_the_poisson_mle() -> None:
    df = _staff()
    res = ols(
        df, "rate", "arm", control="usual", cluster="team", weights="fte_years", se_type="CR0"
    ).effect()
    assert res.estimate == pytest.approx(_ratio(df, "budget") - _ratio(df, "usual"), abs=1e-10)
    x = sm.add_constant((df.arm == "budget").astype(float).to_numpy())
    glm = sm.GLM(df.days, x, family=sm.families.Poisson(), offset=np.log(df.fte_years)).fit(
        tol=1e-12
    )
    coef = np.asarray(glm.params)
    usual, budget = np.exp(coef[0]), np.exp(coef.sum())
    assert usual == pytest.approx(_ratio(df, "usual"), rel=1e-9), "usual rate"
    assert budget == pytest.approx(_ratio(df, "budget"), rel=1e-9), "budget rate"


def test_cr0_is_the_delta_method_se_of_the_ratio_estimator() -> None:
    df = _staff()
    res = ols(
        df, "rate", "arm", control="usual", cluster="team", weights="fte_years", se_type="CR0"
    ).effect()
    assert res.std_error == pytest.approx(_delta_se(df), rel=1e-9), "closed form"
    x = sm.add_constant((df.arm == "budget").astype(float).to_numpy())
    wls = sm.WLS(df.rate, x, weights=df.fte_years).fit(
        cov_type="cluster", cov_kwds={"groups": df.team, "use_correction": False}
    )
    assert res.std_error == pytest.approx(np.asarray(wls.bse)[1], rel=1e-9), "statsmodels WLS"
    glm = sm.GLM(df.days, x, family=sm.families.Poisson(), offset=np.log(df.fte_years)).fit(
        tol=1e-12, cov_type="cluster", cov_kwds={"groups": df.team, "use_correction": False}
    )
    coef = np.asarray(glm.params)
    usual, budget = np.exp(coef[0]), np.exp(coef.sum())
    gradient = np.array([budget - usual, budget])
    delta = float(np.sqrt(gradient @ np.asarray(glm.cov_params()) @ gradient))
    assert res.std_error == pytest.approx(delta, rel=1e-6), "Poisson GLM sandwich, delta method"
    cr2 = ols(
        df, "rate", "arm", control="usual", cluster="team", weights="fte_years", se_type="CR2"
    ).effect()
    assert cr2.estimate == pytest.approx(res.estimate, abs=1e-12)
    assert cr2.std_error > res.std_error
