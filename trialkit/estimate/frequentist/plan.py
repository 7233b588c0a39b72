"""Run the protocol's registered frequentist plan on validated data.

For every compared outcome (primary, secondary, exploratory, harm) the plan's estimator is
fitted at the outcome's level, clustered on the unit of randomisation whenever outcomes are
measured below it, with block fixed effects and the declared covariates (plus the outcome's
baseline; :mod:`.plan_outcome`). Then: complier effects for CACE estimands, multiplicity
adjustment within each family and summary indices per family (:mod:`.plan_families`),
subgroup (equity) effects and effect sizes.
Monitoring outcomes are described, not compared (the Bayesian misuse summary covers them).

Every treated arm is compared with control: each result keeps exactly one row per treated
arm (the arm's main contrast; Lin's interaction terms are coefficients, not effects), and
each row says which covariates it was ``adjusted_for``. Complier effects and subgroup
effects adjust for the same covariates, blocks and fixed effects as the ITT.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.analysis_frame import (
    AnalysisFrame,
    analysis_frame,
    arm_mask,
    codes_of,
)
from trialkit.estimate.frequentist.contrasts import pairwise
from trialkit.estimate.frequentist.effect_sizes import icc_anova, standardised_effect
from trialkit.estimate.frequentist.few_clusters import CHECK_COLUMNS, few_cluster_checks
from trialkit.estimate.frequentist.iv import iv
from trialkit.estimate.frequentist.missing_plan import missing_note
from trialkit.estimate.frequentist.plan_estimators import plan_estimator
from trialkit.estimate.frequentist.plan_families import adjust, indices
from trialkit.estimate.frequentist.plan_outcome import (
    adjusted_for,
    arm_rows,
    estimate_outcome,
    levels_with_data,
)
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.estimate.frequentist.subgroups import subgroup_effects
from trialkit.estimate.frequentist.survival_plan import SurvivalFit, fit_survival
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome, Subgroup
from trialkit.protocol.vocabulary import COMPARED_ROLES
from trialkit.validate import TrialData


@dataclass(frozen=True, slots=True)
class FrequentistResults:
    """Every frequentist result of the plan, as tidy frames; every row names its ``arm``.

    Attributes
    ----------
    estimates
        One row per outcome × estimand (``"ITT"``, ``"CACE"``) × treated arm: estimatr
        columns plus ``arm``, ``family``, ``p_adjusted``, ``adjustment`` and
        ``adjusted_for`` (the covariate columns in the model, a tuple; empty if none).
        Multiplicity adjustment within a family covers its ITT rows, every treated arm.
    indices
        One row per family summary index and treated arm (with ``adjusted_for``).
    subgroups
        Effects of each treated arm within each level of each pre-specified subgroup, with
        heterogeneity tests (with ``arm`` and ``adjusted_for``).
    effect_sizes
        One row per outcome × treated arm: ``outcome, arm, hedges_g, g_ci_low, g_ci_high,
        sd_pooled, icc`` (g over the pooled SD of that arm and control, which is the total
        SD for clustered outcomes; the ITT interval on the same scale; the outcome's ICC).
    descriptives
        N, mean and SD of each outcome by arm (CONSORT 2025 item 26).
    notes
        Plain statements of what was done differently from the plan and why.
    survival
        For each time-to-event outcome: Kaplan–Meier curves, each arm's RMST and Cox hazard
        ratios (its registered RMST difference is in ``estimates``; its descriptives are
        the arms' RMSTs, ``statistic`` "rmst").
    few_clusters
        With fewer than :data:`~.few_clusters.FEW_CLUSTERS` clusters: CR3 and wild cluster
        bootstrap checks of each primary ITT row (:func:`~.few_clusters.few_cluster_checks`).
    """

    estimates: pd.DataFrame
    indices: pd.DataFrame
    subgroups: pd.DataFrame
    effect_sizes: pd.DataFrame
    descriptives: pd.DataFrame
    notes: tuple[str, ...]
    survival: tuple[SurvivalFit, ...] = ()
    few_clusters: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(CHECK_COLUMNS))
    )


@dataclass(frozen=True, slots=True)
class OutcomeFit:
    """Everything the plan finds for one compared outcome, before multiplicity adjustment.

    Attributes
    ----------
    estimates
        Its tidy rows: ITT (one per treated arm), declared pairwise contrasts, CACE.
    descriptives
        N, mean and SD by arm (each arm's RMST for a time-to-event outcome).
    effect_sizes
        One row per treated arm, in :data:`EFFECT_SIZE_COLUMNS`.
    subgroups
        Subgroup effects (a primary outcome's), one frame per subgroup.
    few_clusters
        CR3 and wild bootstrap checks (a primary outcome's), or ``None``.
    survival
        The time-to-event fit, or ``None``.
    notes
        What was done differently from the plan for this outcome, and why.
    """

    estimates: tuple[pd.DataFrame, ...]
    descriptives: pd.DataFrame
    effect_sizes: tuple[dict[str, Any], ...] = ()
    subgroups: tuple[pd.DataFrame, ...] = ()
    few_clusters: pd.DataFrame | None = None
    survival: SurvivalFit | None = None
    notes: tuple[str, ...] = ()


def fit(
    protocol: Protocol,
    data: TrialData,
    *,
    frames: dict[str, AnalysisFrame] | None = None,
    engine: Executor | Any | None = None,
) -> FrequentistResults:
    """Fit the protocol's frequentist plan to validated data.

    ``frames`` keeps each level's analysis frame once built (see
    :func:`~.analysis_frame.analysis_frame`); pass one dict to every stage of an analysis
    so that a level's rows are converted once for all of them.

    ``engine`` runs the fits: ``None`` in this process, one after another; a
    ``distributed.Client`` as tasks on its workers (:func:`~.plan_tasks.fit_on`: one per
    outcome, per subgroup of a primary outcome and per summary index), each level's frame
    sent once to every worker. The fits are the same code on the same rows either way, so
    the results are the same; multiplicity adjustment, which takes every outcome together,
    runs here after them.
    """
    notes = [note] if (note := missing_note(protocol)) else []
    frames = {} if frames is None else frames  # each level's rows converted once
    levels = levels_with_data(data, protocol)
    compared = [o for o in protocol.outcomes if o.role in COMPARED_ROLES and o.level in levels]
    index_rows = None
    if engine is None:
        fits = [
            fit_outcome(protocol, analysis_frame(protocol, data, o, levels=frames), o)
            for o in compared
        ]
    else:
        from trialkit.estimate.frequentist.plan_tasks import fit_on

        fits, index_rows = fit_on(engine, protocol, data, compared, frames)
    for fitted in fits:
        notes.extend(fitted.notes)
    checks = [f.few_clusters for f in fits if f.few_clusters is not None]
    subgroups = [table for f in fits for table in f.subgroups]
    estimates = adjust(
        protocol,
        pd.concat([t for f in fits for t in f.estimates], ignore_index=True),
        data,
        frames,
        notes,
    )
    return FrequentistResults(
        estimates=estimates,
        indices=indices(protocol, data, notes, frames, fitted=index_rows),
        subgroups=pd.concat(subgroups, ignore_index=True) if subgroups else pd.DataFrame(),
        effect_sizes=pd.DataFrame(
            [row for f in fits for row in f.effect_sizes], columns=list(EFFECT_SIZE_COLUMNS)
        ),
        descriptives=pd.concat([f.descriptives for f in fits], ignore_index=True),
        notes=tuple(notes),
        survival=tuple(f.survival for f in fits if f.survival is not None),
        few_clusters=pd.concat(
            [c for c in checks if not c.empty] or [pd.DataFrame(columns=list(CHECK_COLUMNS))],
            ignore_index=True,
        ),
    )


def fit_outcome(
    protocol: Protocol, frame: AnalysisFrame, outcome: Outcome, *, subgroups: bool = True
) -> OutcomeFit:
    """The plan for one compared outcome on its analysis frame (no multiplicity adjustment).

    A pure function of its arguments: :func:`fit` runs it in this process or as a task on a
    Dask worker. ``subgroups=False`` leaves a primary outcome's subgroup effects out (a Dask
    run fits each subgroup as a task of its own, :func:`subgroup_fit`).
    """
    notes: list[str] = []
    if outcome.type == "survival":
        fitted = _survival(protocol, frame, outcome)
        return OutcomeFit(
            estimates=(_tidy(fitted.itt, protocol, frame, outcome, "ITT"),),
            descriptives=fitted.rmst.loc[:, ["arm", "n", "mean", "sd", "outcome"]].assign(
                statistic="rmst"
            ),
            survival=fitted,
        )
    result = estimate_outcome(protocol, frame, outcome.data_column, outcome.name)
    itt = _tidy(result, protocol, frame, outcome, "ITT")
    rows = [t for t in (itt, _pairwise(protocol, frame, outcome, itt)) if not t.empty]
    descriptives = _describe(frame, outcome).assign(statistic="mean")
    sizes = tuple(_effect_sizes(protocol, frame, outcome, itt))
    checks, effects = None, []
    if outcome.role == "primary":
        rows.extend(_cace(protocol, frame, outcome, notes))
        checks = _few_clusters(protocol, frame, outcome, itt, notes)
        effects = _subgroups(protocol, frame, outcome) if subgroups else []
    return OutcomeFit(
        estimates=tuple(rows),
        descriptives=descriptives,
        effect_sizes=sizes,
        subgroups=tuple(effects),
        few_clusters=checks,
        notes=tuple(notes),
    )


def _few_clusters(
    protocol: Protocol, frame: AnalysisFrame, outcome: Outcome, itt: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """CR3 and wild bootstrap checks of ``itt`` when few clusters were randomised."""
    plan = protocol.analysis.frequentist
    if outcome.exposure or plan.missing_data != "complete_case":
        return pd.DataFrame(columns=list(CHECK_COLUMNS))  # weighted or imputed: not built
    return few_cluster_checks(
        frame,
        outcome.data_column,
        outcome.name,
        itt=itt,
        covariates=adjusted_for(protocol, frame, outcome.data_column),
        estimator=plan_estimator(plan.estimator).refit,
        control=protocol.control.id,
        alpha=plan.alpha,
        seed=protocol.seed,
        notes=notes,
    )


def _survival(protocol: Protocol, frame: AnalysisFrame, outcome: Outcome) -> SurvivalFit:
    """The time-to-event plan of ``outcome`` (RMST difference, curves, hazard ratios)."""
    plan = protocol.analysis.frequentist
    return fit_survival(
        protocol,
        frame,
        outcome,
        covariates=adjusted_for(protocol, frame, outcome.data_column),
        se_type=None if plan.se_type == "auto" else plan.se_type,
    )


EFFECT_SIZE_COLUMNS = (
    "outcome",
    "arm",
    "hedges_g",
    "g_ci_low",
    "g_ci_high",
    "sd_pooled",
    "icc",
    "icc_ci_low",
    "icc_ci_high",
)


def _tidy(
    result: RegressionResult,
    protocol: Protocol,
    frame: AnalysisFrame,
    outcome: Outcome,
    estimand: str,
) -> pd.DataFrame:
    table = arm_rows(result)
    covariates = adjusted_for(protocol, frame, outcome.data_column)
    return table.assign(
        outcome=outcome.name,
        estimand=estimand,
        family=outcome.family or "",
        adjusted_for=_each(table, covariates),
    )


def _pairwise(
    protocol: Protocol, frame: AnalysisFrame, outcome: Outcome, itt: pd.DataFrame
) -> pd.DataFrame:
    """The declared pairwise contrasts of ``outcome``, tidy like its ITT rows."""
    column = outcome.data_column
    table = pairwise(
        protocol,
        {str(arm) for arm in frame.complete(column)["arm"].unique()},
        lambda ref: estimate_outcome(protocol, frame, column, outcome.name, reference=ref),
    )
    if table.empty:
        return table
    return table.assign(
        outcome=outcome.name,
        estimand="ITT",
        family=outcome.family or "",
        adjusted_for=_each(table, itt["adjusted_for"].iloc[0]),
    )


def _cace(
    protocol: Protocol, frame: AnalysisFrame, outcome: Outcome, notes: list[str]
) -> list[pd.DataFrame]:
    """One CACE row per treated arm, adjusted for the ITT's covariates and blocks."""
    out = []
    for estimand in protocol.estimands:
        column = estimand.take_up_column
        if estimand.type != "CACE" or column is None:
            continue
        if column not in frame.data:
            notes.append(
                f"CACE for `{outcome.name}` not estimated: take-up column "
                f"`{column}` is absent from the data."
            )
            continue
        data = frame.complete(
            outcome.data_column, column, *([outcome.exposure] if outcome.exposure else [])
        )
        covariates = tuple(frame.usable_covariates(outcome.data_column))
        plan = protocol.analysis.frequentist
        try:
            result = iv(
                data,
                outcome.data_column,
                "arm",
                received=column,
                covariates=covariates,
                cluster=frame.cluster,
                blocks=frame.blocks,
                fixed_effects=frame.fixed_effects,
                control=protocol.control.id,
                se_type=None if plan.se_type == "auto" else plan.se_type,
                per_arm=True,
                weights=outcome.exposure,
                reduced_form=False,  # the ITT rows come from the plan's estimator
            )
        except EstimationError as err:  # e.g. an arm in which no unit took up its arm
            notes.append(f"CACE for `{outcome.name}` not estimated: {err}")
            continue
        table = arm_rows(result.second_stage)
        out.append(
            table.assign(
                outcome=outcome.name,
                estimand=estimand.type,
                family=outcome.family or "",
                adjusted_for=_each(table, covariates),
            )
        )
    return out


def _each(table: pd.DataFrame, covariates: tuple[str, ...]) -> pd.Series:
    """The same tuple of covariate names on every row of ``table``."""
    return pd.Series([covariates] * len(table), index=table.index, dtype=object)


def _subgroups(protocol: Protocol, frame: AnalysisFrame, outcome: Outcome) -> list[pd.DataFrame]:
    """Subgroup effects of each treated arm, adjusted for the ITT's covariates and blocks."""
    fitted = (subgroup_fit(protocol, frame, outcome, sub) for sub in protocol.subgroups)
    return [table for table in fitted if table is not None]


def subgroup_fit(
    protocol: Protocol, frame: AnalysisFrame, outcome: Outcome, sub: Subgroup
) -> pd.DataFrame | None:
    """The effects of each treated arm within each level of one subgroup (``None``: the
    subgroup's column is not in the frame)."""
    if sub.column not in frame.data:
        return None
    plan = protocol.analysis.frequentist
    # A subgroup declared as a covariate too: its level indicators stand in for it.
    covariates = tuple(
        c
        for c in frame.usable_covariates(outcome.data_column)
        if c != sub.column and not c.startswith(f"{sub.column}=")
    )
    data = frame.complete(
        outcome.data_column, sub.column, *([outcome.exposure] if outcome.exposure else [])
    )
    result = subgroup_effects(
        data,
        outcome.data_column,
        "arm",
        sub.column,
        covariates=covariates,
        cluster=frame.cluster,
        blocks=frame.blocks,
        fixed_effects=frame.fixed_effects,
        control=protocol.control.id,
        se_type=None if plan.se_type == "auto" else plan.se_type,
        weights=outcome.exposure,
    )
    table = result.to_frame()
    return table.assign(
        outcome=outcome.name,
        subgroup=sub.name,
        label=sub.label,
        equity=sub.equity,
        heterogeneity_p=result.heterogeneity.p_value,
        adjusted_for=_each(table, covariates),
    )


def _describe(frame: AnalysisFrame, outcome: Outcome) -> pd.DataFrame:
    """N, mean and SD of each arm; for a rate, the arm's total count over its total
    exposure and the exposure-weighted SD of the rows' rates (n / (n - 1) corrected)."""
    if outcome.exposure is None:
        grouped = frame.data.groupby("arm", observed=True)[outcome.data_column]
        table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
        return table.assign(outcome=outcome.name)
    data = frame.data.dropna(subset=[outcome.data_column, outcome.exposure])
    rows = []
    for arm, group in data.groupby("arm", observed=True):
        rate = group[outcome.data_column].to_numpy(float)
        weight = group[outcome.exposure].to_numpy(float)
        mean = float(np.average(rate, weights=weight))
        n = len(rate)
        spread = float(np.average((rate - mean) ** 2, weights=weight)) * n / max(n - 1, 1)
        rows.append(
            {
                "arm": arm,
                "n": n,
                "mean": mean,
                "sd": float(np.sqrt(spread)) if n > 1 else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["arm", "n", "mean", "sd"]).assign(outcome=outcome.name)


def _effect_sizes(
    protocol: Protocol, frame: AnalysisFrame, outcome: Outcome, itt: pd.DataFrame
) -> list[dict[str, Any]]:
    """Hedges' g of each treated arm against control, its interval, SD and the ICC."""
    data = frame.complete(outcome.data_column)
    y = data[outcome.data_column].to_numpy(float)
    # In a stepped wedge clusters cross over, so clusters are not nested in arms.
    nest = None if frame.fixed_effects else codes_of(data["arm"])
    repeated = frame.cluster is not None and bool(data[frame.cluster].duplicated().any())
    # One row per cluster: no ICC to estimate. The interval is at the plan's level.
    est = (
        icc_anova(
            y,
            codes_of(data[frame.cluster]),
            arm=nest,
            ci_level=1 - protocol.analysis.frequentist.alpha,
        )
        if repeated
        else None
    )
    icc = {
        "icc": est.icc if est else float("nan"),
        "icc_ci_low": est.ci_low if est else float("nan"),
        "icc_ci_high": est.ci_high if est else float("nan"),
    }
    control = y[arm_mask(data["arm"], {protocol.control.id})]
    rows = []
    for _, row in itt.iterrows():
        es = standardised_effect(
            row["estimate"],
            row["ci_low"],
            row["ci_high"],
            y[arm_mask(data["arm"], {str(row["arm"])})],
            control,
        )
        rows.append(
            {
                "outcome": outcome.name,
                "arm": row["arm"],
                "hedges_g": es.hedges_g,
                "g_ci_low": es.g_ci_low,
                "g_ci_high": es.g_ci_high,
                "sd_pooled": es.sd_pooled,
                **icc,
            }
        )
    return rows


def outcome_names(protocol: Protocol) -> Sequence[str]:
    """The outcomes the plan compares between arms."""
    return [o.name for o in protocol.outcomes if o.role in COMPARED_ROLES]
