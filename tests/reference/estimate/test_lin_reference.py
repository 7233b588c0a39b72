"""Lin's estimator against statsmodels OLS with hand-made centred interactions (HC2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trialkit.estimate import lin

RTOL = 1e-10


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(17)
    n = 150
    arm = rng.choice(["control", "budget", "coach"], n)
    x1, x2 = rng.normal(10, 3, n), rng.binomial(1, 0.3, n)
    y = 0.2 * (arm == "budget") + 0.1 * x1 + 0.5 * x2 * (arm == "coach") + rng.normal(size=n)
    return pd.DataFrame({"y": y, "arm": arm, "x1": x1, "x2": x2, "w": rng.uniform(0.5, 2, n)})


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("term", ["arm[budget]", "arm[coach]"])
@pytest.mark.parametrize("statistic", ["estimate", "std_error"])
def test_lin_matches_manual_interactions(
    frame: pd.DataFrame, weighted: bool, term: str, statistic: str
) -> None:
    w = frame.w.to_numpy() if weighted else None
    covs = frame[["x1", "x2"]].to_numpy()
    centred = covs - np.average(covs, axis=0, weights=w)
    d = np.column_stack([(frame.arm == a).to_numpy(float) for a in ("budget", "coach")])
    x = np.column_stack([np.ones(len(frame)), d, centred, d[:, [0]] * centred, d[:, [1]] * centred])
    model = sm.WLS(frame.y, x, weights=w) if weighted else sm.OLS(frame.y, x)
    ref = model.fit(cov_type="HC2")
    res = lin(
        frame,
        "y",
        "arm",
        covariates=["x1", "x2"],
        control="control",
        weights="w" if weighted else None,
    ).effect(term)
    j = 1 if term == "arm[budget]" else 2
    expected = np.asarray(ref.params if statistic == "estimate" else ref.bse)[j]
    np.testing.assert_allclose(
        getattr(res, statistic), expected, rtol=RTOL, err_msg=f"{statistic} {term}"
    )


def test_lin_term_names(frame: pd.DataFrame) -> None:
    res = lin(frame, "y", "arm", covariates=["x1"], control="control")
    assert list(res.to_frame().term) == [
        "arm[budget]",
        "arm[coach]",
        "(Intercept)",
        "x1_c",
        "arm[budget]:x1_c",
        "arm[coach]:x1_c",
    ]
