"""ICC against a published example and statsmodels' MixedLM (REML) on simulated data.

Published example: Shrout & Fleiss (1979), "Intraclass correlations: uses in assessing
rater reliability", Psychological Bulletin 86(2):420-428, Table 2 (6 targets x 4 judges;
the same matrix is the ``sf`` example of R's psych::ICC). Their one-way ANOVA (Table 3)
has BMS = 11.24, WMS = 6.26, and Table 4 reports ICC(1,1) = .17.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from trialkit.estimate.frequentist.effect_sizes import hedges_g_total, icc_anova

SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def test_shrout_fleiss_one_way_icc() -> None:
    est = icc_anova(SHROUT_FLEISS.ravel(), np.repeat(np.arange(6), 4))
    assert round(est.ms_between, 2) == 11.24, "BMS (Shrout & Fleiss Table 3)"
    assert round(est.ms_within, 2) == 6.26, "WMS (Shrout & Fleiss Table 3)"
    assert round(est.icc, 2) == 0.17, "ICC(1,1) (Shrout & Fleiss Table 4)"


def _simulate(seed: int, sizes: np.ndarray, effect: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    J = sizes.size
    g = np.repeat(np.arange(J), sizes)
    arm = (np.arange(J) % 2)[g]
    y = 0.6 * rng.normal(size=J)[g] + rng.normal(size=g.size) + effect * arm
    return pd.DataFrame({"y": y, "g": g, "arm": arm})


def _reml(df: pd.DataFrame) -> tuple[float, float]:
    fit = smf.mixedlm("y ~ arm", df, groups=df["g"]).fit(reml=True)
    return float(fit.cov_re.iloc[0, 0]), float(fit.scale)


def test_balanced_matches_mixedlm_reml() -> None:
    # With balanced clusters and a positive estimate, ANOVA = REML exactly.
    df = _simulate(5, np.full(30, 8))
    between, within = _reml(df)
    est = icc_anova(df["y"], df["g"], arm=df["arm"])
    assert est.between_variance == pytest.approx(between, rel=1e-3), "between-cluster variance"
    assert est.within_variance == pytest.approx(within, rel=1e-3), "within-cluster variance"
    g = hedges_g_total(0.5, df["y"], df["g"], arm=df["arm"])
    assert g == pytest.approx(0.5 / np.sqrt(between + within), rel=1e-3), "total-variance g"


def test_unbalanced_close_to_mixedlm_reml() -> None:
    # Unequal clusters: ANOVA (n0) and REML differ, but only slightly at this size.
    sizes = np.random.default_rng(1).integers(3, 25, size=40)
    df = _simulate(6, sizes)
    between, within = _reml(df)
    est = icc_anova(df["y"], df["g"], arm=df["arm"])
    assert est.icc == pytest.approx(between / (between + within), abs=0.03), "ICC"
    assert est.within_variance == pytest.approx(within, rel=0.02), "within-cluster variance"
