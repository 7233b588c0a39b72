"""A design factorised once inside ``reusing_factorisations`` gives bit-for-bit fresh results."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.estimate.frequentist import kept_factors, lstsq
from trialkit.estimate.frequentist.kept_factors import reusing_factorisations
from trialkit.estimate.frequentist.lstsq import LeastSquares, fit_lstsq


def _design(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.asfortranarray(rng.normal(size=(n, k)))
    x[:, 0] = 1.0
    x.flags.writeable = False
    return x


def _assert_identical(a: LeastSquares, b: LeastSquares) -> None:
    for name in ("coef", "q", "r_inv", "resid"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.fixture
def factorisations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the CholeskyQR2 factorisations run."""
    calls: list[int] = []
    real = lstsq._cholesky_qr2

    def counted(*args: np.ndarray) -> object:
        calls.append(args[0].shape[0])
        return real(*args)

    monkeypatch.setattr(lstsq, "_cholesky_qr2", counted)
    return calls


@pytest.mark.parametrize("weighted", [False, True])
def test_a_reused_design_gives_the_fresh_fit_bit_for_bit(
    factorisations: list[int], weighted: bool
) -> None:
    rng = np.random.default_rng(3)
    x = _design(500, 6, seed=1)
    ys = [rng.normal(size=500) for _ in range(3)]
    w = rng.uniform(0.5, 2.0, 500) if weighted else None
    fresh = [fit_lstsq(x, y, w) for y in ys]
    assert len(factorisations) == 3
    with reusing_factorisations():
        copy = x.copy(order="F")  # equal, not the same object
        copy.flags.writeable = False
        designs = (x, copy, x)
        reused = [
            fit_lstsq(d, y, None if w is None else w.copy())
            for d, y in zip(designs, ys, strict=True)
        ]
    assert len(factorisations) == 4  # one factorisation for the three fits
    for a, b in zip(fresh, reused, strict=True):
        _assert_identical(a, b)


def test_a_design_that_differs_anywhere_is_factorised_again(factorisations: list[int]) -> None:
    y = np.random.default_rng(4).normal(size=400)
    x = _design(400, 5, seed=2)
    changed = x.copy()
    changed[237, 3] += 1e-12  # one element, between the rows sampled first
    changed.flags.writeable = False
    with reusing_factorisations():
        fit_lstsq(x, y)
        inside = fit_lstsq(changed, y)
        weighted = fit_lstsq(x, y, np.full(400, 2.0))
    assert len(factorisations) == 3
    _assert_identical(inside, fit_lstsq(changed, y))
    _assert_identical(weighted, fit_lstsq(x, y, np.full(400, 2.0)))


def test_a_design_that_can_change_is_not_kept(factorisations: list[int]) -> None:
    y = np.random.default_rng(5).normal(size=300)
    x = np.array(_design(300, 4, seed=3))  # writeable
    with reusing_factorisations():
        fit_lstsq(x, y)
        x[:, 2] *= 3.0  # changed in place after its fit
        after = fit_lstsq(x, y)
    assert len(factorisations) == 2
    _assert_identical(after, fit_lstsq(x, y))


def test_nothing_is_kept_outside_the_block(factorisations: list[int]) -> None:
    x, y = _design(200, 3, seed=4), np.arange(200.0)
    with reusing_factorisations():
        fit_lstsq(x, y)
    fit_lstsq(x, y)
    assert len(factorisations) == 2


def test_small_designs_do_not_push_out_the_large_one(
    factorisations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kept_factors, "LARGE_DESIGN", 100 * 4 * 8)  # over 100 rows x 4 columns
    large, other_large = _design(1000, 4, seed=5), _design(1000, 4, seed=6)
    smalls = [_design(50, 4, seed=10 + i) for i in range(kept_factors.SMALL_DESIGNS + 1)]
    y, ys = np.arange(1000.0), np.arange(50.0)
    with reusing_factorisations():
        fit_lstsq(large, y)
        for small in smalls:
            fit_lstsq(small, ys)
        fit_lstsq(large, y)  # kept through the small ones
        fit_lstsq(smalls[-1], ys)  # the most recent small ones are kept
        fit_lstsq(smalls[0], ys)  # the oldest small one was pushed out by the newer ones
        fit_lstsq(other_large, y)
        fit_lstsq(large, y)  # one large design at a time
    assert factorisations == [1000, *([50] * len(smalls)), 50, 1000, 1000]


def test_a_new_large_design_lets_go_of_the_kept_one_before_it_is_factorised(
    factorisations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The peak holds one large design's factors, not two; small ones stay kept."""
    monkeypatch.setattr(kept_factors, "LARGE_DESIGN", 100 * 4 * 8)
    large, other_large, small = (
        _design(1000, 4, seed=5),
        _design(1000, 4, seed=6),
        _design(50, 4, 7),
    )
    held_while_factorising: list[int] = []
    real = lstsq._cholesky_qr2

    def watched(*args: np.ndarray) -> object:
        held_while_factorising.append(len(kept_factors._KEPT.get() or ()))
        return real(*args)

    monkeypatch.setattr(lstsq, "_cholesky_qr2", watched)
    with reusing_factorisations():
        fit_lstsq(large, np.arange(1000.0))
        fit_lstsq(small, np.arange(50.0))
        fit_lstsq(other_large, np.arange(1000.0))  # the kept large one is let go first
        assert [f.x is other_large for f in kept_factors._KEPT.get() or ()] == [True, False]
        fit_lstsq(small, np.arange(50.0))  # still kept
    assert held_while_factorising == [0, 1, 1]


def test_lin_builds_one_design_for_outcomes_adjusted_alike(
    factorisations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    import pandas as pd

    lin_module = importlib.import_module("trialkit.estimate.frequentist.lin")
    built: list[int] = []
    real = lin_module.lin_design

    def counted(*args: object) -> np.ndarray:
        built.append(1)
        return np.asarray(real(*args))

    monkeypatch.setattr(lin_module, "lin_design", counted)
    rng = np.random.default_rng(7)
    n = 400
    data = pd.DataFrame(
        {
            "arm": rng.choice(["usual", "budget"], n),
            "block": rng.choice(["a", "b", "c"], n),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "y1": rng.normal(size=n),
            "y2": rng.normal(size=n),
        }
    )
    settings = {"covariates": ["x1", "x2"], "blocks": "block", "control": "usual"}
    fresh = [lin_module.lin(data, y, "arm", **settings) for y in ("y1", "y2")]
    assert len(built) == 2
    with reusing_factorisations():
        reused = [lin_module.lin(data, y, "arm", **settings) for y in ("y1", "y2")]
        other = lin_module.lin(data, "y1", "arm", covariates=["x1"], control="usual")
    assert len(built) == 4  # one for both outcomes, one for the other covariates
    for a, b in zip(fresh, reused, strict=True):
        np.testing.assert_array_equal(a.coefficients, b.coefficients)
        np.testing.assert_array_equal(a.vcov, b.vcov)
    assert other.coefficients.shape != reused[0].coefficients.shape


def test_cr2_reuses_the_clusters_eigenpairs_of_a_kept_design(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trialkit.estimate.frequentist.cr2 import cr2_vcov
    from trialkit.estimate.frequentist.vcov import Clusters

    eigh_calls: list[int] = []
    real = np.linalg.eigh

    def counted(a: np.ndarray) -> object:
        eigh_calls.append(a.shape[0])
        return real(a)

    monkeypatch.setattr(np.linalg, "eigh", counted)
    rng = np.random.default_rng(12)
    x = _design(3000, 4, seed=8)
    codes = np.sort(rng.integers(0, 120, 3000))
    codes[:3] = [200, 201, 202]  # a few clusters smaller than k: the dense route
    clusters = Clusters.from_codes(codes)
    ys = [rng.normal(size=3000) for _ in range(2)]
    fresh = [cr2_vcov(fit_lstsq(x, y), clusters) for y in ys]
    per_fit = len(eigh_calls) // 2  # eigenproblem batches of one fit
    assert per_fit >= 2  # the low-rank route and the dense route of the small clusters
    with reusing_factorisations():
        reused = [cr2_vcov(fit_lstsq(x, ys[0]), clusters)]
        assert len(eigh_calls) == 3 * per_fit
        reused.append(cr2_vcov(fit_lstsq(x, ys[1]), clusters))
        assert len(eigh_calls) == 3 * per_fit  # the second outcome solved none
        other_clusters = Clusters.from_codes(np.sort(rng.integers(0, 50, 3000)))
        cr2_vcov(fit_lstsq(x, ys[0]), other_clusters)
        assert len(eigh_calls) > 3 * per_fit  # other clusters: solved afresh
    for (v1, df1), (v2, df2) in zip(fresh, reused, strict=True):
        np.testing.assert_array_equal(v1, v2)
        np.testing.assert_array_equal(df1, df2)


def test_a_key_whose_inputs_can_change_is_not_kept(factorisations: list[int]) -> None:
    x, y = _design(300, 3, seed=9), np.arange(300.0)
    frozen_input = np.arange(300)
    frozen_input.flags.writeable = False
    changeable = np.arange(300)
    with reusing_factorisations():
        fit_lstsq(x, y, key=kept_factors.DesignKey("test", (changeable,)))
        assert kept_factors.kept_design(kept_factors.DesignKey("test", (changeable,))) is None
        fit_lstsq(x, y, key=kept_factors.DesignKey("test", (frozen_input,)))  # reused design
        found = kept_factors.kept_design(kept_factors.DesignKey("test", (np.arange(300),)))
    assert found is None  # the reused fit did not re-key the kept design
    assert len(factorisations) == 1
