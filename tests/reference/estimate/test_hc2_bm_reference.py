"""HC2 with Bell-McCaffrey degrees of freedom (Imbens & Kolesár 2016).

Checked against the naive CR2 reference with every unit its own cluster
(``dense_cr2``), and against the closed form for one binary regressor: Welch's df under equal
variances, ``(1/n0 + 1/n1)^2 / (1/(n0^2 (n0-1)) + 1/(n1^2 (n1-1)))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dense_cr2 import dense_cr2

from trialkit.errors import EstimationError
from trialkit.estimate import lin, ols
from trialkit.estimate.frequentist.lstsq import fit_lstsq
from trialkit.estimate.frequentist.vcov import compute_vcov

RTOL = 1e-9


def _frame(n0: int, n1: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.r_[np.zeros(n0), np.ones(n1)]
    x = rng.normal(size=n0 + n1)
    return pd.DataFrame(
        {
            "y": 0.5 * x + rng.normal(size=t.size) * (1 + 2 * t),
            "t": t,
            "x": x,
            "z": rng.uniform(size=t.size),
            "w": rng.uniform(0.5, 2.0, t.size),
        }
    )


@pytest.mark.parametrize(("n0", "n1"), [(30, 10), (5, 25), (3, 3)])
def test_binary_regressor_df_is_equal_variance_welch(n0: int, n1: int) -> None:
    res = ols(_frame(n0, n1, seed=n0), "y", "t", df="bell_mccaffrey").effect()
    welch = (1 / n0 + 1 / n1) ** 2 / (1 / (n0**2 * (n0 - 1)) + 1 / (n1**2 * (n1 - 1)))
    np.testing.assert_allclose(res.df, welch, rtol=RTOL, err_msg="df")


@pytest.mark.parametrize("weighted", [False, True])
def test_hc2_bm_is_cr2_with_singleton_clusters(weighted: bool) -> None:
    f = _frame(12, 28, seed=3)
    x = np.column_stack([np.ones(len(f)), f.t, f.x, f.z, f.t * f.x])
    w = f.w.to_numpy() if weighted else None
    _, v_ref, df_ref = dense_cr2(x, f.y.to_numpy(), np.arange(len(f)), w)
    v = compute_vcov(fit_lstsq(x, f.y.to_numpy(), w), "HC2", df="bell_mccaffrey")
    np.testing.assert_allclose(v.df, df_ref, rtol=RTOL, err_msg="df")
    np.testing.assert_allclose(v.matrix, v_ref, rtol=RTOL, err_msg="vcov")


def test_lin_uses_bm_df_of_its_interacted_design() -> None:
    f = _frame(8, 32, seed=5)
    res = lin(f, "y", "t", covariates=["x"], df="bell_mccaffrey")
    xc = f.x - f.x.mean()
    x = np.column_stack([np.ones(len(f)), f.t, xc, f.t * xc])
    _, v_ref, df_ref = dense_cr2(x, f.y.to_numpy(), np.arange(len(f)))
    np.testing.assert_allclose(res.effect().df, df_ref[1], rtol=RTOL, err_msg="df")
    np.testing.assert_allclose(
        res.effect().std_error, np.sqrt(v_ref[1, 1]), rtol=RTOL, err_msg="std_error"
    )
    assert res.effect().se_type == "HC2 (Bell–McCaffrey df)"


def test_residual_df_stays_estimatrs() -> None:
    f = _frame(12, 28, seed=7)
    res = ols(f, "y", "t", covariates=["x"], df="residual").effect()
    assert res.df == len(f) - 3
    assert res.se_type == "HC2"
    bm = ols(f, "y", "t", covariates=["x"], df="bell_mccaffrey").effect()
    np.testing.assert_allclose(bm.std_error, res.std_error, rtol=RTOL, err_msg="std_error")


def test_df_only_changes_hc2() -> None:
    f = _frame(12, 28, seed=9)
    a = ols(f, "y", "t", se_type="HC1", df="bell_mccaffrey").effect()
    b = ols(f, "y", "t", se_type="HC1").effect()
    assert (a.df, a.se_type) == (b.df, b.se_type)


def test_unknown_df_is_refused() -> None:
    x = np.column_stack([np.ones(6), [0, 1, 0, 1, 0, 1]])
    fit = fit_lstsq(x, np.arange(6.0), None)
    with pytest.raises(EstimationError, match="'df' parameter must be one of 'bell_mccaffrey'"):
        compute_vcov(fit, "HC2", df="satterthwaite")  # type: ignore[arg-type]


def test_ipw_passes_df_to_its_estimator() -> None:
    from trialkit.estimate.frequentist.missing import ipw

    f = _frame(12, 28, seed=11)
    f.loc[[0, 5, 20, 33], "y"] = np.nan
    a = ipw(f, "y", "t", covariates=["x"], control=0, df="bell_mccaffrey").effect()
    b = ipw(f, "y", "t", covariates=["x"], control=0).effect()
    np.testing.assert_allclose(a.std_error, b.std_error, rtol=RTOL, err_msg="std_error")
    assert a.se_type == "HC2 (Bell–McCaffrey df)" and b.se_type == "HC2"
    assert a.df < b.df == 36 - 4, "lin on 36 observed rows: N - k = 32"
