"""Survival estimators: refusals, several arms, cause-specific censoring, speed, tidy output."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist import cox_hazard_ratios, kaplan_meier, rmst_difference
from trialkit.estimate.frequentist.survival_cox import COX_COLUMNS
from trialkit.estimate.frequentist.survival_rmst import rmst_pseudo_values
from trialkit.estimate.results import ESTIMATE_COLUMNS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _data(
    seed: int = 0, arms: tuple[str, ...] = ("control", "budget"), n: int = 120
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    team = np.arange(n) % 12
    arm = np.asarray(arms)[team % len(arms)]
    leave = np.round(rng.exponential(400.0, n))
    end = np.round(rng.uniform(300.0, 450.0, n))
    days = np.minimum(leave, end)
    code = np.where(leave <= end, 1, 0)
    code[::17] = np.where(code[::17] == 1, 2, code[::17])  # some transfers
    return pd.DataFrame(
        {"days": days, "days_event": code, "arm": arm, "team": team, "x": rng.normal(size=n)}
    )


def test_three_arms_give_one_row_per_treated_arm() -> None:
    df = _data(arms=("control", "budget", "budget_peer"))
    res = rmst_difference(df, "days", "days_event", "arm", horizon=300.0, control="control")
    assert res.treatment_terms == ("arm[budget]", "arm[budget_peer]")
    frame = res.to_frame()
    assert list(frame.columns) == list(ESTIMATE_COLUMNS)
    assert frame.term.tolist()[:2] == ["arm[budget]", "arm[budget_peer]"]
    assert frame.estimator.iloc[0] == "RMST pseudo-observations (horizon 300 days)"
    cox = cox_hazard_ratios(df, "days", "days_event", "arm", control="control", cluster="team")
    assert cox.treatment_terms == ("arm[budget]", "arm[budget_peer]")
    cox_frame = cox.to_frame()
    assert list(cox_frame.columns) == list(COX_COLUMNS)
    assert len(cox_frame) == 2
    assert (cox_frame.hazard_ratio == np.exp(cox_frame.estimate)).all()
    curves = kaplan_meier(df, "days", "days_event", "arm")
    assert [c.arm for c in curves] == ["budget", "budget_peer", "control"]


def test_competing_events_are_censored() -> None:
    df = _data()
    recoded = df.assign(days_event=df.days_event.replace(2, 0))
    a = rmst_difference(df, "days", "days_event", "arm", horizon=300.0, control="control")
    b = rmst_difference(recoded, "days", "days_event", "arm", horizon=300.0, control="control")
    assert a.effect().estimate == b.effect().estimate
    curve = kaplan_meier(df, "days", "days_event", "arm", arms=["control"])[0]
    assert curve.n_competing == int(((df.arm == "control") & (df.days_event == 2)).sum())


def test_blocks_and_covariates_are_absorbed_and_reported() -> None:
    df = _data().assign(block=lambda f: (f.team // 4) % 3)
    res = rmst_difference(
        df,
        "days",
        "days_event",
        "arm",
        horizon=300.0,
        control="control",
        blocks="block",
        covariates=["x"],
        cluster="team",
    )
    assert [r.term for r in res.rows] == ["arm", "x"]
    assert res.se_type == "CR2"


def test_pseudo_values_are_fast_for_five_thousand_rows() -> None:
    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(300.0, 5000))
    d = (rng.random(5000) < 0.7).astype(float)
    start = time.perf_counter()
    rmst_pseudo_values(t, d, 250.0)
    assert time.perf_counter() - start < 0.25


def test_refuses_no_events() -> None:
    df = _data().assign(days_event=0)
    with pytest.raises(EstimationError, match="no events"):
        rmst_difference(df, "days", "days_event", "arm", horizon=300.0)
    with pytest.raises(EstimationError, match="has no events"):
        cox_hazard_ratios(df, "days", "days_event", "arm")


def test_refuses_horizon_beyond_last_follow_up() -> None:
    df = _data()
    last = df.loc[df.arm == "budget", "days"].max()
    with pytest.raises(EstimationError, match=r"beyond the last follow-up in arm 'budget'"):
        rmst_difference(df, "days", "days_event", "arm", horizon=float(last) + 1, control="control")
    with pytest.raises(EstimationError, match="'horizon' parameter must be a positive"):
        rmst_difference(df, "days", "days_event", "arm", horizon=0.0)


@pytest.mark.parametrize("column", ["days", "days_event", "arm"])
def test_refuses_missing_values(column: str) -> None:
    df = _data()
    df[column] = df[column].astype(object if column == "arm" else float)
    df.loc[3, column] = np.nan
    for call in (
        lambda: rmst_difference(df, "days", "days_event", "arm", horizon=300.0),
        lambda: cox_hazard_ratios(df, "days", "days_event", "arm"),
        lambda: kaplan_meier(df, "days", "days_event", "arm"),
    ):
        with pytest.raises(EstimationError, match=f'column "{column}".*missing value'):
            call()


def test_refuses_bad_event_codes_and_negative_times() -> None:
    df = _data()
    with pytest.raises(EstimationError, match=r"0 = censored, 1 = event, 2 = competing"):
        kaplan_meier(df.assign(days_event=df.days_event + 5), "days", "days_event", "arm")
    with pytest.raises(EstimationError, match="negative"):
        rmst_difference(df.assign(days=df.days - 1000), "days", "days_event", "arm", horizon=10.0)


def test_kaplan_meier_refuses_unknown_arm() -> None:
    with pytest.raises(EstimationError, match="do not occur"):
        kaplan_meier(_data(), "days", "days_event", "arm", arms=["budgte"])


def test_curve_is_read_only_and_tidy() -> None:
    curve = kaplan_meier(_data(), "days", "days_event", "arm", at=[0, 100])[0]
    with pytest.raises(ValueError, match="read-only"):
        curve.survival[0] = 0.5
    assert list(curve.to_frame().columns) == ["time", "survival", "ci_low", "ci_high"]
    assert np.all(np.diff(curve.survival) <= 0)
    assert np.all((curve.ci_low <= curve.survival) & (curve.survival <= curve.ci_high))


def test_cox_robust_se_with_rows_censored_before_the_first_event() -> None:
    # statsmodels 0.15 gives such rows a NaN score residual, so its robust SEs are NaN; they
    # are never at risk at an event time, so dropping them changes neither the partial
    # likelihood nor any score: statsmodels' own sandwich on the other rows is the reference.
    from statsmodels.duration.hazard_regression import PHReg

    df = _data(seed=5).assign(days=lambda f: f.days + 10.0)
    first = df.loc[df.days_event == 1, "days"].min()
    assert first >= 10.0
    early = pd.DataFrame(
        {
            "days": [first / 2, first / 3, first / 4],
            "days_event": [0, 2, 0],
            "arm": ["control", "budget", "budget"],
            "team": [0, 1, 13],
            "x": [0.1, -0.2, 0.3],
        }
    )
    full = pd.concat([df, early], ignore_index=True)
    res = cox_hazard_ratios(
        full, "days", "days_event", "arm", control="control", cluster="team", covariates=["x"]
    )
    exog = np.column_stack([(df.arm == "budget").astype(float), df.x])
    ref = PHReg(df.days, exog, status=(df.days_event == 1).astype(float), ties="efron").fit(
        groups=df.team
    )
    for j, term in enumerate(("arm", "x")):
        row = next(r for r in res.terms if r.term == term)
        assert np.isfinite(row.std_error), f"{term} robust SE is finite"
        assert row.estimate == pytest.approx(ref.params[j], abs=1e-8), f"{term} log-HR"
        assert row.std_error == pytest.approx(ref.bse[j], rel=1e-10), f"{term} robust SE"
