"""Natural-unit effects by g-computation over posterior draws (no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from trialkit.estimate.bayesian.design import prepare
from trialkit.estimate.bayesian.natural import natural_effects

RNG = np.random.default_rng(8)
FRAME = pd.DataFrame(
    {
        "arm": np.tile([0, 1], 15),
        "x1": RNG.normal(size=30),
        "team": np.repeat(np.arange(6), 5),
        "y": RNG.integers(0, 2, 30),
        "likert": np.tile([1, 2, 3], 10),
    }
)


def _posterior(**values: np.ndarray) -> xr.Dataset:
    return xr.Dataset(
        {
            k: (("chain", "draw", *[f"{k}_{i}" for i in range(v.ndim - 2)]), v)
            for k, v in values.items()
        }
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def test_risk_difference_averages_unit_level_differences() -> None:
    data = prepare(FRAME, "y", "arm", covariates=["x1"], cluster="team", family="logistic")
    post = _posterior(
        intercept=RNG.normal(size=(2, 3)),
        beta=RNG.normal(size=(2, 3, 1)),
        gamma=RNG.normal(size=(2, 3, 1)),
        cluster_sd=np.abs(RNG.normal(size=(2, 3))),
        cluster_z=RNG.normal(size=(2, 3, 6)),
    )
    got = natural_effects(post, data, "logistic")["risk_difference"]
    c, d = 1, 2
    u = post["cluster_z"].values[c, d] * post["cluster_sd"].values[c, d]
    base = (
        post["intercept"].values[c, d]
        + data.X[:, 0] * post["gamma"].values[c, d, 0]
        + u[data.cluster_idx]
    )
    expected = np.mean(_sigmoid(base + post["beta"].values[c, d, 0]) - _sigmoid(base))
    assert got.shape == (2, 3, 1)
    assert got[c, d, 0] == pytest.approx(expected)


def test_rate_ratio_is_exp_beta_and_mean_difference_in_category_units() -> None:
    counts = prepare(FRAME, "y", "arm", family="poisson")
    post = _posterior(intercept=np.zeros((1, 2)), beta=np.log(np.full((1, 2, 1), 2.0)))
    out = natural_effects(post, counts, "poisson")
    np.testing.assert_allclose(out["rate_ratio"], 2.0)
    np.testing.assert_allclose(out["rate_difference"], 1.0)  # exp(0) * (2 - 1)
    likert = prepare(FRAME, "likert", "arm", family="ordered_logistic")
    huge = _posterior(beta=np.full((1, 2, 1), 50.0), cutpoints=np.zeros((1, 2, 2)))
    # A huge effect moves every unit from the middle to the top category: +1 scale point.
    assert natural_effects(huge, likert, "ordered_logistic")["mean_difference"][0, 0, 0] == (
        pytest.approx(1.0, abs=1e-6)
    )
