"""CR2 and its Bell-McCaffrey df against a dense implementation and closed forms.

The dense reference (``dense_cr2.py``) is the formula of estimatr's mathematical notes and
Pustejovsky & Tipton (2016) written out with n x n matrices. Closed forms: with equal
cluster sizes and a cluster-level treatment, CR2 for the difference in means equals the
Neyman variance of cluster means, s1^2/G1 + s0^2/G0, and the BM df (working model
Phi = I) equals the Welch df with equal variances,
(1/G1 + 1/G0)^2 / (1/(G1^2 (G1-1)) + 1/(G0^2 (G0-1))).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dense_cr2 import dense_cr2

from trialkit.estimate import difference_in_means, ols
from trialkit.estimate.frequentist.lstsq import fit_lstsq
from trialkit.estimate.frequentist.vcov import Clusters, compute_vcov

RTOL = 1e-9

SIZES = {
    "mixed sizes around k": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30],
    "equal sizes": [8] * 25,
    "many pairs, few large": [2] * 40 + [15] * 5,
    "singletons": [1] * 50 + [3] * 10,
}


def _design(sizes: list[int], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = len(sizes)
    cl = np.repeat(np.arange(g), sizes)
    n = cl.size
    treat = (rng.random(g) < 0.5)[cl].astype(float)
    x = np.column_stack([np.ones(n), treat, rng.normal(size=(n, 3)), rng.normal(size=g)[cl]])
    y = x @ np.arange(6.0) + rng.normal(size=n) * (1 + treat) + rng.normal(size=g)[cl]
    return x, y, cl, rng.uniform(0.5, 2.0, n)


@pytest.fixture(scope="module", params=list(SIZES))
def case(request: pytest.FixtureRequest) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    x, y, cl, w = _design(SIZES[request.param], seed=len(request.param))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label, weights in (("unweighted", None), ("weighted", w)):
        _, v_ref, df_ref = dense_cr2(x, y, cl, weights)
        v = compute_vcov(fit_lstsq(x, y, weights), "CR2", Clusters.from_codes(cl))
        out[f"{label} se"] = (np.sqrt(np.diag(v.matrix)), np.sqrt(np.diag(v_ref)))
        out[f"{label} vcov"] = (v.matrix, v_ref)
        out[f"{label} df"] = (v.df, df_ref)
    return out


@pytest.mark.parametrize(
    "statistic",
    [f"{w} {s}" for w in ("unweighted", "weighted") for s in ("se", "vcov", "df")],
)
def test_fast_cr2_matches_dense(
    case: dict[str, tuple[np.ndarray, np.ndarray]], statistic: str
) -> None:
    fast, dense = case[statistic]
    np.testing.assert_allclose(fast, dense, rtol=RTOL, atol=1e-14, err_msg=statistic)


@pytest.fixture(scope="module")
def balanced_clusters() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    g1, g0, m = 9, 14, 6
    g = g1 + g0
    arm = np.r_[np.ones(g1), np.zeros(g0)]
    cluster = np.repeat(np.arange(g), m)
    y = rng.normal(size=g)[cluster] + rng.normal(size=g * m) + 0.3 * arm[cluster]
    frame = pd.DataFrame({"y": y, "arm": arm[cluster].astype(int), "team": cluster})
    means = frame.groupby("team")["y"].mean().to_numpy()
    return frame, means[arm == 1], means[arm == 0]


def test_cr2_balanced_equals_neyman_on_cluster_means(
    balanced_clusters: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    frame, m1, m0 = balanced_clusters
    expected = np.sqrt(m1.var(ddof=1) / m1.size + m0.var(ddof=1) / m0.size)
    res = ols(frame, "y", "arm", cluster="team")
    np.testing.assert_allclose(res.effect().std_error, expected, rtol=RTOL, err_msg="std_error")


def test_cr2_balanced_df_is_equal_variance_welch(
    balanced_clusters: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    frame, m1, m0 = balanced_clusters
    g1, g0 = m1.size, m0.size
    expected = (1 / g1 + 1 / g0) ** 2 / (1 / (g1**2 * (g1 - 1)) + 1 / (g0**2 * (g0 - 1)))
    res = ols(frame, "y", "arm", cluster="team")
    np.testing.assert_allclose(res.effect().df, expected, rtol=RTOL, err_msg="BM df")


def test_clustered_difference_in_means_is_ols_cr2(
    balanced_clusters: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    frame, _, _ = balanced_clusters
    a = difference_in_means(frame, "y", "arm", cluster="team").effect()
    b = ols(frame, "y", "arm", cluster="team").effect()
    for stat in ("estimate", "std_error", "df", "p_value"):
        np.testing.assert_allclose(getattr(a, stat), getattr(b, stat), rtol=RTOL, err_msg=stat)


def test_cr2_with_singleton_clusters_is_hc2() -> None:
    rng = np.random.default_rng(11)
    n = 60
    frame = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "arm": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
            "id": np.arange(n),
        }
    )
    cr2 = ols(frame, "y", "arm", covariates=["x"], cluster="id").effect()
    hc2 = ols(frame, "y", "arm", covariates=["x"]).effect()
    np.testing.assert_allclose(cr2.std_error, hc2.std_error, rtol=RTOL, err_msg="std_error")
