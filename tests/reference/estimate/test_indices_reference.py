"""Anderson's index against a direct transcription of Anderson (2008), section 3.1.

For unit i with outcomes available in K_i, Anderson's equation is
s_i = (sum_{j in K_i} sum_k w_jk)^-1 sum_{j in K_i} (sum_k w_jk) y~_ij, with w the
inverse covariance matrix of the control-standardised, oriented outcomes; without
missing data this is (1' S^-1 1)^-1 (1' S^-1 y~_i).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialkit.estimate.frequentist.indices import anderson_index, klk_index
from trialkit.protocol.vocabulary import Direction


def _simulate(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, size=n)
    cov = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.2], [-0.3, 0.2, 0.5]])
    y = rng.multivariate_normal([0.0, 1.0, 5.0], cov, size=n) + 0.3 * t[:, None]
    return pd.DataFrame({"t": t, "y1": y[:, 0], "y2": y[:, 1], "y3": y[:, 2]})


DIRS: dict[str, Direction] = {
    "y1": "higher_is_better",
    "y2": "higher_is_better",
    "y3": "lower_is_better",
}
OUTS = ["y1", "y2", "y3"]


def _transcription(df: pd.DataFrame) -> np.ndarray:
    ctrl = df[df["t"] == 0]
    ytil = np.column_stack(
        [
            (df[o] - ctrl[o].mean()) / ctrl[o].std(ddof=1) * (1 if DIRS[o][0] == "h" else -1)
            for o in OUTS
        ]
    )
    S = pd.DataFrame(ytil).cov().to_numpy()  # pairwise complete, ddof = 1
    W = np.linalg.inv(S)
    one = np.ones(len(OUTS))
    out = np.full(len(df), np.nan)
    for i in range(len(df)):
        K = ~np.isnan(ytil[i])
        if not K.any():
            continue
        if K.all():
            out[i] = (one @ W @ ytil[i]) / (one @ W @ one)
        else:
            rows = W[K].sum(axis=1)
            out[i] = rows @ ytil[i, K] / rows.sum()
    return out


def test_anderson_matches_transcription_complete() -> None:
    df = _simulate(11)
    got = anderson_index(df, OUTS, directions=DIRS, treatment="t")
    np.testing.assert_allclose(got, _transcription(df), rtol=1e-12, err_msg="Anderson index")


def test_anderson_matches_transcription_with_missing() -> None:
    df = _simulate(12)
    rng = np.random.default_rng(0)
    for o in OUTS:
        df.loc[rng.uniform(size=len(df)) < 0.15, o] = np.nan
    got = anderson_index(df, OUTS, directions=DIRS, treatment="t")
    np.testing.assert_allclose(got, _transcription(df), rtol=1e-12, err_msg="Anderson index")


def test_klk_equals_mean_z_without_missing() -> None:
    df = _simulate(13)
    ctrl = df[df["t"] == 0]
    z = [(df[o] - ctrl[o].mean()) / ctrl[o].std() * (1 if DIRS[o][0] == "h" else -1) for o in OUTS]
    got = klk_index(df, OUTS, directions=DIRS, treatment="t")
    np.testing.assert_allclose(got, np.mean(z, axis=0), rtol=1e-12, err_msg="KLK index")
