"""Bayesian impact estimation (PyMC models; nutpie on compiled kernels when installed).

``bayes`` fits one outcome; ``prior_predictive`` checks priors; ``evaluate_rule``,
``net_benefit`` and ``misuse_rate`` turn posteriors into decisions; ``misuse_model`` fits
the hierarchical (beta-binomial) model of workers' misuse rates; ``fit_protocol`` fits
every pre-registered outcome. ``prior_from_estimate``, ``normal_update`` and
``beta_binomial`` are exact conjugate updates that need no sampler. Names resolve lazily
so importing this package does not import PyMC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trialkit._core.lazy import lazy_getattr

if TYPE_CHECKING:
    from trialkit.estimate.bayesian.conjugate import normal_update, prior_from_estimate
    from trialkit.estimate.bayesian.conjugate_binary import beta_binomial
    from trialkit.estimate.bayesian.decisions import evaluate_rule, misuse_rate, net_benefit
    from trialkit.estimate.bayesian.diagnostics import Diagnostics
    from trialkit.estimate.bayesian.fit import bayes, prior_predictive
    from trialkit.estimate.bayesian.misuse_model import MisuseModel, MisusePrior, misuse_model
    from trialkit.estimate.bayesian.plan import fit_protocol
    from trialkit.estimate.bayesian.priors import Prior
    from trialkit.estimate.bayesian.results import BayesianFit, BayesianResults

_LAZY = {
    "bayes": "trialkit.estimate.bayesian.fit",
    "prior_predictive": "trialkit.estimate.bayesian.fit",
    "Prior": "trialkit.estimate.bayesian.priors",
    "BayesianFit": "trialkit.estimate.bayesian.results",
    "BayesianResults": "trialkit.estimate.bayesian.results",
    "Diagnostics": "trialkit.estimate.bayesian.diagnostics",
    "evaluate_rule": "trialkit.estimate.bayesian.decisions",
    "net_benefit": "trialkit.estimate.bayesian.decisions",
    "misuse_rate": "trialkit.estimate.bayesian.decisions",
    "misuse_model": "trialkit.estimate.bayesian.misuse_model",
    "MisuseModel": "trialkit.estimate.bayesian.misuse_model",
    "MisusePrior": "trialkit.estimate.bayesian.misuse_model",
    "fit_protocol": "trialkit.estimate.bayesian.plan",
    "prior_from_estimate": "trialkit.estimate.bayesian.conjugate",
    "normal_update": "trialkit.estimate.bayesian.conjugate",
    "beta_binomial": "trialkit.estimate.bayesian.conjugate_binary",
}

__all__ = [
    "BayesianFit",
    "BayesianResults",
    "Diagnostics",
    "MisuseModel",
    "MisusePrior",
    "Prior",
    "bayes",
    "beta_binomial",
    "evaluate_rule",
    "fit_protocol",
    "misuse_model",
    "misuse_rate",
    "net_benefit",
    "normal_update",
    "prior_from_estimate",
    "prior_predictive",
]

_getattr = lazy_getattr(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    return _getattr(name)
