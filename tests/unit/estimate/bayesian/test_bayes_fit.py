"""Plumbing of :func:`bayes` with few draws (shared module-scoped fits; compile dominates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.estimate import bayes
from trialkit.estimate.bayesian.results import BayesianFit
from trialkit.estimate.bayesian.summarise import POSTERIOR_COLUMNS

FAST = {"draws": 150, "tune": 150, "chains": 2, "seed": 3}


@pytest.fixture(scope="module")
def cluster_fit(cluster_frame: pd.DataFrame) -> BayesianFit:
    return bayes(
        cluster_frame,
        "y",
        "arm",
        covariates=["x1"],
        cluster="team",
        blocks="blk",
        mid=0.2,
        rope=0.1,
        harm_margin=0.1,
        **FAST,
    )


@pytest.fixture(scope="module")
def binary_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    treat = np.repeat([0, 1], 300)
    y = rng.binomial(1, np.where(treat == 1, 0.45, 0.3))
    return pd.DataFrame({"done": y, "treat": treat})


@pytest.fixture(scope="module")
def logistic_fit(binary_frame: pd.DataFrame) -> BayesianFit:
    return bayes(binary_frame, "done", "treat", family="logistic", mid=0.05, **FAST)


def test_columns_and_terms(cluster_fit: BayesianFit) -> None:
    frame = cluster_fit.to_frame()
    assert tuple(frame.columns) == POSTERIOR_COLUMNS
    assert frame["term"].tolist() == ["arm[budget]", "arm[coach]"]
    assert set(frame["ci_kind"]) == {"equal-tailed"} and set(frame["ci_level"]) == {0.95}
    assert set(frame["n_clusters"]) == {40} and set(frame["n_obs"]) == {400}


def test_summaries_are_consistent_with_draws(cluster_fit: BayesianFit) -> None:
    row = cluster_fit.to_frame().iloc[0]
    x = cluster_fit.draws("arm[budget]")
    assert row["mean"] == pytest.approx(x.mean())
    assert row["ci_low"] == pytest.approx(np.quantile(x, 0.025))
    assert row["p_benefit"] == pytest.approx(np.mean(x > 0))
    assert row["p_mid"] == pytest.approx(np.mean(x >= 0.2))
    assert row["p_harm"] == pytest.approx(np.mean(x < -0.1))
    assert row["p_rope"] == pytest.approx(np.mean(np.abs(x) <= 0.1))
    assert abs(row["mean"] - 0.5) < 4 * row["sd"]


def test_idata_and_probabilities(cluster_fit: BayesianFit) -> None:
    assert {"beta", "cluster_sd", "gamma", "block_effect"} <= set(cluster_fit.idata.posterior)
    probs = cluster_fit.probabilities()
    assert list(probs.columns) == ["outcome", "term", "scale", "event", "threshold", "probability"]
    assert "P(effect >= MID)" in set(probs["event"])


def test_diagnostics_surface_every_check(cluster_fit: BayesianFit) -> None:
    d = cluster_fit.diagnostics
    assert {"r_hat", "ess_bulk", "ess_tail"} <= set(d.table.columns)
    assert d.chains == 2 and d.draws == 150
    assert d.divergences >= 0 and np.isfinite(d.ebfmi_min)
    assert d.passed == (not d.advice)
    # 2 x 150 draws cannot reach 100 ESS per chain on every parameter: flagged, with advice.
    assert not d.passed and any("increase draws" in a for a in d.advice)
    assert "Diagnostics FAILED" in str(cluster_fit)


def test_estimate_rows_match_shared_vocabulary(cluster_fit: BayesianFit) -> None:
    rows = cluster_fit.to_estimates()
    assert [r.term for r in rows] == ["arm[budget]", "arm[coach]"]
    assert rows[0].se_type == "posterior_sd" and rows[0].n_clusters == 40


def test_logistic_reports_log_odds_and_risk_difference(logistic_fit: BayesianFit) -> None:
    frame = logistic_fit.to_frame()
    assert frame["scale"].tolist() == ["log_odds_ratio", "risk_difference"]
    assert np.isnan(frame["p_mid"].iloc[0]) and not np.isnan(frame["p_mid"].iloc[1])


def test_risk_difference_matches_beta_posteriors(
    logistic_fit: BayesianFit, binary_frame: pd.DataFrame
) -> None:
    # With 300 per arm the prior hardly matters: the g-computed risk difference should agree
    # with the difference of two independent Beta(1 + y, 1 + n - y) posteriors.
    g = binary_frame.groupby("treat")["done"].agg(["sum", "count"])
    rng = np.random.default_rng(0)
    p = [
        stats.beta(1 + g.loc[k, "sum"], 1 + g.loc[k, "count"] - g.loc[k, "sum"]).rvs(
            100_000, random_state=rng
        )
        for k in (0, 1)
    ]
    exact = p[1] - p[0]
    rd = logistic_fit.draws("treat", "risk_difference")
    assert rd.mean() == pytest.approx(exact.mean(), abs=0.25 * exact.std())
    assert rd.std() == pytest.approx(exact.std(), rel=0.25)


def test_unknown_term_rejected(logistic_fit: BayesianFit) -> None:
    with pytest.raises(EstimationError, match="Unknown term"):
        logistic_fit.draws("nope")


def test_bad_direction_rejected(binary_frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="'direction' parameter must be one of"):
        bayes(binary_frame, "done", "treat", direction="up")  # type: ignore[arg-type]


def test_same_seed_same_draws(binary_frame: pd.DataFrame) -> None:
    a = bayes(binary_frame, "done", "treat", family="logistic", **FAST)
    b = bayes(binary_frame, "done", "treat", family="logistic", **FAST)
    np.testing.assert_array_equal(a.draws("treat"), b.draws("treat"))


@pytest.mark.slow
def test_kernels_and_pytensor_backends_agree_within_monte_carlo_error(
    cluster_frame: pd.DataFrame,
) -> None:
    """The same model sampled through trialkit's kernels and through PyTensor's graph."""
    settings = {"draws": 1000, "tune": 1000, "chains": 4, "seed": 8}
    args = (cluster_frame, "y", "arm")
    fits = [
        bayes(*args, covariates=["x1"], cluster="team", backend=b, **settings)  # type: ignore[arg-type]
        for b in ("kernels", "pytensor")
    ]
    import arviz as az

    for name in ("beta", "cluster_sd", "sigma", "intercept"):
        a, b = (np.ravel(f.idata.posterior[name].values) for f in fits)
        se = np.hypot(*(np.ravel(az.mcse(f.idata, var_names=[name])[name])[0] for f in fits))
        assert abs(a.mean() - b.mean()) < 4 * se, name
        assert a.std() == pytest.approx(b.std(), rel=0.15), name


def test_a_kernel_fit_does_not_import_pymc() -> None:
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from trialkit.estimate import bayes\n"
        "df = pd.DataFrame({'y': np.arange(40.0) % 7, 'arm': np.arange(40) % 2})\n"
        "bayes(df, 'y', 'arm', draws=50, tune=50, chains=1)\n"
        "print('pymc' in sys.modules, 'pytensor' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_prior_predictive_draws_outcomes_from_priors(binary_frame: pd.DataFrame) -> None:
    from trialkit.estimate.bayesian.fit import prior_predictive

    frame = binary_frame.assign(score=np.linspace(0, 10, len(binary_frame)))
    idata = prior_predictive(frame, "score", "treat", outcome_range=(0, 10), draws=200, seed=1)
    beta = idata.prior["beta"].values.ravel()
    assert beta.std() == pytest.approx(2.5, rel=0.2)  # Normal(0, range / 4)
    assert idata.prior_predictive["y"].shape[-1] == len(frame)
