"""A count over its exposure in the plan: analysed as a rate weighted by the exposure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, as_rates
from trialkit.estimate.frequentist.lin import lin
from trialkit.estimate.frequentist.ols import ols
from trialkit.estimate.frequentist.plan import _describe
from trialkit.estimate.frequentist.plan_outcome import estimate_outcome
from trialkit.protocol import Protocol


def _with_ols(protocol: Protocol) -> Protocol:
    plan = protocol.analysis.frequentist.model_copy(update={"estimator": "ols"})
    analysis = protocol.analysis.model_copy(update={"frequentist": plan})
    return protocol.model_copy(update={"analysis": analysis})


def _frame(protocol: Protocol, seed: int = 1, covariates: tuple[str, ...] = ()) -> AnalysisFrame:
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(24), 8)
    arm = np.where(team % 2 == 0, "usual", "budget")
    exposure = np.round(rng.uniform(0.1, 0.5, team.size), 3)
    days = rng.poisson(8.3 * exposure * np.where(arm == "budget", 0.85, 1.0)).astype(float)
    days[::23] = np.nan  # not returned: no rate
    data = pd.DataFrame(
        {
            "sickness_days": days,
            "fte_years": exposure,
            "arm": arm,
            "team": team,
            "days": days,
            "years_in_role": rng.uniform(0, 10, team.size).round(1),
        }
    )
    return AnalysisFrame(
        data=as_rates(protocol, data, "staff"),
        cluster="team",
        blocks=None,
        covariates=covariates,
        baseline=None,
    )


def _ratio(data: pd.DataFrame, arm: str) -> float:
    rows = data[(data.arm == arm) & data.days.notna()]
    return float(rows.days.sum() / rows.fte_years.sum())


def test_as_rates_divides_only_counts_with_an_exposure(flagship: Protocol) -> None:
    frame = _frame(flagship)
    data = frame.data
    np.testing.assert_allclose(data.sickness_days, data.days / data.fte_years, rtol=1e-15)
    assert data.days.isna().equals(data.sickness_days.isna())
    unchanged = pd.DataFrame({"intention_to_leave": [1.0], "fte_years": [0.5]})
    assert as_rates(flagship, unchanged, "staff").equals(unchanged)
    assert as_rates(flagship, data.assign(fte_years=0.0), "staff").sickness_days.isna().all()


def test_the_plan_estimates_the_difference_of_ratio_of_means_rates(flagship: Protocol) -> None:
    protocol = _with_ols(flagship)
    frame = _frame(protocol)
    res = estimate_outcome(protocol, frame, "sickness_days", "sickness_days").effect()
    data = frame.data
    assert res.estimate == pytest.approx(_ratio(data, "budget") - _ratio(data, "usual"), abs=1e-10)
    same = ols(
        data.dropna(subset=["sickness_days"]),
        "sickness_days",
        "arm",
        control="usual",
        cluster="team",
        weights="fte_years",
        se_type="CR2",
    ).effect()
    assert res.std_error == pytest.approx(same.std_error, rel=1e-12)
    assert res.df == pytest.approx(same.df, rel=1e-12)
    # The same column under another name (a family index) is not weighted.
    other = estimate_outcome(protocol, frame, "sickness_days", "workforce").effect()
    assert other.estimate != pytest.approx(res.estimate, abs=1e-6)


def test_lin_adjusts_the_weighted_rate(flagship: Protocol) -> None:
    frame = _frame(flagship, covariates=("years_in_role",))
    res = estimate_outcome(flagship, frame, "sickness_days", "sickness_days").effect()
    same = lin(
        frame.data.dropna(subset=["sickness_days"]),
        "sickness_days",
        "arm",
        covariates=["years_in_role"],
        control="usual",
        cluster="team",
        weights="fte_years",
    ).effect()
    assert (res.estimate, res.std_error) == pytest.approx(
        (same.estimate, same.std_error), rel=1e-12
    )


def test_descriptives_are_each_arms_total_count_over_its_total_exposure(flagship: Protocol) -> None:
    frame = _frame(flagship)
    table = _describe(frame, flagship.outcome("sickness_days")).set_index("arm")
    for arm in ("usual", "budget"):
        rows = frame.data[(frame.data.arm == arm) & frame.data.days.notna()]
        assert table.loc[arm, "mean"] == pytest.approx(_ratio(frame.data, arm), rel=1e-12)
        assert table.loc[arm, "n"] == len(rows)
        w, r = rows.fte_years.to_numpy(), rows.sickness_days.to_numpy()
        m = np.sum(w * r) / np.sum(w)
        expected = np.sqrt(np.sum(w * (r - m) ** 2) / np.sum(w) * len(r) / (len(r) - 1))
        assert table.loc[arm, "sd"] == pytest.approx(expected, rel=1e-12)
