"""Lee (2009) analytic standard errors match the sampling SD of the bounds (simulation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist.bounds import lee_bounds


@pytest.mark.slow
def test_analytic_se_matches_monte_carlo_sd() -> None:
    rng = np.random.default_rng(0)
    lows, highs, se_lows, se_highs = [], [], [], []
    for _ in range(400):
        n = 1000
        t = rng.integers(0, 2, size=n)
        y = rng.normal(size=n) + 0.3 * t
        observed = rng.uniform(size=n) < np.where(t == 1, 0.85, 0.7)
        df = pd.DataFrame({"t": t, "y": np.where(observed, y, np.nan)})
        b = lee_bounds(df, outcome="y", treatment="t")
        lows.append(b.lower)
        highs.append(b.upper)
        se_lows.append(b.se_lower)
        se_highs.append(b.se_upper)
    # Monte Carlo error of an SD from 400 draws is about 3.5%; allow 12%.
    assert np.mean(se_lows) == pytest.approx(np.std(lows), rel=0.12), "SE of lower bound"
    assert np.mean(se_highs) == pytest.approx(np.std(highs), rel=0.12), "SE of upper bound"
