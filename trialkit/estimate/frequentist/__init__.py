"""Frequentist impact estimation: estimatr-grade estimators and the protocol's plan.

``fit(protocol, data)`` runs the registered plan; the estimators are callable directly on a
DataFrame. Names resolve lazily, so importing this package stays cheap.
"""

from __future__ import annotations

from trialkit._core.lazy import lazy_getattr

_LAZY = {
    "fit": "trialkit.estimate.frequentist.plan",
    "FrequentistResults": "trialkit.estimate.frequentist.plan",
    "difference_in_means": "trialkit.estimate.frequentist.dim",
    "ols": "trialkit.estimate.frequentist.ols",
    "lin": "trialkit.estimate.frequentist.lin",
    "iv": "trialkit.estimate.frequentist.iv",
    "binary_effect": "trialkit.estimate.frequentist.binary",
    "randomisation_test": "trialkit.estimate.frequentist.ri",
    "adjust_p_values": "trialkit.estimate.frequentist.multiplicity",
    "holm": "trialkit.estimate.frequentist.multiplicity",
    "benjamini_hochberg": "trialkit.estimate.frequentist.multiplicity",
    "westfall_young": "trialkit.estimate.frequentist.multiplicity",
    "anderson_index": "trialkit.estimate.frequentist.indices",
    "klk_index": "trialkit.estimate.frequentist.indices",
    "icc_anova": "trialkit.estimate.frequentist.effect_sizes",
    "hedges_g_for_effect": "trialkit.estimate.frequentist.effect_sizes",
    "hedges_g_total": "trialkit.estimate.frequentist.effect_sizes",
    "cox_index_for_effect": "trialkit.estimate.frequentist.effect_sizes",
    "lee_bounds": "trialkit.estimate.frequentist.bounds",
    "subgroup_effects": "trialkit.estimate.frequentist.subgroups",
    "kaplan_meier": "trialkit.estimate.frequentist.survival",
    "KaplanMeierCurve": "trialkit.estimate.frequentist.survival",
    "rmst_difference": "trialkit.estimate.frequentist.survival_rmst",
    "cox_hazard_ratios": "trialkit.estimate.frequentist.survival_cox",
    "CoxResult": "trialkit.estimate.frequentist.survival_cox",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
