"""binary_effect() against statsmodels GLM (logit, Poisson) sandwich covariances.

statsmodels GLM: ``cov_type="HC0"`` and ``"cluster"`` (``use_correction`` False = CR0,
True = CR1). statsmodels' GLM ``HC1`` applies no n/(n-k) factor, so HC1 is not compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trialkit.estimate.frequentist.binary import binary_effect

RTOL = 1e-9


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(31)
    n = 400
    arm = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-0.5 + 0.7 * arm + 0.5 * x)))
    return pd.DataFrame(
        {"y": (rng.random(n) < p).astype(int), "arm": arm, "x": x, "team": rng.integers(0, 30, n)}
    )


CASES: dict[str, dict[str, Any]] = {
    "HC0": {"cov_type": "HC0"},
    "CR0": {"cov_type": "cluster", "use_correction": False},
    "CR1": {"cov_type": "cluster", "use_correction": True},
    "classical": {"cov_type": "nonrobust"},
}


@pytest.mark.parametrize("effect", ["odds_ratio", "risk_ratio"])
@pytest.mark.parametrize("se_type", list(CASES))
@pytest.mark.parametrize("statistic", ["log_estimate", "log_std_error"])
def test_glm_matches_statsmodels(
    frame: pd.DataFrame, effect: str, se_type: str, statistic: str
) -> None:
    family = sm.families.Binomial() if effect == "odds_ratio" else sm.families.Poisson()
    spec: dict[str, Any] = dict(CASES[se_type])
    cov_type = spec.pop("cov_type")
    kwargs: dict[str, Any] = {"cov_type": cov_type}
    if cov_type == "cluster":
        kwargs["cov_kwds"] = {"groups": frame.team, **spec}
    ref = sm.GLM(frame.y, sm.add_constant(frame[["arm", "x"]]), family=family).fit(
        tol=1e-12, **kwargs
    )
    res = binary_effect(
        frame,
        "y",
        "arm",
        effect=effect,  # type: ignore[arg-type]
        covariates=["x"],
        se_type=se_type,  # type: ignore[arg-type]
        cluster="team" if se_type.startswith("CR") else None,
    )
    if statistic == "log_estimate":
        np.testing.assert_allclose(
            res.coefficients[1], ref.params["arm"], rtol=RTOL, err_msg="log estimate"
        )
    else:
        np.testing.assert_allclose(
            np.sqrt(res.vcov[1, 1]), ref.bse["arm"], rtol=1e-7, err_msg="log std_error"
        )


def test_ratio_rows_are_on_ratio_scale(frame: pd.DataFrame) -> None:
    res = binary_effect(frame, "y", "arm", effect="odds_ratio", covariates=["x"])
    row = res.effect()
    b, se = res.coefficients[1], np.sqrt(res.vcov[1, 1])
    np.testing.assert_allclose(row.estimate, np.exp(b), rtol=1e-12, err_msg="odds ratio")
    np.testing.assert_allclose(row.std_error, np.exp(b) * se, rtol=1e-12, err_msg="delta-method SE")
    np.testing.assert_allclose(
        row.ci_low * row.ci_high, np.exp(2 * b), rtol=1e-10, err_msg="CI symmetric on log scale"
    )


def test_risk_difference_is_ols_hc2(frame: pd.DataFrame) -> None:
    y1, y0 = frame.y[frame.arm == 1], frame.y[frame.arm == 0]
    row = binary_effect(frame, "y", "arm").effect()
    np.testing.assert_allclose(
        row.estimate, y1.mean() - y0.mean(), rtol=1e-12, err_msg="risk difference"
    )
    np.testing.assert_allclose(
        row.std_error,
        np.sqrt(y1.var() / y1.size + y0.var() / y0.size),
        rtol=1e-10,
        err_msg="Neyman SE",
    )
