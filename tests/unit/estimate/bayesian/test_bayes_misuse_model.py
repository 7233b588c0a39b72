"""The beta-binomial misuse model: closed forms, log density, a fit on a large ledger."""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pytest
from scipy import integrate, special, stats

from trialkit.analyse.spending_rows import MisuseModelRow
from trialkit.errors import EstimationError
from trialkit.estimate.bayesian import misuse_model as module
from trialkit.estimate.bayesian.misuse_model import (
    PARAMETERS,
    MisuseModel,
    MisusePrior,
    _loss_draws,
    build_model,
    misuse_model,
    p_any_misuse,
    p_rate_above,
    tallies,
)

FAST: dict[str, Any] = {"draws": 500, "tune": 500, "chains": 2, "seed": 7}
MU_KAPPA = [(0.05, 10.0), (0.01, 0.5), (0.2, 150.0), (0.003, 2.0)]


@pytest.mark.parametrize("mu, kappa", MU_KAPPA)
@pytest.mark.parametrize("m", [1.0, 7.0, 80.0])
def test_p_any_misuse_is_one_minus_beta_binomial_zero(mu: float, kappa: float, m: float) -> None:
    a, b = mu * kappa, (1 - mu) * kappa
    expected = 1 - stats.betabinom.pmf(0, int(m), a, b)
    got = float(p_any_misuse(m, np.array(mu), np.array(kappa)))
    assert got == pytest.approx(expected, rel=1e-9), "P(at least one misuse in m spends)"


def test_p_any_misuse_integrates_the_beta_for_fractional_m() -> None:
    mu, kappa, m = 0.04, 6.0, 23.5
    a, b = mu * kappa, (1 - mu) * kappa
    expected, _ = integrate.quad(
        lambda t: (1 - (1 - t) ** m) * stats.beta.pdf(t, a, b), 0, 1, limit=200
    )
    assert float(p_any_misuse(m, np.array(mu), np.array(kappa))) == pytest.approx(
        expected, rel=1e-6
    )


@pytest.mark.parametrize("mu, kappa", MU_KAPPA)
def test_p_rate_above_matches_beta_survival_and_simulation(mu: float, kappa: float) -> None:
    a, b, t = mu * kappa, (1 - mu) * kappa, 0.05
    got = float(p_rate_above(t, np.array(mu), np.array(kappa)))
    assert got == pytest.approx(float(stats.beta(a, b).sf(t)), rel=1e-12)
    theta = np.random.default_rng(1).beta(a, b, size=400_000)
    assert got == pytest.approx(np.mean(theta > t), abs=4e-3), "P(theta > tolerance), simulated"


def _log_density(model: Any, mu: float, log_kappa: float) -> tuple[float, float]:
    """The model's log likelihood (its potential) and its whole log density at a point."""
    point = {"mu_logodds__": np.log(mu / (1 - mu)), "log_kappa": log_kappa}
    potential = model.replace_rvs_by_values([model.potentials[0]])[0]
    loglik = model.compile_fn(potential, inputs=model.value_vars)(point)
    return float(loglik), float(model.compile_logp(jacobian=False)(point))


def _log_choose(n: np.ndarray, y: np.ndarray) -> float:
    return float(
        np.sum(special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1))
    )


def _log_priors(mu: float, log_kappa: float, prior: MisusePrior) -> float:
    return float(
        stats.beta.logpdf(mu, prior.mu_alpha, prior.mu_beta)
        + stats.norm.logpdf(log_kappa, prior.log_kappa_mean, prior.log_kappa_sd)
    )


N, Y = np.array([10, 0, 33, 5, 1]), np.array([1, 0, 4, 5, 0])


@pytest.mark.parametrize("mu, log_kappa", [(0.07, 1.3), (0.001, -2.0), (0.3, 6.0)])
def test_log_density_is_beta_binomial_plus_priors(mu: float, log_kappa: float) -> None:
    prior = MisusePrior()
    kappa = np.exp(log_kappa)
    loglik, total = _log_density(build_model(N, Y, prior), mu, log_kappa)
    expected = stats.betabinom.logpmf(Y, N, mu * kappa, (1 - mu) * kappa).sum()
    assert loglik + _log_choose(N, Y) == pytest.approx(expected, rel=1e-12), "log likelihood"
    # PyMC's Beta and Normal log densities differ from scipy's by ~1e-8
    assert total - loglik == pytest.approx(_log_priors(mu, log_kappa, prior), abs=1e-6)


def test_log_likelihood_tends_to_the_binomial_when_kappa_is_huge() -> None:
    # log-gamma differences lose every digit here; the model's exact products do not
    mu, log_kappa = 0.07, 40.0
    loglik, _ = _log_density(build_model(N, Y, MisusePrior()), mu, log_kappa)
    expected = stats.binom.logpmf(Y, N, mu).sum()
    assert loglik + _log_choose(N, Y) == pytest.approx(expected, rel=1e-9)


def test_tallies_count_groups_beyond_each_k() -> None:
    rng = np.random.default_rng(4)
    n = rng.integers(0, 30, size=50)
    y = rng.binomial(n, 0.2)
    got = tallies(n, y)
    k = np.arange(n.max())
    for name, x in (("spends_tally", n), ("cases_tally", y), ("clean_tally", n - y)):
        assert np.array_equal(got[name], (x[None, :] > k[:, None]).sum(axis=1)), name


def test_loss_draws_have_the_mean_and_se() -> None:
    x = _loss_draws(250.0, 40.0, 200_000, seed=3)
    assert x.mean() == pytest.approx(250.0, rel=5e-3) and x.std() == pytest.approx(40.0, rel=1e-2)
    assert np.all(x > 0)
    assert np.array_equal(_loss_draws(250.0, 0.0, 5, seed=3), np.full(5, 250.0))


@pytest.fixture(scope="module")
def ledger() -> tuple[np.ndarray, np.ndarray]:
    """300 workers, 40-120 reviewed spends each, rates from Beta(1.5, 28.5) (mean 5 %),
    then one worker with one misuse in three spends (the last group)."""
    rng = np.random.default_rng(11)
    n = rng.integers(40, 121, size=300)
    y = rng.binomial(n, rng.beta(1.5, 28.5, size=n.size))
    return np.append(n, 3), np.append(y, 1)


@pytest.fixture(scope="module")
def fit(ledger: tuple[np.ndarray, np.ndarray]) -> MisuseModel:
    n, y = ledger
    return misuse_model(
        n,
        y,
        level="worker",
        months=6,
        tolerance=0.05,
        loss_per_case=300.0,
        treated_groups=350,
        total_spends=int(n.sum()) * 2,
        labels=[f"W{i}" for i in range(n.size)],
        **FAST,
    )


def test_mean_rate_is_close_to_the_pooled_rate(
    fit: MisuseModel, ledger: tuple[np.ndarray, np.ndarray]
) -> None:
    n, y = ledger
    pooled = y.sum() / n.sum()
    assert fit.mean_rate == pytest.approx(pooled, abs=0.003), "posterior mean of mu"
    assert fit.mean_rate_ci[0] < pooled < fit.mean_rate_ci[1]
    assert (fit.groups, fit.spends, fit.cases) == (n.size, n.sum(), y.sum())


def test_a_worker_with_one_misuse_in_three_spends_is_shrunk(fit: MisuseModel) -> None:
    assert fit.group_rates[-1] < 0.12, "one in three spends should shrink towards ~5 %"
    assert fit.group_rates[-1] > fit.mean_rate


def test_converged(fit: MisuseModel) -> None:
    assert fit.rhat_max < 1.01 and fit.ess_bulk_min > 200 and fit.diagnostics.divergences == 0
    assert list(fit.diagnostics.table["parameter"]) == list(PARAMETERS)


def test_population_answers_are_the_closed_forms_averaged_over_draws(fit: MisuseModel) -> None:
    mu = fit.idata.posterior["mu"].values.ravel()
    kappa = np.exp(fit.idata.posterior["log_kappa"].values.ravel())
    m = fit.spends * 2 / fit.groups * 12 / 6
    assert fit.spends_per_year == pytest.approx(m)
    per_100 = 100 * p_any_misuse(m, mu, kappa)
    assert fit.per_100 == pytest.approx(per_100.mean())
    assert fit.per_100_ci == pytest.approx(tuple(np.quantile(per_100, [0.025, 0.975])))
    above = 100 * stats.beta.sf(0.05, mu * kappa, (1 - mu) * kappa)
    assert fit.per_100_above == pytest.approx(above.mean())
    assert fit.p_mean_above_tolerance == pytest.approx(np.mean(mu > 0.05))
    assert fit.cost_per_year == pytest.approx(350 * m * mu.mean() * 300.0)
    assert 0 < fit.per_100_above_ci[0] < fit.per_100_above < fit.per_100_above_ci[1] < 100


def test_fields_build_the_results_row(fit: MisuseModel) -> None:
    row = MisuseModelRow(**{f: getattr(fit, f) for f in MisuseModelRow.model_fields})
    assert row.per_100 == fit.per_100 and row.level == "worker"
    assert fit.labels[:2] == ("W0", "W1") and len(fit.labels) == fit.groups


@pytest.mark.parametrize(
    "spends, cases, kwargs, match",
    [
        ([3, 4], [4, 0], {}, "4 misuse cases in 3 reviewed spends"),
        ([3, -1], [0, 0], {}, "whole numbers >= 0"),
        ([3, 2.5], [0, 0], {}, "whole numbers >= 0"),
        ([0, 0], [0, 0], {}, "No spend was reviewed"),
        ([3, 4], [0], {}, "one count of spends and of cases per group"),
        ([3, 4], [0, 1], {"months": 0}, "'months' is out of range"),
        ([3, 4], [0, 1], {"tolerance": 1.0}, "'tolerance' is out of range"),
        ([3, 4], [0, 1], {"total_spends": 5}, "total_spends \\(5\\) is below"),
        ([3, 4], [0, 1], {"labels": ["a"]}, "1 labels for 2 groups"),
        ([3, 4], [0, 1], {"level": "team"}, "'level' parameter must be one of"),
    ],
)
def test_bad_input_is_refused(
    spends: list[float], cases: list[int], kwargs: dict[str, object], match: str
) -> None:
    args: dict[str, object] = {
        "level": "unit", "months": 6, "tolerance": 0.05, "loss_per_case": 10.0
    }  # fmt: skip
    with pytest.raises(EstimationError, match=match):
        misuse_model(spends, cases, **{**args, **kwargs})  # type: ignore[arg-type]


def test_docstring_examples() -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
