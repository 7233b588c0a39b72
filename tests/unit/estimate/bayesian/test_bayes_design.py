"""Data preparation for Bayesian models (no PyMC)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.bayesian.design import prepare


def test_multi_arm_terms_use_column_and_arm(cluster_frame: pd.DataFrame) -> None:
    data = prepare(cluster_frame, "y", "arm", covariates=["x1"], cluster="team", blocks="blk")
    assert data.control == "control"
    assert data.terms == ("arm[budget]", "arm[coach]")
    assert data.T.shape == (400, 2)
    assert data.n_clusters == 40
    assert data.B.shape == (400, 1)


def test_two_arms_term_is_column_name() -> None:
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "treat": [0, 1, 0, 1]})
    data = prepare(df, "y", "treat")
    assert data.terms == ("treat",) and data.control == "0"


def test_covariates_are_centred(cluster_frame: pd.DataFrame) -> None:
    data = prepare(cluster_frame, "y", "arm", covariates=["x1"])
    np.testing.assert_allclose(data.X.mean(axis=0), 0.0, atol=1e-12)


def test_missing_values_rejected_not_dropped() -> None:
    df = pd.DataFrame({"y": [1.0, None, 3, 4], "treat": [0, 1, 0, 1]})
    with pytest.raises(EstimationError, match=r"Missing values in \{'y': 1\}"):
        prepare(df, "y", "treat")


def test_single_arm_rejected() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0], "treat": [1, 1]})
    with pytest.raises(EstimationError, match="at least two"):
        prepare(df, "y", "treat")


def test_unknown_control_rejected() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0], "treat": ["a", "b"]})
    with pytest.raises(EstimationError, match="'control' arm 'z'"):
        prepare(df, "y", "treat", control="z")


def test_logistic_needs_binary_outcome() -> None:
    df = pd.DataFrame({"y": [0.0, 2.0], "treat": [0, 1]})
    with pytest.raises(EstimationError, match="must be 0/1"):
        prepare(df, "y", "treat", family="logistic")


def test_ordered_outcome_coded_from_zero() -> None:
    df = pd.DataFrame({"y": [1, 3, 5, 3], "treat": [0, 1, 0, 1]})
    data = prepare(df, "y", "treat", family="ordered_logistic")
    assert data.categories == (1.0, 3.0, 5.0)
    assert data.y.tolist() == [0, 1, 2, 1]


def test_unknown_family_lists_options() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0], "treat": [0, 1]})
    with pytest.raises(EstimationError, match="'family' parameter must be one of"):
        prepare(df, "y", "treat", family="gaussian")  # type: ignore[arg-type]


def test_categorical_covariate_becomes_centred_dummies() -> None:
    df = pd.DataFrame(
        {"y": [1.0, 2, 3, 4], "treat": [0, 1, 0, 1], "area": ["north", "south", "east", "south"]}
    )
    data = prepare(df, "y", "treat", covariates=["area"])
    assert data.covariates == ("area[north]", "area[south]")
    np.testing.assert_allclose(data.X.mean(axis=0), 0.0, atol=1e-12)
