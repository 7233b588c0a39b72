"""trialkit's sampling path against closed-form conjugate posteriors.

One PyMC model holds two independent blocks, so a single compilation checks both:

* normal mean with known variance: ``mu ~ N(m0, s0²)``, ``y_i ~ N(mu, σ²)`` gives
  ``mu | y ~ N(m1, s1²)`` with ``1/s1² = 1/s0² + n/σ²`` and ``m1 = s1² (m0/s0² + Σy/σ²)``;
* two-arm beta-binomial: ``p_k ~ Beta(a, b)``, ``y_k ~ Bin(n_k, p_k)`` gives
  ``p_k | y ~ Beta(a + y_k, b + n_k − y_k)``; P(p1 > p0) by numerical integration.

Tolerances are 4 Monte Carlo standard errors (ArviZ ``mcse``), named per statistic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import integrate, stats

from trialkit.estimate.bayesian.fit import sample
from trialkit.estimate.bayesian.summarise import Thresholds, describe_draws, tail_probabilities

RNG = np.random.default_rng(2024)
Y = RNG.normal(1.3, 2.0, size=25)
M0, S0, SIGMA = 0.0, 1.5, 2.0
N_ARM, Y_ARM, A, B = (60, 55), (18, 27), 1.0, 1.0


def _normal_posterior() -> Any:
    prec = 1 / S0**2 + len(Y) / SIGMA**2
    return stats.norm((M0 / S0**2 + Y.sum() / SIGMA**2) / prec, prec**-0.5)


def _beta_posteriors() -> list[Any]:
    return [stats.beta(A + y, B + n - y) for y, n in zip(Y_ARM, N_ARM, strict=True)]


def _p_superior() -> float:
    p0, p1 = _beta_posteriors()
    value, _ = integrate.quad(lambda x: p1.pdf(x) * p0.cdf(x), 0, 1)
    return float(value)


@pytest.fixture(scope="module")
def idata() -> Any:
    import pymc as pm

    with pm.Model() as model:
        mu = pm.Normal("mu", M0, S0)
        pm.Normal("y", mu, SIGMA, observed=Y)
        p = pm.Beta("p", A, B, shape=2)
        pm.Binomial("y_arm", n=np.array(N_ARM), p=p, observed=np.array(Y_ARM))
        pm.Deterministic("risk_difference", p[1] - p[0])
    draws, _ = sample(model, draws=2000, tune=1000, chains=2, seed=7)
    return draws


def _mcse(idata: Any, var: str, **kw: Any) -> float:
    import arviz as az

    return float(np.asarray(az.mcse(idata, var_names=[var], **kw)[var].values).ravel()[0])


def test_normal_known_variance_mean_and_sd(idata: Any) -> None:
    exact = _normal_posterior()
    got = describe_draws(idata.posterior["mu"].values)
    tol = 4 * _mcse(idata, "mu")
    assert abs(got["mean"] - exact.mean()) < tol, f"posterior mean {got['mean']} vs {exact.mean()}"
    assert got["sd"] == pytest.approx(exact.std(), rel=0.08), "posterior sd"


@pytest.mark.parametrize("q, key", [(0.025, "ci_low"), (0.975, "ci_high")])
def test_normal_known_variance_interval(idata: Any, q: float, key: str) -> None:
    got = describe_draws(idata.posterior["mu"].values)[key]
    tol = 4 * _mcse(idata, "mu", method="quantile", prob=q)
    assert abs(got - _normal_posterior().ppf(q)) < tol, f"{key} {got}"


@pytest.mark.parametrize("arm", [0, 1])
def test_beta_binomial_arm_means(idata: Any, arm: int) -> None:
    draws = idata.posterior["p"].values[..., arm]
    exact = _beta_posteriors()[arm]
    tol = 4 * draws.std() / np.sqrt(_ess(idata, arm))
    assert abs(draws.mean() - exact.mean()) < tol, f"P(arm {arm}) mean"
    assert draws.std() == pytest.approx(exact.std(), rel=0.08), f"P(arm {arm}) sd"


def _ess(idata: Any, arm: int) -> float:
    import arviz as az

    return float(az.ess(idata, var_names=["p"])["p"].values[arm])


def test_beta_binomial_probability_of_benefit(idata: Any) -> None:
    rd = idata.posterior["risk_difference"].values.ravel()
    p = tail_probabilities(rd, Thresholds())["p_benefit"]
    exact = _p_superior()
    # Binomial Monte Carlo error of a proportion, inflated by draws / ESS.
    ess = min(_ess(idata, 0), _ess(idata, 1))
    tol = 4 * np.sqrt(exact * (1 - exact) / ess)
    assert abs(p - exact) < tol, f"P(p1 > p0) {p} vs {exact}"
