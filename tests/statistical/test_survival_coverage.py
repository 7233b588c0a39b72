"""Coverage of the RMST-difference interval (pseudo-observations, CR2, Bell–McCaffrey df).

24 teams (12 per arm), 6-10 staff each, a shared gamma frailty per team (variance 0.5),
exponential leaving with hazard ratio 0.7, independent transfers (competing events, censored)
and administrative censoring between 300 and 500 days; horizon 300 days.

The true RMST of an arm is that of the marginal survival under gamma frailty,
S(t) = (1 + theta lam t)^(-1/theta), so RMST(tau) = ((1 + theta lam tau)^(1 - 1/theta) - 1)
/ (lam (theta - 1)), the net (cause-specific) RMST that the Kaplan–Meier estimates when
transfers are independent. The closed form is checked against numerical integration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from trialkit.estimate.frequentist.survival_rmst import rmst_difference

THETA, BASE, HR, TAU = 0.5, np.log(2) / 365.0, 0.7, 300.0
REPLICATIONS = 5000


def _true_rmst(lam: float) -> float:
    return float(((1 + THETA * lam * TAU) ** (1 - 1 / THETA) - 1) / (lam * (THETA - 1)))


def _trial(rng: np.random.Generator) -> pd.DataFrame:
    sizes = rng.integers(6, 11, 24)
    team = np.repeat(np.arange(24), sizes)
    arm = (rng.permutation(np.repeat([0, 1], 12)))[team]
    frailty = rng.gamma(1 / THETA, THETA, 24)[team]
    leave = rng.exponential(1.0 / (BASE * frailty * np.where(arm == 1, HR, 1.0)))
    transfer = rng.exponential(2000.0, team.size)
    end = rng.uniform(300.0, 500.0, team.size)
    days = np.minimum.reduce([leave, transfer, end])
    code = np.where(days == leave, 1, np.where(days == transfer, 2, 0))
    return pd.DataFrame({"days": days, "days_event": code, "arm": arm, "team": team})


def test_closed_form_truth_matches_integration() -> None:
    for lam in (BASE, BASE * HR):
        value, _ = integrate.quad(lambda t, lam=lam: (1 + THETA * lam * t) ** (-1 / THETA), 0, TAU)
        assert _true_rmst(lam) == pytest.approx(value, rel=1e-10)


@pytest.mark.slow
def test_rmst_interval_covers_95_percent_with_24_clusters() -> None:
    truth = _true_rmst(BASE * HR) - _true_rmst(BASE)
    rng = np.random.default_rng(20240917)
    covered = np.empty(REPLICATIONS, dtype=bool)
    for r in range(REPLICATIONS):
        res = rmst_difference(
            _trial(rng), "days", "days_event", "arm", horizon=TAU, control=0, cluster="team"
        )
        effect = res.effect()
        covered[r] = effect.ci_low <= truth <= effect.ci_high
    coverage = covered.mean()
    mcse = np.sqrt(coverage * (1 - coverage) / REPLICATIONS)
    print(
        f"RMST difference {truth:.2f} days: coverage {coverage:.4f} (MC SE {mcse:.4f}) "
        f"over {REPLICATIONS} replications"
    )
    assert abs(coverage - 0.95) <= 0.015, f"coverage {coverage:.4f} (MC SE {mcse:.4f})"
