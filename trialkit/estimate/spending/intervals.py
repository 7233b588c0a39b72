"""Intervals for ledger totals of rare events: misuse counts and the money lost to them.

Misuse is rare, so the Horvitz–Thompson total of a sampled stratum is a weighted count of a
handful of cases, skewed to the right; a Wald interval then misses the true total too often
(91–94% for a nominal 95% in the simulation of ``tests/statistical/test_audit_coverage.py``,
near 80% with fewer cases in the sample). For the ``ledger`` target the interval is
therefore

* exact for strata reviewed in full (``n_h = N_h``: their total is known), plus
* a mid-p gamma interval (Fay & Kim 2017, *Biometrical Journal* 59:377) for the rest: the
  50:50 mixture of two gammas, one with the estimate's mean and design-based variance
  ``(y, v)``, the other with one more case of the largest weight ``(y + w, v + w^2)`` as in
  Fay & Feuer's (1997) gamma interval for weighted sums of Poisson counts (R's
  ``asht::wspoissonTest(midp=TRUE)``). For money, "one more case" is a case of the mean
  loss of the reviewed cases (the mean amount of the reviewed sampled spends when none has
  been seen).

For a census (every spend reviewed) the interval is about the spending process, with the
cluster-robust variance on workers in the same mid-p gamma form. When misuse sits with very
few workers there are few effective clusters and it under-covers (86% at a Beta(0.02, 0.98)
spread of workers' rates, 93% at Beta(0.2, 9.8); Wald: 83% and 91%;
``tests/statistical/test_census_misuse_coverage.py``): for "workers like these" the
hierarchical model (:mod:`trialkit.estimate.bayesian.misuse_model`) is the answer to read.

The variance ``v`` is the stratified design variance with each stratum's finite population
correction, so strata sampled nearly in full add almost nothing. In that simulation the
rate's interval covers 95.8–96.4% and the loss's 96.6% with half the ledger reviewed,
99.2% (conservative) with a quarter of the small spends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from trialkit.estimate.spending.review import ReviewDesign, Target, ratio


@dataclass(frozen=True, slots=True)
class TotalEstimate:
    """A ledger total (a count of cases, or money) with its standard error and interval."""

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    covered: float


def _gamma_ppf(p: float, mean: float, var: float) -> float:
    if mean <= 0:
        return 0.0
    if var <= 0:
        return mean
    return float(stats.gamma.ppf(p, mean * mean / var, scale=var / mean))


def _gamma_cdf(q: float, mean: float, var: float) -> float:
    if mean <= 0 or var <= 0:
        return float(q >= mean)
    return float(stats.gamma.cdf(q, mean * mean / var, scale=var / mean))


def _mixture_quantile(p: float, low: tuple[float, float], high: tuple[float, float]) -> float:
    """The ``p`` quantile of the 50:50 mixture of the gammas with (mean, variance) given."""
    a, b = _gamma_ppf(p, *low), _gamma_ppf(p, *high)
    if b <= a:
        return a
    if low[1] <= 0:  # a point mass at the estimate: the mixture's CDF jumps there
        jump = 0.5 * _gamma_cdf(low[0], *high)
        if p < jump:
            return _gamma_ppf(2 * p, *high)
        return low[0] if p < jump + 0.5 else _gamma_ppf(2 * p - 1, *high)
    return float(
        optimize.brentq(
            lambda t: 0.5 * _gamma_cdf(t, *low) + 0.5 * _gamma_cdf(t, *high) - p,
            a,
            b,
            xtol=1e-10 * max(b, 1.0),
        )
    )


def midp_gamma(y: float, v: float, event: float, *, ci_level: float) -> tuple[float, float]:
    """The mid-p gamma interval of a weighted count ``y`` with variance ``v``.

    ``event`` is the weight of one more case. With ``y = 0`` the lower limit is 0 and the
    upper the ``ci_level`` quantile of the shifted gamma (``asht::wspoissonTest``).

    Examples
    --------
    >>> low, high = midp_gamma(5.0, 5.0, 1.0, ci_level=0.95)
    >>> round(low, 3), round(high, 3)
    (1.832, 11.082)
    """
    alpha = (1 - ci_level) / 2
    shifted = (y + event, v + event * event)
    if y <= 0:
        return 0.0, _gamma_ppf(1 - 2 * alpha, *shifted)
    return (
        _mixture_quantile(alpha, (y, v), shifted),
        _mixture_quantile(1 - alpha, (y, v), shifted),
    )


def total_interval(
    y: NDArray[np.float64],
    design: ReviewDesign,
    *,
    cluster: NDArray[np.int64],
    target: Target,
    ci_level: float,
    event: NDArray[np.float64] | None = None,
    fallback: float = 1.0,
) -> TotalEstimate:
    """The ledger total of ``y`` (zero outside the cases counted), with its interval.

    Parameters
    ----------
    y
        Per ledger row: 1 for a case (a count) or its loss (money), 0 otherwise.
    design
        The review design.
    cluster
        Worker numbers (``superpopulation`` target only).
    target
        ``ledger``: exact for strata reviewed in full, mid-p gamma for the rest.
        ``superpopulation``: the same mid-p gamma interval with the cluster-robust
        variance on workers (a Wald interval would reach below zero for rare, clustered
        misuse).
    ci_level
        Confidence level.
    event
        Per ledger row, which rows are cases (``y`` for money may be 0 for a case that
        lost nothing); ``None``: rows with ``y > 0``.
    fallback
        Size of one case when no reviewed case has been seen (money only).
    """
    fit = ratio(y, design, cluster=cluster, target=target)
    total, se = fit.estimate * fit.covered, fit.std_error * fit.covered
    keep = design.counts
    cases = keep & (y > 0 if event is None else event > 0)
    size = float(y[cases].mean()) if cases.any() else fallback
    if target == "superpopulation":  # the same skewed interval, cluster-robust variance
        low, high = midp_gamma(total, se * se, size, ci_level=ci_level)
        return TotalEstimate(total, se, low, high, fit.covered)
    sampled = keep & (design.fpc[np.maximum(design.stratum, 0)] > 0)
    if not sampled.any():
        return TotalEstimate(total, se, total, total, fit.covered)
    exact = float(design.weight[keep & ~sampled] @ y[keep & ~sampled])
    low, high = midp_gamma(
        total - exact, se * se, float(design.weight[sampled].max()) * size, ci_level=ci_level
    )
    return TotalEstimate(total, se, exact + low, exact + high, fit.covered)
