"""The count rule's fast path (partition) equals its definition (stable sorts), ties included."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.randomise import _counts


@pytest.mark.parametrize("ratios", [(1, 1), (2, 1, 1), (1, 3)])
@pytest.mark.parametrize("key_range", [4, 2**64 - 1])
def test_partition_path_equals_sorted_path(ratios: tuple[int, ...], key_range: int) -> None:
    n = 11
    rule = _counts.count_rule(np.zeros(n, dtype=np.int64), ratios, 1)
    rng = np.random.default_rng(0)
    raw = rng.integers(0, key_range, size=(500, n + 1), dtype=np.uint64, endpoint=True)
    c = _counts.counts(rule, raw[:, :1])
    ranked = _counts._ranked_arms(rule, c)
    expected = _counts._sorted_assign(rule, raw[:, 1:], ranked)
    np.testing.assert_array_equal(_counts.assign(rule, raw), expected)


def test_ties_are_broken_by_canonical_position() -> None:
    rule = _counts.count_rule(np.zeros(4, dtype=np.int64), (1, 1), 1)
    raw = np.array([[0, 7, 7, 7, 7]], dtype=np.uint64)  # all keys tie
    assert _counts.assign(rule, raw).tolist() == [[0, 0, 1, 1]]


def test_counts_are_floor_plus_systematic_extras() -> None:
    rule = _counts.count_rule(np.zeros(10, dtype=np.int64), (1, 1, 1), 1)
    got = {tuple(_counts.counts(rule, np.array([[u]], dtype=np.uint64))[0, 0]) for u in range(3)}
    assert got == {(4, 3, 3), (3, 4, 3), (3, 3, 4)}
