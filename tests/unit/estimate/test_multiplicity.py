"""Unit tests for multiplicity adjustments (Holm, BH, Westfall–Young)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.multiplicity import (
    WestfallYoungKind,
    adjust_p_values,
    benjamini_hochberg,
    holm,
    westfall_young,
)


def _brute_force_wy(obs: np.ndarray, null: np.ndarray, kind: str) -> np.ndarray:
    """Westfall–Young step-down straight from the definition, with loops."""
    obs, null = np.abs(obs), np.abs(null)
    B, m = null.shape
    if kind == "maxT":
        order = sorted(range(m), key=lambda j: -obs[j])
        raw_step = []
        for i, r in enumerate(order):
            rest = order[i:]
            hits = sum(max(null[b, k] for k in rest) >= obs[r] for b in range(B))
            raw_step.append(hits / B)
    else:

        def pval(col: int, value: float) -> float:
            return float(sum(null[b, col] >= value for b in range(B)) / B)

        raw = [pval(j, obs[j]) for j in range(m)]
        order = sorted(range(m), key=lambda j: raw[j])
        raw_step = []
        for i, r in enumerate(order):
            rest = order[i:]
            hits = sum(min(pval(k, null[b, k]) for k in rest) <= raw[r] for b in range(B))
            raw_step.append(hits / B)
    out = np.empty(m)
    running = 0.0
    for i, r in enumerate(order):
        running = max(running, raw_step[i])
        out[r] = running
    return out


def _marginal(obs: np.ndarray, null: np.ndarray) -> np.ndarray:
    out: np.ndarray = (np.abs(null) >= np.abs(obs)).mean(axis=0)
    return out


def test_holm_hand_example() -> None:
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.2]), [0.04, 0.09, 0.09, 0.2])


def test_bh_hand_example() -> None:
    np.testing.assert_allclose(
        benjamini_hochberg([0.01, 0.04, 0.03, 0.2]), [0.04, 0.0533333333, 0.0533333333, 0.2]
    )


def test_nan_left_out_of_family() -> None:
    out = holm([0.01, np.nan, 0.04])
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.04])


def test_none_returns_copy() -> None:
    p = np.array([0.2, 0.01])
    out = adjust_p_values(p, method="none")
    np.testing.assert_array_equal(out, p)
    assert out is not p


def test_p_out_of_range_rejected() -> None:
    with pytest.raises(EstimationError, match=r"'p_values' parameter of holm must lie in \[0, 1\]"):
        holm([0.5, 1.5])


def test_unknown_method_rejected() -> None:
    with pytest.raises(EstimationError, match="must be one of"):
        adjust_p_values([0.1], method="bonferroni")  # type: ignore[arg-type]


def test_westfall_young_needs_null_stats() -> None:
    with pytest.raises(EstimationError, match="needs 'observed' and 'null_stats'"):
        adjust_p_values([0.1, 0.2], method="westfall_young")


def test_westfall_young_shape_mismatch() -> None:
    with pytest.raises(EstimationError, match=r"\(B, 3\) matrix"):
        westfall_young([1.0, 2.0, 3.0], np.zeros((10, 2)))


@pytest.mark.parametrize("kind", ["maxT", "minP"])
def test_westfall_young_matches_brute_force(kind: str) -> None:
    rng = np.random.default_rng(7)
    cov = 0.5 * np.ones((4, 4)) + 0.5 * np.eye(4)
    null = rng.multivariate_normal(np.zeros(4), cov, size=200)
    obs = np.array([2.6, 0.3, 1.9, -2.1])
    np.testing.assert_allclose(
        westfall_young(obs, null, kind=kind),  # type: ignore[arg-type]
        _brute_force_wy(obs, null, kind),
        err_msg=f"Westfall-Young {kind} adjusted p",
    )


def test_westfall_young_accepts_batches() -> None:
    rng = np.random.default_rng(3)
    null = rng.normal(size=(300, 3))
    obs = np.array([2.0, 1.0, 0.5])
    batches = (null[i : i + 64] for i in range(0, 300, 64))
    np.testing.assert_allclose(westfall_young(obs, batches), westfall_young(obs, null))


def test_westfall_young_via_adjust_p_values() -> None:
    rng = np.random.default_rng(4)
    null = rng.normal(size=(100, 2))
    obs = np.array([2.5, 0.1])
    out = adjust_p_values([0.0, 0.0], method="westfall_young", observed=obs, null_stats=null)
    np.testing.assert_allclose(out, westfall_young(obs, null))


_cases = st.tuples(
    st.integers(min_value=2, max_value=5),
    st.integers(min_value=20, max_value=120),
    st.integers(min_value=0, max_value=2**31),
    st.floats(min_value=0.0, max_value=0.9),
)


@settings(max_examples=40, deadline=None)
@given(_cases)
def test_westfall_young_between_raw_and_holm_bounds(case: tuple[int, int, int, float]) -> None:
    m, B, seed, rho = case
    rng = np.random.default_rng(seed)
    cov = rho * np.ones((m, m)) + (1 - rho) * np.eye(m)
    null = rng.multivariate_normal(np.zeros(m), cov, size=B)
    obs = rng.normal(scale=2.0, size=m)
    raw = _marginal(obs, null)
    tol = 1e-12
    kinds: tuple[WestfallYoungKind, ...] = ("maxT", "minP")
    for kind in kinds:
        adj = westfall_young(obs, null, kind=kind)
        assert np.all(adj >= raw - tol), f"{kind}: adjusted p below raw permutation p"
        assert np.all(adj <= 1 + tol)
    # minP is never above Holm on the permutation p-values (union bound, exact here).
    assert np.all(westfall_young(obs, null, kind="minP") <= holm(raw) + tol)
    # maxT is never above the step-down sum bound max_k min(1, sum_{j in S_k} p_j).
    order = np.argsort(-np.abs(obs), kind="stable")
    tails = np.cumsum(raw[order][::-1])[::-1]
    bound = np.empty(m)
    bound[order] = np.maximum.accumulate(np.minimum(1.0, tails))
    assert np.all(westfall_young(obs, null, kind="maxT") <= bound + tol)


@pytest.mark.parametrize("kind", ["maxT", "minP"])
def test_weighted_resamples_count_as_repeated_draws(kind: str) -> None:
    """Exact inference weighs each assignment by its probability: integer weights give the
    adjustment of the draws repeated that many times."""
    rng = np.random.default_rng(11)
    null = rng.normal(size=(40, 3))
    times = rng.integers(1, 5, size=40)
    obs = np.array([2.1, -0.4, 1.3])
    repeated = np.repeat(null, times, axis=0)
    np.testing.assert_allclose(
        westfall_young(obs, null, kind=kind, weights=times / times.sum()),  # type: ignore[arg-type]
        _brute_force_wy(obs, repeated, kind),
        rtol=1e-12,
        err_msg=f"weighted Westfall-Young {kind}",
    )


@pytest.mark.parametrize("kind", ["maxT", "minP"])
def test_a_statistic_undefined_in_a_resample_is_never_as_extreme(kind: str) -> None:
    rng = np.random.default_rng(12)
    null = rng.normal(size=(50, 2))
    obs = np.array([1.5, 0.8])
    undefined = null.copy()
    undefined[[3, 17], 0] = np.nan
    zeroed = null.copy()
    zeroed[[3, 17], 0] = 0.0
    np.testing.assert_allclose(
        westfall_young(obs, undefined, kind=kind),  # type: ignore[arg-type]
        _brute_force_wy(obs, zeroed, kind),
    )


def test_weights_must_be_one_probability_per_resample() -> None:
    with pytest.raises(EstimationError, match="5 probabilities"):
        westfall_young([1.0], np.zeros((5, 1)), weights=[0.5, 0.5])


def test_weighted_ties_are_ties_whatever_the_order_of_summing() -> None:
    """Statistics with ties (binary outcomes) under assignments of unequal probability:
    p-values equal in exact arithmetic but summed in another order are still compared as
    equal, so the adjustment is never smaller than the definition's."""
    rng = np.random.default_rng(13)
    for _ in range(40):
        null = rng.integers(0, 4, size=(30, 3)).astype(float)
        times = rng.integers(1, 6, size=30)
        obs = rng.integers(1, 4, size=3).astype(float)
        np.testing.assert_allclose(
            westfall_young(obs, null, kind="minP", weights=times / times.sum()),
            _brute_force_wy(obs, np.repeat(null, times, axis=0), "minP"),
            rtol=1e-12,
        )


def test_one_nearly_singular_resample_does_not_widen_the_ties() -> None:
    rng = np.random.default_rng(14)
    null = rng.normal(size=(200, 2))
    null[5, 0] = 1e13  # an assignment whose design is all but singular
    obs = np.array([2.0, 1.0])
    for kind in ("maxT", "minP"):
        np.testing.assert_allclose(
            westfall_young(obs, null, kind=kind),  # type: ignore[arg-type]
            _brute_force_wy(obs, null, kind),
        )
