"""Run the protocol's registered frequentist plan on validated data.

For every compared outcome (primary, secondary, exploratory, harm) the plan's estimator is
fitted at the outcome's level, clustered on the unit of randomisation whenever outcomes are
measured below it, with block fixed effects and the declared covariates (plus the outcome's
baseline). Then: complier effects for CACE estimands, multiplicity adjustment within each
family, summary indices per family, subgroup (equity) effects and effect sizes.
Monitoring outcomes are described, not compared (the Bayesian misuse summary covers them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, analysis_frame
from trialkit.estimate.frequentist.dim import difference_in_means
from trialkit.estimate.frequentist.effect_sizes import hedges_g_for_effect, icc_anova
from trialkit.estimate.frequentist.indices import anderson_index, klk_index
from trialkit.estimate.frequentist.iv import iv
from trialkit.estimate.frequentist.lin import lin
from trialkit.estimate.frequentist.multiplicity import adjust_p_values
from trialkit.estimate.frequentist.ols import ols
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.estimate.frequentist.subgroups import subgroup_effects
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.validate import TrialData

COMPARED_ROLES = ("primary", "secondary", "exploratory", "harm")


@dataclass(frozen=True, slots=True)
class FrequentistResults:
    """Every frequentist result of the plan, as tidy frames.

    Attributes
    ----------
    estimates
        One row per outcome × estimand × arm (estimatr columns, plus ``arm``, ``family``,
        ``p_adjusted`` and ``adjustment``).
    indices
        One row per family summary index and arm.
    subgroups
        Effects within each level of each pre-specified subgroup, with heterogeneity tests.
    effect_sizes
        Hedges' g (total variance for clustered outcomes) and the outcome's ICC.
    descriptives
        N, mean and SD of each outcome by arm (CONSORT 2025 item 26).
    notes
        Plain statements of what was done differently from the plan and why.
    """

    estimates: pd.DataFrame
    indices: pd.DataFrame
    subgroups: pd.DataFrame
    effect_sizes: pd.DataFrame
    descriptives: pd.DataFrame
    notes: tuple[str, ...]


def fit(protocol: Protocol, data: TrialData) -> FrequentistResults:
    """Fit the protocol's frequentist plan to validated data."""
    notes: list[str] = []
    rows, sizes, descriptives, subgroups = [], [], [], []
    for outcome in protocol.outcomes:
        if outcome.role not in COMPARED_ROLES or outcome.level not in _levels_with_data(data,
                                                                                        protocol):
            continue
        frame = analysis_frame(protocol, data, outcome)
        result = estimate_outcome(protocol, frame, outcome.data_column, outcome.name)
        rows.append(_tidy(result, protocol, outcome, "ITT"))
        descriptives.append(_describe(frame, outcome))
        sizes.append(_effect_size(protocol, frame, outcome, result))
        if outcome.role == "primary":
            rows.extend(_cace(protocol, frame, outcome, notes))
            subgroups.extend(_subgroups(protocol, frame, outcome))
    estimates = _adjust(protocol, pd.concat(rows, ignore_index=True), notes)
    return FrequentistResults(
        estimates=estimates, indices=_indices(protocol, data, notes),
        subgroups=pd.concat(subgroups, ignore_index=True) if subgroups else pd.DataFrame(),
        effect_sizes=pd.DataFrame(sizes), descriptives=pd.concat(descriptives,
                                                                 ignore_index=True),
        notes=tuple(notes))


def _levels_with_data(data: TrialData, protocol: Protocol) -> set[str]:
    return {name for name in protocol.level_names if name in data.frames}


def estimate_outcome(protocol: Protocol, frame: AnalysisFrame, column: str,
                     name: str) -> RegressionResult:
    """The plan's estimator for one outcome column of an analysis frame."""
    plan = protocol.analysis.frequentist
    se_type = None if plan.se_type == "auto" else plan.se_type
    data = frame.complete(column)
    common: dict[str, Any] = {"cluster": frame.cluster, "blocks": frame.blocks,
                              "control": protocol.control.id}
    if data[column].nunique() < 2:
        raise EstimationError(f"outcome `{name}` has a single value in the analysed data; "
                              "no effect can be estimated. Fix: check the data file.")
    covariates = frame.usable_covariates(column)
    if frame.fixed_effects:
        # Stepped wedge: OLS with period effects (Hussey & Hughes's mean model), CR2.
        return ols(data, column, "arm", covariates=covariates, se_type=se_type,
                   fixed_effects=frame.fixed_effects, **common)
    if plan.estimator == "difference_in_means":
        return difference_in_means(data, column, "arm", **common)
    fitter = lin if plan.estimator == "lin" else ols
    return fitter(data, column, "arm", covariates=covariates, se_type=se_type, **common)


def _arm_rows(result: RegressionResult, protocol: Protocol) -> pd.DataFrame:
    """The treatment rows of a result, with the arm each row compares with control."""
    table = result.to_frame()
    table = table[table["term"].str.match(r"^arm(\[|$)")].copy()
    named = table["term"].str.extract(r"^arm\[(.*)\]$", expand=False)
    table["arm"] = named.fillna(_treated_arms(protocol)[0])
    return table


def _tidy(result: RegressionResult, protocol: Protocol, outcome: Outcome,
          estimand: str) -> pd.DataFrame:
    return _arm_rows(result, protocol).assign(outcome=outcome.name, estimand=estimand,
                                              family=outcome.family or "")


def _cace(protocol: Protocol, frame: AnalysisFrame, outcome: Outcome,
          notes: list[str]) -> list[pd.DataFrame]:
    out = []
    for estimand in protocol.estimands:
        column = estimand.take_up_column
        if estimand.type != "CACE" or column is None:
            continue
        if column not in frame.data:
            notes.append(f"CACE for `{outcome.name}` not estimated: take-up column "
                         f"`{column}` is absent from the data.")
            continue
        data = frame.complete(outcome.data_column, column)
        result = iv(data, outcome.data_column, "arm", received=column, cluster=frame.cluster,
                    blocks=frame.blocks, control=protocol.control.id)
        table = result.to_frame()
        table = table[table["term"] == column].assign(
            outcome=outcome.name, estimand=estimand.type, arm=_treated_arms(protocol)[0],
            family=outcome.family or "")
        out.append(table)
    return out


def _treated_arms(protocol: Protocol) -> list[str]:
    return [arm.id for arm in protocol.arms if not arm.control]


def _adjust(protocol: Protocol, estimates: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    estimates = estimates.assign(p_adjusted=estimates["p_value"], adjustment="none")
    for family in protocol.families:
        mask = (estimates["family"] == family.name) & (estimates["estimand"] == "ITT")
        if family.multiplicity in ("none",) or mask.sum() == 0:
            continue
        method = family.multiplicity
        if method == "westfall_young":
            # Joint re-randomisation statistics across a family are not yet produced by the
            # plan; Holm is valid (if conservative) and the substitution is reported.
            method = "holm"
            notes.append(f"Family `{family.name}`: the registered Westfall–Young adjustment "
                         "was replaced by Holm's (valid, more conservative); trialkit does "
                         "not yet run joint re-randomisation across a family in the plan.")
        estimates.loc[mask, "p_adjusted"] = adjust_p_values(
            estimates.loc[mask, "p_value"].to_numpy(), method=method)
        estimates.loc[mask, "adjustment"] = method
    return estimates


def _indices(protocol: Protocol, data: TrialData, notes: list[str]) -> pd.DataFrame:
    rows = []
    for family in protocol.families:
        members = [o for o in protocol.outcomes_in(family.name) if o.role in COMPARED_ROLES]
        if family.index == "none" or len(members) < 2:
            continue
        levels = {o.level for o in members}
        if len(levels) > 1 or not levels <= _levels_with_data(data, protocol):
            notes.append(f"No summary index for family `{family.name}`: its outcomes are "
                         "measured at different levels or have no data.")
            continue
        frame = analysis_frame(protocol, data, members[0])
        build = anderson_index if family.index == "anderson" else klk_index
        index = build(frame.data, [o.data_column for o in members],
                      directions={o.data_column: o.direction for o in members},
                      treatment="arm", control=protocol.control.id)
        frame.data[f"index_{family.name}"] = index
        result = estimate_outcome(protocol, frame, f"index_{family.name}", family.name)
        for _, row in _arm_rows(result, protocol).iterrows():
            rows.append({"family": family.name, "kind": family.kind, "method": family.index,
                         "arm": row["arm"], "estimate": row["estimate"],
                         "std_error": row["std_error"], "ci_low": row["ci_low"],
                         "ci_high": row["ci_high"], "p_value": row["p_value"],
                         "n_outcomes": len(members)})
    return pd.DataFrame(rows)


def _subgroups(protocol: Protocol, frame: AnalysisFrame, outcome: Outcome) -> list[pd.DataFrame]:
    out = []
    for sub in protocol.subgroups:
        if sub.column not in frame.data:
            continue
        data = frame.complete(outcome.data_column, sub.column)
        result = subgroup_effects(data, outcome.data_column, "arm", sub.column,
                                  cluster=frame.cluster, blocks=frame.blocks,
                                  control=protocol.control.id)
        table = result.to_frame().assign(outcome=outcome.name, subgroup=sub.name,
                                         label=sub.label, equity=sub.equity,
                                         heterogeneity_p=result.heterogeneity.p_value)
        out.append(table)
    return out


def _describe(frame: AnalysisFrame, outcome: Outcome) -> pd.DataFrame:
    grouped = frame.data.groupby("arm", observed=True)[outcome.data_column]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    return table.assign(outcome=outcome.name)


def _effect_size(protocol: Protocol, frame: AnalysisFrame, outcome: Outcome,
                 result: RegressionResult) -> dict[str, Any]:
    data = frame.complete(outcome.data_column)
    y = data[outcome.data_column].to_numpy(float)
    control = data["arm"].to_numpy() == protocol.control.id
    effect = float(_arm_rows(result, protocol)["estimate"].iloc[0])
    # In a stepped wedge clusters cross over, so clusters are not nested in arms.
    nest = None if frame.fixed_effects else data["arm"].to_numpy()
    repeated = frame.cluster is not None and bool(data[frame.cluster].duplicated().any())
    icc = (icc_anova(y, data[frame.cluster].to_numpy(), arm=nest).icc
           if repeated else float("nan"))  # one row per cluster: no ICC to estimate
    return {"outcome": outcome.name, "hedges_g": hedges_g_for_effect(effect, y[~control],
                                                                     y[control]),
            "icc": icc}


def outcome_names(protocol: Protocol) -> Sequence[str]:
    """The outcomes the plan compares between arms."""
    return [o.name for o in protocol.outcomes if o.role in COMPARED_ROLES]

