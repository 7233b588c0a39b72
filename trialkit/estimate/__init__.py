"""Estimate: impact estimates, frequentist and Bayesian.

Every estimator is callable on a pandas DataFrame with column names, and the protocol's
analysis plan calls the same functions. Names are resolved lazily so ``import trialkit``
does not import PyMC.
"""

from __future__ import annotations

from trialkit._core.lazy import lazy_getattr

_LAZY = {
    "difference_in_means": "trialkit.estimate.frequentist.dim",
    "ols": "trialkit.estimate.frequentist.ols",
    "lin": "trialkit.estimate.frequentist.lin",
    "iv": "trialkit.estimate.frequentist.iv",
    "binary_effect": "trialkit.estimate.frequentist.binary",
    "randomisation_test": "trialkit.estimate.frequentist.ri",
    "bayes": "trialkit.estimate.bayesian.fit",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
