"""CR3 against the jackknife by brute force: refit without each cluster in turn.

MacKinnon, Nielsen & Webb (2023)'s CV3: ``(G-1)/G sum_g (b_(g) - b)(b_(g) - b)'``, df G - 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate import ols

RTOL = 1e-9
SIZES = [3, 5, 8, 12, 20, 30, 4, 9]


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = len(SIZES)
    cl = np.repeat(np.arange(g), SIZES)
    n = cl.size
    t = (np.arange(g) % 2)[rng.permutation(g)][cl]
    x = rng.normal(size=n)
    y = x + 0.3 * t + rng.normal(size=g)[cl] + rng.normal(size=n) * (1 + t)
    return pd.DataFrame({"y": y, "t": t, "x": x, "c": cl, "w": rng.uniform(0.5, 2.0, n)})


def _jackknife(f: pd.DataFrame, weights: str | None) -> np.ndarray:
    x = np.column_stack([f.t, np.ones(len(f)), f.x])  # order of ols' reported terms
    sw = np.sqrt(f[weights].to_numpy()) if weights else np.ones(len(f))
    xw, yw = x * sw[:, None], f.y.to_numpy() * sw
    b = np.linalg.lstsq(xw, yw, rcond=None)[0]
    groups = np.unique(f.c)
    drops = [np.linalg.lstsq(xw[f.c != g], yw[f.c != g], rcond=None)[0] - b for g in groups]
    g = groups.size
    return np.asarray((g - 1) / g * sum(np.outer(d, d) for d in drops))


@pytest.mark.parametrize("weights", [None, "w"])
def test_cr3_is_the_cluster_jackknife(weights: str | None) -> None:
    f = _frame(seed=4)
    res = ols(f, "y", "t", covariates=["x"], cluster="c", se_type="CR3", weights=weights)
    table = res.to_frame()
    ref = _jackknife(f, weights)
    np.testing.assert_allclose(
        table.std_error, np.sqrt(np.diag(ref)), rtol=RTOL, err_msg="std_error"
    )
    assert (table.df == len(SIZES) - 1).all(), "df G - 1"
    assert res.se_type == "CR3"


def test_cr3_refuses_an_arm_with_one_cluster() -> None:
    f = _frame(seed=4)
    f["t"] = (f.c == 0).astype(int)
    with pytest.raises(EstimationError, match="dropping one cluster leaves a coefficient"):
        ols(f, "y", "t", cluster="c", se_type="CR3")
