"""The beta-binomial model of a binary outcome: exact posteriors per arm, no sampler.

``p_arm ~ Beta(a, b)`` and the arm's successes binomial, so ``p_arm | y ~ Beta(a + y,
b + n − y)`` exactly. The chance that an arm's proportion exceeds control's,
``∫ f_arm(x) F_control(x) dx``, and the distribution of the risk difference,
``P(p_arm − p_control ≤ d) = ∫ f_control(x) F_arm(x + d) dx``, are computed by adaptive
quadrature (no Monte Carlo error). The model ignores clustering, blocks and covariates.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import integrate, optimize, stats

from trialkit.errors import EstimationError

from .conjugate import _check_level, _check_positive

__all__ = [
    "ArmPosterior",
    "BetaBinomialResult",
    "DifferencePosterior",
    "beta_binomial",
    "prob_greater",
]


def _support(*dists: stats.rv_continuous) -> tuple[float, float]:
    """Where the posteriors' mass lies (quadrature over [0, 1] can miss a narrow peak)."""
    low = min(float(d.ppf(1e-13)) for d in dists)
    high = max(float(d.isf(1e-13)) for d in dists)
    return max(low, 0.0), min(high, 1.0)


def prob_greater(a1: float, b1: float, a0: float, b0: float) -> float:
    """``P(p₁ > p₀)`` for independent ``p₁ ~ Beta(a1, b1)`` and ``p₀ ~ Beta(a0, b0)``.

    Examples
    --------
    >>> round(prob_greater(1, 1, 1, 1), 12)
    0.5
    """
    p1, p0 = stats.beta(a1, b1), stats.beta(a0, b0)
    low, high = _support(p1, p0)
    value, _ = integrate.quad(
        lambda x: p1.pdf(x) * p0.cdf(x), low, high, epsabs=1e-13, epsrel=1e-11, limit=200,
        points=[float(p1.mean()), float(p0.mean())],
    )  # fmt: skip
    return float(min(max(value, 0.0), 1.0))


@dataclass(frozen=True, slots=True)
class ArmPosterior:
    """One arm's exact posterior ``Beta(alpha, beta)`` of its proportion."""

    arm: str
    successes: int
    trials: int
    alpha: float
    beta: float
    mean: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, slots=True)
class DifferencePosterior:
    """The posterior of ``p_arm − p_control`` (the risk difference).

    Attributes
    ----------
    arm, versus
        The arm and the control arm.
    mean, sd
        Exact posterior mean and SD of the difference.
    ci_low, ci_high
        Equal-tailed credible interval (quantiles of the exact distribution).
    p_greater
        P(p_arm > p_control), exact.
    """

    arm: str
    versus: str
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    p_greater: float
    _arm: tuple[float, float]
    _control: tuple[float, float]

    def cdf(self, d: float) -> float:
        """``P(p_arm − p_control ≤ d)``, by quadrature."""
        if d <= -1.0:
            return 0.0
        if d >= 1.0:
            return 1.0
        p1, p0 = stats.beta(*self._arm), stats.beta(*self._control)
        low, high = _support(p1, p0)
        value, _ = integrate.quad(
            lambda x: p0.pdf(x) * p1.cdf(x + d), low, high, epsabs=1e-13, epsrel=1e-11,
            limit=200, points=[float(p0.mean())],
        )  # fmt: skip
        return float(min(max(value, 0.0), 1.0))

    def probability_above(self, margin: float = 0.0) -> float:
        """``P(p_arm − p_control > margin)``."""
        return 1.0 - self.cdf(margin)


def _difference(arm: ArmPosterior, control: ArmPosterior, level: float) -> DifferencePosterior:
    p1, p0 = stats.beta(arm.alpha, arm.beta), stats.beta(control.alpha, control.beta)
    partial = DifferencePosterior(
        arm=arm.arm, versus=control.arm, mean=float(p1.mean() - p0.mean()),
        sd=float(np.sqrt(p1.var() + p0.var())), ci_low=math.nan, ci_high=math.nan,
        p_greater=prob_greater(arm.alpha, arm.beta, control.alpha, control.beta),
        _arm=(arm.alpha, arm.beta), _control=(control.alpha, control.beta),
    )  # fmt: skip
    tail = (1 - level) / 2

    def quantile(q: float) -> float:
        return float(optimize.brentq(lambda d: partial.cdf(d) - q, -1.0, 1.0, xtol=1e-12))

    return DifferencePosterior(
        arm=partial.arm, versus=partial.versus, mean=partial.mean, sd=partial.sd,
        ci_low=quantile(tail), ci_high=quantile(1 - tail), p_greater=partial.p_greater,
        _arm=partial._arm, _control=partial._control,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class BetaBinomialResult:
    """Exact posteriors of a binary outcome's proportion in each arm, and each arm's
    difference from control.

    Attributes
    ----------
    outcome, control
        The outcome column and the control arm.
    prior_alpha, prior_beta
        The ``Beta(a, b)`` prior of every arm's proportion.
    arms
        One :class:`ArmPosterior` per arm (control first).
    differences
        One :class:`DifferencePosterior` per non-control arm.
    ci_level
        Level of every interval.
    """

    outcome: str
    control: str
    prior_alpha: float
    prior_beta: float
    arms: tuple[ArmPosterior, ...]
    differences: tuple[DifferencePosterior, ...]
    ci_level: float

    def to_frame(self) -> pd.DataFrame:
        """One row per non-control arm: the risk difference's posterior."""
        return pd.DataFrame(
            [
                {"outcome": self.outcome, "arm": d.arm, "versus": d.versus,
                 "scale": "risk_difference", "model": "beta_binomial", "mean": d.mean,
                 "sd": d.sd, "ci_low": d.ci_low, "ci_high": d.ci_high,
                 "ci_level": self.ci_level, "p_greater": d.p_greater,
                 "prior": f"Beta({self.prior_alpha:g}, {self.prior_beta:g}) per arm"}
                for d in self.differences
            ]
        )  # fmt: skip


def _binary_column(df: pd.DataFrame, outcome: str) -> np.ndarray:
    if outcome not in df.columns:
        raise EstimationError(f'column "{outcome}" is not in the data. Fix: check the name.')
    y = pd.to_numeric(df[outcome], errors="coerce").to_numpy(dtype=float)
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise EstimationError(
            f'column "{outcome}" must hold 0/1 outcomes with no missing values for the '
            "beta-binomial model. Fix: code it 0/1 and drop rows without an outcome first."
        )
    return y


def beta_binomial(
    df: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    control: Hashable | None = None,
    prior: tuple[float, float] = (1.0, 1.0),
    ci_level: float = 0.95,
) -> BetaBinomialResult:
    """Exact conjugate posteriors of a binary outcome, arm by arm (beta-binomial).

    Parameters
    ----------
    df
        One row per unit.
    outcome
        A 0/1 column.
    treatment
        The arm column.
    control
        The control arm; default 0 if present, else the first arm in sorted order.
    prior
        ``(a, b)`` of the ``Beta(a, b)`` prior on every arm's proportion (default uniform).
    ci_level
        Level of the credible intervals.

    Returns
    -------
    BetaBinomialResult

    Raises
    ------
    EstimationError
        Missing columns, outcomes other than 0/1, a single arm, a bad prior or level.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1, 0, 0, 0, 1, 1, 1, 0], "arm": [0, 0, 0, 0, 1, 1, 1, 1]})
    >>> res = beta_binomial(df, "y", "arm")
    >>> res.arms[1].alpha, res.arms[1].beta
    (4.0, 2.0)
    >>> round(res.differences[0].p_greater, 4)
    0.8968
    """
    func = "beta_binomial"
    a, b = (
        _check_positive(name, v, func)
        for name, v in zip(("prior[0]", "prior[1]"), prior, strict=True)
    )
    level = _check_level(ci_level, func)
    y = _binary_column(df, outcome)
    if treatment not in df.columns:
        raise EstimationError(f'column "{treatment}" is not in the data. Fix: check the name.')
    labels = df[treatment].to_numpy()
    levels = sorted(pd.unique(labels).tolist(), key=lambda v: (str(type(v)), v))
    if control is None:
        control = next((v for v in levels if not isinstance(v, str) and v == 0), levels[0])
    if control not in levels or len(levels) < 2:
        raise EstimationError(
            f"the beta-binomial model needs the control arm {control!r} and another arm in "
            f'"{treatment}" (found {levels}). Fix: pass control= one of the arms.'
        )
    ordered = [control, *(v for v in levels if v != control)]
    posts = []
    for arm in ordered:
        mask = labels == arm
        s, n = int(y[mask].sum()), int(mask.sum())
        dist = stats.beta(a + s, b + n - s)
        posts.append(ArmPosterior(
            arm=str(arm), successes=s, trials=n, alpha=a + s, beta=b + n - s,
            mean=float(dist.mean()), ci_low=float(dist.ppf((1 - level) / 2)),
            ci_high=float(dist.ppf(0.5 + level / 2)),
        ))  # fmt: skip
    diffs = tuple(_difference(arm, posts[0], level) for arm in posts[1:])
    return BetaBinomialResult(
        outcome=outcome, control=str(control), prior_alpha=a, prior_beta=b,
        arms=tuple(posts), differences=diffs, ci_level=level,
    )  # fmt: skip
