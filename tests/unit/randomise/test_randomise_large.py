"""A million units: counts per block, whole clusters, and the same bytes in any order."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit._core.rng import RawStream
from trialkit.randomise.schemes import BlockedRandomisation, ClusterRandomisation
from trialkit.randomise.units import Units


@pytest.mark.slow
def test_million_units_in_a_thousand_blocks() -> None:
    n = 1_000_000
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 1_000, n)
    ids = rng.permutation(n)
    arms = BlockedRandomisation(Units(ids=ids, blocks=blocks), ratios=(1, 2)).draw(RawStream(1))
    size = np.bincount(blocks)
    treated = np.bincount(blocks, weights=arms)
    assert ((treated == size * 2 // 3) | (treated == -(-size * 2 // 3))).all()
    order = rng.permutation(n)
    again = BlockedRandomisation(Units(ids=ids[order], blocks=blocks[order]), ratios=(1, 2)).draw(
        RawStream(1)
    )
    np.testing.assert_array_equal(again, arms[order])


@pytest.mark.slow
def test_million_units_in_ten_thousand_string_clusters() -> None:
    n = 1_000_000
    rng = np.random.default_rng(1)
    clusters = np.array([f"c{i:05d}" for i in range(10_000)], dtype=object)[
        rng.integers(0, 10_000, n)
    ]
    arms = ClusterRandomisation(Units(ids=np.arange(n), clusters=clusters)).draw(RawStream(2))
    codes = np.unique(clusters, return_inverse=True)[1]
    share = np.bincount(codes, weights=arms) / np.bincount(codes)
    assert set(np.unique(share)) <= {0.0, 1.0}
    assert share.sum() == 5_000
