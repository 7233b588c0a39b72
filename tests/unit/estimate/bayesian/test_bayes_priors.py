"""Prior specifications and default scaling."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.estimate.bayesian.design import prepare
from trialkit.estimate.bayesian.priors import Prior, effect_prior, outcome_scale


def test_prior_from_protocol_mapping() -> None:
    p = Prior.from_mapping({"distribution": "normal", "mean": 1, "sd": 2, "source": "pilot"})
    assert (p.mu, p.sigma, p.source) == (1.0, 2.0, "pilot")


def test_prior_rejects_non_positive_sigma() -> None:
    with pytest.raises(EstimationError, match="'sigma' parameter of Prior must be positive"):
        Prior(sigma=0.0)


def test_prior_mapping_needs_sigma() -> None:
    with pytest.raises(EstimationError, match="no 'sigma'"):
        Prior.from_mapping({"mean": 0})


def test_scale_from_declared_range_or_sd(cluster_frame: pd.DataFrame) -> None:
    data = prepare(cluster_frame, "y", "arm")
    assert outcome_scale(data, "normal", (0.0, 100.0)) == (25.0, "declared range [0, 100] / 4")
    s, note = outcome_scale(data, "normal")
    assert s == pytest.approx(cluster_frame["y"].std()) and note == "sample SD of the outcome"


def test_default_effect_prior_is_outcome_scale(cluster_frame: pd.DataFrame) -> None:
    data = prepare(cluster_frame, "y", "arm")
    assert effect_prior(None, data, "normal", scale=2.0).sigma == 2.0
    assert effect_prior(None, data, "logistic", scale=2.0).sigma == 1.5


def test_sceptical_prior_puts_five_percent_beyond_mid(cluster_frame: pd.DataFrame) -> None:
    data = prepare(cluster_frame, "y", "arm")
    p = effect_prior("sceptical", data, "normal", scale=2.0, mid=0.5)
    assert p.mu == 0.0
    assert stats.norm(0, p.sigma).sf(0.5) == pytest.approx(0.05)


def test_informative_prior_passes_through(cluster_frame: pd.DataFrame) -> None:
    data = prepare(cluster_frame, "y", "arm")
    prior = Prior(mu=0.3, sigma=0.1, source="meta-analysis")
    assert effect_prior(prior, data, "normal", scale=1.0) is prior


def test_unknown_prior_kind_rejected(cluster_frame: pd.DataFrame) -> None:
    data = prepare(cluster_frame, "y", "arm")
    with pytest.raises(EstimationError, match="'prior' parameter"):
        effect_prior("flat", data, "normal", scale=1.0)  # type: ignore[arg-type]
