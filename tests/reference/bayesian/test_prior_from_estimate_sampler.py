"""The sampler's posterior under a prior from an earlier estimate, against the closed form.

With a normal outcome and 400 units, the regression's posterior for the effect is the
normal–normal update of the prior by the OLS estimate and its (classical) standard error,
up to the uncertainty in the residual SD (a fraction of a per cent here): the sampled mean
is within 4 Monte Carlo SE (plus 2% of the posterior SD for that approximation) and the
SD within 5%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trialkit.estimate.bayesian.conjugate import normal_update, prior_from_estimate


@pytest.mark.slow
def test_sampled_posterior_is_the_normal_update() -> None:
    import arviz as az

    from trialkit.estimate.bayesian import bayes

    rng = np.random.default_rng(4)
    t = rng.integers(0, 2, 400)
    y = 10 + 0.5 * t + rng.normal(0, 2, 400)
    prior = prior_from_estimate(-0.3, 0.25, weight=0.8, source="2023 pilot")
    fit = bayes(
        pd.DataFrame({"y": y, "arm": t}), "y", "arm", prior=prior, draws=2000, chains=4, seed=3
    )
    ols = sm.OLS(y, sm.add_constant(t)).fit()
    exact = normal_update(prior, float(ols.params[1]), float(ols.bse[1]))
    row = fit.to_frame().iloc[0]
    mcse = float(np.asarray(az.mcse(fit.idata, var_names=["beta"])["beta"].values).ravel()[0])
    assert abs(row["mean"] - exact.mean) < 4 * mcse + 0.02 * exact.sd, "posterior mean"
    assert row["sd"] == pytest.approx(exact.sd, rel=0.05), "posterior SD"
    assert fit.effect_prior.sigma == pytest.approx(0.25 / np.sqrt(0.8))
