"""Individual designs against statsmodels' independent implementations (tight tolerance).

statsmodels ``TTestIndPower`` uses the noncentral t with df ``n1 + n2 − 2`` and counts both
rejection regions, as trialkit does; ``NormalIndPower`` with ``proportion_effectsize`` is the
arcsine (Cohen's h) test. ``nobs1`` is the treated arm and ``ratio = nobs2 / nobs1``, so
trialkit's ``n = nobs1 (1 + ratio)`` and ``treated_share = 1 / (1 + ratio)``.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from trialkit.design import BinaryOutcome, ContinuousOutcome, PowerResult, solve_individual

CASES = [(0.5, 64, 1.0), (0.3, 100, 2.0), (0.8, 20, 0.5), (0.2, 400, 1.0)]
TOL = 1e-7


@pytest.mark.parametrize(("d", "nobs1", "ratio"), CASES)
def test_power_matches_ttestindpower(d: float, nobs1: int, ratio: float) -> None:
    expected = TTestIndPower().power(d, nobs1, 0.05, ratio=ratio)
    got = solve_individual(d, n=nobs1 * (1 + ratio), treated_share=1 / (1 + ratio))
    assert got.power == pytest.approx(expected, abs=TOL), "power"
    assert got.df == pytest.approx(nobs1 * (1 + ratio) - 2), "df"


@pytest.mark.parametrize(("d", "nobs1", "ratio"), CASES)
def test_sample_size_matches_ttestindpower(d: float, nobs1: int, ratio: float) -> None:
    expected = TTestIndPower().solve_power(d, None, 0.05, 0.8, ratio)
    got = solve_individual(d, power=0.8, treated_share=1 / (1 + ratio))
    assert _exact(got) == pytest.approx(expected * (1 + ratio), rel=1e-6), "n (unrounded)"
    assert got.n_units == math.ceil(_exact(got)), "n rounded up"
    assert got.power >= 0.8, "power at rounded n"


@pytest.mark.parametrize(("d", "nobs1", "ratio"), CASES)
def test_mde_matches_ttestindpower(d: float, nobs1: int, ratio: float) -> None:
    expected = TTestIndPower().solve_power(None, nobs1, 0.05, 0.8, ratio)
    got = solve_individual(n=nobs1 * (1 + ratio), power=0.8, treated_share=1 / (1 + ratio))
    # statsmodels' own root-finder stops at |power - 0.8| ~ 1e-5, so compare loosely and
    # check that statsmodels' power at trialkit's MDE is 0.8 to 1e-9.
    assert got.effect == pytest.approx(expected, rel=1e-5), "MDE"
    assert TTestIndPower().power(got.effect, nobs1, 0.05, ratio=ratio) == pytest.approx(
        0.8, abs=1e-9
    ), "statsmodels power at the MDE"


def _exact(result: PowerResult) -> float:
    assert result.size_exact is not None, "a size was solved for"
    return result.size_exact


def test_raw_units_scale_with_sd() -> None:
    expected = TTestIndPower().power(5 / 12, 50, 0.05)
    got = solve_individual(5.0, n=100, outcome=ContinuousOutcome(sd=12.0))
    assert got.power == pytest.approx(expected, abs=TOL), "power with sd=12"
    assert got.standardised_effect == pytest.approx(5 / 12), "standardised effect"


@pytest.mark.parametrize(("d", "nobs1", "ratio"), CASES)
def test_normal_reference_matches_normalindpower(d: float, nobs1: int, ratio: float) -> None:
    expected = NormalIndPower().power(d, nobs1, 0.05, ratio=ratio)
    got = solve_individual(d, n=nobs1 * (1 + ratio), treated_share=1 / (1 + ratio), dist="normal")
    assert got.power == pytest.approx(expected, abs=TOL), "z power"
    assert got.df is None, "no df for z"


@pytest.mark.parametrize(("p_t", "p_c", "nobs1"), [(0.6, 0.5, 200), (0.2, 0.3, 150)])
def test_arcsine_matches_proportion_effectsize(p_t: float, p_c: float, nobs1: int) -> None:
    h = proportion_effectsize(p_t, p_c)
    outcome = BinaryOutcome(p_c)
    got = solve_individual(p_t - p_c, n=2 * nobs1, outcome=outcome)
    assert got.standardised_effect == pytest.approx(h, abs=1e-12), "Cohen's h"
    assert got.power == pytest.approx(NormalIndPower().power(h, nobs1, 0.05), abs=TOL), "power"
    n = solve_individual(p_t - p_c, power=0.9, outcome=outcome)
    expected_n = NormalIndPower().solve_power(h, None, 0.05, 0.9)
    assert _exact(n) == pytest.approx(2 * expected_n, rel=1e-6), "n"


def test_arcsine_mde_maps_back_to_a_proportion() -> None:
    h = NormalIndPower().solve_power(None, 200, 0.05, 0.8)
    got = solve_individual(n=400, power=0.8, outcome=BinaryOutcome(0.4))
    h_got = proportion_effectsize(got.p_treatment, 0.4)
    assert h_got == pytest.approx(h, rel=1e-5), "h at MDE"
    assert NormalIndPower().power(h_got, 200, 0.05) == pytest.approx(0.8, abs=1e-9), "power"
    down = solve_individual(n=400, power=0.8, outcome=BinaryOutcome(0.4, direction="decrease"))
    assert proportion_effectsize(down.p_treatment, 0.4) == pytest.approx(-h_got, rel=1e-9), "down"


def test_unpooled_matches_closed_form() -> None:
    # Wald z with unpooled variance: Phi(|d|/se − z) + Phi(−|d|/se − z).
    p_t, p_c, n_t, n_c = 0.35, 0.25, 300, 300
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    z = stats.norm.isf(0.025)
    expected = stats.norm.cdf(0.1 / se - z) + stats.norm.cdf(-0.1 / se - z)
    got = solve_individual(0.1, n=600, outcome=BinaryOutcome(p_c, method="unpooled"))
    assert got.power == pytest.approx(expected, abs=1e-12), "unpooled power"
    assert got.std_error == pytest.approx(se, rel=1e-12), "unpooled SE"
    mde = solve_individual(n=600, power=got.power, outcome=BinaryOutcome(p_c, method="unpooled"))
    assert mde.effect == pytest.approx(0.1, abs=1e-7), "unpooled MDE inverts power"
