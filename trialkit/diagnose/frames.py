"""One simulation as the plan sees it: a DataFrame run through the plan's own estimator.

The slow, general path (any estimator and SE type the plan supports), used where the
batched path does not apply, and to check the batched path against the real estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialkit.diagnose.generate import Draw, SimulationDesign, take_up_column
from trialkit.errors import TrialkitError
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, as_rates
from trialkit.estimate.frequentist.iv import iv
from trialkit.estimate.frequentist.plan_outcome import estimate_outcome
from trialkit.estimate.frequentist.result import t_inference
from trialkit.protocol.outcomes import Outcome

#: Columns of one simulation's result row.
RESULT_COLUMNS = ("estimate", "std_error", "df", "p_value", "ci_low", "ci_high")


def simulation_frame(
    design: SimulationDesign, outcome: Outcome, draw: Draw, sim: int
) -> AnalysisFrame:
    """The analysis frame of simulation ``sim``: observed rows with arm, block and cluster
    (in a stepped wedge the arm a row is exposed to and its period; where the protocol
    declares non-compliance, the take-up column)."""
    p = design.protocol
    units, slots = np.nonzero(draw.mask[sim])
    arm_ids = np.array([arm.id for arm in p.arms], dtype=object)
    wedge = p.design.stepped_wedge
    if wedge is not None and draw.assigned is not None:
        treated = next(arm.id for arm in p.arms if not arm.control)
        arm = np.where(draw.assigned[sim][units, slots], treated, p.control.id)
    else:
        arm = arm_ids[draw.arms[sim][units]]
    data = pd.DataFrame(
        {
            outcome.data_column: draw.y[sim][units, slots],
            "arm": arm,
            "cluster": design.clusters[units],
        }
    )
    fixed_effects: tuple[str, ...] = ()
    if wedge is not None:
        data[wedge.period_column] = slots // (draw.y.shape[2] // draw.periods)
        fixed_effects = (wedge.period_column,)
    column = take_up_column(p)
    if column is not None and draw.complier is not None:
        data[column] = (draw.complier[sim][units] & (arm != p.control.id)).astype(np.int64)
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
        fixed_effects=fixed_effects,
    )


def estimate_frames(
    design: SimulationDesign, outcome: Outcome, draw: Draw, *, ci_level: float
) -> dict[str, np.ndarray]:
    """The plan's estimator on every simulation of ``draw``: ``(S, 6)`` result rows per
    treated arm (its ITT against control), keyed by the arm's id.

    A simulation whose estimator fails (e.g. an arm with no observed rows) gives NaNs.
    """
    p = design.protocol
    treated = [arm.id for arm in p.arms if not arm.control]
    out = {arm: np.full((draw.y.shape[0], len(RESULT_COLUMNS)), np.nan) for arm in treated}
    for sim in range(draw.y.shape[0]):
        frame = simulation_frame(design, outcome, draw, sim)
        try:
            result = estimate_outcome(p, frame, outcome.data_column, outcome.name)
        except TrialkitError:
            continue
        table = result.to_frame().set_index("term")
        for arm in treated:
            term = "arm" if len(treated) == 1 else f"arm[{arm}]"
            if term in table.index:
                out[arm][sim] = _row(table, term, ci_level)
    return out


def estimate_cace_frames(
    design: SimulationDesign, outcome: Outcome, draw: Draw, *, ci_level: float
) -> dict[str, np.ndarray]:
    """The plan's CACE (instrumental variables, the ITT's covariates, blocks and errors)
    on every simulation of ``draw``: ``(S, 6)`` result rows per treated arm."""
    p = design.protocol
    column = take_up_column(p)
    assert column is not None
    plan = p.analysis.frequentist
    treated = [arm.id for arm in p.arms if not arm.control]
    out = {arm: np.full((draw.y.shape[0], len(RESULT_COLUMNS)), np.nan) for arm in treated}
    for sim in range(draw.y.shape[0]):
        frame = simulation_frame(design, outcome, draw, sim)
        data = frame.complete(
            outcome.data_column, column, *([outcome.exposure] if outcome.exposure else [])
        )
        try:
            result = iv(
                data,
                outcome.data_column,
                "arm",
                received=column,
                covariates=tuple(frame.usable_covariates(outcome.data_column)),
                cluster=frame.cluster,
                blocks=frame.blocks,
                fixed_effects=frame.fixed_effects,
                control=p.control.id,
                se_type=None if plan.se_type == "auto" else plan.se_type,
                per_arm=True,
                weights=outcome.exposure,
            )
        except TrialkitError:
            continue
        table = result.second_stage.to_frame().set_index("term")
        for arm in treated:
            term = column if len(treated) == 1 else f"{column}[{arm}]"
            if term in table.index:
                out[arm][sim] = _row(table, term, ci_level)
    return out


def _row(table: pd.DataFrame, term: str, ci_level: float) -> tuple[float, ...]:
    values = table.loc[[term], ["estimate", "std_error", "df"]].to_numpy(dtype=np.float64)
    estimate, se, df = (float(v) for v in values[0])
    _, p_value, low, high = t_inference(estimate, se, df, ci_level)
    return (estimate, se, df, p_value, low, high)
