"""``fit_in_span``: a design in the span of one already factorised, fitted from its QR."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.lstsq import fit_in_span, fit_lstsq


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_in_span_equals_a_fresh_fit_of_the_transformed_design(weighted: bool) -> None:
    rng = np.random.default_rng(8)
    n, k = 3000, 5
    x = rng.normal(size=(n, k)) * [1.0, 1e3, 1.0, 1e-3, 5.0]  # columns of different scales
    x[:, 0] = 1.0
    y = rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    base = fit_lstsq(x, x @ rng.normal(size=k) + rng.normal(size=n), w)
    # two-stage least squares' second stage: intercept, fitted values, two of the columns
    transform = np.column_stack([np.eye(k)[:, 0], base.coef, np.eye(k)[:, 2:4]])
    fresh = fit_lstsq(x @ transform, y, w)
    span = fit_in_span(base, transform, y, w)
    np.testing.assert_allclose(span.coef, fresh.coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(span.resid, fresh.resid, atol=1e-10)
    np.testing.assert_allclose(span.bread, fresh.bread, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(span.leverages(), fresh.leverages(), atol=1e-12)
    np.testing.assert_allclose(span.q.T @ span.q, np.eye(4), atol=1e-12)


def test_a_collinear_column_of_the_new_design_is_refused() -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(200, 3))
    base = fit_lstsq(x, rng.normal(size=200))
    transform = np.column_stack([np.eye(3)[:, 0], np.eye(3)[:, 0] * 2.0])
    with pytest.raises(EstimationError, match="linear combination"):
        fit_in_span(base, transform, rng.normal(size=200), names=["a", "b"])
