"""Prior specifications and trialkit's default priors.

How defaults are scaled
-----------------------
For ``normal`` and ``student_t`` outcomes the *outcome scale* ``s`` is the declared range's
width divided by 4 (a range holds about ±2 SD) when ``outcome_range`` is given, otherwise the
sample SD of the outcome (as rstanarm's autoscaling). The default (weakly informative)
treatment-effect prior is ``Normal(0, s)``: effects of a whole outcome SD are rare for
management practices, so this rules out only absurd values. Other parameters get wider
priors: intercept ``Normal(m, 2.5 s)`` (``m`` the range's midpoint if declared, else the
outcome mean; as in rstanarm and brms it applies to the intercept with every predictor
centred, i.e. the mean linear predictor, see :mod:`.models`), slopes
``Normal(0, 2.5 s / sd(x))``, block and period effects ``Normal(0, 2.5 s)``, residual SD
``Exponential(1 / s)``, cluster SD ``HalfNormal(s)``.

For link-scale families the effect prior is on the link scale and does not depend on the
data: ``Normal(0, 1.5)`` on the log-odds ratio (logistic, ordered logistic) and
``Normal(0, 1)`` on the log rate ratio (Poisson, negative binomial).

A *sceptical* prior is centred on zero with only ``tail_probability`` (default 5 %) of its
mass beyond the minimal important difference (MID) in the direction of benefit; without a
MID, a small standardised effect (0.2 s) stands in for it. For link-scale families the MID
(given in natural units) is converted with a first-order approximation at the control mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.protocol.vocabulary import PriorDefault, PriorDistribution

from .design import DesignData, Family

LINK_FAMILIES: frozenset[str] = frozenset(
    {"logistic", "ordered_logistic", "poisson", "negative_binomial"}
)


@dataclass(frozen=True, slots=True)
class Prior:
    """A prior for the treatment effect(s), on the model's effect scale.

    The effect scale is the outcome's units for ``normal``/``student_t``, the log-odds
    ratio for ``logistic``/``ordered_logistic`` and the log rate ratio for counts.

    Attributes
    ----------
    distribution
        ``"normal"`` or ``"student_t"``.
    mu, sigma
        Location and scale (``sigma`` > 0).
    nu
        Degrees of freedom of a Student-t prior (default 3 when ``None``).
    source
        Where the prior comes from: "default", "sceptical", or a citation for an
        informative prior (e.g. "meta-analysis of 12 council pilots, 2021").

    Examples
    --------
    >>> Prior(distribution="normal", mu=0.0, sigma=2.0, source="pilot 2023").sigma
    2.0
    """

    distribution: PriorDistribution = "normal"
    mu: float = 0.0
    sigma: float = 1.0
    nu: float | None = None
    source: str = "default"

    def __post_init__(self) -> None:
        if self.distribution not in get_args(PriorDistribution):
            raise EstimationError(
                f"The 'distribution' parameter of Prior must be one of "
                f"{get_args(PriorDistribution)}. Got {self.distribution!r} instead."
            )
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise EstimationError(
                f"The 'sigma' parameter of Prior must be positive. Got {self.sigma} instead."
            )

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> Prior:
        """Build from a protocol-style mapping ``{distribution, mu|mean, sigma|sd, source}``.

        Examples
        --------
        >>> Prior.from_mapping({"distribution": "normal", "mean": 1, "sd": 2}).mu
        1.0
        """
        mu = spec.get("mu", spec.get("mean", 0.0))
        sigma = spec.get("sigma", spec.get("sd"))
        if sigma is None:
            raise EstimationError(f"Prior {dict(spec)} has no 'sigma' (or 'sd'). Fix: add one.")
        nu = spec.get("nu")
        return cls(
            distribution=spec.get("distribution", "normal"),
            mu=float(mu),
            sigma=float(sigma),
            nu=None if nu is None else float(nu),
            source=str(spec.get("source", "protocol")),
        )

    def describe(self) -> str:
        """E.g. ``"Normal(0, 2.5) [default]"`` (a source's closing full stop left out, as it
        is read inside a sentence)."""
        source = self.source.rstrip(". ")
        if self.distribution == "student_t":
            return f"StudentT({self.nu or 3:g}, {self.mu:g}, {self.sigma:.3g}) [{source}]"
        return f"Normal({self.mu:g}, {self.sigma:.3g}) [{source}]"


@dataclass(frozen=True, slots=True)
class BetaPrior:
    """The ``Beta(alpha, beta)`` prior of every arm's proportion (beta-binomial model).

    Examples
    --------
    >>> BetaPrior(1.0, 1.0).describe()
    "Beta(1, 1) on each arm's proportion [protocol]"
    """

    alpha: float
    beta: float
    source: str = "protocol"

    def describe(self) -> str:
        """E.g. ``"Beta(1, 1) on each arm's proportion [protocol]"``."""
        return f"Beta({self.alpha:g}, {self.beta:g}) on each arm's proportion [{self.source}]"


@dataclass(frozen=True, slots=True)
class ModelPriors:
    """Every prior of one model, resolved to numbers (see the module docstring)."""

    effect: Prior
    scale: float
    scale_note: str
    intercept_mu: float
    intercept_sigma: float
    slope_sigma: tuple[float, ...]
    fixed_sigma: float
    cluster_sd_sigma: float
    cutpoint_mu: tuple[float, ...] = ()


def outcome_scale(
    data: DesignData, family: Family, outcome_range: tuple[float, float] | None = None
) -> tuple[float, str]:
    """The outcome scale ``s`` used to scale default priors, and how it was obtained."""
    if outcome_range is not None:
        lo, hi = outcome_range
        return (hi - lo) / 4.0, f"declared range [{lo:g}, {hi:g}] / 4"
    y = data.y if not data.categories else np.asarray(data.categories)[data.y.astype(int)]
    sd = float(np.std(y, ddof=1)) if len(y) > 1 else 1.0
    return (sd if sd > 0 else 1.0), "sample SD of the outcome"


def _natural_to_link(data: DesignData, family: Family, mid: float, scale: float) -> float:
    """First-order conversion of a natural-unit difference to the effect scale."""
    control = data.T.sum(axis=1) == 0
    if family == "logistic":
        p = float(np.clip(data.y[control].mean(), 0.02, 0.98))
        return mid / (p * (1 - p))
    if family in ("poisson", "negative_binomial"):
        return mid / max(float(data.y[control].mean()), 1e-6)
    if family == "ordered_logistic":
        return float(mid / scale * np.pi / np.sqrt(3.0))
    return mid


def effect_prior(
    prior: Prior | PriorDefault | None,
    data: DesignData,
    family: Family,
    *,
    scale: float,
    mid: float | None = None,
    tail_probability: float = 0.05,
) -> Prior:
    """Resolve ``prior`` (a :class:`Prior`, a kind, or ``None`` = weakly informative)."""
    if isinstance(prior, Prior):
        return prior
    if prior is None or prior == "weakly_informative":
        if family in ("logistic", "ordered_logistic"):
            return Prior(sigma=1.5, source="default: log-odds ratio")
        if family in LINK_FAMILIES:
            return Prior(sigma=1.0, source="default: log rate ratio")
        return Prior(sigma=scale, source="default: outcome scale")
    if prior == "sceptical":
        natural = abs(mid) if mid else 0.2 * scale
        z = float(stats.norm.isf(tail_probability))
        sigma = abs(_natural_to_link(data, family, natural, scale)) / z
        return Prior(sigma=sigma, source=f"sceptical: P(beyond {natural:g}) = {tail_probability:g}")
    raise EstimationError(
        f"The 'prior' parameter must be a Prior or one of {get_args(PriorDefault)}. "
        f"Got {prior!r} instead."
    )


def model_priors(
    data: DesignData,
    family: Family,
    effect: Prior,
    *,
    scale: float,
    scale_note: str,
    centre: float | None = None,
) -> ModelPriors:
    """Default priors for everything but the treatment effect (module docstring).

    ``centre`` (the declared range's midpoint) replaces the outcome mean as the intercept's
    prior mean for ``normal``/``student_t``, so the priors then do not depend on the outcome.
    """
    sd_x = data.X.std(axis=0) if data.X.size else np.zeros(0)
    sd_x = np.where(sd_x > 0, sd_x, 1.0)
    cut_mu: tuple[float, ...] = ()
    if family in LINK_FAMILIES:
        s, mean = 1.0, float(np.mean(data.y))
        if family == "logistic":
            p = float(np.clip(mean, 0.01, 0.99))
            mean = float(np.log(p / (1 - p)))
        elif family in ("poisson", "negative_binomial"):
            mean = float(np.log(mean + 0.1))
        else:
            k = len(data.categories)
            cum = np.array([(data.y <= c).mean() for c in range(k - 1)])
            cum = np.clip(cum, 0.01, 0.99)
            cut_mu, mean = tuple(np.log(cum / (1 - cum)).tolist()), 0.0
    else:
        s, mean = scale, float(np.mean(data.y)) if centre is None else centre
    return ModelPriors(
        effect=effect,
        scale=scale,
        scale_note=scale_note,
        intercept_mu=mean,
        intercept_sigma=2.5 * s,
        slope_sigma=tuple((2.5 * s / sd_x).tolist()),
        fixed_sigma=2.5 * s,
        cluster_sd_sigma=s,
        cutpoint_mu=cut_mu,
    )
