"""Standardised effect sizes for impact estimates, as WWC and the EEF report them.

* :func:`hedges_g_for_effect`: an (adjusted) impact estimate over the unadjusted pooled
  within-arm SD, times WWC's small-sample correction ω = 1 − 3/(4N − 9).
* :func:`standardised_effect`: the same g with its interval (the impact's interval over
  the same SD, times the same ω) and the SD itself, so a report never recomputes an SD.
* :func:`icc_anova`: the one-way ANOVA intracluster correlation with Lessells & Boag's
  (1987) average cluster size n0 for unequal clusters, as R's ``ICC::ICCest`` and
  Stata's ``loneway``; optionally with clusters nested in arms; with Searle's (1971)
  F-based confidence interval (``ICCest``'s default ``"THD"``: exact for equal clusters,
  Thomas & Hultquist's 1978 approximation with n0 for unequal ones).
* :func:`hedges_g_total`: the EEF's g over the total (between- plus within-cluster) SD.
* :func:`cox_index_for_effect`: WWC's Cox index for a binary outcome's impact estimate.

:func:`~trialkit._core.standardised.hedges_g` and
:func:`~trialkit._core.standardised.cox_index` (from raw arms) are re-exported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from trialkit._core.standardised import cox_index, hedges_g, small_sample_correction
from trialkit.errors import EstimationError

__all__ = [
    "IccEstimate",
    "StandardisedEffect",
    "cox_index",
    "cox_index_for_effect",
    "hedges_g",
    "hedges_g_for_effect",
    "hedges_g_total",
    "icc_anova",
    "pooled_sd",
    "standardised_effect",
]


def pooled_sd(treated: ArrayLike, control: ArrayLike) -> float:
    """Pooled within-arm standard deviation, sqrt(((n_t−1)s_t² + (n_c−1)s_c²)/(N − 2)).

    Examples
    --------
    >>> round(pooled_sd([2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0]), 4)
    1.291
    """
    t = np.asarray(treated, dtype=float)
    c = np.asarray(control, dtype=float)
    t, c = t[~np.isnan(t)], c[~np.isnan(c)]
    if t.size < 2 or c.size < 2:
        raise EstimationError(
            f"A pooled SD needs at least two values per arm; got {t.size} treated and "
            f"{c.size} control."
        )
    pooled = ((t.size - 1) * t.var(ddof=1) + (c.size - 1) * c.var(ddof=1)) / (t.size + c.size - 2)
    return math.sqrt(pooled)


def hedges_g_for_effect(effect: float, treated: ArrayLike, control: ArrayLike) -> float:
    """Hedges' g for an impact estimate: ω · effect / pooled SD (WWC Handbook v5.0).

    Use the outcome values of the analytic sample in each arm; ``effect`` may be
    covariate-adjusted (WWC divides an adjusted difference by the unadjusted SD).

    Parameters
    ----------
    effect
        The estimated impact in outcome units.
    treated, control
        Outcome values in each arm (NaN ignored).

    Returns
    -------
    float
        The standardised effect.

    Examples
    --------
    >>> round(hedges_g_for_effect(1.0, [2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0]), 4)
    0.6736
    """
    sd = pooled_sd(treated, control)
    n = int(np.count_nonzero(~np.isnan(np.asarray(treated, dtype=float))))
    n += int(np.count_nonzero(~np.isnan(np.asarray(control, dtype=float))))
    return small_sample_correction(n) * effect / sd


@dataclass(frozen=True, slots=True)
class StandardisedEffect:
    """Hedges' g of one arm against control, its interval and the SD it divides by.

    Attributes
    ----------
    hedges_g
        ω · effect / sd_pooled (:func:`hedges_g_for_effect`).
    g_ci_low, g_ci_high
        ω · ci_low / sd_pooled and ω · ci_high / sd_pooled: the impact's interval on the
        same scale (the SD is treated as known, as WWC and the EEF do).
    sd_pooled
        The pooled SD of the two arms' outcomes (:func:`pooled_sd`).
    correction
        ω = 1 − 3/(4N − 9), N the observations in the two arms.
    """

    hedges_g: float
    g_ci_low: float
    g_ci_high: float
    sd_pooled: float
    correction: float


def standardised_effect(
    effect: float, ci_low: float, ci_high: float, treated: ArrayLike, control: ArrayLike
) -> StandardisedEffect:
    """Hedges' g and its interval for an impact estimate and its confidence interval.

    Examples
    --------
    >>> es = standardised_effect(1.0, 0.2, 1.8, [2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0])
    >>> round(es.hedges_g, 4), round(es.g_ci_low, 4), round(es.sd_pooled, 4)
    (0.6736, 0.1347, 1.291)
    """
    sd = pooled_sd(treated, control)
    n = int(np.count_nonzero(~np.isnan(np.asarray(treated, dtype=float))))
    n += int(np.count_nonzero(~np.isnan(np.asarray(control, dtype=float))))
    omega = small_sample_correction(n)
    return StandardisedEffect(
        hedges_g=omega * effect / sd,
        g_ci_low=omega * ci_low / sd,
        g_ci_high=omega * ci_high / sd,
        sd_pooled=sd,
        correction=omega,
    )


@dataclass(frozen=True, slots=True)
class IccEstimate:
    """A one-way ANOVA intracluster correlation and its variance components.

    Attributes
    ----------
    icc
        (MSB − MSW) / (MSB + (n0 − 1) MSW); negative when clusters are more alike than chance.
    between_variance
        (MSB − MSW) / n0, truncated at 0.
    within_variance
        MSW.
    n0
        Lessells & Boag's average cluster size, (N − Σ n_j²/N) / (J − 1) (per arm if nested).
    ms_between, ms_within, df_between, df_within
        The ANOVA table.
    n_obs, n_clusters
        Observations and clusters used.
    ci_low, ci_high, ci_level
        Searle's F-based interval: with ``F = MSB/MSW`` and ``F_L = F / F_{1−α/2}(df_b,
        df_w)``, ``F_U = F · F_{1−α/2}(df_w, df_b)``, the limits are ``(F_L − 1)/(F_L + n0 −
        1)`` and ``(F_U − 1)/(F_U + n0 − 1)`` (R's ``ICC::ICCest``, ``CI.type = "THD"``). The
        lower limit may be negative, like the estimate.
    """

    icc: float
    between_variance: float
    within_variance: float
    n0: float
    ms_between: float
    ms_within: float
    df_between: int
    df_within: int
    n_obs: int
    n_clusters: int
    ci_low: float
    ci_high: float
    ci_level: float


def icc_anova(
    y: ArrayLike, cluster: ArrayLike, *, arm: ArrayLike | None = None, ci_level: float = 0.95
) -> IccEstimate:
    """One-way random-effects ANOVA estimate of the intracluster correlation.

    Parameters
    ----------
    y
        Outcome values (rows with NaN are dropped).
    cluster
        Cluster labels.
    arm
        Arm labels; if given, clusters are nested in arms and the between-cluster sum
        of squares is taken about each arm's mean (df J − A), so treatment effects do
        not inflate the ICC.
    ci_level
        Level of Searle's F-based interval.

    Returns
    -------
    IccEstimate

    Raises
    ------
    EstimationError
        With fewer clusters than arms + 1, no within-cluster replication, a cluster
        split across arms, or ``ci_level`` outside (0, 1).

    Examples
    --------
    >>> est = icc_anova([1.0, 2.0, 3.0, 5.0, 6.0, 7.0], ["a", "a", "a", "b", "b", "b"])
    >>> round(est.icc, 4), est.n0
    (0.8846, 3.0)
    >>> est.ci_low < est.icc < est.ci_high
    True
    """
    if not 0.0 < float(ci_level) < 1.0:
        raise EstimationError(
            f"The 'ci_level' parameter of icc_anova must be in (0, 1). Got {ci_level!r} instead."
        )
    values = np.asarray(y, dtype=float)
    kept = ~np.isnan(values)
    values = values[kept]
    g, _ = pd.factorize(np.asarray(cluster)[kept], use_na_sentinel=False)  # 0 .. J-1
    a = (
        np.zeros(len(g), dtype=np.int64)
        if arm is None
        else pd.factorize(np.asarray(arm)[kept], use_na_sentinel=False)[0]
    )
    sizes = np.bincount(g).astype(float)
    # A cluster lies in one arm when its rows' arm codes do not vary: the sums of the codes
    # and of their squares are whole numbers far below 2^53, so the test is exact.
    arm_sum = np.bincount(g, weights=a.astype(float))
    if np.any(np.bincount(g, weights=(a * a).astype(float)) * sizes != arm_sum * arm_sum):
        raise EstimationError("A cluster appears in more than one arm. Fix: check the labels.")
    cluster_arm = (arm_sum / sizes).astype(np.int64)
    n_obs, n_clusters, n_arms = len(values), len(sizes), len(np.unique(cluster_arm))
    df_between, df_within = n_clusters - n_arms, n_obs - n_clusters
    if df_between < 1 or df_within < 1:
        raise EstimationError(
            f"An ANOVA ICC needs more clusters than arms and some cluster with two or more "
            f"observations; got {n_clusters} clusters, {n_arms} arms, {n_obs} observations."
        )
    means = np.bincount(g, weights=values) / sizes
    arm_n = np.bincount(cluster_arm, weights=sizes)
    arm_mean = np.bincount(cluster_arm, weights=sizes * means) / np.where(arm_n > 0, arm_n, 1)
    ss_between = float(np.sum(sizes * (means - arm_mean[cluster_arm]) ** 2))
    ss_within = float(np.sum((values - means[g]) ** 2))
    per_arm = np.bincount(cluster_arm, weights=sizes * sizes)[arm_n > 0] / arm_n[arm_n > 0]
    n0 = (n_obs - float(per_arm.sum())) / df_between
    msb, msw = ss_between / df_between, ss_within / df_within
    low, high = _searle_interval(msb, msw, n0, df_between, df_within, float(ci_level))
    return IccEstimate(
        icc=(msb - msw) / (msb + (n0 - 1.0) * msw),
        between_variance=max((msb - msw) / n0, 0.0),
        within_variance=msw,
        n0=n0,
        ms_between=msb,
        ms_within=msw,
        df_between=df_between,
        df_within=df_within,
        n_obs=n_obs,
        n_clusters=n_clusters,
        ci_low=low,
        ci_high=high,
        ci_level=float(ci_level),
    )


def _searle_interval(
    msb: float, msw: float, n0: float, df_between: int, df_within: int, level: float
) -> tuple[float, float]:
    """Searle's (1971) F-based interval for the one-way ANOVA ICC (NaN when MSW is 0)."""
    if msw <= 0:
        return math.nan, math.nan
    f = msb / msw
    upper_q = 0.5 + level / 2
    f_low = f / float(special.fdtri(df_between, df_within, upper_q))
    f_high = f * float(special.fdtri(df_within, df_between, upper_q))
    return (f_low - 1) / (f_low + n0 - 1), (f_high - 1) / (f_high + n0 - 1)


def hedges_g_total(
    effect: float,
    y: ArrayLike,
    cluster: ArrayLike,
    *,
    arm: ArrayLike | None = None,
    small_sample: bool = False,
) -> float:
    """The EEF's effect size for a cluster trial: effect / sqrt(σ²_between + σ²_within).

    Variance components come from :func:`icc_anova` (with ``arm``, about arm means).

    Parameters
    ----------
    effect
        The estimated impact in outcome units.
    y, cluster, arm
        As for :func:`icc_anova`.
    small_sample
        Multiply by WWC's ω with N the number of observations.

    Returns
    -------
    float
        The standardised effect.

    Examples
    --------
    >>> y = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0]
    >>> round(hedges_g_total(1.0, y, ["a", "a", "a", "b", "b", "b"]), 4)
    0.3397
    """
    est = icc_anova(y, cluster, arm=arm)
    g = effect / math.sqrt(est.between_variance + est.within_variance)
    return small_sample_correction(est.n_obs) * g if small_sample else g


def cox_index_for_effect(effect: float, control: ArrayLike, *, n_treated: int) -> float:
    """WWC's Cox index for a (possibly adjusted) difference in proportions.

    The treated proportion is taken as the control proportion plus ``effect``, then
    ω · (logit p_t − logit p_c) / 1.65 with N = n_treated + n_control.

    Parameters
    ----------
    effect
        Estimated difference in proportions (treated − control).
    control
        The control arm's 0/1 outcomes (NaN ignored).
    n_treated
        Treated units in the analytic sample.

    Returns
    -------
    float
        The Cox index.

    Raises
    ------
    EstimationError
        If either proportion falls outside (0, 1).

    Examples
    --------
    >>> round(cox_index_for_effect(0.2, [0, 1, 0, 1, 0, 0, 0, 1, 0, 0], n_treated=10), 4)
    0.4918
    """
    c = np.asarray(control, dtype=float)
    c = c[~np.isnan(c)]
    p_c = float(c.mean()) if c.size else math.nan
    p_t = p_c + effect
    if not (0.0 < p_c < 1.0 and 0.0 < p_t < 1.0):
        raise EstimationError(
            f"The Cox index needs proportions strictly between 0 and 1; got control {p_c:.4g} "
            f"and treated {p_t:.4g}. Fix: use cox_index on the raw arms (it adds 0.5 per cell)."
        )
    logit = math.log(p_t / (1.0 - p_t)) - math.log(p_c / (1.0 - p_c))
    return small_sample_correction(n_treated + c.size) * logit / 1.65
