"""Diagnosis of a time-to-event outcome: the RMST difference and the Cox log hazard ratio.

Each simulation draws leaving times from the fabricator's law and runs the registered plan;
each inquiry is computed from that simulation's potential outcomes. Checked here: the
inquiries (the mean RMST estimand against the closed form of the simulator's law, the Cox
estimand against statsmodels), and that the plan's estimates are unbiased for them within
Monte Carlo error with intervals covering them at a rate inside a binomial band.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from trialkit.diagnose import Diagnosis, diagnose
from trialkit.diagnose.simulate import result_keys, select_outcomes
from trialkit.diagnose.survival import control_log_hazard, frailty_sd, marginal_survival
from trialkit.diagnose.survival_sim import potential_log_hr
from trialkit.protocol import Protocol

SIMS = 80
NAME = "time_to_leaving"


@pytest.fixture(scope="module")
def timed(flagship: Protocol) -> Diagnosis:
    return diagnose(
        flagship, sims=SIMS, variants=[24], outcomes=[NAME], executor="serial", progress=False
    )


def _table(diagnosis: Diagnosis, outcome: str) -> dict[str, tuple[float, float]]:
    rows = diagnosis.to_frame()
    rows = rows[rows["outcome"] == outcome]
    return {r.diagnosand: (r.estimate, r.mc_se) for r in rows.itertuples()}


def test_survival_outcomes_are_selected_with_two_inquiries(flagship: Protocol) -> None:
    assert NAME in select_outcomes(flagship, "compared")
    assert result_keys(flagship, [NAME, "loneliness"]) == (
        NAME,
        f"{NAME}:log_hr",
        "loneliness",
        "loneliness:cace",
    )
    assert result_keys(flagship, [NAME, "loneliness"], cace=False)[-1] == "loneliness"


def test_both_inquiries_are_reported_for_every_simulation(timed: Diagnosis) -> None:
    assert set(timed.to_frame()["outcome"]) == {NAME, f"{NAME}:log_hr"}
    sims = timed.simulations
    assert list(sims.columns[-1:]) == ["estimand"]
    for outcome in (NAME, f"{NAME}:log_hr"):
        rows = sims[sims["outcome"] == outcome]
        assert len(rows) == SIMS and rows["estimate"].notna().all(), outcome
        assert rows["std_error"].notna().all() and rows["estimand"].notna().all(), outcome
        assert rows["estimand"].nunique() > 1, f"{outcome}: one estimand per simulation"
    assert np.isinf(sims.loc[sims["outcome"] == f"{NAME}:log_hr", "df"]).all()  # normal


def _population_rmst_difference(protocol: Protocol) -> float:
    """The simulator's law in closed form: whole days ceil(T), so E min(ceil T, tau) is the
    sum over k < tau of the marginal survival at k (the frailty integrated out)."""
    outcome = protocol.outcome(NAME)
    a, tau = outcome.assumptions, outcome.survival.horizon_days  # type: ignore[union-attr]
    assert a is not None and a.rate is not None and a.hazard_ratio is not None
    sd = frailty_sd(a.icc)
    log_h0 = control_log_hazard(a.rate, sd, float(tau))

    def rmst(log_h: float) -> float:
        return sum(marginal_survival(log_h, sd, float(k)) for k in range(tau))

    return rmst(log_h0 + math.log(a.hazard_ratio)) - rmst(log_h0)


def test_rmst_estimands_average_to_the_simulators_law(flagship: Protocol, timed: Diagnosis) -> None:
    sims = timed.simulations
    truth = sims.loc[sims["outcome"] == NAME, "estimand"].to_numpy()
    # the ITT: teams offered the budget that do not use it keep their control times
    expected = flagship.power.compliance * _population_rmst_difference(flagship)
    mc_se = truth.std(ddof=1) / math.sqrt(truth.size)
    assert abs(truth.mean() - expected) <= 4 * mc_se, (truth.mean(), expected, mc_se)


@pytest.mark.parametrize("outcome", [NAME, f"{NAME}:log_hr"])
def test_unbiased_and_covering_within_monte_carlo_error(timed: Diagnosis, outcome: str) -> None:
    table = _table(timed, outcome)
    bias, bias_se = table["bias"]
    assert abs(bias) <= 4 * bias_se, f"{outcome}: bias {bias:.3f} (MC SE {bias_se:.3f})"
    coverage = table["coverage"][0]
    # the 99.9% binomial band around 0.95 for SIMS simulations
    low, high = stats.binom.ppf([0.0005, 0.9995], SIMS, 0.95) / SIMS
    assert low <= coverage <= high, f"{outcome}: coverage {coverage:.3f}"
    assert 0.0 <= table["power"][0] <= 1.0


def test_cox_estimand_matches_statsmodels_with_ties() -> None:
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(2)
    rows = 150
    times = np.ceil(rng.exponential(300.0, (2, rows)) * np.array([[1.0], [1.5]]))
    codes = np.where(times <= 200, np.where(rng.random((2, rows)) < 0.1, 2, 1), 0)
    times = np.minimum(times, 200.0)
    arm = np.repeat([0.0, 1.0], rows)[:, None]
    ref = PHReg(
        times.reshape(-1), arm, status=(codes.reshape(-1) == 1).astype(float), ties="efron"
    ).fit()
    assert potential_log_hr(times, codes) == pytest.approx(ref.params[0], abs=1e-10)
    assert math.isnan(potential_log_hr(times, np.where(np.arange(2)[:, None] == 0, codes, 0)))
