"""Frequentist impact estimation: estimatr-grade estimators and the protocol's plan.

``fit(protocol, data)`` runs the registered plan; the estimators are callable directly on a
DataFrame. Names resolve lazily, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trialkit._core.lazy import lazy_getattr

if TYPE_CHECKING:
    from trialkit.estimate.frequentist.binary import binary_effect
    from trialkit.estimate.frequentist.bounds import lee_bounds
    from trialkit.estimate.frequentist.dim import difference_in_means
    from trialkit.estimate.frequentist.effect_sizes import (
        cox_index_for_effect,
        hedges_g_for_effect,
        hedges_g_total,
        icc_anova,
    )
    from trialkit.estimate.frequentist.indices import anderson_index, klk_index
    from trialkit.estimate.frequentist.iv import iv
    from trialkit.estimate.frequentist.lin import lin
    from trialkit.estimate.frequentist.multiplicity import (
        adjust_p_values,
        benjamini_hochberg,
        holm,
        westfall_young,
    )
    from trialkit.estimate.frequentist.ols import ols
    from trialkit.estimate.frequentist.plan import FrequentistResults, fit
    from trialkit.estimate.frequentist.ri import randomisation_test
    from trialkit.estimate.frequentist.subgroups import subgroup_effects
    from trialkit.estimate.frequentist.survival import KaplanMeierCurve, kaplan_meier
    from trialkit.estimate.frequentist.survival_cox import CoxResult, cox_hazard_ratios
    from trialkit.estimate.frequentist.survival_rmst import rmst_difference

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

__all__ = [
    "CoxResult",
    "FrequentistResults",
    "KaplanMeierCurve",
    "adjust_p_values",
    "anderson_index",
    "benjamini_hochberg",
    "binary_effect",
    "cox_hazard_ratios",
    "cox_index_for_effect",
    "difference_in_means",
    "fit",
    "hedges_g_for_effect",
    "hedges_g_total",
    "holm",
    "icc_anova",
    "iv",
    "kaplan_meier",
    "klk_index",
    "lee_bounds",
    "lin",
    "ols",
    "randomisation_test",
    "rmst_difference",
    "subgroup_effects",
    "westfall_young",
]

_getattr = lazy_getattr(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    return _getattr(name)
