"""The Bayesian plan's discrete-time hazard model of a time-to-event outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.bayesian.survival import hazard_odds_ratio, person_periods


def test_person_periods_count_intervals_at_risk_and_the_event_once() -> None:
    rng = np.random.default_rng(4)
    t = np.round(rng.exponential(200.0, 400), 1)
    e = rng.choice([0, 1, 2], size=400, p=[0.2, 0.7, 0.1])
    df = pd.DataFrame({"t": np.minimum(t, 400.0), "e": e, "id": np.arange(400)})
    pp = person_periods(df, time="t", event="e", horizon=300.0, outcome="left", intervals=6)
    width = 50.0
    at_risk = np.maximum(np.minimum(np.ceil(np.minimum(df.t, 300.0) / width), 6), 1)
    assert pp.groupby("id").size().reindex(df.id).to_numpy() == pytest.approx(at_risk)
    events = pp.groupby("id")["left"].sum().reindex(df.id).to_numpy()
    assert (events == ((df.e == 1) & (df.t <= 300.0)).to_numpy()).all()
    # the event sits in the last interval the row is at risk
    last = pp.groupby("id")["interval"].max().reindex(df.id).to_numpy()
    hit = pp[pp.left == 1]
    assert (hit["interval"].to_numpy() == last[hit["id"].to_numpy()]).all()


def test_discrete_time_odds_ratio_recovers_a_hazard_ratio_when_hazards_are_small() -> None:
    """With a small hazard per interval the odds ratio of the logistic model is close to the
    hazard ratio; checked on a large sample by the logistic likelihood's own MLE."""
    import statsmodels.api as sm

    rng = np.random.default_rng(9)
    n = 20_000
    arm = rng.integers(0, 2, n)
    t = rng.exponential(1000.0 / np.where(arm == 1, 0.7, 1.0))
    df = pd.DataFrame({"t": np.minimum(t, 360.0), "e": (t < 360.0).astype(int), "arm": arm})
    pp = person_periods(df, time="t", event="e", horizon=360.0, outcome="left", intervals=12)
    x = pd.get_dummies(pp["interval"], prefix="k", drop_first=True, dtype=float)
    x = sm.add_constant(x.assign(arm=pp["arm"].astype(float)))
    fit = sm.Logit(pp["left"].astype(float), x).fit(disp=0)
    assert np.exp(fit.params["arm"]) == pytest.approx(0.7, abs=0.05)


def test_hazard_odds_ratio_is_the_exponent_of_the_log_quantiles() -> None:
    draws = np.random.default_rng(2).normal(-0.3, 0.2, 40_000)
    median, low, high = hazard_odds_ratio(draws, 0.95)
    assert median == pytest.approx(np.exp(np.median(draws)))
    assert (low, high) == pytest.approx(tuple(np.exp(np.quantile(draws, [0.025, 0.975]))))
