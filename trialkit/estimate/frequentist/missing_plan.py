"""The registered missing-data method, applied to one outcome of the plan.

``complete_case`` is the plan's own path. ``inverse_probability_weighting`` and
``multiple_imputation`` (:mod:`.missing`) keep every row whose arm, covariates, block and
cluster are known, including rows whose outcome is missing, and fit the plan's estimator
(Lin or OLS) with estimated response weights or on imputed data pooled by Rubin's rules.
Rows missing a covariate are still left out; CACE and subgroup effects stay complete-case.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.frequentist.missing import ipw, multiple_imputation
from trialkit.estimate.frequentist.plan_estimators import plan_estimator
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.protocol import Protocol
from trialkit.protocol.vocabulary import VcovType

#: Imputations for the plan's multiple imputation (van Buuren: 20 or more for SEs).
IMPUTATIONS = 20


def fit_missing(
    protocol: Protocol,
    frame: AnalysisFrame,
    column: str,
    *,
    covariates: Sequence[str],
    se_type: VcovType | None,
) -> RegressionResult:
    """The plan's estimator for ``column`` under its registered missing-data method."""
    plan = protocol.analysis.frequentist
    known = [c for c in (*covariates, frame.blocks, frame.cluster) if c is not None]
    rows = frame.data.dropna(subset=["arm", *known])
    estimator = plan_estimator(plan.estimator).refit
    common = {
        "covariates": list(covariates),
        "cluster": frame.cluster,
        "blocks": frame.blocks,
        "control": protocol.control.id,
        "estimator": estimator,
        "se_type": se_type,
        "df": plan.df,
    }
    if plan.missing_data == "inverse_probability_weighting":
        return ipw(rows, column, "arm", **common)  # type: ignore[arg-type]
    rng = np.random.default_rng([protocol.seed, sum(map(ord, column))])
    return multiple_imputation(rows, column, "arm", imputations=IMPUTATIONS, rng=rng, **common)  # type: ignore[arg-type]


def missing_note(protocol: Protocol) -> str | None:
    """What the registered missing-data method did, for the results' notes."""
    method = protocol.analysis.frequentist.missing_data
    if method == "inverse_probability_weighting":
        return (
            "Missing outcomes: inverse probability of response weighting (logistic "
            "response model on arm, covariates and blocks; standard errors treat the "
            "weights as fixed). Rows missing a covariate are left out; CACE and subgroup "
            "effects are complete-case; time-to-event outcomes are analysed with "
            "censoring, not weighted."
        )
    if method == "multiple_imputation":
        return (
            f"Missing outcomes: multiple imputation ({IMPUTATIONS} imputations by arm, "
            "covariates and blocks; Rubin's rules with Barnard–Rubin degrees of freedom). "
            "The imputation model has no cluster effects. Rows missing a covariate are "
            "left out; CACE and subgroup effects are complete-case; time-to-event "
            "outcomes are analysed with censoring, not imputed."
        )
    return None
