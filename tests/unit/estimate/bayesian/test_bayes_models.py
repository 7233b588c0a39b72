"""Model builders for every family (structure only: building compiles nothing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.bayesian.design import Family, prepare
from trialkit.estimate.bayesian.models import build_model, scales
from trialkit.estimate.bayesian.priors import Prior, model_priors

RNG = np.random.default_rng(4)
FRAME = pd.DataFrame(
    {
        "arm": np.tile(["control", "a", "b"], 20),
        "x1": RNG.normal(size=60),
        "team": np.repeat(np.arange(12), 5),
        "period": np.tile([0, 1, 2], 20),
        "score": RNG.normal(size=60),
        "done": RNG.integers(0, 2, 60),
        "count": RNG.poisson(3, 60),
        "likert": RNG.integers(1, 6, 60),
    }
)
COLUMN = {
    "normal": "score",
    "student_t": "score",
    "logistic": "done",
    "poisson": "count",
    "negative_binomial": "count",
    "ordered_logistic": "likert",
}
EXTRA = {
    "normal": {"sigma"},
    "student_t": {"sigma", "nu"},
    "logistic": {"centred_intercept"},
    "poisson": {"centred_intercept"},
    "negative_binomial": {"inv_dispersion"},
    "ordered_logistic": {"centred_cutpoints"},
}


@pytest.mark.parametrize("family", list(COLUMN))
def test_every_family_builds_with_clusters_periods_and_arms(family: Family) -> None:
    data = prepare(
        FRAME,
        COLUMN[family],
        "arm",
        covariates=["x1"],
        cluster="team",
        period="period",
        family=family,
    )
    priors = model_priors(data, family, Prior(sigma=1.0), scale=1.0, scale_note="test")
    model = build_model(data, family, priors)
    names = {v.name for v in model.free_RVs}
    assert {"beta", "gamma", "period_effect", "cluster_sd", "cluster_z"} <= names
    assert EXTRA[family] <= names
    assert model.coords["term"] == ("arm[a]", "arm[b]")
    assert "centred_intercept" not in names or family != "ordered_logistic"


def _log_likelihood_by_hand(family: Family, data, values: dict) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Each row's log-likelihood from the *uncentred* linear predictor, in numpy/scipy."""
    from scipy import special, stats

    u = values["cluster_sd"] * values["cluster_z"]
    eta = (
        data.T @ values["beta"]
        + data.X @ values["gamma"]
        + data.B @ values["block_effect"]
        + data.P @ values["period_effect"]
        + u[data.cluster_idx]
    )
    if family == "normal":
        return stats.norm.logpdf(data.y, eta + values["intercept"], values["sigma"])
    if family == "logistic":
        eta = eta + values["intercept"]
        return data.y * special.log_expit(eta) + (1 - data.y) * special.log_expit(-eta)
    cut = np.concatenate([[-np.inf], values["cutpoints"], [np.inf]])
    k = data.y.astype(int)
    return np.log(special.expit(cut[k + 1] - eta) - special.expit(cut[k] - eta))


@pytest.mark.parametrize("family", ["normal", "logistic", "ordered_logistic"])
def test_centring_is_a_reparametrisation_of_the_uncentred_model(family: Family) -> None:
    """The model's likelihood, read through the ``intercept``/``cutpoints`` deterministics
    (control arm, reference block and period), equals the textbook uncentred one."""
    import pymc as pm

    data = prepare(
        FRAME.assign(block=np.tile(["n", "s", "e", "w"], 15)),
        COLUMN[family],
        "arm",
        covariates=["x1"],
        cluster="team",
        blocks="block",
        period="period",
        family=family,
    )
    priors = model_priors(data, family, Prior(sigma=1.0), scale=1.0, scale_note="test")
    model = build_model(data, family, priors)
    rng = np.random.default_rng(11)
    point = {v.name: rng.normal(size=model.initial_point()[v.name].shape) for v in model.value_vars}
    if family == "ordered_logistic":  # ordered transform: first value free, then log-gaps
        point["centred_cutpoints_ordered__"] = np.array([-1.0, -0.5, 0.0, 0.3])
    names = [v.name for v in model.unobserved_value_vars]
    constrained = model.compile_fn(model.unobserved_value_vars, inputs=model.value_vars)
    values = dict(zip(names, constrained(point), strict=True))
    loglik = model.compile_fn(model.logp(vars=[model["y"]], sum=False)[0])(point)
    assert np.allclose(loglik, _log_likelihood_by_hand(family, data, values), atol=1e-10)
    assert isinstance(model, pm.Model)


def test_centred_parametrisation_samples_cluster_effects_directly() -> None:
    data = prepare(FRAME, "score", "arm", cluster="team")
    priors = model_priors(data, "normal", Prior(), scale=1.0, scale_note="test")
    names = {
        v.name for v in build_model(data, "normal", priors, parametrisation="centred").free_RVs
    }
    assert "cluster_u" in names and "cluster_z" not in names


def test_natural_scale_is_last_and_ratio_null_is_one() -> None:
    assert [s.name for s in scales("poisson")] == [
        "log_rate_ratio",
        "rate_ratio",
        "rate_difference",
    ]
    assert scales("poisson")[1].null == 1.0 and scales("poisson")[-1].natural
    assert scales("normal")[0].natural
