"""Two-proportion power with the pooled null variance (Fleiss) against statsmodels and R.

statsmodels' ``power_proportions_2indep`` pools the proportion under the null
(``p̄ = (n₁p₁ + n₂p₂)/(n₁ + n₂)``) and uses the unpooled variance under the alternative,
as Fleiss, Levin & Paik (2003, §4.2, before the continuity correction) and R's
``power.prop.test`` do. R's help page examples give the published numbers:
``power.prop.test(n = 50, p1 = .50, p2 = .75)`` has power 0.7401659 and
``power.prop.test(p1 = .50, p2 = .75, power = .90)`` needs n = 76.7 per group. R counts
only the upper tail (``strict = FALSE``); the lower adds 1.3e-6 here.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import power_proportions_2indep

from trialkit.design import BinaryOutcome, solve_cluster, solve_individual


@pytest.mark.parametrize(
    ("p_c", "diff", "n", "share"),
    [
        (0.5, 0.25, 100, 0.5),
        (0.2, 0.1, 600, 0.5),
        (0.3, -0.12, 450, 2 / 3),
        (0.05, 0.04, 2000, 0.25),
    ],
)
def test_pooled_power_matches_statsmodels(p_c: float, diff: float, n: int, share: float) -> None:
    n_t = n * share
    ref = power_proportions_2indep(diff, p_c, n_t, ratio=(1 - share) / share, alpha=0.05)
    got = solve_individual(
        diff, n=n, treated_share=share, outcome=BinaryOutcome(p_c, method="pooled")
    )
    assert got.power == pytest.approx(ref.power, abs=1e-12), "pooled power"
    assert got.std_error == pytest.approx(ref.std_alt / np.sqrt(n_t), rel=1e-12), "alt SE"
    assert got.binary_method == "pooled"


def test_pooled_mde_inverts_power() -> None:
    outcome = BinaryOutcome(0.3, method="pooled", direction="decrease")
    mde = solve_individual(n=500, power=0.8, outcome=outcome)
    ref = power_proportions_2indep(mde.effect, 0.3, 250, alpha=0.05)
    assert ref.power == pytest.approx(0.8, abs=1e-8), "power at the pooled MDE"
    assert mde.effect < 0


def test_pooled_multiplier_mde_is_fleiss_closed_form() -> None:
    """Bloom-style: |Δ| = z_{α/2} σ₀ + z_power σ₁, solved for Δ by the closed form."""
    outcome = BinaryOutcome(0.4, method="pooled")
    got = solve_individual(n=300, power=0.8, outcome=outcome, mde_method="multiplier")
    p_t, n_arm = 0.4 + got.effect, 150
    p_bar = (p_t + 0.4) / 2
    s0 = np.sqrt(2 * p_bar * (1 - p_bar) / n_arm)
    s1 = np.sqrt((p_t * (1 - p_t) + 0.4 * 0.6) / n_arm)
    z = stats.norm.isf(0.025) * s0 + stats.norm.ppf(0.8) * s1
    assert got.effect == pytest.approx(z, abs=1e-9), "multiplier MDE"


def test_r_power_prop_test_examples() -> None:
    got = solve_individual(0.25, n=100, outcome=BinaryOutcome(0.5, method="pooled"))
    assert got.power == pytest.approx(0.7401659, abs=2e-6), "R: n = 50 per group"
    n = solve_individual(0.25, power=0.9, outcome=BinaryOutcome(0.5, method="pooled"))
    assert n.size_exact is not None
    assert n.size_exact / 2 == pytest.approx(76.7, abs=0.05), "R: n per group at 90% power"
    assert n.n_units == 154


def test_pooled_lies_between_where_it_should() -> None:
    """From 0.1 to 0.2: 2 p̄(1 − p̄) = 0.255 exceeds p_t(1 − p_t) + p_c(1 − p_c) = 0.25, so
    the pooled null is wider and the pooled test has less power than the unpooled one."""
    pooled = solve_individual(0.1, n=400, outcome=BinaryOutcome(0.1, method="pooled"))
    unpooled = solve_individual(0.1, n=400, outcome=BinaryOutcome(0.1, method="unpooled"))
    assert pooled.power < unpooled.power
    assert pooled.std_error == pytest.approx(unpooled.std_error, rel=1e-12)


def test_cluster_design_scales_both_variances_by_the_design_effect() -> None:
    """Normal reference: power is statsmodels' at the effective sample size n / DE."""
    icc, m, clusters = 0.05, 20, 40
    got = solve_cluster(
        0.1,
        clusters=clusters,
        cluster_size=m,
        icc=icc,
        dist="normal",
        outcome=BinaryOutcome(0.3, method="pooled"),
    )
    de = 1 + (m - 1) * icc
    ref = power_proportions_2indep(0.1, 0.3, clusters * m / 2 / de, alpha=0.05)
    assert got.power == pytest.approx(ref.power, abs=1e-12), "cluster pooled power"
