"""The cluster index, CR2 on rows in any storage order, and prepare's one-block fast path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist import _design
from trialkit.estimate.frequentist.cr2 import cr2_vcov, singleton_df
from trialkit.estimate.frequentist.lstsq import fit_lstsq
from trialkit.estimate.frequentist.vcov import Clusters


@pytest.mark.parametrize(
    "codes",
    [
        np.array([2, 0, 1, 2, 0, 0]),  # dense: kept as is
        np.array([30, 10, 30, 20, 10]),  # not dense: relabelled in sorted order
        np.array([-3, 5, -3, 7]),
        np.array([1.0, 0.0, 1.0]),
    ],
)
def test_from_codes_matches_unique_and_stable_sort(codes: np.ndarray) -> None:
    cl = Clusters.from_codes(codes)
    expected = np.unique(codes, return_inverse=True)[1]
    np.testing.assert_array_equal(cl.codes, expected, err_msg="codes")
    np.testing.assert_array_equal(cl.sizes, np.bincount(expected), err_msg="sizes")
    np.testing.assert_array_equal(cl.order, np.argsort(expected, kind="stable"), err_msg="order")
    assert cl.n_clusters == expected.max() + 1


def test_order_beyond_sixteen_bits() -> None:
    codes = np.random.default_rng(1).permutation(70_000)  # more clusters than uint16 holds
    cl = Clusters.from_codes(codes)
    np.testing.assert_array_equal(cl.order, np.argsort(codes, kind="stable"))
    assert not cl.in_order and Clusters.from_codes(np.sort(codes)).in_order


def _clustered_fit(
    n: int, sizes: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(sizes.size), sizes)
    x = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=(n, 4))])
    y = x @ np.arange(6.0) + rng.normal(size=sizes.size)[codes] + rng.normal(size=n)
    return x, y, codes


def test_cr2_does_not_depend_on_the_storage_order() -> None:
    sizes = np.array([1, 2, 3, 5, 6, 7, 8, 12, 30, 40, 3, 6, 9, 25])  # both sides of k = 6
    x, y, codes = _clustered_fit(int(sizes.sum()), sizes, 3)
    sorted_fit = cr2_vcov(fit_lstsq(x, y), Clusters.from_codes(codes))
    perm = np.random.default_rng(4).permutation(codes.size)
    shuffled = Clusters.from_codes(codes[perm])
    assert not shuffled.in_order
    shuffled_fit = cr2_vcov(fit_lstsq(x[perm], y[perm]), shuffled)
    np.testing.assert_allclose(shuffled_fit[0], sorted_fit[0], rtol=1e-11, err_msg="CR2 vcov")
    np.testing.assert_allclose(shuffled_fit[1], sorted_fit[1], rtol=1e-11, err_msg="BM df")


def test_prepare_fast_path_equals_column_by_column(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "arm": np.tile(["a", "b"], 20),
            "x1": rng.integers(0, 5, 40),
            "x2": rng.normal(size=40) > 0,
            "w": rng.random(40) + 0.5,
            "team": np.repeat(np.arange(10), 4),
        }
    )

    def prepared() -> _design.Prepared:
        return _design.prepare(
            frame,
            outcome="y",
            treatment="arm",
            covariates=["x2", "x1"],
            weights="w",
            cluster="team",
        )

    fast = prepared()
    monkeypatch.setattr(_design, "_finite_block", lambda frame, names: None)
    slow = prepared()
    for name in ("y", "covariates", "weights", "arm_codes"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    assert fast.covariates.shape == (40, 2)


@pytest.mark.parametrize(
    "values",
    [
        np.array([21, 3, 10, 3, 21, 17]),
        np.array([5, -2, 5, 9], dtype=np.int8),
        np.array([3, 1, 3], dtype=np.uint64),
        np.array([10**12, 1, 1]),  # range too wide to count: pandas.factorize
        np.array(["b", "a", "b"], dtype=object),
    ],
)
def test_factor_equals_sorted_factorize(values: np.ndarray) -> None:
    coded = _design.factor(pd.DataFrame({"c": values}), "c")
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    np.testing.assert_array_equal(coded.codes, codes)
    assert coded.codes.dtype == np.intp
    assert coded.levels == tuple(uniques.tolist())
    assert [type(v) for v in coded.levels] == [type(v) for v in uniques.tolist()]


@pytest.mark.parametrize("arms", [np.array([2, 0, 1, 2]), np.array([7, 3, 3, 7], dtype=np.uint8)])
def test_integer_arms_found_by_counting(arms: np.ndarray) -> None:
    coded, codes = _design.encode_arms(pd.DataFrame({"t": arms}), "t", None)
    levels = sorted(pd.unique(pd.Series(arms)).tolist())
    control = 0 if 0 in levels else levels[0]
    assert coded.control == control
    assert coded.others == tuple(v for v in levels if v != control)
    np.testing.assert_array_equal(codes, [([control, *coded.others]).index(v) for v in arms])


@pytest.mark.parametrize(
    ("values", "categories", "control"),
    [
        (["budget", "usual", "budget", "usual"], ["usual", "budget", "unused"], None),
        (["b", "a", "c", "a"], ["c", "b", "a"], "b"),
        ([1, 0, 2, 2], [2, 1, 0], None),
    ],
)
def test_categorical_arms_coded_as_their_values(
    values: list[object], categories: list[object], control: object
) -> None:
    plain = _design.encode_arms(pd.DataFrame({"t": values}), "t", control)
    frame = pd.DataFrame({"t": pd.Categorical(values, categories=categories)})
    coded, codes = _design.encode_arms(frame, "t", control)
    assert coded == plain[0]
    np.testing.assert_array_equal(codes, plain[1])


def test_categorical_arms_refuse_an_absent_control_as_before() -> None:
    frame = pd.DataFrame({"t": pd.Categorical(["a", "b"], categories=["a", "b", "z"])})
    with pytest.raises(EstimationError, match=r"control arm 'z' does not occur.*\['a', 'b'\]"):
        _design.encode_arms(frame, "t", "z")


@pytest.mark.parametrize("weighted", [False, True])
def test_singleton_df_equals_cr2_with_one_unit_per_cluster(weighted: bool) -> None:
    rng = np.random.default_rng(6)
    n = 300
    x = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=(n, 3)) ** 3])
    x = np.column_stack([x, (np.arange(n) == 7).astype(float)])  # a row with leverage 1
    y = x @ np.arange(6.0) + rng.normal(size=n) * (1 + x[:, 1])
    fit = fit_lstsq(x, y, rng.random(n) + 0.2 if weighted else None)
    general = cr2_vcov(fit, Clusters.from_codes(np.arange(n)))[1]
    np.testing.assert_allclose(singleton_df(fit), general, rtol=1e-12, err_msg="BM df")
