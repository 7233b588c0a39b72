"""Unit tests for effect sizes: Hedges' g for an effect, ANOVA ICC, total-variance g, Cox."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from trialkit._core.standardised import cox_index, hedges_g
from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.effect_sizes import (
    cox_index_for_effect,
    hedges_g_for_effect,
    hedges_g_total,
    icc_anova,
    pooled_sd,
)

TREATED = [2.0, 3.0, 4.0, 5.0, 7.0]
CONTROL = [1.0, 2.0, 3.0, 4.0]


def test_pooled_sd_by_hand() -> None:
    # s_t^2 = 3.7 (n 5), s_c^2 = 5/3 (n 4): pooled = (4*3.7 + 3*5/3) / 7 = 19.8 / 7.
    assert pooled_sd(TREATED, CONTROL) == pytest.approx(np.sqrt(19.8 / 7))


def test_g_for_raw_difference_equals_core_hedges_g() -> None:
    diff = float(np.mean(TREATED) - np.mean(CONTROL))
    assert hedges_g_for_effect(diff, TREATED, CONTROL) == pytest.approx(hedges_g(TREATED, CONTROL))


def test_g_for_effect_ignores_nan() -> None:
    got = hedges_g_for_effect(1.0, [*TREATED, np.nan], CONTROL)
    assert got == pytest.approx(hedges_g_for_effect(1.0, TREATED, CONTROL))


def test_pooled_sd_needs_two_per_arm() -> None:
    with pytest.raises(EstimationError, match="at least two values per arm"):
        pooled_sd([1.0], CONTROL)


def test_icc_unequal_clusters_exact() -> None:
    groups = [[1, 3], [4, 5, 6], [2, 2, 3, 5]]
    y = [v for grp in groups for v in grp]
    g = [j for j, grp in enumerate(groups) for _ in grp]
    # Exact rational arithmetic for the ANOVA table and Lessells-Boag n0.
    N, J = len(y), len(groups)
    grand = Fraction(sum(y), N)
    means = [Fraction(sum(grp), len(grp)) for grp in groups]
    ssb = sum(len(grp) * (m - grand) ** 2 for grp, m in zip(groups, means, strict=True))
    ssw = sum((v - m) ** 2 for grp, m in zip(groups, means, strict=True) for v in grp)
    msb, msw = ssb / (J - 1), ssw / (N - J)
    n0 = (N - Fraction(sum(len(grp) ** 2 for grp in groups), N)) / (J - 1)
    est = icc_anova(y, g)
    assert est.n0 == pytest.approx(float(n0), rel=1e-14), "n0"
    assert est.ms_between == pytest.approx(float(msb), rel=1e-14), "MSB"
    assert est.ms_within == pytest.approx(float(msw), rel=1e-14), "MSW"
    assert est.icc == pytest.approx(float((msb - msw) / (msb + (n0 - 1) * msw)), rel=1e-14)
    assert (est.df_between, est.df_within, est.n_obs, est.n_clusters) == (2, 6, 9, 3)


def test_icc_nested_in_arms_ignores_treatment_shift() -> None:
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(12), rng.integers(3, 9, size=12))
    arm = (g % 2).astype(int)
    y = rng.normal(size=12)[g] + rng.normal(size=g.size)
    base = icc_anova(y, g, arm=arm)
    shifted = icc_anova(y + 10.0 * arm, g, arm=arm)
    assert shifted.icc == pytest.approx(base.icc)
    assert base.df_between == 10
    assert icc_anova(y + 10.0 * arm, g).icc > 0.9  # ignoring arms, the shift looks like ICC


def test_icc_negative_keeps_sign_but_truncates_variance() -> None:
    est = icc_anova([1.0, 5.0, 1.0, 5.0, 1.0, 5.0], [0, 0, 1, 1, 2, 2])
    assert est.icc < 0
    assert est.between_variance == 0.0


def test_icc_drops_missing_outcomes() -> None:
    full = icc_anova([1.0, 2.0, 3.0, 5.0, 6.0, 7.0], [0, 0, 0, 1, 1, 1])
    with_nan = icc_anova([1.0, 2.0, 3.0, np.nan, 5.0, 6.0, 7.0], [0, 0, 0, 0, 1, 1, 1])
    assert with_nan.icc == pytest.approx(full.icc)


def test_icc_cluster_in_two_arms_rejected() -> None:
    with pytest.raises(EstimationError, match="more than one arm"):
        icc_anova([1.0, 2.0, 3.0, 4.0], [0, 0, 1, 1], arm=[0, 1, 1, 1])


def test_icc_needs_replication() -> None:
    with pytest.raises(EstimationError, match="more clusters than arms"):
        icc_anova([1.0, 2.0, 3.0], [0, 0, 0])


def test_total_variance_g_by_hand() -> None:
    # MSB = 24, MSW = 1, n0 = 3: sigma_b^2 = 23/3, total variance = 26/3.
    y, g = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0], [0, 0, 0, 1, 1, 1]
    assert hedges_g_total(2.0, y, g) == pytest.approx(2.0 / np.sqrt(26 / 3))
    omega = 1 - 3 / (4 * 6 - 9)
    assert hedges_g_total(2.0, y, g, small_sample=True) == pytest.approx(
        omega * 2 / np.sqrt(26 / 3)
    )


def test_cox_for_raw_difference_equals_core_cox_index() -> None:
    t = [1, 1, 0, 1, 0, 1, 1, 0]
    c = [0, 1, 0, 0, 1, 0, 0, 0, 0, 1]
    effect = float(np.mean(t) - np.mean(c))
    assert cox_index_for_effect(effect, c, n_treated=len(t)) == pytest.approx(cox_index(t, c))


def test_cox_for_effect_out_of_range() -> None:
    with pytest.raises(EstimationError, match="strictly between 0 and 1"):
        cox_index_for_effect(0.8, [0, 1, 0, 1], n_treated=4)


def test_icc_nested_in_arms_matches_exact_anova() -> None:
    """Between clusters about each arm's mean (df J - A), n0 summed over arms: exactly."""
    groups = {"a": [[1, 3], [4, 5, 6]], "b": [[2, 2, 3, 5], [7, 9], [6, 6, 8]]}
    y = [v for arm in groups.values() for grp in arm for v in grp]
    g = [f"{a}{j}" for a, arm in groups.items() for j, grp in enumerate(arm) for _ in grp]
    arms = [a for a, arm in groups.items() for grp in arm for _ in grp]
    all_groups = [grp for arm in groups.values() for grp in arm]
    N, J, A = len(y), len(all_groups), len(groups)
    ssb = Fraction(0)
    per_arm = Fraction(0)
    for arm in groups.values():
        arm_mean = Fraction(sum(sum(grp) for grp in arm), sum(len(grp) for grp in arm))
        ssb += sum(len(grp) * (Fraction(sum(grp), len(grp)) - arm_mean) ** 2 for grp in arm)
        per_arm += Fraction(sum(len(grp) ** 2 for grp in arm), sum(len(grp) for grp in arm))
    ssw = sum((v - Fraction(sum(grp), len(grp))) ** 2 for grp in all_groups for v in grp)
    msb, msw = ssb / (J - A), ssw / (N - J)
    n0 = (N - per_arm) / (J - A)
    est = icc_anova(y, g, arm=arms)
    assert (est.df_between, est.df_within, est.n_clusters) == (J - A, N - J, J)
    assert est.n0 == pytest.approx(float(n0), rel=1e-14)
    assert est.ms_between == pytest.approx(float(msb), rel=1e-14)
    assert est.ms_within == pytest.approx(float(msw), rel=1e-14)
    assert est.icc == pytest.approx(float((msb - msw) / (msb + (n0 - 1) * msw)), rel=1e-14)
