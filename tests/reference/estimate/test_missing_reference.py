"""Missing-data estimators against hand computations and statsmodels.

* Rubin's rules and Barnard–Rubin df: a hand computation in exact fractions of the
  textbook formulas (Rubin 1987, eqs. 3.1.2–3.1.5; Barnard & Rubin 1999, eq. 3; as in van
  Buuren, *Flexible Imputation of Missing Data*, 2nd ed., §2.3), and statsmodels' MICE
  pooling (``MICE.combine``) of OLS fits on ``m`` data sets.
* IPW: the point estimate of a hand-coded pipeline, statsmodels ``GLM(Binomial)`` for the
  response model and ``WLS`` with stabilised inverse-probability weights.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.imputation.mice import MICE

from trialkit.estimate.frequentist.missing import _pool, ipw, rubin
from trialkit.estimate.frequentist.ols import ols


def test_rubin_matches_a_hand_computation() -> None:
    # m = 3 estimates 1, 2, 3 with variances 1, 1, 1 and nu_com = 10:
    #   Q̄ = 2, Ū = 1, B = 1, T = 1 + (4/3)·1 = 7/3, λ = (4/3)/(7/3) = 4/7,
    #   ν_old = (m-1)/λ² = 2·49/16 = 49/8, ν_obs = (11/13)·10·(3/7) = 330/91,
    #   ν = 1 / (8/49 + 91/330).
    t = Fraction(7, 3)
    nu = 1 / (Fraction(8, 49) + Fraction(91, 330))
    estimate, se, df = rubin([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], df_complete=10)
    assert estimate == pytest.approx(2.0, abs=1e-14), "pooled estimate"
    assert se == pytest.approx(float(t) ** 0.5, rel=1e-14), "total SE"
    assert df == pytest.approx(float(nu), rel=1e-12), "Barnard–Rubin df"
    # with nu_com = inf the df is Rubin's (1987) ν_old = (m-1)(1 + 1/r)², r = (1+1/m)B/Ū
    assert rubin([1.0, 2.0, 3.0], [1.0] * 3, float("inf"))[2] == pytest.approx(49 / 8)


def test_pooling_matches_statsmodels_mice_combine() -> None:
    rng = np.random.default_rng(11)
    n, m = 60, 5
    x = rng.normal(size=n)
    arm = np.tile([0, 1], n // 2)
    fits, sm_results = [], []
    for _ in range(m):
        y = 1 + 0.4 * arm + x + rng.normal(size=n)  # stands in for one completed data set
        data = pd.DataFrame({"y": y, "arm": arm, "x": x})
        fits.append(ols(data, "y", "arm", covariates=["x"], se_type="classical"))
        sm_results.append(sm.OLS(y, np.column_stack([np.ones(n), arm, x])).fit())
    pooled = _pool(fits, "ols (test)", 0.95)
    fake = SimpleNamespace(
        results_list=sm_results,
        exog_names=["const", "arm", "x"],
        endog_names="y",
        model_class=sm.OLS,
    )
    reference = MICE.combine(fake)
    # trialkit orders terms (Intercept), arm, x as statsmodels' columns
    assert pooled.terms == ("(Intercept)", "arm", "x")
    np.testing.assert_allclose(
        pooled.coefficients, reference.params, rtol=1e-12, err_msg="pooled coefficients"
    )
    np.testing.assert_allclose(
        pooled.vcov, reference.cov_params(), rtol=1e-10, err_msg="pooled vcov (Ū + (1+1/m)B)"
    )
    for j, term in enumerate(pooled.terms):
        q = [f.coefficients[j] for f in fits]
        u = [f.vcov[j, j] for f in fits]
        estimate, se, df = rubin(q, u, df_complete=n - 3)
        row = next(r for r in pooled.rows if r.term == term)
        assert row.estimate == pytest.approx(estimate, rel=1e-12), f"{term} estimate"
        assert row.std_error == pytest.approx(se, rel=1e-12), f"{term} SE"
        assert row.df == pytest.approx(df, rel=1e-12), f"{term} df"


@pytest.mark.parametrize("blocks", [None, "block"])
def test_ipw_point_estimate_matches_statsmodels_glm_and_wls(blocks: str | None) -> None:
    rng = np.random.default_rng(5)
    n = 300
    x = rng.normal(size=n)
    block = np.repeat(["a", "b", "c"], n // 3)
    arm = np.tile(["usual", "budget"], n // 2)
    y = 1 + 0.5 * (arm == "budget") + x + rng.normal(size=n)
    p_obs = 1 / (1 + np.exp(-(1.0 + 0.8 * x - 0.5 * (arm == "budget"))))
    observed = rng.uniform(size=n) < p_obs
    data = pd.DataFrame({"y": np.where(observed, y, np.nan), "arm": arm, "x": x, "block": block})
    # Reference: logistic response model on (1, treated, block dummies, x), then WLS of y
    # on (1, treated, block dummies, x) with weights mean(R) / p̂ over observed rows.
    treated = (arm == "budget").astype(float)
    dummies = (
        pd.get_dummies(block, drop_first=True, dtype=float).to_numpy()
        if blocks
        else np.empty((n, 0))
    )
    z = np.column_stack([np.ones(n), treated, x, dummies])
    glm = sm.GLM(observed.astype(float), z, family=sm.families.Binomial()).fit(tol=1e-14)
    weights = observed.mean() / glm.fittedvalues
    wls = sm.WLS(y[observed], z[observed], weights=weights[observed]).fit()
    result = ipw(
        data, "y", "arm", covariates=["x"], blocks=blocks, control="usual", estimator="ols"
    )
    assert result.effect().estimate == pytest.approx(wls.params[1], rel=1e-8, abs=1e-8), (
        "IPW point estimate"
    )
    ids = {t: i for i, t in enumerate(result.terms)}
    assert result.coefficients[ids["x"]] == pytest.approx(wls.params[2], rel=1e-8), "x slope"
    # HC2 with the weights treated as fixed: statsmodels' WLS HC2
    hc2 = wls.get_robustcov_results(cov_type="HC2").bse[1]
    assert result.effect().std_error == pytest.approx(hc2, rel=1e-8), "HC2 SE, fixed weights"
