"""The ICC's confidence interval: Searle's F-based limits, against independent computations.

* Published: R's ``psych::ICC`` on Shrout & Fleiss's (1979) Table 2 matrix (its ``sf``
  example) prints ICC1 = 0.17 with F = 1.8 and 95% limits −0.13 and 0.72.
* The limits from statsmodels' ANOVA mean squares and scipy's F quantiles (``ICC::ICCest``'s
  ``THD`` formulas), with clusters of unequal size and nested in arms, to 1e-12.
* The pivot: for equal clusters ``F (1 − ρ)/(1 + (n − 1)ρ)`` is ``F(df_b, df_w)``, so at
  each limit it equals the F quantile it was built from (an identity, to 1e-10), and the
  interval covers the true ICC at its level (slow simulation, 2,000 data sets).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.effect_sizes import icc_anova

SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def test_psych_icc1_interval_on_shrout_fleiss() -> None:
    est = icc_anova(SHROUT_FLEISS.ravel(), np.repeat(np.arange(6), 4))
    assert round(est.ms_between / est.ms_within, 1) == 1.8, "F (psych::ICC)"
    assert round(est.ci_low, 2) == -0.13, "lower limit (psych::ICC)"
    assert round(est.ci_high, 2) == 0.72, "upper limit (psych::ICC)"


def _data(seed: int, sizes: np.ndarray, nested: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(sizes.size), sizes)
    arm = (np.arange(sizes.size) % 2)[g] if nested else np.zeros(g.size, dtype=int)
    y = 0.5 * rng.normal(size=sizes.size)[g] + rng.normal(size=g.size) + 0.8 * arm
    return pd.DataFrame({"y": y, "g": g, "arm": arm})


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("level", [0.95, 0.8])
def test_limits_from_statsmodels_anova(nested: bool, level: float) -> None:
    sizes = np.array([3, 7, 2, 9, 5, 4, 6, 8, 2, 5, 10, 3])
    df = _data(11, sizes, nested)
    # Between clusters within arms: RSS of the arm-only model minus that of the cluster
    # model (clusters are nested in arms, so the latter contains the former).
    full = smf.ols("y ~ C(g)", data=df).fit()
    reduced = smf.ols("y ~ C(arm)" if nested else "y ~ 1", data=df).fit()
    table = sm.stats.anova_lm(reduced, full)
    df_b, df_w = table["df_diff"].iloc[1], full.df_resid
    msb, msw = table["ss_diff"].iloc[1] / df_b, full.ssr / df_w
    # Lessells & Boag's n0 (per arm when nested), written out from the sizes.
    arms = (np.arange(sizes.size) % 2) if nested else np.zeros(sizes.size, dtype=int)
    n0 = (
        sizes.sum()
        - sum((sizes[arms == a] ** 2).sum() / sizes[arms == a].sum() for a in np.unique(arms))
    ) / df_b
    f = msb / msw
    q = 0.5 + level / 2
    f_low, f_high = f / stats.f.ppf(q, df_b, df_w), f * stats.f.ppf(q, df_w, df_b)
    est = icc_anova(df["y"], df["g"], arm=df["arm"] if nested else None, ci_level=level)
    assert est.ci_low == pytest.approx((f_low - 1) / (f_low + n0 - 1), rel=1e-12), "lower"
    assert est.ci_high == pytest.approx((f_high - 1) / (f_high + n0 - 1), rel=1e-12), "upper"
    assert est.ci_level == level
    assert est.ci_low < est.icc < est.ci_high


def test_balanced_limits_solve_the_f_pivot() -> None:
    n, clusters = 6, 15
    df = _data(3, np.full(clusters, n), nested=False)
    est = icc_anova(df["y"], df["g"], ci_level=0.9)
    f = est.ms_between / est.ms_within

    def pivot(rho: float) -> float:
        return f * (1 - rho) / (1 + (n - 1) * rho)

    df_b, df_w = clusters - 1, clusters * (n - 1)
    assert pivot(est.ci_low) == pytest.approx(stats.f.ppf(0.95, df_b, df_w), rel=1e-10)
    assert pivot(est.ci_high) == pytest.approx(stats.f.ppf(0.05, df_b, df_w), rel=1e-10)


def test_bad_level_is_refused() -> None:
    with pytest.raises(EstimationError, match=r"'ci_level' parameter of icc_anova .* Got 1\.5"):
        icc_anova([1.0, 2, 3, 4], ["a", "a", "b", "b"], ci_level=1.5)


@pytest.mark.slow
@pytest.mark.parametrize("unequal", [False, True])
def test_interval_covers_the_true_icc(unequal: bool) -> None:
    """Exact for equal clusters; Thomas & Hultquist's approximation for unequal ones."""
    rng = np.random.default_rng(2026)
    rho, reps, hits = 0.1, 2000, 0
    sizes = np.array([4, 12, 6, 20, 8, 5, 15, 10, 3, 17]) if unequal else np.full(10, 10)
    g = np.repeat(np.arange(sizes.size), sizes)
    for _ in range(reps):
        y = np.sqrt(rho) * rng.normal(size=sizes.size)[g] + np.sqrt(1 - rho) * rng.normal(
            size=g.size
        )
        est = icc_anova(y, g)
        hits += est.ci_low <= rho <= est.ci_high
    coverage = hits / reps
    assert abs(coverage - 0.95) < 0.015, f"coverage {coverage:.3f} (unequal={unequal})"
