"""The spend ledger's statistics as the protocol declares them: take-up, equity and dose.

Orchestrates :mod:`~trialkit.estimate.spending.uptake`, :mod:`.equity` and :mod:`.dose`
for a protocol and its validated data. Equity covers every client-level subgroup marked
``equity: true`` in each arm with a budget; dose covers every client-level primary or
secondary continuous outcome, adjusted as its ITT is. Misuse is estimated separately
(:mod:`trialkit.estimate.spending.misuse`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, analysis_frame, arm_mask
from trialkit.estimate.frequentist.plan_outcome import adjusted_for
from trialkit.estimate.frequentist.vcov import CLUSTER_TYPES
from trialkit.estimate.spending.dose import DoseBin, DoseEffect, dose_bins, dose_effect
from trialkit.estimate.spending.equity import EquityGap, EquityLevel, equity
from trialkit.estimate.spending.ledger import SPEND, Ledger
from trialkit.estimate.spending.uptake import (
    CategorySpend,
    PeriodSpend,
    TakeUp,
    categories,
    periods,
    take_up,
)
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.protocol.vocabulary import VcovType
from trialkit.validate import TrialData

#: Roles and type of the outcomes the dose analysis links spending to.
DOSE_ROLES = ("primary", "secondary")


@dataclass(frozen=True, slots=True)
class SpendingFit:
    """Take-up, equity and dose statistics of one pilot's spend ledger.

    ``notes`` say in words what could not be estimated and why.
    """

    take_up: tuple[TakeUp, ...]
    categories: tuple[CategorySpend, ...]
    periods: tuple[PeriodSpend, ...]
    equity: tuple[EquityLevel, ...] = ()
    equity_gaps: tuple[EquityGap, ...] = ()
    dose: tuple[DoseEffect, ...] = ()
    dose_bins: tuple[DoseBin, ...] = ()
    notes: tuple[str, ...] = ()


def fit(
    protocol: Protocol,
    data: TrialData,
    ledger: Ledger,
    *,
    frames: dict[str, AnalysisFrame] | None = None,
) -> SpendingFit:
    """Every take-up, equity and dose statistic the protocol's ledger supports.

    ``frames``: the analysis frames of the levels, shared with the frequentist plan (see
    :func:`trialkit.estimate.frequentist.plan.fit`).
    """
    notes: list[str] = []
    levels, gaps = _equity(protocol, ledger, notes)
    effects, bins = _dose(protocol, data, ledger, notes, {} if frames is None else frames)
    return SpendingFit(
        take_up=take_up(ledger),
        categories=categories(ledger),
        periods=periods(ledger),
        equity=levels,
        equity_gaps=gaps,
        dose=effects,
        dose_bins=bins,
        notes=tuple(notes),
    )


def _se_type(protocol: Protocol, *, clustered: bool = True) -> VcovType | None:
    """The plan's standard errors where they fit the clustering; else the default."""
    se_type = protocol.analysis.frequentist.se_type
    if se_type == "auto" or (se_type in CLUSTER_TYPES) != clustered:
        return None
    return se_type


def _equity(
    protocol: Protocol, ledger: Ledger, notes: list[str]
) -> tuple[tuple[EquityLevel, ...], tuple[EquityGap, ...]]:
    spending = protocol.spending
    if spending is None or ledger.clients is None or spending.columns.client not in ledger.spends:
        return (), ()
    clients = ledger.client_spend()
    cluster = "cluster" if "cluster" in clients else ledger.unit
    levels: list[EquityLevel] = []
    gaps: list[EquityGap] = []
    for sub in protocol.subgroups:
        if not sub.equity or sub.level != spending.client_level or sub.column not in clients:
            continue
        for arm in ledger.treated():
            try:
                found, differences = equity(
                    clients,
                    subgroup=sub.name,
                    column=sub.column,
                    arm=arm,
                    levels=sub.levels,
                    spend=SPEND,
                    cluster=cluster,
                    se_type=_se_type(protocol) or "CR2",
                )
            except EstimationError as err:
                notes.append(f"Spending by `{sub.name}` in arm `{arm}` not estimated: {err}")
                continue
            levels.extend(found)
            gaps.extend(differences)
    return tuple(levels), tuple(gaps)


def _dose_outcomes(protocol: Protocol, data: TrialData) -> list[Outcome]:
    spending = protocol.spending
    level = spending.client_level if spending is not None else None
    return [
        o
        for o in protocol.outcomes
        if o.role in DOSE_ROLES
        and o.type == "continuous"
        and o.level == level
        and o.level in data.frames
    ]


def _dose(
    protocol: Protocol,
    data: TrialData,
    ledger: Ledger,
    notes: list[str],
    levels: dict[str, AnalysisFrame],
) -> tuple[tuple[DoseEffect, ...], tuple[DoseBin, ...]]:
    client = ledger.columns.client
    if protocol.spending is None or ledger.clients is None or client not in ledger.spends:
        return (), ()
    per = protocol.spending.dose_per
    effects: list[DoseEffect] = []
    bins: list[DoseBin] = []
    spent: dict[str, np.ndarray] = {}  # the rows of a level are the same for its outcomes
    for outcome in _dose_outcomes(protocol, data):
        frame = analysis_frame(protocol, data, outcome, levels=levels)
        if outcome.level not in spent:
            spent[outcome.level] = ledger.spend_of(frame.data[client])
        frame.data[SPEND] = spent[outcome.level]
        rows = frame.complete(outcome.data_column)
        for arm in ledger.treated():
            if not arm_mask(rows["arm"], {arm}).any():
                continue
            bins.extend(
                replace(b, outcome=outcome.name)
                for b in dose_bins(rows, outcome.data_column, arm=arm, spend=SPEND)
            )
            try:
                effect = _dose_effect(protocol, frame, rows, outcome.data_column, arm, per)
            except EstimationError as err:
                notes.append(
                    f"Effect of each {per:g} spent on `{outcome.name}` in arm "
                    f"`{arm}` not estimated: {err}"
                )
                continue
            effects.append(replace(effect, outcome=outcome.name))
    return tuple(effects), tuple(bins)


def _dose_effect(
    protocol: Protocol, frame: AnalysisFrame, rows: pd.DataFrame, column: str, arm: str, per: float
) -> DoseEffect:
    return dose_effect(
        rows,
        column,
        arm=arm,
        control=protocol.control.id,
        spend=SPEND,
        per=per,
        covariates=adjusted_for(protocol, frame, column),
        cluster=frame.cluster,
        blocks=frame.blocks,
        fixed_effects=frame.fixed_effects,
        se_type=_se_type(protocol, clustered=frame.cluster is not None),
    )
