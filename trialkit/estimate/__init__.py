"""Estimate: impact estimates, frequentist and Bayesian.

Every estimator is callable on a pandas DataFrame with column names, and the protocol's
analysis plan calls the same functions. Names are resolved lazily so ``import trialkit``
does not import PyMC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trialkit._core.lazy import lazy_getattr

if TYPE_CHECKING:
    from trialkit.estimate.bayesian.fit import bayes
    from trialkit.estimate.frequentist.binary import binary_effect
    from trialkit.estimate.frequentist.dim import difference_in_means
    from trialkit.estimate.frequentist.iv import iv
    from trialkit.estimate.frequentist.lin import lin
    from trialkit.estimate.frequentist.ols import ols
    from trialkit.estimate.frequentist.ri import randomisation_test

_LAZY = {
    "difference_in_means": "trialkit.estimate.frequentist.dim",
    "ols": "trialkit.estimate.frequentist.ols",
    "lin": "trialkit.estimate.frequentist.lin",
    "iv": "trialkit.estimate.frequentist.iv",
    "binary_effect": "trialkit.estimate.frequentist.binary",
    "randomisation_test": "trialkit.estimate.frequentist.ri",
    "bayes": "trialkit.estimate.bayesian.fit",
}

__all__ = [
    "bayes",
    "binary_effect",
    "difference_in_means",
    "iv",
    "lin",
    "ols",
    "randomisation_test",
]

_getattr = lazy_getattr(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    return _getattr(name)
