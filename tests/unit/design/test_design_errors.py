"""Bad parameters are rejected with scikit-learn style messages naming the fix."""

from __future__ import annotations

import pytest

from trialkit.design import (
    BinaryOutcome,
    ContinuousOutcome,
    InvalidParameterError,
    NoSolutionError,
    power_curve,
    solve_cluster,
    solve_individual,
    solve_stepped_wedge,
)
from trialkit.errors import TrialkitError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"icc": 1.5}, r"The 'icc' parameter of solve_cluster must be in \[0, 1\)\. Got 1\.5"),
        ({"icc": -0.1}, r"'icc' parameter of solve_cluster must be in \[0, 1\)"),
        ({"icc": 0.1, "alpha": 0.0}, r"The 'alpha' parameter .* must be in \(0, 1\)\. Got 0\.0"),
        ({"icc": 0.1, "cv": -1}, r"The 'cv' parameter .* must be in \[0, inf\)"),
        ({"icc": 0.1, "r2_cluster": 1.0}, r"The 'r2_cluster' parameter .* \[0, 1\)"),
        ({"icc": 0.1, "attrition": 1.0}, r"The 'attrition' parameter .* \[0, 1\)\. Got 1\.0"),
        ({"icc": 0.1, "compliance": 0.0}, r"The 'compliance' parameter .* \(0, 1\]\. Got 0\.0"),
        ({"icc": 0.1, "n_arms": 1}, r"The 'n_arms' parameter .* an int in \[2, inf\)\. Got 1"),
        ({"icc": 0.1, "covariates": 1.5}, r"The 'covariates' parameter .* an int in \[0, inf\)"),
        ({"icc": 0.1, "treated_share": 0.7, "n_arms": 3}, r"'treated_share' .* \(0, 0\.5\)"),
        ({"icc": 0.1, "adjustment": "holm"}, r"'adjustment' .* one of 'bonferroni', 'dunnett'"),
        ({"icc": 0.1, "dist": "z"}, r"The 'dist' parameter .* one of 't', 'normal'\. Got 'z'"),
        ({"icc": 0.1, "mde_method": "approx"}, r"'mde_method' .* one of 'exact', 'multiplier'"),
        ({"icc": "0.1"}, r"The 'icc' parameter .* Got '0\.1' instead"),
    ],
)
def test_cluster_parameters(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        solve_cluster(0.3, clusters=20, cluster_size=10, **kwargs)  # type: ignore[arg-type]


def test_errors_are_trialkit_value_errors() -> None:
    with pytest.raises(TrialkitError):
        solve_cluster(0.3, clusters=20, cluster_size=10, icc=2.0)
    with pytest.raises(ValueError, match="icc"):
        solve_cluster(0.3, clusters=20, cluster_size=10, icc=2.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"effect": 0.3}, {"effect": 0.3, "n": 100, "power": 0.8}, {}],
)
def test_exactly_one_unknown(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidParameterError, match=r"Exactly one of 'effect', 'n', 'power'"):
        solve_individual(**kwargs)  # type: ignore[arg-type]


def test_sizes_and_power_ranges() -> None:
    with pytest.raises(InvalidParameterError, match=r"The 'n' parameter of solve_individual"):
        solve_individual(0.3, n=2)
    with pytest.raises(InvalidParameterError, match=r"The 'power' parameter .* Got 1\.0"):
        solve_individual(0.3, power=1.0)
    with pytest.raises(InvalidParameterError, match=r"The 'cluster_size' parameter"):
        solve_cluster(0.3, clusters=10, cluster_size=0.5, icc=0.1)
    with pytest.raises(InvalidParameterError, match=r"The 'clusters' parameter"):
        solve_cluster(0.3, clusters=2, cluster_size=10, icc=0.1)


def test_outcome_parameters() -> None:
    with pytest.raises(InvalidParameterError, match=r"'p_control' .* \(0, 1\)\. Got 1\.2"):
        BinaryOutcome(1.2)
    with pytest.raises(
        InvalidParameterError, match=r"'method' .* one of 'arcsine', 'unpooled', 'pooled'"
    ):
        BinaryOutcome(0.3, method="wilson")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"The 'sd' parameter .* \(0, inf\)"):
        ContinuousOutcome(sd=0.0)
    with pytest.raises(InvalidParameterError, match=r"The 'effect' parameter .* \(-0\.3, 0\.7\)"):
        solve_individual(0.8, n=100, outcome=BinaryOutcome(0.3))
    with pytest.raises(InvalidParameterError, match=r"'outcome' .* ContinuousOutcome or a"):
        solve_individual(0.3, n=100, outcome="binary")  # type: ignore[arg-type]


def test_stepped_wedge_parameters() -> None:
    with pytest.raises(InvalidParameterError, match=r"'clusters' .* multiple of 'steps' \(4\)"):
        solve_stepped_wedge(0.3, clusters=10, cluster_size=10, steps=4, icc=0.05)
    with pytest.raises(InvalidParameterError, match=r"The 'periods' parameter .* \[5, inf\)"):
        solve_stepped_wedge(0.3, clusters=8, cluster_size=10, steps=4, periods=4, icc=0.05)
    with pytest.raises(InvalidParameterError, match=r"The 'steps' parameter"):
        solve_stepped_wedge(0.3, clusters=8, cluster_size=10, steps=0, icc=0.05)


def test_variance_floor_has_a_clear_message() -> None:
    pattern = (
        r"No cluster size reaches 80% power with 20 clusters: the cluster-level variance "
        r"floor .* caps power at 38\.7%.*Fix: add clusters"
    )
    with pytest.raises(NoSolutionError, match=pattern):
        solve_cluster(0.25, clusters=20, power=0.8, icc=0.1)


def test_no_effect_reaches_power_for_a_tiny_binary_trial() -> None:
    with pytest.raises(NoSolutionError, match=r"No effect up to .* reaches 90% power"):
        solve_individual(n=6, power=0.9, outcome=BinaryOutcome(0.5, method="unpooled"))


def test_power_curve_rejects_bad_grids() -> None:
    with pytest.raises(InvalidParameterError, match=r"'grid' parameter of power_curve"):
        power_curve(solve_individual, {"n": []}, effect=0.3)
    with pytest.raises(InvalidParameterError, match=r"both in 'grid' and fixed"):
        power_curve(solve_individual, {"n": [50]}, n=50, effect=0.3)


def test_zero_effect_has_no_sample_size() -> None:
    with pytest.raises(NoSolutionError, match=r"for an effect of 0: power stays at alpha"):
        solve_individual(0.0, power=0.8)
    with pytest.raises(NoSolutionError, match=r"effect of 0"):
        solve_stepped_wedge(0.0, cluster_size=10, power=0.8, steps=3, icc=0.05)
