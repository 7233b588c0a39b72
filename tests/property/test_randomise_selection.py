"""The count rule's selection kernel and the counting layout equal their sorting definitions.

* ``_counts.assign`` (multi-quickselect per stratum) equals ``_counts._sorted_assign``
  (full stable sorts) on random strata, contiguous or not, any ratios, and keys with
  forced ties, at the rank boundaries included; a batch equals its draws one at a time.
* ``group_order`` is ``np.argsort(kind="stable")``.
* ``layout`` numbers units and clusters as sorting by (block label, id or cluster label,
  row) does, for integer ids in a small or wide range, with duplicates, and text ids; and
  block labels coded once per cluster give the unit-level errors, in the same order.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialkit.errors import RandomisationError
from trialkit.randomise import _counts
from trialkit.randomise._select import group_order
from trialkit.randomise.units import Units, layout

SETTINGS = settings(max_examples=150, deadline=None)


def _sorted_definition(rule: _counts.CountRule, raw: np.ndarray) -> np.ndarray:
    c = _counts.counts(rule, raw[:, : rule.n_strata])
    return _counts._sorted_assign(rule, raw[:, rule.n_strata :], _counts._ranked_arms(rule, c))


@st.composite
def rules_and_words(draw: st.DrawFn) -> tuple[_counts.CountRule, np.ndarray]:
    n_strata = draw(st.integers(1, 5))
    sizes = draw(st.lists(st.integers(0, 60), min_size=n_strata, max_size=n_strata))
    ratios = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    strata = np.repeat(np.arange(n_strata), sizes)
    if draw(st.booleans()):  # strata not contiguous, as matched pairs' are
        strata = rng.permutation(strata)
    rule = _counts.count_rule(strata, ratios, n_strata)
    batch = draw(st.integers(1, 4))
    raw = rng.integers(0, 2**64, size=(batch, rule.words_per_draw), dtype=np.uint64)
    distinct = draw(st.sampled_from([1, 2, 3, 0]))  # 0: keys left at 64 random bits
    if distinct:
        raw[:, n_strata:] = rng.integers(0, distinct, size=(batch, len(strata)))
    return rule, raw


@SETTINGS
@given(rules_and_words())
def test_selection_equals_stable_sorts(case: tuple[_counts.CountRule, np.ndarray]) -> None:
    rule, raw = case
    np.testing.assert_array_equal(_counts.assign(rule, raw), _sorted_definition(rule, raw))


@SETTINGS
@given(rules_and_words())
def test_batch_equals_draws_one_at_a_time(case: tuple[_counts.CountRule, np.ndarray]) -> None:
    rule, raw = case
    one_by_one = np.concatenate([_counts.assign(rule, raw[i : i + 1]) for i in range(len(raw))])
    np.testing.assert_array_equal(_counts.assign(rule, raw), one_by_one)


def test_ties_at_a_boundary_take_canonical_order() -> None:
    # Stratum of 6, arms 1:1: keys tie across the boundary (ranks 2, 3 and 4 share key 5).
    rule = _counts.count_rule(np.zeros(6, dtype=np.int64), (1, 1), 1)
    raw = np.array([[0, 5, 9, 5, 1, 5, 2]], dtype=np.uint64)
    # By (key, position): 4 (1), 6 (2), 1 (5), 3 (5) | 5 (5), 2 (9); first three get arm 0.
    assert _counts.assign(rule, raw).tolist() == [[0, 1, 1, 0, 1, 0]]


def test_adversarial_keys_fall_back_to_a_sort() -> None:
    # Keys sorted descending by position, with many ties: still the stable-sort answer.
    n = 5_000
    rule = _counts.count_rule(np.zeros(n, dtype=np.int64), (1, 2, 1), 1)
    raw = np.concatenate([[0], (n - np.arange(n)) // 3]).astype(np.uint64)[None, :]
    np.testing.assert_array_equal(_counts.assign(rule, raw), _sorted_definition(rule, raw))


@SETTINGS
@given(st.lists(st.integers(0, 6), max_size=80))
def test_group_order_is_a_stable_argsort(codes: list[int]) -> None:
    array = np.asarray(codes, dtype=np.int64)
    order, starts = group_order(array, 7)
    np.testing.assert_array_equal(order, np.argsort(array, kind="stable"))
    np.testing.assert_array_equal(
        starts, np.concatenate([[0], np.cumsum(np.bincount(array, minlength=7))])
    )


def _ids(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "dense":
        return rng.permutation(n) - 7
    if kind == "wide":
        return rng.integers(-(10**12), 10**12, n)
    if kind == "duplicates":
        return rng.integers(0, max(n // 3, 1), n).astype(np.int32)
    return np.array([f"u{i}" for i in rng.permutation(n)], dtype=object)


@SETTINGS
@given(
    st.integers(1, 60),
    st.integers(1, 5),
    st.sampled_from(["dense", "wide", "duplicates", "text"]),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_units_layout_is_the_sorted_order(
    n: int, n_blocks: int, kind: str, text_blocks: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    ids = _ids(kind, n, rng)
    codes = rng.integers(-2, n_blocks, n)
    blocks = np.array([f"b{x}" for x in codes], dtype=object) if text_blocks else codes
    lay = layout(Units(ids=ids, blocks=blocks), use_blocks=True, use_clusters=False)
    ranked = sorted(range(n), key=lambda i: (blocks[i], ids[i], i))
    expected = np.empty(n, dtype=np.int64)
    expected[ranked] = np.arange(n)
    labels = sorted(set(blocks.tolist()))
    np.testing.assert_array_equal(lay.unit_ru, expected)
    np.testing.assert_array_equal(lay.ru_block, [labels.index(blocks[i]) for i in ranked])
    assert lay.block_labels == tuple(str(x) for x in labels)


@SETTINGS
@given(
    st.integers(1, 80),
    st.integers(1, 40),
    st.integers(1, 4),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_cluster_layout_is_the_sorted_order(
    n: int, n_clusters: int, n_blocks: int, text: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, n_clusters, n) * 3 + 100
    block_of = {c: int(rng.integers(0, n_blocks)) for c in np.unique(cluster).tolist()}
    blocks = np.array([block_of[c] for c in cluster.tolist()])
    if text:
        cluster = np.array([f"c{c}" for c in cluster], dtype=object)
    units = Units(ids=np.arange(n), blocks=blocks, clusters=cluster)
    lay = layout(units, use_blocks=True, use_clusters=True)
    ranked = sorted(set(zip(blocks.tolist(), cluster.tolist(), strict=True)))
    position = {c: p for p, (_, c) in enumerate(ranked)}
    np.testing.assert_array_equal(lay.unit_ru, [position[c] for c in cluster.tolist()])
    labels = sorted({b for b, _ in ranked})
    np.testing.assert_array_equal(lay.ru_block, [labels.index(b) for b, _ in ranked])
    assert lay.n_ru == len(ranked) and lay.block_labels == tuple(map(str, labels))


@pytest.mark.parametrize(
    ("blocks", "clusters", "message"),
    [
        (["a", "a", "b", None], [1, 1, 2, 2], r"^1 unit\(s\) have no block label"),
        ([1.0, 1.0, np.nan, np.nan], [1, 1, 2, 2], r"^2 unit\(s\) have no block label"),
        ([None, None, "b", "b"], [1, 1, 2, 2], r"^2 unit\(s\) have no block label"),
        (["a", "b", "b", "b"], [1, 1, 2, 2], r"^cluster\(s\) 1 lie in more than one block"),
        ([None, "b", "b", "b"], [1, None, 2, 2], r"^1 unit\(s\) have no block label"),
        (["a", "a", "b", "b"], [1, None, 2, 2], r"^1 unit\(s\) have no cluster label"),
    ],
)
def test_cluster_block_errors_count_units(
    blocks: list[object], clusters: list[object], message: str
) -> None:
    units = Units(
        ids=np.arange(4),
        blocks=np.array(blocks, dtype=object if None in blocks else None),
        clusters=np.array(clusters, dtype=object),
    )
    with pytest.raises(RandomisationError, match=message):
        layout(units, use_blocks=True, use_clusters=True)
