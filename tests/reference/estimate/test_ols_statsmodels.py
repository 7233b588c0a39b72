"""ols() against statsmodels OLS/WLS: coefficients, classical, HC0-HC3 and CR1 (Stata).

statsmodels' robust covariances use the normal distribution unless ``use_t=True``; we pass
``use_t=True`` and compare p-values and intervals with statsmodels' t with N - K df
(G - 1 for CR1, which is statsmodels' default df for clustered covariances).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trialkit.estimate import ols

RTOL = 1e-10


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    n = 240
    team = rng.integers(0, 24, n)
    arm = rng.integers(0, 2, n)
    x1 = rng.normal(50, 10, n)
    x2 = rng.gamma(2.0, 1.0, n)
    y = (
        1.0
        + 0.4 * arm
        + 0.05 * x1
        - 0.3 * x2
        + rng.normal(0, 1 + arm, n)
        + rng.normal(size=24)[team]
    )
    return pd.DataFrame(
        {"y": y, "arm": arm, "x1": x1, "x2": x2, "team": team, "w": rng.uniform(0.5, 2.0, n)}
    )


def _statsmodels(
    data: pd.DataFrame, se_type: str, weighted: bool
) -> sm.regression.linear_model.RegressionResults:
    x = sm.add_constant(data[["arm", "x1", "x2"]])
    model = sm.WLS(data["y"], x, weights=data["w"]) if weighted else sm.OLS(data["y"], x)
    if se_type == "classical":
        return model.fit()
    if se_type == "CR1":
        return model.fit(cov_type="cluster", cov_kwds={"groups": data["team"]}, use_t=True)
    return model.fit(cov_type=se_type, use_t=True)


CASES = [(t, w) for t in ["classical", "HC0", "HC1", "HC2", "HC3", "CR1"] for w in (False, True)]


@pytest.mark.parametrize(("se_type", "weighted"), CASES)
@pytest.mark.parametrize("statistic", ["estimate", "std_error", "p_value", "ci_low", "ci_high"])
def test_ols_matches_statsmodels(
    data: pd.DataFrame, se_type: str, weighted: bool, statistic: str
) -> None:
    ref = _statsmodels(data, se_type, weighted)
    res = ols(
        data,
        "y",
        "arm",
        covariates=["x1", "x2"],
        se_type=se_type,
        cluster="team" if se_type == "CR1" else None,
        weights="w" if weighted else None,
    )
    frame = res.to_frame().set_index("term")
    names = {"(Intercept)": "const", "arm": "arm", "x1": "x1", "x2": "x2"}
    ci = ref.conf_int(alpha=0.05)
    expected = {
        "estimate": ref.params,
        "std_error": ref.bse,
        "p_value": ref.pvalues,
        "ci_low": ci.iloc[:, 0],
        "ci_high": ci.iloc[:, 1],
    }[statistic]
    for term, sm_name in names.items():
        np.testing.assert_allclose(
            frame.loc[term, statistic],
            expected[sm_name],
            rtol=1e-8 if statistic == "p_value" else RTOL,
            err_msg=f"{statistic} of {term} ({se_type}, weighted={weighted})",
        )


def test_cr1_df_is_clusters_minus_one(data: pd.DataFrame) -> None:
    res = ols(data, "y", "arm", cluster="team", se_type="CR1")
    assert res.effect().df == data["team"].nunique() - 1


def test_fixed_effects_equal_dummies(data: pd.DataFrame) -> None:
    data = data.assign(block=data["team"] % 4)
    res = ols(data, "y", "arm", covariates=["x1"], fixed_effects=["block"], se_type="HC1")
    x = sm.add_constant(
        pd.concat(
            [
                data[["arm", "x1"]],
                pd.get_dummies(data["block"], prefix="b", drop_first=True, dtype=float),
            ],
            axis=1,
        )
    )
    ref = sm.OLS(data["y"], x).fit(cov_type="HC1")
    np.testing.assert_allclose(
        res.effect().estimate, ref.params["arm"], rtol=RTOL, err_msg="estimate"
    )
    np.testing.assert_allclose(
        res.effect().std_error, ref.bse["arm"], rtol=RTOL, err_msg="std_error"
    )
