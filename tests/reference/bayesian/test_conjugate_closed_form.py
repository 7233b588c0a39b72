"""Conjugate updates without a sampler, against independent computations.

* Normal–normal: :func:`normal_update` against the posterior found by numerical
  integration of prior × normal likelihood (``scipy.integrate.quad``; mean, SD, interval
  limits and a tail probability), to 1e-8.
* Beta-binomial: ``P(p₁ > p₀)`` against Evan Miller's closed-form sum for whole-number
  Beta parameters (``Σ_{i<a₁} B(a₀+i, b₀+b₁) / ((b₁+i) B(1+i, b₁) B(a₀, b₀))``), to 1e-10,
  and against Monte Carlo (2,000,000 draws, within 4 SE); the risk difference's mean, SD
  and interval limits against Monte Carlo within their Monte Carlo error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special, stats

from trialkit.errors import EstimationError
from trialkit.estimate.bayesian.conjugate import normal_update, prior_from_estimate
from trialkit.estimate.bayesian.conjugate_binary import beta_binomial, prob_greater
from trialkit.estimate.bayesian.priors import Prior


def _integrated(m0: float, s0: float, est: float, se: float) -> dict[str, float]:
    def dens(x: float) -> float:
        return float(stats.norm.pdf(x, m0, s0) * stats.norm.pdf(est, x, se))

    lo, hi = min(m0 - 12 * s0, est - 12 * se), max(m0 + 12 * s0, est + 12 * se)
    opts = {"epsabs": 0, "epsrel": 1e-12, "limit": 200, "points": [m0, est]}
    z = integrate.quad(dens, lo, hi, **opts)[0]
    mean = integrate.quad(lambda x: x * dens(x), lo, hi, **opts)[0] / z
    var = integrate.quad(lambda x: (x - mean) ** 2 * dens(x), lo, hi, **opts)[0] / z

    def cdf(t: float) -> float:
        return float(integrate.quad(dens, lo, t, **opts)[0] / z)

    q = {p: optimize.brentq(lambda t, p=p: cdf(t) - p, lo, hi, xtol=1e-13) for p in (0.05, 0.95)}
    return {
        "mean": mean,
        "sd": math.sqrt(var),
        "ci_low": q[0.05],
        "ci_high": q[0.95],
        "p_above": 1 - cdf(-0.2),
    }


@pytest.mark.parametrize(
    ("estimate", "std_error", "weight", "data", "data_se"),
    [(-0.4, 0.25, 1.0, -0.1, 0.2), (-0.4, 0.25, 0.3, 0.3, 0.5), (150.0, 60.0, 0.5, -20.0, 90.0)],
)
def test_normal_update_matches_integration(
    estimate: float, std_error: float, weight: float, data: float, data_se: float
) -> None:
    prior = prior_from_estimate(estimate, std_error, weight=weight, source="2023 pilot")
    assert prior.sigma == pytest.approx(std_error / math.sqrt(weight), rel=1e-15)
    post = normal_update(prior, data, data_se, ci_level=0.9)
    ref = _integrated(estimate, prior.sigma, data, data_se)
    scale = prior.sigma
    for name in ("mean", "sd", "ci_low", "ci_high"):
        assert getattr(post, name) == pytest.approx(ref[name], abs=1e-8 * scale), name
    assert post.probability_above(-0.2) == pytest.approx(ref["p_above"], abs=1e-8), "P(> -0.2)"
    assert post.probability_above(0.3) + post.probability_below(0.3) == pytest.approx(1.0)


def test_normal_update_refuses_what_it_cannot_update() -> None:
    with pytest.raises(EstimationError, match="needs a normal prior"):
        normal_update(Prior(distribution="student_t", mu=0, sigma=1, nu=3), 0.1, 0.2)
    with pytest.raises(EstimationError, match=r"'std_error' parameter of normal_update"):
        normal_update(prior_from_estimate(0.0, 1.0), 0.1, 0.0)
    with pytest.raises(EstimationError, match=r"'weight' parameter of prior_from_estimate"):
        prior_from_estimate(0.0, 1.0, weight=0.0)


def _miller(a1: int, b1: int, a0: int, b0: int) -> float:
    """Evan Miller (2015), "Formulas for Bayesian A/B testing": P(p₁ > p₀), exact."""
    terms = [
        special.betaln(a0 + i, b0 + b1)
        - math.log(b1 + i)
        - special.betaln(1 + i, b1)
        - special.betaln(a0, b0)
        for i in range(a1)
    ]
    return float(np.sum(np.exp(terms)))


@pytest.mark.parametrize(
    ("a1", "b1", "a0", "b0"),
    [(4, 2, 2, 4), (28, 33, 19, 43), (1, 1, 1, 1), (1203, 8799, 1101, 8901), (3, 60, 9, 54)],
)
def test_prob_greater_matches_the_closed_form_sum(a1: int, b1: int, a0: int, b0: int) -> None:
    assert prob_greater(a1, b1, a0, b0) == pytest.approx(_miller(a1, b1, a0, b0), abs=1e-10)


def _arms(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat(["control", "budget"], [60, 55])
    y = np.concatenate([rng.random(60) < 0.3, rng.random(55) < 0.45]).astype(int)
    return pd.DataFrame({"returned": y, "arm": arm})


def test_beta_binomial_posteriors_against_monte_carlo() -> None:
    df = _arms(5)
    res = beta_binomial(df, "returned", "arm", control="control", prior=(2.0, 3.0))
    control, budget = res.arms
    for post, label in ((control, "control"), (budget, "budget")):
        rows = df[df.arm == label]
        assert post.alpha == 2.0 + rows.returned.sum(), f"alpha of {label}"
        assert post.beta == 3.0 + len(rows) - rows.returned.sum(), f"beta of {label}"
    rng = np.random.default_rng(99)
    n = 2_000_000
    diff = rng.beta(budget.alpha, budget.beta, n) - rng.beta(control.alpha, control.beta, n)
    d = res.differences[0]
    p_mc = float(np.mean(diff > 0))
    assert abs(d.p_greater - p_mc) < 4 * math.sqrt(p_mc * (1 - p_mc) / n), "P(budget > control)"
    assert abs(d.mean - diff.mean()) < 4 * diff.std() / math.sqrt(n), "mean difference"
    assert d.sd == pytest.approx(diff.std(), rel=2e-3), "SD of the difference"
    for q, got in ((0.025, d.ci_low), (0.975, d.ci_high)):
        # Monte Carlo SE of a quantile: sqrt(q(1-q)/n) / density there.
        density = np.mean(np.abs(diff - got) < 0.002) / 0.004
        tol = 4 * math.sqrt(q * (1 - q) / n) / density
        assert abs(got - np.quantile(diff, q)) < tol, f"{q} quantile of the difference"
    assert d.cdf(0.0) == pytest.approx(1 - d.p_greater, abs=1e-9), "P(diff <= 0) = 1 - P(>)"
    assert d.probability_above(0.1) == pytest.approx(np.mean(diff > 0.1), abs=4e-3)


def test_beta_binomial_refuses_bad_input() -> None:
    df = _arms(1)
    with pytest.raises(EstimationError, match="must hold 0/1 outcomes"):
        beta_binomial(df.assign(returned=df.returned * 2), "returned", "arm")
    with pytest.raises(EstimationError, match=r"'prior\[0\]' parameter of beta_binomial"):
        beta_binomial(df, "returned", "arm", prior=(0.0, 1.0))
    with pytest.raises(EstimationError, match="control arm 'nobody'"):
        beta_binomial(df, "returned", "arm", control="nobody")
