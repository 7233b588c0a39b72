"""One simulation as the plan sees it: a DataFrame run through the plan's own estimator.

The slow, general path (any estimator and SE type the plan supports), used where the
batched path does not apply, and to check the batched path against the real estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialkit.diagnose.generate import Draw, SimulationDesign
from trialkit.errors import TrialkitError
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, as_rates
from trialkit.estimate.frequentist.plan import estimate_outcome
from trialkit.estimate.frequentist.result import t_inference
from trialkit.protocol.outcomes import Outcome

#: Columns of one simulation's result row.
RESULT_COLUMNS = ("estimate", "std_error", "df", "p_value", "ci_low", "ci_high")


def simulation_frame(
    design: SimulationDesign, outcome: Outcome, draw: Draw, sim: int
) -> AnalysisFrame:
    """The analysis frame of simulation ``sim``: observed rows with arm, block and cluster."""
    p = design.protocol
    units, slots = np.nonzero(draw.mask[sim])
    arm_ids = np.array([arm.id for arm in p.arms], dtype=object)
    data = pd.DataFrame(
        {
            outcome.data_column: draw.y[sim][units, slots],
            "arm": arm_ids[draw.arms[sim][units]],
            "cluster": design.clusters[units],
        }
    )
    for name, values in draw.covariates.items():
        data[name] = values[sim][units, slots]
    if draw.exposure is not None and outcome.exposure is not None:
        data[outcome.exposure] = draw.exposure[sim][units, slots]
        data = as_rates(p, data, outcome.level)
    blocks = None
    if design.blocks is not None:
        data["block"] = design.blocks[units]
        blocks = "block"
    clustered = p.design.type != "individual" or outcome.level != p.units.name
    covariates = tuple(name for name in draw.covariates if name != outcome.baseline)
    return AnalysisFrame(
        data=data,
        cluster="cluster" if clustered else None,
        blocks=blocks,
        covariates=covariates,
        baseline=outcome.baseline or None,
    )


def estimate_frames(
    design: SimulationDesign, outcome: Outcome, draw: Draw, *, ci_level: float
) -> np.ndarray:
    """The plan's estimator on every simulation of ``draw``: ``(S, 6)`` result rows.

    A simulation whose estimator fails (e.g. an arm with no observed rows) gives NaNs.
    """
    p = design.protocol
    treated = next(arm.id for arm in p.arms if not arm.control)
    out = np.full((draw.y.shape[0], len(RESULT_COLUMNS)), np.nan)
    for sim in range(draw.y.shape[0]):
        frame = simulation_frame(design, outcome, draw, sim)
        try:
            result = estimate_outcome(p, frame, outcome.data_column, outcome.name)
        except TrialkitError:
            continue
        table = result.to_frame()
        rows = table[table["term"].isin(["arm", f"arm[{treated}]"])]
        estimate, se, df = (float(rows[c].iloc[0]) for c in ("estimate", "std_error", "df"))
        _, p_value, low, high = t_inference(estimate, se, df, ci_level)
        out[sim] = (estimate, se, df, p_value, low, high)
    return out
