"""CholeskyQR keeps its first Q when it is orthonormal already; a second pass otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.estimate.frequentist import lstsq
from trialkit.estimate.frequentist.lstsq import ORTHONORMAL_TOLERANCE, fit_lstsq


def _design(n: int, correlation: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 1))
    x = correlation * base + np.sqrt(1 - correlation**2) * rng.normal(size=(n, 4))
    return np.column_stack([np.ones(n), x])


@pytest.mark.parametrize(("correlation", "passes"), [(0.3, 1), (0.9999, 2)])
def test_the_second_pass_runs_only_where_the_first_q_is_not_orthonormal(
    monkeypatch: pytest.MonkeyPatch, correlation: float, passes: int
) -> None:
    calls: list[int] = []
    real = lstsq._cholesky

    def counted(a: np.ndarray) -> np.ndarray:
        calls.append(a.shape[0])
        return real(a)

    monkeypatch.setattr(lstsq, "_cholesky", counted)
    x = _design(20_000, correlation, seed=3)
    y = x @ np.arange(1.0, 6.0) + np.random.default_rng(4).normal(size=x.shape[0])
    fit = fit_lstsq(x, y)
    assert len(calls) == passes
    assert np.abs(fit.q.T @ fit.q - np.eye(5)).max() <= ORTHONORMAL_TOLERANCE
    reference, *_ = np.linalg.lstsq(x, y, rcond=None)
    np.testing.assert_allclose(fit.coef, reference, rtol=1e-9)
    np.testing.assert_allclose(fit.resid, y - x @ fit.coef, atol=1e-9)
