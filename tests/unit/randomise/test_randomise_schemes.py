"""Scheme-specific behaviour: randomizr's counts, errors, pairs and rerandomisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import make_units
from scipy import stats

from trialkit._core.rng import RawStream
from trialkit.errors import RandomisationError
from trialkit.randomise.schemes import (
    BlockedClusterRandomisation,
    BlockedRandomisation,
    ClusterRandomisation,
    CompleteRandomisation,
    MatchedPairs,
    Rerandomisation,
    SimpleRandomisation,
    SteppedWedge,
)
from trialkit.randomise.schemes.matched_pairs import whiten
from trialkit.randomise.schemes.rerandomisation import mahalanobis
from trialkit.randomise.units import Units


@pytest.mark.parametrize(
    ("n", "ratios", "expected"),
    [
        (4, (1, 1), 6),  # randomizr: choose(4, 2)
        (5, (1, 1), 20),  # floor 2 or ceiling 3 treated
        (10, (1, 1, 1), 3 * math.factorial(10) // (24 * 6 * 6)),  # (4,3,3) in 3 orders
        (6, (1, 2), math.comb(6, 2)),  # whole counts 2 and 4
    ],
)
def test_complete_counts_match_randomizr(n: int, ratios: tuple[int, ...], expected: int) -> None:
    assert CompleteRandomisation(make_units(n), ratios=ratios).count_assignments() == expected


def test_simple_counts_every_assignment() -> None:
    assert SimpleRandomisation(make_units(5), ratios=(1, 1, 1)).count_assignments() == 3**5


def test_multi_arm_remainder_goes_to_distinct_arms() -> None:
    # 10 units, ratios 2:1:1 → planned 5, 2.5, 2.5: counts (5,3,2) or (5,2,3), each 1/2.
    scheme = CompleteRandomisation(make_units(10), ratios=(2, 1, 1))
    counts = {tuple(np.bincount(a, minlength=3)) for a in scheme.draw_seeds(range(200))}
    assert counts == {(5, 3, 2), (5, 2, 3)}


def test_enumeration_refuses_more_than_100000() -> None:
    scheme = CompleteRandomisation(make_units(30))
    with pytest.raises(RandomisationError, match=r"more than the 100,000 that can be enumerated"):
        scheme.enumerate_assignments()


def test_block_too_small_for_the_arms() -> None:
    scheme = BlockedRandomisation(make_units(7, blocks=[5, 2]), ratios=(1, 1, 1))
    with pytest.raises(RandomisationError, match=r"block\(s\) `b1` \(2\) have fewer than the 3"):
        scheme.draw(RawStream(1))


def test_cluster_spread_over_two_blocks() -> None:
    units = Units(ids=np.arange(4), blocks=np.array(list("aabb")), clusters=np.array(list("xyyz")))
    with pytest.raises(RandomisationError, match=r"cluster\(s\) y lie in more than one block"):
        BlockedClusterRandomisation(units).draw(RawStream(1))


def test_missing_block_label() -> None:
    units = Units(ids=np.arange(4), blocks=np.array(["a", None, "b", "b"], dtype=object))
    with pytest.raises(RandomisationError, match=r"1 unit\(s\) have no block label"):
        BlockedRandomisation(units).draw(RawStream(1))


def test_unit_scheme_refuses_clusters() -> None:
    with pytest.raises(RandomisationError, match="would split clusters"):
        CompleteRandomisation(make_units(6, cluster_size=2)).draw(RawStream(1))


@pytest.mark.parametrize("ratios", [(1,), (1, 0), (1, -2), (1.5, 1)])
def test_bad_ratios(ratios: tuple[float, ...]) -> None:
    with pytest.raises(RandomisationError, match=r"The 'ratios' parameter must hold two or more"):
        CompleteRandomisation(make_units(6), ratios=ratios).probabilities()  # type: ignore[arg-type]


def test_bad_steps_and_method() -> None:
    with pytest.raises(RandomisationError, match=r"The 'steps' parameter of SteppedWedge"):
        SteppedWedge(make_units(4, cluster_size=1), steps=1)
    with pytest.raises(RandomisationError, match=r"The 'method' parameter of MatchedPairs"):
        MatchedPairs(make_units(4, covariates=1), method="optimal")  # type: ignore[arg-type]


def test_cluster_probabilities_are_the_clusters() -> None:
    scheme = ClusterRandomisation(make_units(9, cluster_size=3), ratios=(1, 2))
    np.testing.assert_allclose(scheme.probabilities(), np.tile([1 / 3, 2 / 3], (9, 1)))


# ------------------------------------------------------------------ matched pairs


def test_pairs_are_nearest_neighbours_within_blocks() -> None:
    x = np.array([[0.0], [5.0], [0.2], [5.1], [100.0], [100.3]])
    units = Units(ids=np.arange(6), blocks=np.array(list("aaaabb")), covariates=x)
    pairs = MatchedPairs(units).pairs()
    assert pairs.tolist() == [1, 2, 1, 2, 3, 3]


def test_sorted_pairing_pairs_neighbours_on_the_covariate() -> None:
    x = np.array([[3.0], [1.0], [4.0], [2.0]])
    pairs = MatchedPairs(Units(ids=np.arange(4), covariates=x), method="sorted").pairs()
    assert pairs[1] == pairs[3] and pairs[0] == pairs[2]


def test_odd_block_leaves_a_single_unit_randomised_half_and_half() -> None:
    scheme = MatchedPairs(make_units(5, covariates=1))
    pairs = scheme.pairs()
    assert sorted(np.bincount(pairs)[1:].tolist()) == [1, 2, 2]
    np.testing.assert_allclose(scheme.probabilities(), 0.5)


def test_matched_pairs_of_clusters_use_cluster_means() -> None:
    scheme = MatchedPairs(make_units(8, cluster_size=2, covariates=1))
    arms = scheme.draw(RawStream(3))
    assert (arms[0::2] == arms[1::2]).all()
    assert len(np.unique(scheme.pairs())) == 2


# ------------------------------------------------------------------ rerandomisation


def test_mahalanobis_is_morgan_rubin_for_two_arms() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    arms = np.array([0, 1] * 6)
    d = x[arms == 1].mean(axis=0) - x[arms == 0].mean(axis=0)
    cov = np.cov(x, rowvar=False) * (1 / 6 + 1 / 6)
    expected = d @ np.linalg.solve(cov, d)
    assert mahalanobis(whiten(x), arms[None, :], 2)[0] == pytest.approx(expected, rel=1e-10)


def test_threshold_is_the_chi2_quantile_and_is_met() -> None:
    units = make_units(40, covariates=3)
    scheme = Rerandomisation(units, acceptance=0.1)
    assert scheme.threshold == pytest.approx(stats.chi2.ppf(0.1, 3))
    draws = np.concatenate(list(scheme.draw_many(RawStream(4), 200)))
    assert (scheme.criterion(draws) <= scheme.threshold).all()
    params = scheme.parameters()
    assert params["statistic"] == "mahalanobis" and params["base"] == "complete"
    assert params["threshold"] == scheme.threshold


def test_acceptance_share_is_close_to_declared() -> None:
    scheme = Rerandomisation(make_units(60, covariates=2), acceptance=0.2)
    base = np.concatenate(list(scheme.base.draw_many(RawStream(2), 4000)))
    share = (scheme.criterion(base) <= scheme.threshold).mean()
    assert abs(share - 0.2) < 0.04


def test_rerandomisation_that_cannot_meet_its_criterion() -> None:
    scheme = Rerandomisation(make_units(20, covariates=2), threshold=-1.0, max_draws=50)
    with pytest.raises(
        RandomisationError,
        match=r"no draw with Mahalanobis balance .* "
        r"within its limit of 50 draws",
    ):
        scheme.draw(RawStream(1))


def test_rerandomisation_keeps_blocks_and_clusters() -> None:
    units = make_units(24, blocks=[12, 12], cluster_size=2, covariates=2)
    scheme = Rerandomisation(units, acceptance=0.3)
    assert scheme.base.name == "blocked_cluster"
    arms = scheme.draw(RawStream(8))
    assert (arms[0::2] == arms[1::2]).all()
    assert arms[:12].sum() == 6 and arms[12:].sum() == 6
