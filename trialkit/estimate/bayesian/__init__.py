"""Bayesian impact estimation (PyMC models; nutpie on compiled kernels when installed).

``bayes`` fits one outcome; ``prior_predictive`` checks priors; ``evaluate_rule``,
``net_benefit`` and ``misuse_rate`` turn posteriors into decisions; ``misuse_model`` fits
the hierarchical (beta-binomial) model of workers' misuse rates; ``fit_protocol`` fits
every pre-registered outcome. ``prior_from_estimate``, ``normal_update`` and
``beta_binomial`` are exact conjugate updates that need no sampler. Names resolve lazily
so importing this package does not import PyMC.
"""

from __future__ import annotations

from trialkit._core.lazy import lazy_getattr

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

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
