"""Published worked examples and independent closed forms, each cited where it is used."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from trialkit.design import (
    ContinuousOutcome,
    hussey_hughes_variance,
    solve_cluster,
    solve_individual,
    solve_stepped_wedge,
)
from trialkit.design._engine import dunnett_critical, multiplier
from trialkit.design.stepped_wedge import standard_design


def test_bloom_multiplier_large_df() -> None:
    # Bloom (1995), Evaluation Review 19(5):547-556: two-tailed alpha 0.05, power 0.80,
    # the MDE is 2.80 standard errors for large df (2.49 one-tailed).
    assert multiplier(0.8, 0.05, None) == pytest.approx(2.80, abs=0.005), "M two-tailed"


def test_powerup_ira1r1_cross_check() -> None:
    # PowerUpR cross_checks vignette (cran/PowerUpR inst/doc/cross_checks.html, 2018-02-16):
    # mdes.ira1r1(power=.80, n=250) -> MDES 0.356, df 248, standardized SE 0.126.
    got = solve_individual(n=250, power=0.8, mde_method="multiplier")
    assert got.effect == pytest.approx(0.356, abs=5e-4), "MDES"
    assert got.df == 248, "df"
    assert got.std_error == pytest.approx(0.126, abs=5e-4), "SE"


def test_powerup_cra2r2_cross_check() -> None:
    # Same vignette: mdes.cra2r2(power=.80, rho2=.17, n=15, J=20) -> MDES 0.629, df 18
    # (J - g* - 2), SE 0.212; power.cra2r2 at that MDES -> 80%; mrss.cra2r2 -> J = 20.
    got = solve_cluster(clusters=20, cluster_size=15, power=0.8, icc=0.17, mde_method="multiplier")
    assert got.effect == pytest.approx(0.629, abs=5e-4), "MDES"
    assert got.df == 18, "df"
    assert got.std_error == pytest.approx(0.212, abs=5e-4), "SE"
    power = solve_cluster(got.effect, clusters=20, cluster_size=15, icc=0.17).power
    assert power == pytest.approx(0.80, abs=0.005), "power at MDES"
    needed = solve_cluster(0.629, cluster_size=15, power=0.8, icc=0.17)
    assert needed.n_clusters == 20, "required clusters"


def test_powerup_cluster_covariates_and_df() -> None:
    # PowerUp! CRA2_2 (Dong & Maynard 2013, eq. for MDES): with g* cluster covariates the
    # multiplier uses J - g* - 2 df and SE² = rho(1-R2₂)/(P(1-P)J) + (1-rho)(1-R2₁)/(P(1-P)Jn).
    j, n, rho, r21, r22, g, p = 40, 25, 0.2, 0.5, 0.6, 1, 0.4
    between = rho * (1 - r22) / (p * (1 - p) * j)
    se = np.sqrt(between + (1 - rho) * (1 - r21) / (p * (1 - p) * j * n))
    m = stats.t.isf(0.025, j - g - 2) + stats.t.ppf(0.8, j - g - 2)
    got = solve_cluster(
        clusters=j,
        cluster_size=n,
        power=0.8,
        icc=rho,
        r2_individual=r21,
        r2_cluster=r22,
        covariates=g,
        treated_share=p,
        mde_method="multiplier",
    )
    assert got.effect == pytest.approx(m * se, rel=1e-9), "MDES"
    assert got.df == j - g - 2, "df"


def test_stata_sampsi_sampclus() -> None:
    # Stata `sampsi 12 16, sd(5) power(.8)` gives n1 = n2 = 25; adding `sampclus,
    # obsclus(10) rho(0.3)` gives 19 clusters (vikjam/pwrcalc tests/testthat/
    # test_twomeans_results.r and test_clustered_results.r, checked against Stata).
    outcome = ContinuousOutcome(sd=5.0)
    individual = solve_individual(4.0, power=0.8, outcome=outcome, dist="normal")
    assert individual.n_units == 50, "n (both arms)"
    cluster = solve_cluster(
        4.0, cluster_size=10, power=0.8, icc=0.3, outcome=outcome, dist="normal"
    )
    assert cluster.n_clusters == 19, "clusters (both arms)"
    assert cluster.design_effect == pytest.approx(3.7), "design effect 1 + (m - 1) rho"


def test_eldridge_design_effect() -> None:
    # Eldridge, Ashby & Kerry (2006) IJE 35:1292, eq. 3: DE = 1 + ((cv² + 1) m̄ − 1) ρ.
    got = solve_cluster(0.3, clusters=30, cluster_size=20, icc=0.05, cv=0.6)
    assert got.design_effect == pytest.approx(1 + ((0.36 + 1) * 20 - 1) * 0.05), "DE"
    equal = solve_individual(0.3, n=600, dist="normal")
    clustered = solve_cluster(0.3, clusters=30, cluster_size=20, icc=0.05, cv=0.6, dist="normal")
    ratio = (clustered.std_error / equal.std_error) ** 2
    assert ratio == pytest.approx(got.design_effect), "variance ratio equals DE"


def _gls_variance(x: np.ndarray, sigma2: float, tau2: float) -> float:
    # Independent check: GLS with period fixed effects and exchangeable cluster covariance.
    n_periods = x.shape[1]
    v_inv = np.linalg.inv(sigma2 * np.eye(n_periods) + tau2 * np.ones((n_periods, n_periods)))
    info = sum(
        np.column_stack([np.eye(n_periods), row]).T
        @ v_inv
        @ np.column_stack([np.eye(n_periods), row])
        for row in x
    )
    return float(np.linalg.inv(info)[-1, -1])


@pytest.mark.parametrize(("clusters", "steps", "periods"), [(8, 4, 5), (12, 3, 6), (10, 5, 6)])
def test_hussey_hughes_equals_gls(clusters: int, steps: int, periods: int) -> None:
    # Hussey & Hughes (2007) Contemp Clin Trials 28:182, eq. 8 is the GLS variance of theta.
    x = standard_design(clusters, steps, periods)
    closed = hussey_hughes_variance(x, sigma2=0.04, tau2=0.02)
    assert closed == pytest.approx(_gls_variance(x, 0.04, 0.02), rel=1e-10), "Var(theta)"


@pytest.mark.parametrize(("steps", "n", "rho", "per_step"), [(4, 20, 0.05, 2), (5, 10, 0.1, 3)])
def test_woertman_design_effect(steps: int, n: int, rho: float, per_step: int) -> None:
    # Woertman et al. (2013) J Clin Epidemiol 66:752, stepped-wedge design effect with one
    # baseline (b = 1) and one measurement per step (t = 1):
    # DE = (1 + rho(k t n + b n − 1)) / (1 + rho(k t n / 2 + b n − 1)) · 3(1 − rho) / (2t(k − 1/k)),
    # relative to an individually randomised trial of I·n units (Hemming & Girling 2013).
    de = (1 + rho * (steps * n + n - 1)) / (1 + rho * (0.5 * steps * n + n - 1))
    de *= 3 * (1 - rho) / (2 * (steps - 1 / steps))
    clusters = steps * per_step
    result = solve_stepped_wedge(0.3, clusters=clusters, cluster_size=n, steps=steps, icc=rho)
    assert result.std_error**2 * clusters * n / 4 == pytest.approx(de, rel=1e-10), "DE"


@pytest.mark.parametrize(("comparisons", "expected"), [(2, 2.21), (3, 2.35), (4, 2.44)])
def test_dunnett_critical_values(comparisons: int, expected: float) -> None:
    # Dunnett (1955) JASA 50:1096, two-sided table, df = infinity, alpha 0.05.
    got = dunnett_critical(0.05, comparisons, 0.5)
    assert got == pytest.approx(expected, abs=0.006), "Dunnett critical value"


def test_dunnett_against_multivariate_normal() -> None:
    # Independent check: scipy's multivariate normal CDF over the box [-c, c]^k.
    c = dunnett_critical(0.05, 3, 0.5)
    cov = np.full((3, 3), 0.5) + 0.5 * np.eye(3)
    mvn = stats.multivariate_normal(mean=np.zeros(3), cov=cov)
    box = sum(
        (-1) ** sum(signs) * mvn.cdf(np.array([c if s == 0 else -c for s in signs]))
        for signs in itertools.product((0, 1), repeat=3)
    )
    assert box == pytest.approx(0.95, abs=2e-4), "coverage of the box"
