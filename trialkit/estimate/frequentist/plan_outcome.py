"""The plan's ITT model of one outcome column: its estimator, covariates and rows.

One place for what every stage that fits an outcome as the plan does needs: the frequentist
plan itself (:mod:`.plan`), its families (:mod:`.plan_families`), the spending section's
dose regressions and the diagnosis of the design.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, varies
from trialkit.estimate.frequentist.goodness import fit_columns
from trialkit.estimate.frequentist.missing_plan import fit_missing
from trialkit.estimate.frequentist.ols import ols
from trialkit.estimate.frequentist.plan_estimators import plan_estimator
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.protocol import Protocol
from trialkit.validate import TrialData


def levels_with_data(data: TrialData, protocol: Protocol) -> set[str]:
    """The protocol's levels that have data."""
    return {name for name in protocol.level_names if name in data.frames}


def adjusted_for(protocol: Protocol, frame: AnalysisFrame, column: str) -> tuple[str, ...]:
    """The covariate columns the plan's ITT model of ``column`` adjusts for."""
    if not plan_estimator(protocol.analysis.frequentist.estimator).adjusts and not (
        frame.fixed_effects
    ):
        return ()
    return tuple(frame.usable_covariates(column))


def estimate_outcome(
    protocol: Protocol,
    frame: AnalysisFrame,
    column: str,
    name: str,
    *,
    reference: str | None = None,
) -> RegressionResult:
    """The plan's estimator for one outcome column of an analysis frame.

    ``reference`` is the arm the others are compared with (the control by default; a
    treated arm for a pre-registered pairwise contrast). A count with an exposure is in the
    frame as a rate (:func:`~.analysis_frame.as_rates`) and is weighted by its exposure, so
    that unadjusted an arm's estimate is the difference of the arms' total counts over
    their total exposures (the ratio-of-means rates), with the plan's HC2 or CR2 errors.
    """
    plan = protocol.analysis.frequentist
    se_type = None if plan.se_type == "auto" else plan.se_type
    data = frame.complete(column)
    weights = exposure_of(protocol, name, column)
    common: dict[str, Any] = {
        "cluster": frame.cluster,
        "blocks": frame.blocks,
        "control": reference or protocol.control.id,
    }
    if weights is not None:
        common["weights"] = weights
        data = data.dropna(subset=[weights])
    if not varies(data[column]):
        raise EstimationError(
            f"outcome `{name}` has a single value in the analysed data; "
            "no effect can be estimated. Fix: check the data file."
        )
    covariates = list(adjusted_for(protocol, frame, column))
    if frame.fixed_effects:
        # Stepped wedge: OLS with period effects (Hussey & Hughes's mean model), CR2.
        return ols(
            data,
            column,
            "arm",
            covariates=covariates,
            se_type=se_type,
            fixed_effects=frame.fixed_effects,
            **common,
        )
    if plan.missing_data != "complete_case":
        return fit_missing(protocol, frame, column, covariates=covariates, se_type=se_type)
    estimator = plan_estimator(plan.estimator)
    settings = {"covariates": covariates, "se_type": se_type, "df": plan.df}
    common.update((k, v) for k, v in settings.items() if k in estimator.settings)
    return estimator.fit(data, column, "arm", **common)


def exposure_of(protocol: Protocol, name: str, column: str) -> str | None:
    """The exposure column weighting ``column`` when it is the rate of outcome ``name``."""
    outcome = next((o for o in protocol.outcomes if o.name == name), None)
    if outcome is None or outcome.data_column != column:
        return None
    return outcome.exposure


def arm_rows(result: RegressionResult) -> pd.DataFrame:
    """One row per treated arm: its main contrast with control, with the arm it names."""
    table = result.to_frame()
    table = table[table["term"].isin(result.treatment_terms)].copy()
    return table.assign(**fit_columns(result.fit_statistics))
