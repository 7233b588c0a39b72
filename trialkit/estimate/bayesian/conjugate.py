"""Conjugate Bayesian updates that need no sampler: exact, instant, no PyMC.

* :func:`prior_from_estimate`: a normal prior from a previous pilot's or a published
  estimate and its standard error, optionally discounted (power prior: the variance is
  divided by ``weight``).
* :func:`normal_update`: the normal–normal update of such a prior by this trial's estimate
  and standard error (the likelihood approximated as normal, as in Spiegelhalter, Abrams &
  Myles 2004, ch. 3): posterior precision ``1/s₀² + 1/se²``, mean the precision-weighted
  average of the prior mean and the estimate.

The beta-binomial model of a binary outcome is in :mod:`.conjugate_binary`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from trialkit.errors import EstimationError

from .priors import Prior

__all__ = ["NormalPosterior", "normal_update", "prior_from_estimate"]


def _check_level(ci_level: float, func: str) -> float:
    if not 0.0 < float(ci_level) < 1.0:
        raise EstimationError(
            f"The 'ci_level' parameter of {func} must be in (0, 1). Got {ci_level!r} instead."
        )
    return float(ci_level)


def _check_positive(name: str, value: float, func: str) -> float:
    if not (math.isfinite(float(value)) and float(value) > 0):
        raise EstimationError(
            f"The '{name}' parameter of {func} must be a positive number. Got {value!r} instead."
        )
    return float(value)


def prior_from_estimate(
    estimate: float, std_error: float, *, weight: float = 1.0, source: str = "earlier estimate"
) -> Prior:
    """A normal prior centred on an earlier estimate, SD ``std_error / sqrt(weight)``.

    Parameters
    ----------
    estimate, std_error
        A previous pilot's or published estimate of the effect (the outcome's units, or the
        model's effect scale) and its standard error.
    weight
        In (0, 1]: how much of the earlier evidence to carry over (1: all of it; 0.5 counts
        it as half as many observations).
    source
        Where the estimate comes from (shown in reports).

    Returns
    -------
    Prior

    Examples
    --------
    >>> prior_from_estimate(-0.4, 0.2, weight=0.25, source="2023 pilot").sigma
    0.4
    """
    func = "prior_from_estimate"
    if not math.isfinite(float(estimate)):
        raise EstimationError(
            f"The 'estimate' parameter of {func} must be finite. Got {estimate!r} instead."
        )
    _check_positive("std_error", std_error, func)
    if not 0.0 < float(weight) <= 1.0:
        raise EstimationError(
            f"The 'weight' parameter of {func} must be in (0, 1]. Got {weight!r} instead."
        )
    return Prior(
        distribution="normal",
        mu=float(estimate),
        sigma=float(std_error) / math.sqrt(float(weight)),
        source=source,
    )


@dataclass(frozen=True, slots=True)
class NormalPosterior:
    """A normal posterior of an effect: ``N(mean, sd²)``.

    Attributes
    ----------
    mean, sd
        Posterior mean and SD.
    ci_low, ci_high, ci_level
        Equal-tailed credible interval.
    prior
        The prior it updated.
    estimate, std_error
        The data's estimate and standard error.
    prior_weight
        Share of the posterior precision that comes from the prior.
    """

    mean: float
    sd: float
    ci_low: float
    ci_high: float
    ci_level: float
    prior: Prior
    estimate: float
    std_error: float
    prior_weight: float

    def probability_above(self, threshold: float = 0.0) -> float:
        """P(effect > threshold)."""
        return float(special.ndtr((self.mean - threshold) / self.sd))

    def probability_below(self, threshold: float = 0.0) -> float:
        """P(effect < threshold)."""
        return float(special.ndtr((threshold - self.mean) / self.sd))


def normal_update(
    prior: Prior, estimate: float, std_error: float, *, ci_level: float = 0.95
) -> NormalPosterior:
    """Update a normal prior by an estimate and its standard error (normal–normal).

    Parameters
    ----------
    prior
        A normal :class:`~trialkit.estimate.bayesian.priors.Prior` on the effect, e.g. from
        :func:`prior_from_estimate`.
    estimate, std_error
        This trial's estimate of the same effect and its standard error.
    ci_level
        Level of the credible interval.

    Returns
    -------
    NormalPosterior

    Raises
    ------
    EstimationError
        A Student-t prior (not conjugate), or a non-positive standard error.

    Examples
    --------
    >>> post = normal_update(prior_from_estimate(-0.4, 0.2), -0.1, 0.2)
    >>> round(post.mean, 3), round(post.sd, 4)
    (-0.25, 0.1414)
    """
    func = "normal_update"
    if prior.distribution != "normal":
        raise EstimationError(
            f"normal_update needs a normal prior; got {prior.describe()}. Fix: use "
            "prior_from_estimate(...) or Prior(distribution='normal', ...)."
        )
    se = _check_positive("std_error", std_error, func)
    level = _check_level(ci_level, func)
    prior_precision, data_precision = prior.sigma**-2, se**-2
    precision = prior_precision + data_precision
    mean = (prior.mu * prior_precision + float(estimate) * data_precision) / precision
    sd = precision**-0.5
    z = float(special.ndtri(0.5 + level / 2))
    return NormalPosterior(
        mean=mean, sd=sd, ci_low=mean - z * sd, ci_high=mean + z * sd, ci_level=level,
        prior=prior, estimate=float(estimate), std_error=se,
        prior_weight=prior_precision / precision,
    )  # fmt: skip
