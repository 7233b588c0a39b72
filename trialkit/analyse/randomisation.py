"""Randomisation inference for the primary outcomes, redrawing with the pilot's own scheme."""

from __future__ import annotations

from typing import Any

from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, analysis_frame
from trialkit.estimate.frequentist.ri import randomisation_test
from trialkit.estimate.frequentist.ri.trial_scheme import trial_scheme
from trialkit.protocol import Protocol
from trialkit.validate import TrialData


def randomisation_results(
    protocol: Protocol, data: TrialData, *, frames: dict[str, AnalysisFrame] | None = None
) -> list[dict[str, Any]]:
    """One row per primary outcome and arm: observed statistic, p-value, draws, null sample
    (``frames``: the levels' analysis frames, shared with the other stages)."""
    plan = protocol.analysis.frequentist
    if plan.ri_draws == 0 or protocol.units.name not in data.frames:
        return []
    scheme = trial_scheme(protocol, data)
    wedge = protocol.design.stepped_wedge
    rows = []
    for outcome in protocol.outcomes:
        if outcome.role != "primary" or outcome.level not in data.frames:
            continue
        frame = analysis_frame(protocol, data, outcome, levels=frames)
        level = protocol.level(outcome.level)
        link = level.unit_column if level is not None else protocol.units.id_column
        analysed = frame.complete(outcome.data_column)
        treatment = "arm"
        if wedge is not None:  # exposure, 0/1, as the stepped-wedge redraw expects
            analysed = analysed.assign(exposed=(analysed["arm"] != protocol.control.id).astype(int))
            treatment = "exposed"
        result = randomisation_test(
            analysed,
            outcome=outcome.data_column,
            treatment=treatment,
            scheme=scheme,
            cluster=link,
            covariates=frame.usable_covariates(outcome.data_column),
            draws=plan.ri_draws,
            seed=protocol.seed,
            # Test inversion needs a single contrast; with 3+ arms each arm's p-value is
            # its own re-randomisation test and no interval is reported.
            ci_level=1 - plan.alpha if len(protocol.arms) == 2 else None,
            control=protocol.control.id,
            period=wedge.period_column if wedge is not None else None,
        )
        for test in result.tests:
            rows.append(
                {
                    "outcome": outcome.name,
                    "term": "arm",
                    "arm": test.arm,
                    "observed": test.observed,
                    "p_value": test.p_value,
                    "p_upper": test.p_upper,
                    "p_lower": test.p_lower,
                    "mc_se": test.mc_se,
                    "ci_low": test.ci_low,
                    "ci_high": test.ci_high,
                    "draws": result.draws,
                    "exact": result.exact,
                    "design": result.design,
                    "null_sample": list(test.null_sample),
                }
            )
    return rows
