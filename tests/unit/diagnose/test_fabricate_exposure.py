"""A count with an exposure is fabricated as the declared rate times each row's exposure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialkit.diagnose import fabricate
from trialkit.diagnose.fabricate import FULL_TIME_SHARE, WHOLE_PERIOD_SHARE, draw_exposure
from trialkit.protocol import Protocol


def _positive_part_mean(mean: float, sd: float) -> float:
    """E max(X, 0) for X ~ N(mean, sd²): the rate once negative draws are set to 0."""
    z = mean / sd
    return float(mean * stats.norm.cdf(z) + sd * stats.norm.pdf(z))


def test_exposure_is_fte_times_years_in_post(flagship: Protocol) -> None:
    exposure = draw_exposure(flagship, 20000, np.random.default_rng(1))
    dates = flagship.dates
    assert dates is not None
    years = ((dates.intervention_end - dates.intervention_start).days + 1) / 365.25
    assert exposure.min() > 0 and exposure.max() == pytest.approx(round(years, 3))
    whole = np.isclose(exposure, round(years, 3))
    assert whole.mean() == pytest.approx(FULL_TIME_SHARE * WHOLE_PERIOD_SHARE, abs=0.015)


def test_counts_are_the_declared_rate_times_the_exposure(flagship: Protocol) -> None:
    n = 600
    units = pd.DataFrame(
        {
            "team_id": [f"T{i:04d}" for i in range(n)],
            "locality": "A",
            "caseload": 1.0,
            "imd_score": 1.0,
            "team_size": 1.0,
        }
    )
    arms = pd.Series(np.where(np.arange(n) % 2 == 0, "usual", "budget"), index=units.team_id)
    staff = fabricate(flagship, units, arms, rng=np.random.default_rng(5))["staff"]
    outcome = flagship.outcome("sickness_days")
    a = outcome.assumptions
    assert a is not None and a.mean is not None and a.sd is not None
    assert staff["fte_years"].notna().all() and (staff["fte_years"] > 0).all()
    rows = staff.dropna(subset=["sickness_days"])
    treated = arms.reindex(rows["team_id"]).to_numpy() == "budget"
    for arm, shift in ((False, 0.0), (True, a.effect)):
        part = rows[treated == arm]
        rate = part["sickness_days"].sum() / part["fte_years"].sum()
        expected = _positive_part_mean(a.mean + shift, a.sd)
        # ratio-of-means SE by linearisation, teams as clusters (the ICC is declared)
        z = (part["sickness_days"] - rate * part["fte_years"]) / part["fte_years"].sum()
        se = float(np.sqrt((z.groupby(part["team_id"]).sum() ** 2).sum()))
        assert abs(rate - expected) <= 4 * se, (arm, rate, expected, se)


def test_diagnosis_runs_the_plan_on_the_rate(flagship: Protocol) -> None:
    from trialkit.diagnose import diagnose
    from trialkit.diagnose.generate import batch_problem

    outcome = flagship.outcome("sickness_days")
    assert "rate" in str(batch_problem(flagship, outcome))  # the plan's weighted estimator
    result = diagnose(
        flagship,
        sims=40,
        variants=[24],
        outcomes=["sickness_days"],
        executor="serial",
        progress=False,
        estimands=["ITT"],
    )
    table = result.to_frame().set_index("diagnosand")
    assert result.simulations["estimate"].notna().all()
    a = outcome.assumptions
    assert a is not None and a.mean is not None and a.sd is not None
    # the declared effect, less what setting negative rates to 0 takes off, in the teams
    # that take the budget up (the others keep their control rates)
    truth = flagship.power.compliance * (
        _positive_part_mean(a.mean + a.effect, a.sd) - _positive_part_mean(a.mean, a.sd)
    )
    mean, mc_se = table.loc["mean_estimate", ["estimate", "mc_se"]]
    assert abs(mean - truth) <= 4 * mc_se, (mean, truth, mc_se)
