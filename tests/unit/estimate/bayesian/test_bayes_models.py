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
    "logistic": {"intercept"},
    "poisson": {"intercept"},
    "negative_binomial": {"inv_dispersion"},
    "ordered_logistic": {"cutpoints"},
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
    assert "intercept" not in names or family != "ordered_logistic"


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
