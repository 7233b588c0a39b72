"""Estimate: impact estimates, frequentist and Bayesian.

Every estimator is callable on a pandas DataFrame with column names, and the protocol's
analysis plan calls the same functions. Names are resolved lazily so ``import trialkit``
does not import PyMC.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "difference_in_means": "trialkit.estimate.frequentist.dim",
    "ols": "trialkit.estimate.frequentist.ols",
    "lin": "trialkit.estimate.frequentist.lin",
    "iv": "trialkit.estimate.frequentist.iv",
    "randomisation_test": "trialkit.estimate.frequentist.ri",
    "bayes": "trialkit.estimate.bayesian.fit",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trialkit.estimate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
