"""Analytic survival power (Schoenfeld + design effect) against simulated power.

Survival times are exponential in each arm with exactly proportional marginal hazards
(control hazard from the share with the event by the horizon, treated hazard × HR). Within
a cluster they share a gamma frailty through the Clayton copula (Marshall–Olkin
construction: ``U = (1 + E/u)^(−1/θ)`` with ``u ~ Gamma(1/θ)``, ``E ~ Exp(1)``), so the
hazard ratio the Cox model estimates under working independence is the planned one.
Follow-up ends at the horizon (administrative censoring). The ICC passed to the analytic
formula is that of the event-by-horizon indicator in control, in closed form from the
copula: ``(C(s, s) − s²) / (s (1 − s))`` with ``C(s, s) = (2 s^(−θ) − 1)^(−1/θ)``.

Clustered trials are analysed by a Cox model with robust cluster SEs (statsmodels ``PHReg``,
as trialkit's ``cox_hazard_ratios``; the same estimates as lifelines without ties), unclustered
ones by the log-rank test (statsmodels ``survdiff``, which gives lifelines' ``logrank_test``
p-value a hundred times faster); a trial "detects" the effect when the two-sided p < alpha.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import survdiff

from trialkit.design import SurvivalOutcome, solve_survival

pytestmark = pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0")

ALPHA = 0.05
HORIZON = 1.0


def _times(
    rng: np.random.Generator,
    treated: np.ndarray,
    cluster: np.ndarray,
    *,
    rate: float,
    hazard_ratio: float,
    theta: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Follow-up time and event indicator, censored at the horizon."""
    if theta > 0:
        frailty = rng.gamma(1.0 / theta, 1.0, size=cluster.max() + 1)[cluster]
        uniform = (1.0 + rng.exponential(size=cluster.size) / frailty) ** (-1.0 / theta)
    else:
        uniform = rng.uniform(size=cluster.size)
    hazard = -math.log(1.0 - rate) / HORIZON * np.where(treated == 1, hazard_ratio, 1.0)
    time = -np.log(uniform) / hazard
    return np.minimum(time, HORIZON), (time <= HORIZON).astype(int)


def _event_icc(rate: float, theta: float) -> float:
    s = 1.0 - rate
    both = (2.0 * s**-theta - 1.0) ** (-1.0 / theta)
    return float((both - s**2) / (s * (1.0 - s)))


def _cox_cluster_power(
    reps: int,
    *,
    clusters: int,
    size: int,
    rate: float,
    hazard_ratio: float,
    theta: float,
    seed: int,
) -> float:
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(clusters), size)
    treated = (cluster < clusters // 2).astype(int)
    hits = 0
    for _ in range(reps):
        time, event = _times(rng, treated, cluster, rate=rate, hazard_ratio=hazard_ratio,
                             theta=theta)  # fmt: skip
        fit = PHReg(time, treated[:, None].astype(float), status=event, ties="efron").fit(
            groups=cluster
        )
        hits += float(fit.pvalues[0]) < ALPHA
    return hits / reps


def _logrank_power(
    reps: int, *, n_treated: int, n_control: int, rate: float, hazard_ratio: float, seed: int
) -> float:
    rng = np.random.default_rng(seed)
    treated = np.repeat([1, 0], [n_treated, n_control])
    units = np.arange(treated.size)
    hits = 0
    for _ in range(reps):
        time, event = _times(rng, treated, units, rate=rate, hazard_ratio=hazard_ratio, theta=0)
        hits += float(survdiff(time, event, treated)[1]) < ALPHA
    return hits / reps


def _bound(power: float, reps: int, model_error: float = 0.02) -> float:
    """Four Monte Carlo SEs (a false failure about 1 in 16,000) plus the formula's error."""
    return model_error + 4.0 * math.sqrt(power * (1.0 - power) / reps)


CLUSTERED = dict(clusters=100, size=10, rate=0.5, hazard_ratio=0.72, theta=0.12)
UNCLUSTERED = dict(n_treated=660, n_control=330, rate=0.5, hazard_ratio=0.76)


def _clustered_analytic() -> float:
    c = CLUSTERED
    icc = _event_icc(c["rate"], c["theta"])
    return solve_survival(
        c["hazard_ratio"], n=c["clusters"], cluster_size=c["size"], icc=icc,
        outcome=SurvivalOutcome(c["rate"]),
    ).power  # fmt: skip


def _unclustered_analytic() -> float:
    u = UNCLUSTERED
    n = u["n_treated"] + u["n_control"]
    return solve_survival(
        u["hazard_ratio"], n=n, treated_share=u["n_treated"] / n,
        outcome=SurvivalOutcome(u["rate"]),
    ).power  # fmt: skip


@pytest.mark.slow
def test_clustered_cox_power_matches_simulation() -> None:
    # 100 teams of 10 (50 per arm), event ICC 0.055 → design effect 1.49, ~440 events,
    # analytic power 0.811. 4,000 trials: Monte Carlo SE 0.6 points.
    analytic = _clustered_analytic()
    simulated = _cox_cluster_power(4000, seed=20240617, **CLUSTERED)  # type: ignore[arg-type]
    assert simulated == pytest.approx(analytic, abs=0.02), f"power {simulated} vs {analytic}"


@pytest.mark.slow
def test_unclustered_logrank_power_matches_simulation() -> None:
    # 2:1 allocation, 990 units, ~440 events, analytic power 0.770. 10,000 trials: Monte
    # Carlo SE 0.4 points.
    analytic = _unclustered_analytic()
    simulated = _logrank_power(10_000, seed=20240618, **UNCLUSTERED)  # type: ignore[arg-type]
    assert simulated == pytest.approx(analytic, abs=0.02), f"power {simulated} vs {analytic}"


def test_logrank_power_small_simulation() -> None:
    # The fast version: 1,000 trials of the unclustered design; the bound is four Monte
    # Carlo SEs (5.3 points) plus the 2 points the slow tests establish.
    analytic = _unclustered_analytic()
    simulated = _logrank_power(1000, seed=7, **UNCLUSTERED)  # type: ignore[arg-type]
    assert abs(simulated - analytic) < _bound(analytic, 1000), f"power {simulated} vs {analytic}"


def test_event_icc_matches_simulated_indicators() -> None:
    # The closed-form ICC of the event indicator agrees with one estimated from simulated
    # teams (one-way ANOVA estimator over 4,000 teams of 10; its SE is about 0.007).
    rng = np.random.default_rng(3)
    cluster = np.repeat(np.arange(4000), 10)
    _, event = _times(rng, np.zeros_like(cluster), cluster, rate=0.5, hazard_ratio=1.0,
                      theta=0.25)  # fmt: skip
    by_team = event.reshape(4000, 10)
    within = by_team.var(axis=1, ddof=1).mean()
    between = 10 * by_team.mean(axis=1).var(ddof=1)
    estimate = (between - within) / (between + 9 * within)
    assert estimate == pytest.approx(_event_icc(0.5, 0.25), abs=0.03), "ICC"
