"""Subgroup effects and the interaction Wald test against statsmodels with HC2.

statsmodels' OLS on ``y ~ t * C(g) + x`` with ``cov_type="HC2", use_t=True`` gives the
same coefficients and HC2 covariance; each level's effect is a linear contrast and the
heterogeneity test is ``wald_test`` on the interaction terms (F with N − K df).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from trialkit.estimate.frequentist.subgroups import subgroup_effects


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    n = 300
    t = rng.integers(0, 2, size=n)
    g = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    x = rng.normal(size=n)
    noise = rng.normal(size=n) * np.where(g == "c", 2.0, 1.0)
    y = 1 + 0.5 * t + 0.6 * t * (g == "b") + 0.3 * x + noise
    return pd.DataFrame({"y": y, "t": t, "g": g, "x": x})


def test_matches_statsmodels_hc2() -> None:
    df = _data()
    ours = subgroup_effects(df, "y", "t", "g", covariates=["x"], se_type="HC2")
    sm = smf.ols("y ~ t * C(g) + x", data=df).fit(cov_type="HC2", use_t=True)
    names = list(sm.params.index)
    inter = [n for n in names if n.startswith("t:")]
    for row, level in zip(ours.rows, ours.levels, strict=True):
        r = np.zeros(len(names))
        r[names.index("t")] = 1.0
        if level != "a":
            r[names.index(f"t:C(g)[T.{level}]")] = 1.0
        tt = sm.t_test(r)
        assert row.estimate == pytest.approx(float(tt.effect[0]), rel=1e-10), f"effect {level}"
        assert row.std_error == pytest.approx(float(tt.sd[0, 0]), rel=1e-10), f"SE {level}"
        assert row.df == pytest.approx(sm.df_resid), f"df {level}"
        assert row.p_value == pytest.approx(float(tt.pvalue), rel=1e-8), f"p {level}"
    R = np.zeros((len(inter), len(names)))
    for i, name in enumerate(inter):
        R[i, names.index(name)] = 1.0
    chi2 = sm.wald_test(R, use_f=False, scalar=True)
    f = sm.wald_test(R, use_f=True, scalar=True)
    h = ours.heterogeneity
    assert h.wald == pytest.approx(float(chi2.statistic), rel=1e-10), "Wald statistic"
    assert h.statistic == pytest.approx(float(f.statistic), rel=1e-10), "F statistic"
    assert h.df_num == f.df_num, "F numerator df"
    assert h.df_denom == pytest.approx(f.df_denom), "F denominator df"
    assert h.p_value == pytest.approx(float(f.pvalue), rel=1e-8), "F p-value"
