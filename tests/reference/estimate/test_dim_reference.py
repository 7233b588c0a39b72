"""difference_in_means against scipy and closed forms, design by design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialkit.estimate import difference_in_means, lin, ols

RTOL = 1e-10


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 120
    block = np.repeat(np.arange(6), 20)
    arm = np.concatenate(
        [rng.permutation(np.r_[np.ones(8 + b), np.zeros(12 - b)]) for b in range(6)]
    )
    y = 0.5 * arm + block * 0.3 + rng.normal(0, 1 + arm, n)
    return pd.DataFrame({"y": y, "arm": arm.astype(int), "block": block})


def test_welch_matches_scipy(frame: pd.DataFrame) -> None:
    res = difference_in_means(frame, "y", "arm").effect()
    y1, y0 = frame.y[frame.arm == 1], frame.y[frame.arm == 0]
    ref = stats.ttest_ind(y1, y0, equal_var=False)
    np.testing.assert_allclose(res.statistic, ref.statistic, rtol=RTOL, err_msg="statistic")
    np.testing.assert_allclose(res.p_value, ref.pvalue, rtol=1e-8, err_msg="p_value")
    np.testing.assert_allclose(res.df, ref.df, rtol=RTOL, err_msg="Welch df")


def test_welch_se_equals_hc2(frame: pd.DataFrame) -> None:
    """HC2 for y ~ 1 + arm is the Neyman variance (Samii & Aronow 2012)."""
    a = difference_in_means(frame, "y", "arm").effect()
    b = ols(frame, "y", "arm").effect()
    np.testing.assert_allclose(a.std_error, b.std_error, rtol=RTOL, err_msg="std_error")


def test_blocked_closed_form(frame: pd.DataFrame) -> None:
    res = difference_in_means(frame, "y", "arm", blocks="block").effect()
    est, var, n = 0.0, 0.0, len(frame)
    for _, b in frame.groupby("block"):
        y1, y0 = b.y[b.arm == 1], b.y[b.arm == 0]
        est += len(b) / n * (y1.mean() - y0.mean())
        var += (len(b) / n) ** 2 * (y1.var() / y1.size + y0.var() / y0.size)
    np.testing.assert_allclose(res.estimate, est, rtol=RTOL, err_msg="estimate")
    np.testing.assert_allclose(res.std_error, np.sqrt(var), rtol=RTOL, err_msg="std_error")
    assert res.df == n - 2 * 6, "blocked df = N - 2J"


def test_blocked_estimate_equals_lin_with_block_dummies(frame: pd.DataFrame) -> None:
    a = difference_in_means(frame, "y", "arm", blocks="block").effect()
    b = lin(frame, "y", "arm", blocks="block").effect()
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=RTOL, err_msg="estimate")


def test_matched_pairs_match_paired_t_test() -> None:
    rng = np.random.default_rng(5)
    j = 15
    pair = np.repeat(np.arange(j), 2)
    arm = np.concatenate([rng.permutation([0, 1]) for _ in range(j)])
    y = rng.normal(size=j)[pair] + 0.4 * arm + rng.normal(size=2 * j)
    frame = pd.DataFrame({"y": y, "arm": arm, "pair": pair}).sort_values(["pair", "arm"])
    res = difference_in_means(frame, "y", "arm", blocks="pair").effect()
    ref = stats.ttest_rel(frame.y[frame.arm == 1].to_numpy(), frame.y[frame.arm == 0].to_numpy())
    np.testing.assert_allclose(res.statistic, ref.statistic, rtol=RTOL, err_msg="statistic")
    np.testing.assert_allclose(res.p_value, ref.pvalue, rtol=1e-8, err_msg="p_value")
    assert res.df == j - 1, "matched-pair df = J - 1"


def test_matched_pair_clusters_imai_king_nall() -> None:
    rng = np.random.default_rng(9)
    j = 10
    sizes = rng.integers(3, 9, 2 * j)
    cluster = np.repeat(np.arange(2 * j), sizes)
    pair = cluster // 2
    arm_c = np.concatenate([rng.permutation([0, 1]) for _ in range(j)])
    y = rng.normal(size=cluster.size) + 0.5 * arm_c[cluster]
    frame = pd.DataFrame({"y": y, "arm": arm_c[cluster], "team": cluster, "pair": pair})
    res = difference_in_means(frame, "y", "arm", blocks="pair", cluster="team").effect()
    n = len(frame)
    n_j = frame.groupby("pair").size().to_numpy()
    d = np.array(
        [g.y[g.arm == 1].mean() - g.y[g.arm == 0].mean() for _, g in frame.groupby("pair")]
    )
    est = np.sum(n_j / n * d)
    var = j / ((j - 1) * n**2) * np.sum((n_j * d - n * est / j) ** 2)
    np.testing.assert_allclose(res.estimate, est, rtol=RTOL, err_msg="estimate")
    np.testing.assert_allclose(res.std_error, np.sqrt(var), rtol=RTOL, err_msg="std_error")
    assert res.df == j - 1, "df = J - 1"


def test_block_clustered_combines_cr2_per_block() -> None:
    rng = np.random.default_rng(13)
    frames = []
    for b in range(4):
        g = 8
        arm = rng.permutation(np.r_[np.ones(4), np.zeros(4)])
        cl = np.repeat(np.arange(g), rng.integers(2, 6, g))
        y = rng.normal(size=cl.size) + arm[cl] * 0.2 + rng.normal(size=g)[cl]
        frames.append(
            pd.DataFrame({"y": y, "arm": arm[cl].astype(int), "team": cl + 100 * b, "block": b})
        )
    frame = pd.concat(frames, ignore_index=True)
    res = difference_in_means(frame, "y", "arm", blocks="block", cluster="team").effect()
    n = len(frame)
    var = sum(
        (len(g) / n) ** 2 * ols(g, "y", "arm", cluster="team").effect().std_error ** 2
        for _, g in frame.groupby("block")
    )
    np.testing.assert_allclose(res.std_error, np.sqrt(var), rtol=RTOL, err_msg="std_error")
    assert res.df == frame.team.nunique() - 2 * 4, "df = S - 2J"


def test_weighted_difference_in_means_is_wls_hc2(frame: pd.DataFrame) -> None:
    frame = frame.assign(w=np.linspace(0.5, 2.0, len(frame)))
    a = difference_in_means(frame, "y", "arm", weights="w").effect()
    b = ols(frame, "y", "arm", weights="w").effect()
    np.testing.assert_allclose(a.std_error, b.std_error, rtol=RTOL, err_msg="std_error")
