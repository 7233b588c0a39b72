"""Unit tests for Lee (2009) bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.bounds import lee_bounds


@pytest.fixture
def small() -> pd.DataFrame:
    # Treated: 4 of 5 observed; control: 3 of 5 observed; p = (0.8 - 0.6) / 0.8 = 0.25.
    return pd.DataFrame({"t": [1] * 5 + [0] * 5, "y": [1.0, 2, 3, 4, None, 1, 2, 3, None, None]})


def _simulate(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, size=n)
    y = rng.normal(size=n) + 0.3 * t
    observed = rng.uniform(size=n) < np.where(t == 1, 0.85, 0.7)
    return pd.DataFrame({"t": t, "y": np.where(observed, y, np.nan)})


def test_small_by_hand(small: pd.DataFrame) -> None:
    b = lee_bounds(small, outcome="y", treatment="t")
    assert b.trimming_proportion == pytest.approx(0.25)
    assert b.trimmed_arm == "treatment"
    assert b.lower == pytest.approx(np.mean([1, 2, 3]) - 2.0)  # drop the top treated value
    assert b.upper == pytest.approx(np.mean([2, 3, 4]) - 2.0)  # drop the bottom one
    assert (b.n_obs, b.n_selected) == (10, 7)


def test_fractional_trimming_at_ties() -> None:
    # Treated: 6 observed of 8 (0/1 outcome), control: 3 of 5; p = 1 - 0.6 / 0.75 = 0.2.
    df = pd.DataFrame(
        {
            "t": [1] * 8 + [0] * 5,
            "y": [1, 1, 1, 0, 0, 0, None, None, 1, 0, 0, None, None],
        }
    )
    b = lee_bounds(df, outcome="y", treatment="t")
    keep = 6 * 0.8  # 4.8 of the 6 treated values are kept
    assert b.lower == pytest.approx((3 - 1.2) / keep - 1 / 3)
    assert b.upper == pytest.approx(3 / keep - 1 / 3)


def test_control_trimmed_mirrors_treatment_trimmed() -> None:
    df = _simulate(1)
    mirror = df.assign(t=1 - df["t"], y=-df["y"])
    b, m = (
        lee_bounds(df, outcome="y", treatment="t"),
        lee_bounds(mirror, outcome="y", treatment="t"),
    )
    assert (b.trimmed_arm, m.trimmed_arm) == ("treatment", "control")
    assert m.lower == pytest.approx(b.lower) and m.upper == pytest.approx(b.upper)
    assert m.se_lower == pytest.approx(b.se_lower) and m.se_upper == pytest.approx(b.se_upper)


def test_equal_selection_gives_point() -> None:
    df = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "y": [1.0, 3.0, None, 0.0, 1.0, None]})
    b = lee_bounds(df, outcome="y", treatment="t")
    assert b.trimming_proportion == 0.0
    assert b.lower == pytest.approx(1.5) and b.upper == pytest.approx(1.5)


def test_selected_column_equals_default(small: pd.DataFrame) -> None:
    with_sel = small.assign(s=small["y"].notna().astype(int), y=small["y"].fillna(-99.0))
    a = lee_bounds(small, outcome="y", treatment="t")
    b = lee_bounds(with_sel, outcome="y", treatment="t", selected="s")
    assert (a.lower, a.upper, a.se_lower) == pytest.approx((b.lower, b.upper, b.se_lower))


def test_ci_contains_bounds_and_to_frame() -> None:
    b = lee_bounds(_simulate(2), outcome="y", treatment="t")
    assert b.ci_low < b.lower <= b.upper < b.ci_high
    frame = b.to_frame()
    assert list(frame["term"]) == ["lower", "upper"]
    assert {"estimate", "std_error", "ci_low", "ci_high", "trimming_proportion"} <= set(frame)


def test_bootstrap_deterministic_and_close_to_analytic() -> None:
    df = _simulate(3, n=3000)
    a = lee_bounds(df, outcome="y", treatment="t")
    b1 = lee_bounds(df, outcome="y", treatment="t", se_type="bootstrap", n_bootstrap=150,
                    rng=np.random.default_rng(9))  # fmt: skip
    b2 = lee_bounds(df, outcome="y", treatment="t", se_type="bootstrap", n_bootstrap=150,
                    rng=np.random.default_rng(9))  # fmt: skip
    assert b1.se_lower == b2.se_lower
    assert b1.se_lower == pytest.approx(a.se_lower, rel=0.25), "bootstrap vs analytic SE (lower)"
    assert b1.se_upper == pytest.approx(a.se_upper, rel=0.25), "bootstrap vs analytic SE (upper)"
    assert b1.lower == a.lower


def test_bootstrap_needs_rng(small: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="needs rng"):
        lee_bounds(small, outcome="y", treatment="t", se_type="bootstrap")


def test_bad_se_type(small: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="'se_type' parameter of lee_bounds"):
        lee_bounds(small, outcome="y", treatment="t", se_type="HC2")  # type: ignore[arg-type]


def test_non_binary_treatment(small: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="must be 0/1"):
        lee_bounds(small.assign(t=small["t"] * 2), outcome="y", treatment="t")


def test_no_attrition() -> None:
    df = pd.DataFrame({"t": [1, 1, 0, 0], "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(EstimationError, match="need attrition"):
        lee_bounds(df, outcome="y", treatment="t")


def test_arm_with_too_few_outcomes() -> None:
    df = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "y": [1.0, 2.0, 3.0, 4.0, None, None]})
    with pytest.raises(EstimationError, match="control arm has fewer than two"):
        lee_bounds(df, outcome="y", treatment="t")


def test_missing_column(small: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match=r"Columns \['z'\]"):
        lee_bounds(small, outcome="z", treatment="t")


def test_imbens_manski_critical_value() -> None:
    from scipy import stats

    from trialkit.estimate.frequentist.bounds import _imbens_manski

    assert _imbens_manski(0.0, 0.0, 1.0, 1.0, 0.95) == pytest.approx(stats.norm.ppf(0.975))
    assert _imbens_manski(0.0, 50.0, 1.0, 1.0, 0.95) == pytest.approx(stats.norm.ppf(0.95))
    c = _imbens_manski(0.0, 1.0, 0.5, 0.8, 0.9)
    lhs = stats.norm.cdf(c + 1.0 / 0.8) - stats.norm.cdf(-c)
    assert lhs == pytest.approx(0.9), "Imbens-Manski equation"
    b = lee_bounds(_simulate(4), outcome="y", treatment="t")
    c = _imbens_manski(b.lower, b.upper, b.se_lower, b.se_upper, 0.95)
    assert b.ci_low == pytest.approx(b.lower - c * b.se_lower)
    assert b.ci_high == pytest.approx(b.upper + c * b.se_upper)
