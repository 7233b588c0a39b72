"""Unit tests of the least-squares core and the covariance registry."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate import ols
from trialkit.estimate.frequentist import lstsq
from trialkit.estimate.frequentist.lstsq import fit_lstsq
from trialkit.estimate.frequentist.vcov import VCOV_TYPES, Clusters, compute_vcov
from trialkit.protocol.vocabulary import VcovType


@pytest.fixture(scope="module")
def design() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    n = 300
    x = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(50, 10, (n, 3))])
    return x, x @ np.arange(5.0) + rng.normal(size=n)


def test_vcov_types_come_from_the_literal() -> None:
    assert get_args(VcovType) == VCOV_TYPES
    assert VCOV_TYPES == ("classical", "HC0", "HC1", "HC2", "HC3", "CR0", "CR1", "CR2", "CR3")


def test_q_is_orthonormal(design: tuple[np.ndarray, np.ndarray]) -> None:
    q = fit_lstsq(*design).q
    np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]), atol=1e-13, err_msg="Q'Q = I")


def test_cholesky_qr2_and_householder_agree(
    design: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = fit_lstsq(*design)
    monkeypatch.setattr(lstsq, "CHOLQR_MAX_CONDITION", 0.0)  # force Householder
    slow = fit_lstsq(*design)
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=1e-11, err_msg="coefficients")
    np.testing.assert_allclose(fast.bread, slow.bread, rtol=1e-10, err_msg="(X'X)^-1")


def test_weighted_fit_equals_transformed_ols(design: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = design
    w = np.linspace(0.5, 2, y.size)
    a = fit_lstsq(x, y, w)
    b = fit_lstsq(x * np.sqrt(w)[:, None], y * np.sqrt(w))
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12, err_msg="coefficients")


@pytest.mark.parametrize("se_type", ["classical", "HC0", "HC1", "HC2", "HC3"])
def test_unit_types_have_n_minus_k_df(design: tuple[np.ndarray, np.ndarray], se_type: str) -> None:
    fit = fit_lstsq(*design)
    assert np.all(compute_vcov(fit, se_type).df == fit.n_obs - fit.n_coef)


def test_hc_ordering(design: tuple[np.ndarray, np.ndarray]) -> None:
    fit = fit_lstsq(*design)
    se = {t: np.sqrt(np.diag(compute_vcov(fit, t).matrix)) for t in ("HC0", "HC2", "HC3")}
    assert np.all(se["HC0"] < se["HC2"]) and np.all(se["HC2"] < se["HC3"])


def test_cr1_scaling(design: tuple[np.ndarray, np.ndarray]) -> None:
    fit = fit_lstsq(*design)
    cl = Clusters.from_codes(np.arange(design[1].size) % 30)
    cr0, cr1 = compute_vcov(fit, "CR0", cl).matrix, compute_vcov(fit, "CR1", cl).matrix
    n, k, g = fit.n_obs, fit.n_coef, 30
    np.testing.assert_allclose(
        cr1, cr0 * g / (g - 1) * (n - 1) / (n - k), rtol=1e-12, err_msg="CR1"
    )


def test_one_cluster_is_refused(design: tuple[np.ndarray, np.ndarray]) -> None:
    from trialkit.errors import EstimationError

    fit = fit_lstsq(*design)
    with pytest.raises(EstimationError, match="at least two clusters"):
        compute_vcov(fit, "CR2", Clusters.from_codes(np.zeros(design[1].size, dtype=np.intp)))


def test_result_api() -> None:
    frame = pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 5.0, 4.0, 7.0, 1.5, 2.5],
            "arm": [0, 1, 0, 1, 0, 1, 0, 1],
            "x": [1, 2, 3, 4, 2, 3, 1, 1.5],
        }
    )
    res = ols(frame, "y", "arm", covariates=["x"])
    assert res.terms == ("(Intercept)", "arm", "x")
    assert res.coefficients.shape == (3,) and res.vcov.shape == (3, 3)
    assert res.effect().estimand == "ITT"
    assert res.summary().startswith("ols  se_type=HC2")
    row = res.effect()
    assert row.ci_low < row.estimate < row.ci_high
    assert res.to_frame().term.tolist() == ["arm", "(Intercept)", "x"]


@pytest.mark.parametrize("estimator", ["ols", "lin", "difference_in_means"])
@pytest.mark.parametrize("twice", ["y", "x"])
def test_a_column_named_twice_is_a_clear_error(estimator: str, twice: str) -> None:
    """Two columns with the name an estimator uses: say so (it was an AttributeError)."""
    import trialkit.estimate as est
    from trialkit.errors import EstimationError

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"y": rng.normal(size=20), "x": rng.normal(size=20)})
    frame["arm"] = ["a", "b"] * 10
    frame = pd.concat([frame, frame[[twice]]], axis=1)
    covariates = [] if estimator == "difference_in_means" else ["x"]
    kwargs = {"covariates": covariates} if covariates else {}
    if estimator == "difference_in_means" and twice == "x":
        getattr(est, estimator)(frame, "y", "arm")  # x is not used: no error
        return
    with pytest.raises(EstimationError, match=f'more than one column named "{twice}"'):
        getattr(est, estimator)(frame, "y", "arm", **kwargs)
