"""standardised_effect: Hedges' g, its interval and the SD, against the closed form."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.effect_sizes import hedges_g_for_effect, standardised_effect


def test_matches_closed_form() -> None:
    rng = np.random.default_rng(4)
    t, c = rng.normal(1.0, 2.0, 37), rng.normal(0.0, 1.5, 52)
    sd = np.sqrt((36 * t.var(ddof=1) + 51 * c.var(ddof=1)) / 87)
    omega = 1 - 3 / (4 * 89 - 9)
    es = standardised_effect(0.8, -0.1, 1.7, t, c)
    np.testing.assert_allclose(es.sd_pooled, sd, rtol=1e-13, err_msg="sd_pooled")
    np.testing.assert_allclose(es.correction, omega, rtol=1e-13, err_msg="omega")
    np.testing.assert_allclose(es.hedges_g, omega * 0.8 / sd, rtol=1e-13, err_msg="g")
    np.testing.assert_allclose(es.g_ci_low, omega * -0.1 / sd, rtol=1e-13, err_msg="low")
    np.testing.assert_allclose(es.g_ci_high, omega * 1.7 / sd, rtol=1e-13, err_msg="high")
    assert es.hedges_g == pytest.approx(hedges_g_for_effect(0.8, t, c), rel=1e-14)


def test_missing_values_are_ignored_and_tiny_arms_rejected() -> None:
    a = standardised_effect(1.0, 0.0, 2.0, [2.0, 3.0, np.nan, 5.0], [1.0, 2.0, 4.0])
    b = standardised_effect(1.0, 0.0, 2.0, [2.0, 3.0, 5.0], [1.0, 2.0, 4.0])
    assert a == b
    with pytest.raises(EstimationError, match="two values per arm"):
        standardised_effect(1.0, 0.0, 2.0, [2.0], [1.0, 2.0])
