"""Invariants of every randomisation scheme (randomizr's checks, as properties).

* Every block gets the floor or ceiling of its planned count of every arm.
* Clusters are never split.
* Over 20,000 seeds, each unit's frequency of each arm is within 5 binomial standard
  errors of its declared probability (for rerandomisation: 20,000 accepted draws).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialkit._core.rng import RawStream
from trialkit.randomise.schemes import (
    BlockedClusterRandomisation,
    BlockedRandomisation,
    ClusterRandomisation,
    CompleteRandomisation,
    MatchedPairs,
    Rerandomisation,
    Scheme,
    SimpleRandomisation,
    SteppedWedge,
)
from trialkit.randomise.units import Units

N_SEEDS = 20_000
Design = tuple[list[int], tuple[int, ...], int]
SETTINGS = settings(max_examples=40, deadline=None)


def _labels(values: np.ndarray | None) -> np.ndarray:
    assert values is not None
    return values


def _units(block_sizes: list[int], cluster_size: int = 0, covariates: int = 0) -> Units:
    n = sum(block_sizes)
    ids = np.array([f"id{i:04d}" for i in range(n)], dtype=object)
    blocks = np.repeat([f"b{j}" for j in range(len(block_sizes))], block_sizes).astype(object)
    clusters = (
        np.array([f"c{i // cluster_size:04d}" for i in range(n)], dtype=object)
        if cluster_size
        else None
    )
    x = np.random.default_rng(n).normal(size=(n, covariates)) if covariates else None
    return Units(ids=ids, blocks=blocks, clusters=clusters, covariates=x)


@st.composite
def blocked_designs(draw: st.DrawFn) -> Design:
    ratios = tuple(draw(st.lists(st.integers(1, 3), min_size=2, max_size=4)))
    need = math.ceil(sum(ratios) / min(ratios))
    sizes = draw(st.lists(st.integers(need, need + 12), min_size=1, max_size=6))
    return sizes, ratios, draw(st.integers(0, 2**63 - 1))


def _check_counts(groups: np.ndarray, arms: np.ndarray, ratios: tuple[int, ...]) -> None:
    total = sum(ratios)
    for g in np.unique(groups):
        in_group = arms[groups == g]
        n = len(in_group)
        got = np.bincount(in_group, minlength=len(ratios))
        for k, w in enumerate(ratios):
            assert got[k] in (n * w // total, -(-n * w // total)), (g, k, got)


@SETTINGS
@given(blocked_designs())
def test_blocked_gives_floor_or_ceiling_in_every_block(design: Design) -> None:
    sizes, ratios, seed = design
    units = _units(sizes)
    arms = BlockedRandomisation(units, ratios=ratios).draw(RawStream(seed))
    _check_counts(_labels(units.blocks), arms, ratios)


@SETTINGS
@given(blocked_designs())
def test_complete_gives_floor_or_ceiling(design: Design) -> None:
    sizes, ratios, seed = design
    arms = CompleteRandomisation(_units(sizes), ratios=ratios).draw(RawStream(seed))
    _check_counts(np.zeros(len(arms)), arms, ratios)


@SETTINGS
@given(blocked_designs(), st.integers(1, 4))
def test_cluster_schemes_never_split_clusters(design: Design, cluster_size: int) -> None:
    sizes, ratios, seed = design
    sizes = [s * cluster_size for s in sizes]  # whole clusters per block
    units = _units(sizes, cluster_size=cluster_size)
    for scheme in (
        ClusterRandomisation(units, ratios=ratios),
        BlockedClusterRandomisation(units, ratios=ratios),
        SteppedWedge(units, steps=len(ratios)),
    ):
        arms = scheme.draw(RawStream(seed))
        clusters, blocks = _labels(units.clusters), _labels(units.blocks)
        for c in np.unique(clusters):
            assert len(set(arms[clusters == c])) == 1
        first = np.unique(clusters, return_index=True)[1]
        if scheme.name == "blocked_cluster":
            _check_counts(blocks[first], arms[first], ratios)
        elif scheme.name == "stepped_wedge":
            _check_counts(blocks[first], arms[first], (1,) * len(ratios))
        else:
            _check_counts(np.zeros(len(first)), arms[first], ratios)


@SETTINGS
@given(st.lists(st.integers(1, 9), min_size=1, max_size=4), st.integers(0, 2**32))
def test_matched_pairs_split_every_pair(sizes: list[int], seed: int) -> None:
    scheme = MatchedPairs(_units(sizes, covariates=2))
    arms, pairs = scheme.draw(RawStream(seed)), scheme.pairs()
    for p in np.unique(pairs):
        members = arms[pairs == p]
        assert len(members) in (1, 2)
        if len(members) == 2:
            assert sorted(members) == [0, 1]


@SETTINGS
@given(blocked_designs(), st.randoms(use_true_random=False))
def test_allocation_ignores_row_order(design: Design, rnd: object) -> None:
    sizes, ratios, seed = design
    units = _units(sizes)
    order = np.arange(units.n_units)
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = Units(ids=units.ids[order], blocks=_labels(units.blocks)[order])
    a = BlockedRandomisation(units, ratios=ratios).draw(RawStream(seed))
    b = BlockedRandomisation(shuffled, ratios=ratios).draw(RawStream(seed))
    assert dict(zip(units.ids, a, strict=True)) == dict(zip(shuffled.ids, b, strict=True))


# ---------------------------------------------------------------- frequencies over seeds


@pytest.fixture(scope="module")
def words() -> np.ndarray:
    """The first 64 raw words of the streams of seeds 0 … 19,999."""
    return np.stack([RawStream(s).raw(64) for s in range(N_SEEDS)])


def _frequency_schemes() -> list[Scheme]:
    return [
        SimpleRandomisation(_units([7]), ratios=(1, 2, 2)),
        CompleteRandomisation(_units([11]), ratios=(1, 2)),
        BlockedRandomisation(_units([4, 7, 5]), ratios=(1, 1, 2)),
        ClusterRandomisation(_units([15], cluster_size=3), ratios=(2, 3)),
        BlockedClusterRandomisation(_units([6, 8], cluster_size=2), ratios=(1, 2)),
        MatchedPairs(_units([5, 6], covariates=2)),
        SteppedWedge(_units([8, 10], cluster_size=2), steps=3),
    ]


def _assert_within_5_se(
    freq: np.ndarray, p: np.ndarray, n: int, extra_var: float | np.ndarray = 0.0
) -> None:
    se = np.sqrt(p * (1 - p) / n + extra_var)
    z = np.abs(freq - p) / np.where(se > 0, se, 1)
    assert (z <= 5).all(), f"largest |z| = {z.max():.2f}"


def _frequencies(arms: np.ndarray, n_arms: int) -> np.ndarray:
    return np.stack([(arms == k).mean(axis=0) for k in range(n_arms)], axis=1)


@pytest.mark.parametrize("index", range(7))
def test_frequencies_over_seeds_match_declared_probabilities(words: np.ndarray, index: int) -> None:
    scheme = _frequency_schemes()[index]
    arms = scheme.assign_raw(words[:, : scheme.words_per_draw])
    np.testing.assert_array_equal(arms[:3], scheme.draw_seeds(range(3)))
    _assert_within_5_se(_frequencies(arms, scheme.n_arms), scheme.probabilities(), N_SEEDS)


def test_rerandomisation_frequencies_match_symmetric_probabilities() -> None:
    """Equal ratios: each unit's probability is exactly 1/arms (cyclic relabelling)."""
    scheme = Rerandomisation(_units([6, 6], covariates=2), ratios=(1, 1, 1), acceptance=0.2)
    arms = np.concatenate(list(scheme.draw_many(RawStream(1), N_SEEDS)))
    assert (scheme.criterion(arms[:500]) <= scheme.threshold).all()
    _assert_within_5_se(_frequencies(arms, 3), scheme.probabilities(), N_SEEDS)


def test_rerandomisation_unequal_ratios_exact_by_enumeration() -> None:
    """Unequal ratios, small base: probabilities come from enumerating the base."""
    scheme = Rerandomisation(_units([10], covariates=2), ratios=(1, 2), acceptance=0.2)
    assert scheme.parameters()["probabilities"] == "exact by enumeration"
    arms = np.concatenate(list(scheme.draw_many(RawStream(1), N_SEEDS)))
    _assert_within_5_se(_frequencies(arms, 2), scheme.probabilities(), N_SEEDS)


def test_rerandomisation_estimated_probabilities_are_honest() -> None:
    """Unequal ratios, large base: probabilities are estimated; allow for their own error."""
    from trialkit.randomise.schemes.rerandomisation import PROBABILITY_DRAWS

    scheme = Rerandomisation(_units([30], covariates=2), ratios=(1, 2), acceptance=0.2)
    assert scheme.parameters()["probabilities"].startswith("estimated from")
    p = scheme.probabilities()
    arms = np.concatenate(list(scheme.draw_many(RawStream(1), N_SEEDS)))
    _assert_within_5_se(
        _frequencies(arms, 2), p, N_SEEDS, extra_var=p * (1 - p) / PROBABILITY_DRAWS
    )
