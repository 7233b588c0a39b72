"""Simulation-based calibration (Talts et al. 2018) of the beta-binomial misuse model.

For each replication: draw ``μ`` and ``log κ`` from the model's priors, each group's rate
``θ_j ~ Beta(μκ, (1 − μ)κ)`` and its misuse cases ``y_j ~ Binomial(n_j, θ_j)`` with numpy
(independently of the PyMC model), fit the model with the sampler :func:`misuse_model`
uses (nutpie on the PyMC model, compiled once and refitted to each replication's counts),
and record the rank of the true ``μ``, ``log κ`` and ``per_100`` (out of 100 groups, how
many misuse at least once in 40 spends) among 100 thinned posterior draws. A calibrated
model gives uniform ranks; a chi-square test over 10 bins at the 1 % level checks it.
30 groups with 5 to 60 reviewed spends each, like a pilot's workers. Divergent transitions
must stay under 0.1 % (none here; the log-gamma likelihood had 0.8 %: see ``build_model``).

500 replications took under 2 minutes on 2 shared cores (p = 0.27, 0.38 and 0.28 for
``μ``, ``log κ`` and ``per_100``; no divergent transition).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from trialkit.estimate.bayesian.compile import compile_for_nutpie
from trialkit.estimate.bayesian.misuse_model import (
    PARAMETERS,
    MisusePrior,
    build_model,
    p_any_misuse,
    tallies,
)

REPS, DRAWS, CHAINS, THIN, BINS = 500, 500, 2, 10, 10
GROUPS = 30
#: Spends a year for the ranks of ``per_100`` (a function of both parameters).
YEAR = 40.0
QUANTITIES = (*PARAMETERS, "per_100")


def _simulate(
    rng: np.random.Generator, spends: np.ndarray, prior: MisusePrior
) -> tuple[dict[str, float], np.ndarray]:
    mu = rng.beta(prior.mu_alpha, prior.mu_beta)
    log_kappa = rng.normal(prior.log_kappa_mean, prior.log_kappa_sd)
    kappa = np.exp(log_kappa)
    theta = rng.beta(mu * kappa, (1 - mu) * kappa, size=spends.size)
    per_100 = 100 * float(p_any_misuse(YEAR, np.array(mu), np.array(kappa)))
    truth = {"mu": mu, "log_kappa": log_kappa, "per_100": per_100}
    return truth, rng.binomial(spends, np.nan_to_num(theta))


def _ranks() -> tuple[dict[str, np.ndarray], int]:
    import nutpie

    rng = np.random.default_rng(2027)
    prior = MisusePrior()
    spends = rng.integers(5, 61, size=GROUPS)
    compiled = compile_for_nutpie(build_model(spends, np.zeros(GROUPS, dtype=int), prior))
    ranks: dict[str, list[int]] = {p: [] for p in QUANTITIES}
    divergences = 0
    for r in range(REPS):
        truth, cases = _simulate(rng, spends, prior)
        post = nutpie.sample(
            compiled.with_data(**tallies(spends, cases)),
            draws=DRAWS,
            tune=500,
            chains=CHAINS,
            seed=5000 + r,
            progress_bar=False,
            save_warmup=False,
            target_accept=0.9,
        )
        divergences += int(post.sample_stats["diverging"].values.sum())
        thinned = {p: np.ravel(post.posterior[p].values[:, ::THIN]) for p in PARAMETERS}
        thinned["per_100"] = 100 * p_any_misuse(YEAR, thinned["mu"], np.exp(thinned["log_kappa"]))
        for p in QUANTITIES:
            ranks[p].append(int(np.sum(thinned[p] < truth[p])))
    return {p: np.asarray(v) for p, v in ranks.items()}, divergences


def _uniformity_p(ranks: np.ndarray) -> float:
    n_draws = CHAINS * DRAWS // THIN  # ranks take values 0..n_draws
    counts = np.bincount(ranks * BINS // (n_draws + 1), minlength=BINS)
    return float(stats.chisquare(counts).pvalue)


@pytest.mark.slow
def test_misuse_model_sbc_ranks_are_uniform() -> None:
    ranks, divergences = _ranks()
    for p, r in ranks.items():
        pvalue = _uniformity_p(r)
        assert pvalue > 0.01, f"misuse model, {p}: SBC ranks not uniform (p = {pvalue:.4f})"
    assert divergences < 1e-3 * REPS * CHAINS * DRAWS, f"{divergences} divergent transitions"
