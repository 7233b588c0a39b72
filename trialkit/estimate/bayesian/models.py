"""PyMC model builders (PyMC is imported inside the functions, never at module level).

These models define trialkit's Bayesian analyses: PyMC's NUTS samples them directly, prior
predictive checks simulate from them, and the compiled kernels nutpie samples
(:mod:`.density`, :mod:`.kernels`) are tested against their log density and gradient.

One linear predictor serves every family::

    eta = centred_intercept + (T - mean T) @ beta + X @ gamma
          + (B - mean B) @ block_effect + (P - mean P) @ period_effect + u[cluster]

with ``u = cluster_sd * cluster_z`` (non-centred, the default) or ``u ~ Normal(0,
cluster_sd)`` (centred, better when clusters are large and informative). ``beta`` holds one
treatment effect per non-control arm, on the model's effect scale.

Every predictor is centred (covariates in :mod:`.design`, arm, block and period indicators
here), as rstanarm and brms do: the intercept's prior then applies to the mean linear
predictor, which the outcome's mean describes, and the intercept is no longer correlated
with the effects, so NUTS mixes several times better. ``intercept`` (a deterministic) is
the control arm's value at the reference block and period and average covariates; for
ordered outcomes the ``cutpoints`` deterministic is shifted the same way.

The logistic likelihood is written as ``y * eta - softplus(eta)``, the same density as
PyMC's ``Bernoulli(logit_p=eta)`` with half the work per gradient. Link-scale families
also get natural-unit effects as deterministics, averaged over the trial's own units with
every unit set to each arm in turn (g-computation; computed after sampling by
:mod:`.natural`): ``risk_difference`` (logistic), ``mean_difference`` in category values
(ordered logistic), ``rate_ratio`` and ``rate_difference`` (Poisson, negative binomial).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .design import DesignData, Family
from .priors import ModelPriors, Prior

if TYPE_CHECKING:
    import pymc as pm

Parametrisation = Literal["non_centred", "centred"]


@dataclass(frozen=True, slots=True)
class Scale:
    """One scale on which effects are reported.

    Attributes
    ----------
    name
        Column value of ``scale`` in result rows (e.g. ``"risk_difference"``).
    variable
        The posterior variable holding it (dims ``term``).
    null
        The no-effect value (0 for differences, 1 for ratios).
    natural
        Whether it is in the outcome's natural units (MID, harm margin and ROPE apply).
    """

    name: str
    variable: str
    null: float = 0.0
    natural: bool = False


def scales(family: Family | Literal["beta_binomial"]) -> tuple[Scale, ...]:
    """The reporting scales of ``family``, link scale first (the conjugate beta-binomial
    model reports a binary outcome's effect on the logistic model's scales)."""
    if family in ("normal", "student_t"):
        return (Scale("difference", "beta", natural=True),)
    if family in ("logistic", "beta_binomial"):
        return (
            Scale("log_odds_ratio", "beta"),
            Scale("risk_difference", "risk_difference", natural=True),
        )
    if family == "ordered_logistic":
        return (
            Scale("log_odds_ratio", "beta"),
            Scale("mean_difference", "mean_difference", natural=True),
        )
    return (
        Scale("log_rate_ratio", "beta"),
        Scale("rate_ratio", "rate_ratio", null=1.0),
        Scale("rate_difference", "rate_difference", natural=True),
    )


def _effect_rv(prior: Prior, dims: str) -> Any:
    import pymc as pm

    if prior.distribution == "student_t":
        return pm.StudentT("beta", nu=prior.nu or 3.0, mu=prior.mu, sigma=prior.sigma, dims=dims)
    return pm.Normal("beta", mu=prior.mu, sigma=prior.sigma, dims=dims)


def _linear(M: np.ndarray, coef: Any) -> Any:
    """``M @ coef``."""
    import pymc as pm

    return pm.math.constant(M) @ coef


def _centred(M: np.ndarray, coef: Any) -> tuple[Any, Any]:
    """``((M - mean M) @ coef, mean M @ coef)``: the term and what centring took out of it."""
    mean = M.mean(axis=0)
    return _linear(M - mean, coef), _linear(mean[None, :], coef)[0]


def _fixed(name: str, M: np.ndarray, sigma: float, dims: str) -> tuple[Any, Any]:
    """Centred fixed effects of the dummies ``M`` (none when ``M`` has no columns)."""
    import pymc as pm
    import pytensor.tensor as pt

    if M.shape[1] == 0:
        return pt.zeros(M.shape[0]), pt.zeros(())
    return _centred(M, pm.Normal(name, 0.0, sigma, dims=dims))


def _cluster(data: DesignData, priors: ModelPriors, how: Parametrisation) -> Any:
    import pymc as pm
    import pytensor.tensor as pt

    if data.cluster_idx is None:
        return pt.zeros(data.n_obs)
    sd = pm.HalfNormal("cluster_sd", priors.cluster_sd_sigma)
    if how == "centred":
        u = pm.Normal("cluster_u", 0.0, sd, dims="cluster")
    else:
        u = sd * pm.Normal("cluster_z", 0.0, 1.0, dims="cluster")
    return u[data.cluster_idx]


def model_coords(data: DesignData) -> dict[str, Any]:
    """The model's coordinates: terms, covariates, block and period dummies, clusters, cutpoints."""
    coords: dict[str, Any] = {
        "term": list(data.terms),
        "covariate": list(data.covariates),
        "block_dummy": list(range(data.B.shape[1])),
        "period_dummy": list(range(data.P.shape[1])),
    }
    if data.n_clusters is not None:
        coords["cluster"] = list(range(data.n_clusters))
    if data.categories:
        coords["cutpoint"] = list(range(len(data.categories) - 1))
    return coords


def build_model(
    data: DesignData,
    family: Family,
    priors: ModelPriors,
    *,
    parametrisation: Parametrisation = "non_centred",
) -> pm.Model:
    """Build the PyMC model for one outcome.

    Parameters
    ----------
    data
        From :func:`trialkit.estimate.bayesian.design.prepare`.
    family
        Outcome family.
    priors
        From :func:`trialkit.estimate.bayesian.priors.model_priors`.
    parametrisation
        Of cluster random intercepts.

    Returns
    -------
    pymc.Model
        With the treatment effects in ``beta`` (dims ``term``) and the outcome in the
        data container ``y_obs``.
    """
    import pymc as pm

    with pm.Model(coords=model_coords(data)) as model:
        eta, shift = _centred(data.T, _effect_rv(priors.effect, "term"))
        if data.X.shape[1]:
            slopes = pm.Normal("gamma", 0.0, np.asarray(priors.slope_sigma), dims="covariate")
            eta = eta + _linear(data.X, slopes)
        for name, M, dims in (
            ("block_effect", data.B, "block_dummy"),
            ("period_effect", data.P, "period_dummy"),
        ):
            term, taken = _fixed(name, M, priors.fixed_sigma, dims)
            eta, shift = eta + term, shift + taken
        eta = eta + _cluster(data, priors, parametrisation)
        if family != "ordered_logistic":
            centred = pm.Normal("centred_intercept", priors.intercept_mu, priors.intercept_sigma)
            pm.Deterministic("intercept", centred - shift)
            eta = eta + centred
        # Data container: a compiled model can be re-used with new outcomes (SBC, benchmarks).
        pm.Data("y_obs", data.y)
        _likelihood(data, family, priors, eta, shift)
    return model


def model_y(dtype: type = float) -> Any:
    """The outcome data container of the model in context, as ``dtype``."""
    import pymc as pm

    y = pm.modelcontext(None)["y_obs"]
    return y.astype("int64") if dtype is int else y


def _bernoulli_logit_logp(value: Any, eta: Any) -> Any:
    """``log p(value | eta)`` of a 0/1 outcome with log-odds ``eta``."""
    import pytensor.tensor as pt

    return value * eta - pt.softplus(eta)


def _bernoulli_logit(eta: Any, size: Any) -> Any:
    import pymc as pm

    return pm.Bernoulli.dist(logit_p=eta, size=size)


def _likelihood(
    data: DesignData, family: Family, priors: ModelPriors, eta: Any, shift: Any
) -> None:
    import pymc as pm
    import pytensor.tensor as pt

    if family == "normal":
        pm.Normal("y", eta, pm.Exponential("sigma", 1.0 / priors.scale), observed=model_y())
    elif family == "student_t":
        nu = pm.Gamma("nu", 2.0, 0.1)
        pm.StudentT(
            "y",
            nu=nu,
            mu=eta,
            sigma=pm.Exponential("sigma", 1.0 / priors.scale),
            observed=model_y(),
        )
    elif family == "logistic":
        pm.CustomDist(
            "y", eta, dist=_bernoulli_logit, logp=_bernoulli_logit_logp, observed=model_y(int)
        )
    elif family == "ordered_logistic":
        k = len(data.categories)
        init = np.maximum.accumulate(np.asarray(priors.cutpoint_mu)) + 0.01 * np.arange(k - 1)
        cut = pm.Normal(
            "centred_cutpoints",
            mu=np.asarray(priors.cutpoint_mu),
            sigma=2.5,
            transform=pm.distributions.transforms.ordered,
            dims="cutpoint",
            initval=init,
        )
        pm.Deterministic("cutpoints", cut + shift, dims="cutpoint")
        pm.OrderedLogistic("y", eta=eta, cutpoints=cut, observed=model_y(int))
    elif family == "poisson":
        pm.Poisson("y", pt.exp(eta), observed=model_y(int))
    else:
        alpha = 1.0 / pm.HalfNormal("inv_dispersion", 1.0)
        pm.NegativeBinomial("y", mu=pt.exp(eta), alpha=alpha, observed=model_y(int))
