"""iv() against linearmodels' IV2SLS and a dense HC2 for 2SLS.

Mapping (see ``trialkit.estimate.frequentist.iv``): classical = ``unadjusted`` with
``debiased=True``; HC0 = ``robust``; HC1 = ``robust, debiased=True``; CR0 = ``clustered``;
CR1 = ``clustered, debiased=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from linearmodels.iv import IV2SLS

from trialkit.estimate import iv, ols

RTOL = 1e-9

LINEARMODELS: dict[str, dict[str, Any]] = {
    "classical": {"cov_type": "unadjusted", "debiased": True},
    "HC0": {"cov_type": "robust"},
    "HC1": {"cov_type": "robust", "debiased": True},
    "CR0": {"cov_type": "clustered"},
    "CR1": {"cov_type": "clustered", "debiased": True},
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 300
    arm = rng.integers(0, 2, n)
    u = rng.normal(size=n)
    took = ((0.9 * arm + 0.4 * u + rng.normal(0, 0.4, n)) > 0.6).astype(float)
    x1 = rng.normal(50, 10, n)
    y = 1 + 2 * took + 0.1 * x1 + u + rng.normal(size=n)
    return pd.DataFrame(
        {
            "y": y,
            "arm": arm,
            "took": took,
            "x1": x1,
            "team": rng.integers(0, 25, n),
            "w": rng.uniform(0.5, 2, n),
        }
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("se_type", list(LINEARMODELS))
@pytest.mark.parametrize("statistic", ["estimate", "std_error"])
def test_iv_matches_linearmodels(
    frame: pd.DataFrame, weighted: bool, se_type: str, statistic: str
) -> None:
    exog = pd.DataFrame({"const": 1.0, "x1": frame.x1})
    kwargs: dict[str, Any] = dict(LINEARMODELS[se_type])
    if se_type.startswith("CR"):
        kwargs["clusters"] = frame.team
    ref = IV2SLS(frame.y, exog, frame.took, frame.arm, weights=frame.w if weighted else None).fit(
        **kwargs
    )
    res = iv(
        frame,
        "y",
        "arm",
        received="took",
        covariates=["x1"],
        se_type=se_type,
        cluster="team" if se_type.startswith("CR") else None,
        weights="w" if weighted else None,
    )
    cace = res.rows[0]
    expected = ref.params["took"] if statistic == "estimate" else ref.std_errors["took"]
    np.testing.assert_allclose(
        getattr(cace, statistic), expected, rtol=RTOL, err_msg=f"{statistic} {se_type}"
    )


def test_iv_hc2_dense(frame: pd.DataFrame) -> None:
    """HC2 with the leverages of X_hat and structural residuals (estimatr's iv_robust)."""
    n = len(frame)
    z = np.column_stack([np.ones(n), frame.arm, frame.x1])
    x = np.column_stack([np.ones(n), frame.took, frame.x1])
    x_hat = z @ np.linalg.solve(z.T @ z, z.T @ x)
    bread = np.linalg.inv(x_hat.T @ x_hat)
    beta = bread @ x_hat.T @ frame.y.to_numpy()
    e = frame.y.to_numpy() - x @ beta
    h = np.einsum("ij,jk,ik->i", x_hat, bread, x_hat)
    v = bread @ (x_hat.T * (e**2 / (1 - h))) @ x_hat @ bread
    res = iv(frame, "y", "arm", received="took", covariates=["x1"])
    np.testing.assert_allclose(
        res.rows[0].std_error, np.sqrt(v[1, 1]), rtol=RTOL, err_msg="HC2 std_error"
    )


def test_iv_reports_itt_and_first_stage(frame: pd.DataFrame) -> None:
    res = iv(frame, "y", "arm", received="took", covariates=["x1"])
    assert [r.estimand for r in res.rows] == ["CACE", "ITT", "first stage"]
    itt = ols(frame, "y", "arm", covariates=["x1"]).effect()
    first = ols(frame, "took", "arm", covariates=["x1"]).effect()
    np.testing.assert_allclose(res.rows[1].estimate, itt.estimate, rtol=RTOL, err_msg="ITT")
    np.testing.assert_allclose(
        res.rows[2].estimate, first.estimate, rtol=RTOL, err_msg="first stage"
    )
    # Wald: with one instrument and the same covariates, CACE = ITT / first stage.
    np.testing.assert_allclose(
        res.rows[0].estimate, itt.estimate / first.estimate, rtol=1e-9, err_msg="Wald ratio"
    )
