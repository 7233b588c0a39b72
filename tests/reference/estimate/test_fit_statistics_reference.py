"""R², adjusted R² and the robust F test against statsmodels and linearmodels.

R² and adjusted R² match statsmodels' ``rsquared`` / ``rsquared_adj`` (linearmodels' for
2SLS). The F statistic is estimatr's: the Wald test of every slope with the fit's own
covariance, so it is checked against statsmodels' ``f_test`` under the same robust
covariance (statsmodels' own HC0-HC3 and cluster CR1; for CR2 the dense CR2 of the
definitions, passed as ``cov_p``), and for 2SLS against linearmodels' ``f_statistic``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS

from tests.reference.estimate.dense_cr2 import dense_cr2
from trialkit.estimate import iv, lin, ols

RTOL = 1e-9


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(715)
    n = 180
    team = rng.integers(0, 18, n)
    arm = rng.integers(0, 3, n)
    x1 = rng.normal(50, 10, n)
    x2 = rng.gamma(2.0, 1.0, n)
    y = 1 + 0.3 * (arm == 1) - 0.2 * (arm == 2) + 0.03 * x1 - 0.2 * x2 + rng.normal(0, 1, n)
    y += rng.normal(size=18)[team]
    took = ((arm > 0) & (rng.uniform(size=n) < 0.7)).astype(float)
    return pd.DataFrame(
        {
            "y": y,
            "arm": arm,
            "x1": x1,
            "x2": x2,
            "team": team,
            "block": team % 4,
            "took": took,
            "w": rng.uniform(0.5, 2.0, n),
        }
    )


def _design(data: pd.DataFrame) -> pd.DataFrame:
    return sm.add_constant(
        pd.DataFrame(
            {
                "a1": (data.arm == 1).astype(float),
                "a2": (data.arm == 2).astype(float),
                "x1": data.x1,
                "x2": data.x2,
            }
        )
    )


def _slopes(names: list[str], tested: list[str]) -> np.ndarray:
    return np.eye(len(names))[[names.index(t) for t in tested]]


def _check(res: Any, ref: Any, f_ref: Any, label: str) -> None:
    fit = res.fit_statistics
    np.testing.assert_allclose(fit.r_squared, ref.rsquared, rtol=RTOL, err_msg=f"R² {label}")
    np.testing.assert_allclose(
        fit.adj_r_squared, ref.rsquared_adj, rtol=RTOL, err_msg=f"adjusted R² {label}"
    )
    np.testing.assert_allclose(
        fit.f_statistic, float(np.squeeze(f_ref.fvalue)), rtol=RTOL, err_msg=f"F {label}"
    )
    assert fit.f_df_num == int(f_ref.df_num), f"numerator df {label}"
    assert fit.f_df_denom == pytest.approx(float(f_ref.df_denom), rel=1e-12), f"den df {label}"
    np.testing.assert_allclose(
        fit.f_p_value, float(f_ref.pvalue), rtol=1e-7, atol=1e-300, err_msg=f"F p {label}"
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("se_type", ["classical", "HC0", "HC1", "HC2", "HC3", "CR1"])
def test_ols_fit_statistics_match_statsmodels(
    data: pd.DataFrame, se_type: str, weighted: bool
) -> None:
    x = _design(data)
    model = sm.WLS(data.y, x, weights=data.w) if weighted else sm.OLS(data.y, x)
    if se_type == "classical":
        ref = model.fit()
    elif se_type == "CR1":
        ref = model.fit(cov_type="cluster", cov_kwds={"groups": data.team}, use_t=True)
    else:
        ref = model.fit(cov_type=se_type, use_t=True)
    res = ols(
        data,
        "y",
        "arm",
        covariates=["x1", "x2"],
        se_type=se_type,  # type: ignore[arg-type]
        cluster="team" if se_type == "CR1" else None,
        weights="w" if weighted else None,
    )
    f_ref = ref.f_test(_slopes(list(x.columns), ["a1", "a2", "x1", "x2"]))
    _check(res, ref, f_ref, f"{se_type} weighted={weighted}")
    if se_type == "classical":  # the robust Wald F reduces to the R²-based F exactly
        np.testing.assert_allclose(
            res.fit_statistics.f_statistic, ref.fvalue, rtol=RTOL, err_msg="classical F"
        )


@pytest.mark.parametrize("weighted", [False, True])
def test_cr2_f_uses_the_dense_cr2_and_clusters_minus_one(
    data: pd.DataFrame, weighted: bool
) -> None:
    x = _design(data)
    w = data.w.to_numpy() if weighted else None
    _, v_dense, _ = dense_cr2(x.to_numpy(), data.y.to_numpy(), data.team.to_numpy(), w)
    model = sm.WLS(data.y, x, weights=data.w) if weighted else sm.OLS(data.y, x)
    ref = model.fit(cov_type="cluster", cov_kwds={"groups": data.team}, use_t=True)
    f_ref = ref.f_test(_slopes(list(x.columns), ["a1", "a2", "x1", "x2"]), cov_p=v_dense)
    res = ols(
        data,
        "y",
        "arm",
        covariates=["x1", "x2"],
        cluster="team",
        weights="w" if weighted else None,
    )
    _check(res, ref, f_ref, f"CR2 weighted={weighted}")
    assert res.fit_statistics.f_df_denom == 17.0


def test_block_fixed_effects_r2_is_the_full_model_and_f_leaves_them_out(
    data: pd.DataFrame,
) -> None:
    x = _design(data)
    blocks = pd.get_dummies(data.block, prefix="b", drop_first=True, dtype=float)
    full = pd.concat([x, blocks], axis=1)
    ref = sm.OLS(data.y, full).fit(cov_type="HC2", use_t=True)
    f_ref = ref.f_test(_slopes(list(full.columns), ["a1", "a2", "x1", "x2"]))
    res = ols(data, "y", "arm", covariates=["x1", "x2"], blocks="block")
    _check(res, ref, f_ref, "HC2 with block fixed effects")
    assert res.fit_statistics.f_df_num == 4


def test_lin_fit_statistics_match_the_centred_interacted_ols(data: pd.DataFrame) -> None:
    arms = np.column_stack([(data.arm == 1), (data.arm == 2)]).astype(float)
    centred = data[["x1", "x2"]].to_numpy() - data[["x1", "x2"]].to_numpy().mean(axis=0)
    inter = np.column_stack([arms[:, [j]] * centred for j in range(2)])
    x = sm.add_constant(np.column_stack([arms, centred, inter]))
    ref = sm.OLS(data.y.to_numpy(), x).fit(cov_type="HC2", use_t=True)
    f_ref = ref.f_test(np.eye(x.shape[1])[1:])
    res = lin(data, "y", "arm", covariates=["x1", "x2"])
    _check(res, ref, f_ref, "lin HC2")
    assert res.fit_statistics.f_df_num == 8


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    ("se_type", "kwargs"),
    [
        ("classical", {"cov_type": "unadjusted", "debiased": True}),
        ("HC1", {"cov_type": "robust", "debiased": True}),
        ("CR1", {"cov_type": "clustered", "debiased": True}),
    ],
)
def test_iv_fit_statistics_match_linearmodels(
    data: pd.DataFrame, se_type: str, kwargs: dict[str, Any], weighted: bool
) -> None:
    two = data[data.arm < 2]
    exog = pd.DataFrame({"const": 1.0, "x1": two.x1})
    if se_type == "CR1":
        kwargs = {**kwargs, "clusters": two.team}
    ref = IV2SLS(two.y, exog, two.took, two.arm, weights=two.w if weighted else None).fit(**kwargs)
    res = iv(
        two,
        "y",
        "arm",
        received="took",
        covariates=["x1"],
        se_type=se_type,  # type: ignore[arg-type]
        cluster="team" if se_type == "CR1" else None,
        weights="w" if weighted else None,
    ).second_stage
    fit = res.fit_statistics
    assert fit is not None
    label = f"iv {se_type} weighted={weighted}"
    np.testing.assert_allclose(fit.r_squared, ref.rsquared, rtol=RTOL, err_msg=f"R² {label}")
    np.testing.assert_allclose(
        fit.adj_r_squared, ref.rsquared_adj, rtol=RTOL, err_msg=f"adjusted R² {label}"
    )
    # debiased=True: linearmodels divides its Wald statistic of every non-constant
    # coefficient by their number and refers it to F(q, N - k).
    np.testing.assert_allclose(
        fit.f_statistic, ref.f_statistic.stat, rtol=RTOL, err_msg=f"F {label}"
    )
    assert fit.f_df_num == ref.f_statistic.df
    if se_type != "CR1":  # with clusters estimatr's denominator is G - 1, not N - k
        assert fit.f_df_denom == ref.f_statistic.df_denom
        np.testing.assert_allclose(
            fit.f_p_value, ref.f_statistic.pval, rtol=1e-7, err_msg=f"F p {label}"
        )
    else:
        assert fit.f_df_denom == two.team.nunique() - 1


def test_difference_in_means_has_no_fit_statistics(data: pd.DataFrame) -> None:
    from trialkit.estimate import difference_in_means

    res = difference_in_means(data[data.arm < 2], "y", "arm")
    assert res.fit_statistics is None
