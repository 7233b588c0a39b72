"""Diagnosands: summaries of simulated estimates, each with its Monte Carlo standard error.

The defaults of DeclareDesign's ``diagnose_design`` (bias, RMSE, power, coverage, mean
estimate, SD of estimates) plus its documented extras: mean SE, and Gelman & Carlin's
(2014) type-S rate and exaggeration ratio. With ``estimates`` ``b_s``, standard errors
``se_s``, p-values ``p_s`` and intervals ``[l_s, u_s]`` of ``S`` simulations, estimand
``d`` and level ``alpha``:

=====================  =====================================================  ==========
diagnosand             definition                                             MC SE
=====================  =====================================================  ==========
mean_estimate          mean(b)                                                analytic
bias                   mean(b - d)                                            analytic
sd_estimate            sd(b) (n - 1 denominator, as R's ``sd``)               bootstrap
rmse                   sqrt(mean((b - d)^2))                                  bootstrap
power                  mean(p <= alpha)                                       analytic
coverage               mean(l <= d <= u)                                      analytic
mean_se                mean(se)                                               analytic
type_s_rate            mean(sign(b) != sign(d) | p <= alpha)                  bootstrap
exaggeration_ratio     mean(|b| | p <= alpha) / |d|                           bootstrap
=====================  =====================================================  ==========

Means of per-simulation quantities have the exact Monte Carlo SE ``sd / sqrt(S)``; the
others are bootstrapped over simulations (DeclareDesign's ``bootstrap_sims``, default 100).
Type-S and exaggeration are undefined (NaN) when the estimand is zero or nothing is
significant.

The estimand ``d`` is one number (a declared effect) or one per simulation ``d_s`` (an
estimand computed from each simulated data set's potential outcomes, as DeclareDesign's
inquiries are); bias, RMSE and coverage then compare each estimate with its own ``d_s``,
and type-S and exaggeration use the mean estimand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Diagnosands in report order.
DIAGNOSANDS: tuple[str, ...] = (
    "power",
    "bias",
    "rmse",
    "coverage",
    "mean_estimate",
    "sd_estimate",
    "mean_se",
    "type_s_rate",
    "exaggeration_ratio",
)
#: Bootstrap resamples for the Monte Carlo SEs of nonlinear diagnosands (DeclareDesign).
BOOTSTRAP_SIMS = 100


@dataclass(frozen=True, slots=True)
class Simulated:
    """Per-simulation results of one outcome in one design variant.

    Attributes
    ----------
    estimate, std_error, p_value, ci_low, ci_high
        One value per simulation (NaN where the estimator failed).
    estimand
        The true effect the estimates target: the declared effect, or one value per
        simulation (computed from that simulation's potential outcomes).
    """

    estimate: FloatArray
    std_error: FloatArray
    p_value: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    estimand: float | FloatArray

    def finite(self) -> Simulated:
        """Only the simulations where the estimator returned an estimate and an SE."""
        keep = np.isfinite(self.estimate) & np.isfinite(self.std_error)
        estimand = self.estimand
        if np.ndim(estimand):
            estimand = np.asarray(estimand, dtype=np.float64)
            keep &= np.isfinite(estimand)
            estimand = estimand[keep]
        return Simulated(
            self.estimate[keep],
            self.std_error[keep],
            self.p_value[keep],
            self.ci_low[keep],
            self.ci_high[keep],
            estimand,
        )

    def mean_estimand(self) -> float:
        """The estimand, averaged over simulations when there is one per simulation."""
        if np.ndim(self.estimand):
            values = np.asarray(self.estimand, dtype=np.float64)
            return float(values.mean()) if values.size else float("nan")
        return float(self.estimand)


def _conditional_mean(values: FloatArray, where: NDArray[np.bool_]) -> FloatArray:
    count = where.sum(axis=-1)
    total = np.where(where, values, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(count > 0, total / np.maximum(count, 1), np.nan))


def _type_s(b: FloatArray, p: FloatArray, d: FloatArray, alpha: float) -> FloatArray:
    centre = d.mean(axis=-1)
    if np.all(centre == 0):
        return np.full(b.shape[:-1], np.nan)
    wrong = (np.sign(b) != np.sign(centre)[..., None]).astype(np.float64)
    return _conditional_mean(wrong, p <= alpha)


def _exaggeration(b: FloatArray, p: FloatArray, d: FloatArray, alpha: float) -> FloatArray:
    centre = np.abs(d.mean(axis=-1))
    if np.all(centre == 0):
        return np.full(b.shape[:-1], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(_conditional_mean(np.abs(b), p <= alpha) / centre)


def _sd(b: FloatArray) -> FloatArray:
    if b.shape[-1] < 2:
        return np.full(b.shape[:-1], np.nan)
    return np.asarray(np.std(b, axis=-1, ddof=1))


#: Per-simulation quantities whose mean is the diagnosand (analytic MC SE).
_LINEAR: dict[str, Callable[[Simulated, float], FloatArray]] = {
    "power": lambda s, a: (s.p_value <= a).astype(np.float64),
    "bias": lambda s, a: s.estimate - s.estimand,
    "coverage": lambda s, a: ((s.ci_low <= s.estimand) & (s.estimand <= s.ci_high)).astype(
        np.float64
    ),
    "mean_estimate": lambda s, a: s.estimate,
    "mean_se": lambda s, a: s.std_error,
}

#: Nonlinear diagnosands of (estimates, p-values, estimands) with a leading batch axis
#: (bootstrapped); type-S and exaggeration compare with the mean estimand.
_NONLINEAR: dict[str, Callable[[FloatArray, FloatArray, FloatArray, float], FloatArray]] = {
    "rmse": lambda b, p, d, a: np.sqrt(np.mean((b - d) ** 2, axis=-1)),
    "sd_estimate": lambda b, p, d, a: _sd(b),
    "type_s_rate": _type_s,
    "exaggeration_ratio": _exaggeration,
}


def diagnosands(
    sims: Simulated,
    *,
    alpha: float = 0.05,
    bootstrap_sims: int = BOOTSTRAP_SIMS,
    rng: np.random.Generator | None = None,
) -> dict[str, tuple[float, float]]:
    """Every diagnosand of :data:`DIAGNOSANDS` with its Monte Carlo SE.

    Parameters
    ----------
    sims
        The simulated estimates (non-finite simulations are dropped first).
    alpha
        Significance level for power, type-S and exaggeration.
    bootstrap_sims
        Bootstrap resamples for the nonlinear diagnosands; 0 gives NaN SEs for them.
    rng
        Generator for the bootstrap (default: seeded with 0, so results are reproducible).

    Returns
    -------
    dict
        Diagnosand name → ``(estimate, mc_se)``, in :data:`DIAGNOSANDS` order.

    Examples
    --------
    >>> b = np.array([1.0, -1.0, 2.0, 0.5])
    >>> s = Simulated(b, np.ones(4), np.array([0.01, 0.01, 0.2, 0.04]), b - 2, b + 2, 1.0)
    >>> round(diagnosands(s)["type_s_rate"][0], 4), round(diagnosands(s)["power"][0], 2)
    (0.3333, 0.75)
    """
    sims = sims.finite()
    n = sims.estimate.shape[0]
    rng = np.random.default_rng(0) if rng is None else rng
    out: dict[str, tuple[float, float]] = {}
    for name in DIAGNOSANDS:
        if name in _LINEAR:
            values = _LINEAR[name](sims, alpha)
            mean = float(values.mean()) if n else float("nan")
            se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
            out[name] = (mean, se)
    b, p = sims.estimate, sims.p_value
    d = np.broadcast_to(np.asarray(sims.estimand, dtype=np.float64), b.shape)
    index = rng.integers(0, n, size=(bootstrap_sims, n)) if n and bootstrap_sims > 1 else None
    for name, func in _NONLINEAR.items():
        value = float(func(b, p, d, alpha)) if n else float("nan")
        se = float("nan")
        if index is not None:
            boot = func(b[index], p[index], d[index], alpha)
            boot = boot[np.isfinite(boot)]
            se = float(np.std(boot, ddof=1)) if boot.size > 1 else float("nan")
        out[name] = (value, se)
    return {name: out[name] for name in DIAGNOSANDS}


def retrodesign(
    effect: float, std_error: float, *, alpha: float = 0.05, df: float = np.inf
) -> dict[str, float]:
    """Gelman & Carlin's (2014) closed forms: power, type-S rate and exaggeration ratio.

    For an estimate distributed as ``effect + std_error * t_df`` (normal when ``df`` is
    infinite) and a two-sided test at ``alpha``.

    Examples
    --------
    >>> r = retrodesign(0.1, 0.0354 / 0.0354, alpha=0.05)
    >>> round(r["power"], 3)
    0.051
    """
    from scipy import integrate, stats

    dist = stats.t(df) if np.isfinite(df) else stats.norm()
    z = float(dist.ppf(1 - alpha / 2))
    lam = effect / std_error
    upper, lower = float(dist.sf(z - lam)), float(dist.cdf(-z - lam))
    power = upper + lower
    wrong = lower if effect > 0 else upper

    def absolute(x: float) -> float:
        return abs(lam + x) * float(dist.pdf(x))

    top = integrate.quad(absolute, z - lam, np.inf)[0]
    bottom = integrate.quad(absolute, -np.inf, -z - lam)[0]
    return {
        "power": power,
        "type_s_rate": wrong / power,
        "exaggeration_ratio": (top + bottom) / (power * abs(lam)),
    }
