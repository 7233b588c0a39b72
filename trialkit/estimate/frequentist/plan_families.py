"""The plan's outcome families: multiplicity adjustment and summary indices.

Within each family the ITT contrasts of every treated arm are adjusted together (Holm,
Benjamini–Hochberg, or Westfall–Young by joint re-randomisation, :mod:`.family_ri`), and a
family with an index gets one estimate per treated arm of its summary index, adjusted for
the members' covariates and for the same index of their baselines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, analysis_frame, varies
from trialkit.estimate.frequentist.family_ri import family_p_values
from trialkit.estimate.frequentist.indices import anderson_index, baseline_index, klk_index
from trialkit.estimate.frequentist.multiplicity import adjust_p_values
from trialkit.estimate.frequentist.plan_outcome import (
    adjusted_for,
    arm_rows,
    estimate_outcome,
    levels_with_data,
)
from trialkit.estimate.frequentist.ri.trial_scheme import trial_scheme
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Family, Outcome
from trialkit.protocol.vocabulary import COMPARED_ROLES
from trialkit.validate import TrialData


def adjust(
    protocol: Protocol,
    estimates: pd.DataFrame,
    data: TrialData,
    frames: dict[str, AnalysisFrame],
    notes: list[str],
) -> pd.DataFrame:
    """Adjust p-values within each family, over its ITT contrasts of every treated arm (a
    Westfall–Young family by re-randomising ``data``, :func:`westfall_young_rows`)."""
    control = protocol.control.id
    versus = estimates.get("versus", pd.Series(control, index=estimates.index))
    estimates = estimates.assign(
        p_adjusted=estimates["p_value"], adjustment="none", versus=versus.fillna(control)
    )
    for family in protocol.families:
        mask = (
            (estimates["family"] == family.name)
            & (estimates["estimand"] == "ITT")
            & (estimates["versus"] == protocol.control.id)
        )
        if family.multiplicity == "none" or mask.sum() == 0:
            continue
        estimates.loc[mask, "p_adjusted"] = (
            westfall_young_rows(protocol, data, frames, family, estimates.loc[mask], notes)
            if family.multiplicity == "westfall_young"
            else adjust_p_values(
                estimates.loc[mask, "p_value"].to_numpy(), method=family.multiplicity
            )
        )
        estimates.loc[mask, "adjustment"] = family.multiplicity
    return estimates


def westfall_young_rows(
    protocol: Protocol,
    data: TrialData,
    frames: dict[str, AnalysisFrame],
    family: Family,
    rows: pd.DataFrame,
    notes: list[str],
) -> NDArray[np.float64]:
    """Westfall–Young p-values of a family's ITT ``rows`` by joint re-randomisation
    (:mod:`.family_ri`), in the rows' order; a note says over how many assignments."""
    names = list(dict.fromkeys(rows["outcome"]))
    arms = list(dict.fromkeys(rows["arm"]))
    members = []
    for name in names:
        outcome = protocol.outcome(name)
        level = protocol.level(outcome.level)
        link = level.unit_column if level is not None else protocol.units.id_column
        members.append((outcome, analysis_frame(protocol, data, outcome, levels=frames), link))
    units = data.frame(protocol.units.name)
    allocated = units.set_index(units[protocol.units.id_column].astype(str))["arm"]
    adjusted, n, exact = family_p_values(
        protocol, trial_scheme(protocol, data), members, allocated, arms
    )
    over = (
        f"all {n:,} possible assignments"
        if exact
        else f"{n:,} assignments redrawn with seed {protocol.seed}"
    )
    notes.append(
        f"Family `{family.name}`: Westfall–Young p-values over {over} of the pilot's "
        "randomisation scheme, every member re-randomised together."
    )
    at = {(name, arm): k for k, (name, arm) in enumerate(product(names, arms))}
    return np.array(
        [adjusted[at[(o, a)]] for o, a in zip(rows["outcome"], rows["arm"], strict=True)]
    )


def indices(
    protocol: Protocol,
    data: TrialData,
    notes: list[str],
    frames: dict[str, AnalysisFrame],
    *,
    fitted: Sequence[list[dict[str, Any]]] | None = None,
) -> pd.DataFrame:
    """One row per family summary index and treated arm; ``fitted``: each indexed family's
    rows, already computed elsewhere (in the order of :func:`index_families`)."""
    rows = []
    for k, (family, members) in enumerate(index_families(protocol, data, notes)):
        if fitted is not None:
            rows.extend(fitted[k])
            continue
        frame = analysis_frame(protocol, data, members[0], levels=frames)
        rows.extend(family_index(protocol, frame, family, members))
    return pd.DataFrame(rows)


def index_families(
    protocol: Protocol, data: TrialData, notes: list[str]
) -> list[tuple[Family, list[Outcome]]]:
    """The families that get a summary index, each with its member outcomes; a note for
    each family whose index cannot be built."""
    families = []
    for family in protocol.families:
        members = [
            o
            for o in protocol.outcomes_in(family.name)
            if o.role in COMPARED_ROLES and o.type != "survival"
        ]
        if family.index == "none" or len(members) < 2:
            continue
        levels = {o.level for o in members}
        if len(levels) > 1 or not levels <= levels_with_data(data, protocol):
            notes.append(
                f"No summary index for family `{family.name}`: its outcomes are "
                "measured at different levels or have no data."
            )
            continue
        families.append((family, members))
    return families


def family_index(
    protocol: Protocol, frame: AnalysisFrame, family: Family, members: Sequence[Outcome]
) -> list[dict[str, Any]]:
    """The summary index of ``family`` and its effect for each treated arm, on the frame of
    its first member: adjusted for the members' covariates and for the family's baseline
    (:func:`family_baseline`)."""
    frame = family_baseline(frame, family, members, protocol.control.id)
    build = anderson_index if family.index == "anderson" else klk_index
    index = build(
        frame.data,
        [o.data_column for o in members],
        directions={o.data_column: o.direction for o in members},
        treatment="arm",
        control=protocol.control.id,
    )
    column = f"index_{family.name}"
    frame.data[column] = index
    result = estimate_outcome(protocol, frame, column, family.name)
    covariates = adjusted_for(protocol, frame, column)
    return [
        {
            "family": family.name,
            "kind": family.kind,
            "method": family.index,
            "arm": row["arm"],
            "estimate": row["estimate"],
            "std_error": row["std_error"],
            "ci_low": row["ci_low"],
            "ci_high": row["ci_high"],
            "p_value": row["p_value"],
            "n_outcomes": len(members),
            "adjusted_for": covariates,
        }
        for _, row in arm_rows(result).iterrows()
    ]


def family_baseline(
    frame: AnalysisFrame, family: Family, members: Sequence[Outcome], control: str
) -> AnalysisFrame:
    """``frame`` with the family's baseline: the same index of the members' baselines that
    vary in the control group (a column ``index_<family>_baseline``); where one does, that
    baseline itself (an index of one outcome is a linear function of it, and adjusts the
    same); where none does, none."""
    data = frame.data
    is_control = (data["arm"] == control).to_numpy()
    directions = {
        o.baseline: o.direction
        for o in members
        if o.baseline is not None
        and o.baseline in data
        and varies(data.loc[is_control, o.baseline].dropna())
    }
    if len(directions) < 2:
        return replace(frame, baseline=next(iter(directions), None))
    column = f"index_{family.name}_baseline"
    try:
        data[column] = baseline_index(
            data,
            directions,
            method="anderson" if family.index == "anderson" else "kling",
            treatment="arm",
            control=control,
            name=column,
        )
    except EstimationError as err:  # collinear baselines: say whose, not a bare matrix
        raise EstimationError(
            f"family `{family.name}`: the index of its outcomes' baselines "
            f"({', '.join(directions)}) cannot be built: {err}"
        ) from None
    return replace(frame, baseline=column)
