"""The numerical core: power from a noncentrality parameter, and root-finding for the unknown.

Every design reduces to the same problem. The impact estimate has standard error
``se(clusters, size, effect)`` on the test scale and a test on ``df`` degrees of freedom
(``None``: a normal reference). Power is two-sided and counts both rejection regions, as
statsmodels' ``TTestIndPower``/``NormalIndPower`` and PowerUp!'s power functions do:
``P(T > c) + P(T < -c)`` with ``T`` noncentral t (or normal) with noncentrality
``effect / se``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import integrate, optimize, special, stats

from trialkit.design._checks import NoSolutionError

MdeMethod = Literal["exact", "multiplier"]
Adjustment = Literal["bonferroni", "dunnett", "none"]
Distribution = Literal["t", "normal"]

_XTOL = 1e-10


def critical_value(alpha: float, df: float | None) -> float:
    """The two-sided critical value ``c`` with ``P(|T| > c) = alpha`` under the null."""
    if df is None:
        return float(stats.norm.isf(alpha / 2))
    return float(stats.t.isf(alpha / 2, df))


def power_from_ncp(ncp: float, alpha: float, df: float | None, null_ratio: float = 1.0) -> float:
    """Two-sided power at noncentrality ``ncp`` (noncentral t, or normal when ``df`` is None).

    ``null_ratio`` is ``σ₀/σ₁``, the test statistic's SE under the null over that under the
    alternative (1 unless the null variance is pooled): the test rejects beyond ``c σ₀``, so
    in units of ``σ₁`` the critical value is ``c σ₀/σ₁``.
    """
    crit = critical_value(alpha, df) * null_ratio
    ncp = abs(ncp)
    if df is None:
        return float(stats.norm.sf(crit - ncp) + stats.norm.cdf(-crit - ncp))
    value = float(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp))
    if not math.isfinite(value):  # far tails where scipy's nct gives up
        return 1.0 if ncp > crit else 0.0
    return min(value, 1.0)


def multiplier(power: float, alpha: float, df: float | None) -> float:
    """Bloom's MDE multiplier ``t_{1-alpha/2} + t_{power}`` (PowerUp!'s ``M``)."""
    if df is None:
        return float(stats.norm.isf(alpha / 2) + stats.norm.ppf(power))
    return float(stats.t.isf(alpha / 2, df) + stats.t.ppf(power, df))


def comparison_alpha(
    alpha: float, comparisons: int, adjustment: Adjustment, correlation: float
) -> float:
    """Per-comparison alpha for ``comparisons`` treatment-versus-control tests.

    ``bonferroni`` divides alpha by the number of comparisons. ``dunnett`` finds the
    common critical value ``c`` with ``P(max_i |Z_i| <= c) = 1 - alpha`` for equicorrelated
    normal statistics (correlation ``n_t / (n_t + n_c)``, shared control arm; Dunnett
    1955, large-sample form) and returns ``2 * (1 - Phi(c))``.
    """
    if comparisons <= 1 or adjustment == "none":
        return alpha
    if adjustment == "bonferroni":
        return alpha / comparisons
    return 2.0 * float(stats.norm.sf(dunnett_critical(alpha, comparisons, correlation)))


def dunnett_critical(alpha: float, comparisons: int, correlation: float) -> float:
    """Two-sided Dunnett critical value for equicorrelated normal test statistics."""
    root_rho = math.sqrt(correlation)
    root_rest = math.sqrt(1.0 - correlation)
    # Condition on the shared component W: the Z_i are independent given W = w.
    w = np.linspace(-9.0, 9.0, 4001)
    weight = np.exp(-0.5 * w**2) / math.sqrt(2 * math.pi)

    def coverage(c: float) -> float:
        inside = special.ndtr((c - root_rho * w) / root_rest) - special.ndtr(
            (-c - root_rho * w) / root_rest
        )
        return float(integrate.trapezoid(weight * inside**comparisons, w))

    low = float(stats.norm.isf(alpha / 2))
    high = float(stats.norm.isf(alpha / (2 * comparisons)))
    return float(optimize.brentq(lambda c: coverage(c) - (1.0 - alpha), low, high + 1e-6))


@dataclass(frozen=True, slots=True)
class Problem:
    """A design's standard error and degrees of freedom as functions of its sizes.

    Attributes
    ----------
    se
        ``(clusters, size, effect) -> SE`` of the ITT estimate on the test scale.
    test_effect
        ``effect -> ITT effect`` on the test scale (diluted by non-compliance).
    df
        ``clusters -> df``; ``None`` for a normal reference distribution.
    alpha
        Two-sided per-comparison significance level.
    null_ratio
        ``effect -> σ₀/σ₁``, the SE under the null over ``se`` (under the alternative), for
        tests whose null variance differs (pooled two-proportion test); ``None``: 1.
    """

    se: Callable[[float, float, float], float]
    test_effect: Callable[[float], float]
    df: Callable[[float], float | None]
    alpha: float
    null_ratio: Callable[[float], float] | None = None

    def _ratio(self, effect: float) -> float:
        return 1.0 if self.null_ratio is None else self.null_ratio(effect)

    def power(self, effect: float, clusters: float, size: float) -> float:
        """Power at the given effect and sizes."""
        ncp = self.test_effect(effect) / self.se(clusters, size, effect)
        return power_from_ncp(ncp, self.alpha, self.df(clusters), self._ratio(effect))

    def solve_effect(
        self,
        target: float,
        clusters: float,
        size: float,
        *,
        bounds: tuple[float, float],
        method: MdeMethod,
    ) -> float:
        """The effect (searched between ``bounds``, zero first) reaching ``target`` power."""
        df = self.df(clusters)
        big_m = multiplier(target, self.alpha, df)
        crit = critical_value(self.alpha, df)

        def gap(effect: float) -> float:
            if method == "multiplier":
                ncp = abs(self.test_effect(effect)) / self.se(clusters, size, effect)
                return ncp - big_m - crit * (self._ratio(effect) - 1.0)
            return self.power(effect, clusters, size) - target

        near, far = bounds
        if gap(far) < 0:
            raise NoSolutionError(
                f"No effect up to {far:g} reaches {target:.0%} power with these sizes. "
                "Fix: increase the sample size or lower the target power."
            )
        low, high = sorted((near, far))
        return float(optimize.brentq(gap, low, high, xtol=_XTOL))

    def require_effect(self, effect: float, target: float) -> None:
        """Raise when no size can detect ``effect`` (an ITT effect of zero)."""
        if self.test_effect(effect) == 0:
            raise NoSolutionError(
                f"No sample size reaches {target:.0%} power for an effect of 0: power stays "
                "at alpha. Fix: give the smallest effect worth detecting."
            )

    def solve_size(
        self,
        target: float,
        power_at: Callable[[float], float],
        *,
        low: float,
        what: str,
        ceiling: float = 1e9,
    ) -> float:
        """The smallest (continuous) size in ``[low, ceiling]`` where ``power_at`` hits target."""
        if power_at(low) >= target:
            return low
        high = max(2.0 * low, low + 2.0)
        while power_at(high) < target:
            if high >= ceiling:
                raise NoSolutionError(
                    f"No {what} up to {ceiling:g} reaches {target:.0%} power. Fix: assume a "
                    "larger effect, or lower the target power."
                )
            high = min(high * 2.0, ceiling)
        return float(optimize.brentq(lambda s: power_at(s) - target, low, high, xtol=1e-9))
