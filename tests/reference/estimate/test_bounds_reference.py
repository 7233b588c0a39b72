"""Lee bounds against Stata ``leebounds`` output and a brute-force search.

Stata: the J-PAL/IPA Stata exercise on Thornton (2008, AER) "The demand for, and impact
of, learning HIV status" runs ``leebounds anycond treatment`` on HIV-positive
respondents who had sex (N = 122, 52 selected) and prints: trimming proportion 0.0278,
lower .2122449 (SE .2209034, 95% CI -.2207179 to .6452076), upper .2408163 (SE
.1947452, CI -.1408773 to .62251). The outcome is 0/1, so the cell counts identify
the data; they follow from the same document's Manski-bound regressions (treated: 70
with a follow-up record, 28 of them unobserved, 18 ones among the 42 observed;
control: 18, 8 unobserved, 2 ones among 10) plus N = 122 and p = 0.0278, which leave
98 treated and 24 control units.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist.bounds import lee_bounds


def _arm(n: int, observed: int, ones: int) -> list[float]:
    return [1.0] * ones + [0.0] * (observed - ones) + [np.nan] * (n - observed)


THORNTON = pd.DataFrame(
    {"treatment": [1] * 98 + [0] * 24, "anycond": _arm(98, 42, 18) + _arm(24, 10, 2)}
)


def test_stata_leebounds_thornton_example() -> None:
    b = lee_bounds(THORNTON, outcome="anycond", treatment="treatment")
    assert (b.n_obs, b.n_selected) == (122, 52)
    assert round(b.trimming_proportion, 4) == 0.0278, "trimming proportion"
    assert b.lower == pytest.approx(0.2122449, abs=5e-8), "lower bound"
    assert b.upper == pytest.approx(0.2408163, abs=5e-8), "upper bound"
    assert b.se_lower == pytest.approx(0.2209034, abs=5e-8), "SE of lower bound"
    assert b.se_upper == pytest.approx(0.1947452, abs=5e-8), "SE of upper bound"
    frame = b.to_frame().set_index("term")
    assert frame.loc["lower", "ci_low"] == pytest.approx(-0.2207179, abs=5e-7), "lower CI low"
    assert frame.loc["lower", "ci_high"] == pytest.approx(0.6452076, abs=5e-7), "lower CI high"
    assert frame.loc["upper", "ci_low"] == pytest.approx(-0.1408773, abs=5e-7), "upper CI low"
    assert frame.loc["upper", "ci_high"] == pytest.approx(0.62251, abs=5e-6), "upper CI high"


def _brute_force(df: pd.DataFrame) -> tuple[float, float]:
    """Min and max of the effect over every way of dropping the excess observed units."""
    obs = df[df["y"].notna()]
    q = df.assign(s=df["y"].notna()).groupby("t")["s"].mean()
    more = 1 if q[1] >= q[0] else 0
    p = (q.max() - q.min()) / q.max()
    trimmed = obs.loc[obs["t"] == more, "y"].to_numpy()
    other_mean = obs.loc[obs["t"] != more, "y"].mean()
    drop = round(p * trimmed.size)
    assert abs(drop - p * trimmed.size) < 1e-9, "test data must trim whole units"
    sign = 1.0 if more == 1 else -1.0
    effects = [
        sign * (np.mean(np.delete(trimmed, list(idx))) - other_mean)
        for idx in itertools.combinations(range(trimmed.size), drop)
    ]
    return min(effects), max(effects)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("more_observed", [1, 0])
def test_matches_brute_force(seed: int, more_observed: int) -> None:
    rng = np.random.default_rng(seed)
    # 12 units per arm; 10 vs 8 observed, so p = 0.2 and exactly 2 units are trimmed.
    n_obs = {more_observed: 10, 1 - more_observed: 8}
    rows = []
    for arm in (0, 1):
        y = rng.normal(size=12) + 0.5 * arm
        y[n_obs[arm] :] = np.nan
        rows += [{"t": arm, "y": v} for v in y]
    df = pd.DataFrame(rows)
    b = lee_bounds(df, outcome="y", treatment="t")
    lo, hi = _brute_force(df)
    assert b.lower == pytest.approx(lo, abs=1e-12), "lower bound"
    assert b.upper == pytest.approx(hi, abs=1e-12), "upper bound"
